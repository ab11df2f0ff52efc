"""The one error hierarchy of driftline.

Expected bad input raises a subclass of :class:`DriftlineError`; callers (the CLI, the
Lambda handlers) turn it into exit code 2 or a quarantined file with a machine-readable
reason. Anything else is a bug and propagates.
"""

from __future__ import annotations

from typing import Any


class DriftlineError(Exception):
    """Base class of every error driftline raises on purpose.

    ``reason`` is a short machine-readable code (``"unreadable_file"``, ``"unknown_key"``, ...)
    and ``details`` a JSON-serialisable mapping, both written to ``quarantine/*.reason.json``.
    """

    reason: str = "driftline_error"

    def __init__(self, message: str, *, reason: str | None = None, **details: Any) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable form: ``{"error": class name, "reason": ..., "message": ..., ...}``."""
        return {
            "error": type(self).__name__,
            "reason": self.reason,
            "message": str(self),
            **self.details,
        }


class InvalidInputError(DriftlineError):
    """A data file (inference log, labels, baseline) cannot be read or violates the schema."""

    reason = "invalid_input"


class ConfigError(DriftlineError):
    """A monitor definition is invalid; the message names the offending key."""

    reason = "invalid_config"


class InsufficientDataError(DriftlineError):
    """Too little data to compute a statistic (an empty window, a feature with no values)."""

    reason = "insufficient_data"


class IncompatibleProfilesError(DriftlineError):
    """Two profiles cannot be merged or compared (different bins, kinds or versions)."""

    reason = "incompatible_profiles"
