"""The model registry as values: versions, their statuses and lineage, the traffic split.

A model version is trained by one retraining execution, registered as the ``challenger``,
and then either promoted to ``champion`` (the previous champion is ``retired``) or
``rolled_back``. Those are the only moves (:data:`TRANSITIONS`); every move is kept in the
version's history with its time and reason. The :class:`TrafficSplit` says which version
serves which share of the requests; serving code may read it directly.

Artifacts are bytes in the bucket with their SHA-256 recorded at registration:
:func:`verify_artifact` must pass before anything deserialises them (a pickle runs code
when loaded, so an unverified file is never unpickled).

>>> version = ModelVersion(model="fraud", version=3, status="challenger",
...     artifact_key="models/fraud/x/model.joblib", sha256=sha256_of(b"model"))
>>> version.transition("champion", at="2026-11-24T10:00:00Z", reason="canary won").status
'champion'
>>> version.transition("retired", at="2026-11-24T10:00:00Z", reason="?")
Traceback (most recent call last):
...
driftline.model_store.InvalidTransitionError: fraud v3: cannot go from challenger to retired; \
allowed: champion, rolled_back
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from driftline.errors import DriftlineError

Status = Literal["champion", "challenger", "retired", "rolled_back"]
STATUSES: tuple[Status, ...] = ("champion", "challenger", "retired", "rolled_back")

#: The moves a version may make; retired and rolled back are final.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    "challenger": frozenset({"champion", "rolled_back"}),
    "champion": frozenset({"retired"}),
    "retired": frozenset(),
    "rolled_back": frozenset(),
}


class RegistryError(DriftlineError):
    """The model registry refused an operation."""

    reason = "registry_error"


class ArtifactIntegrityError(RegistryError):
    """An artifact's bytes do not have the SHA-256 recorded for them: it is not loaded."""

    reason = "artifact_hash_mismatch"


class InvalidTransitionError(RegistryError):
    """A status change the lifecycle does not allow."""

    reason = "invalid_transition"


def sha256_of(data: bytes) -> str:
    """The hex SHA-256 of ``data``.

    >>> sha256_of(b"")[:16]
    'e3b0c44298fc1c14'
    """
    return hashlib.sha256(data).hexdigest()


def verify_artifact(data: bytes, sha256: str, *, key: str = "artifact") -> None:
    """Check that ``data`` is what was registered, before it is deserialised.

    Raises:
        ArtifactIntegrityError: the digest differs (the message gives both), or
            ``sha256`` is not a 64-digit hex digest.

    >>> verify_artifact(b"model", sha256_of(b"model"))
    >>> verify_artifact(b"tampered", sha256_of(b"model"), key="models/fraud/v3/model.joblib")
    Traceback (most recent call last):
    ...
    driftline.model_store.ArtifactIntegrityError: refusing to load models/fraud/v3/model.joblib: \
its SHA-256 is d121be310300..., the registry recorded 9372c470eead... (tampered or corrupted)
    """
    expected = sha256.lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise ArtifactIntegrityError(
            f"refusing to load {key}: {sha256!r} is not a SHA-256 hex digest", key=key
        )
    actual = sha256_of(data)
    if not hmac.compare_digest(actual, expected):
        raise ArtifactIntegrityError(
            f"refusing to load {key}: its SHA-256 is {actual[:12]}..., the registry recorded "
            f"{expected[:12]}... (tampered or corrupted)",
            key=key,
            expected=expected,
            actual=actual,
        )


@dataclass(frozen=True)
class Lineage:
    """Where a version comes from.

    Attributes:
        execution: the retraining execution that trained it.
        action: ``retrain`` or ``emergency_retrain``.
        evaluation_id: the evaluation whose failed checks triggered the retraining.
        triggered_by: the names of those checks.
        segments: the segments they failed in (a targeted retraining trains on these).
        data_start, data_end: the training data window (ISO 8601).
        training_rows, holdout_rows: rows trained on and evaluated on.
        parent: the champion version when it was trained (None: the model served before
            driftline registered any).
        reason: a sentence for people.
    """

    execution: str
    action: str = "retrain"
    evaluation_id: str | None = None
    triggered_by: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    data_start: str | None = None
    data_end: str | None = None
    training_rows: int = 0
    holdout_rows: int = 0
    parent: int | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "execution": self.execution,
            "action": self.action,
            "evaluation_id": self.evaluation_id,
            "triggered_by": list(self.triggered_by),
            "segments": list(self.segments),
            "data_start": self.data_start,
            "data_end": self.data_end,
            "training_rows": self.training_rows,
            "holdout_rows": self.holdout_rows,
            "parent": self.parent,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lineage:
        return cls(
            execution=str(data["execution"]),
            action=str(data.get("action", "retrain")),
            evaluation_id=data.get("evaluation_id"),
            triggered_by=tuple(data.get("triggered_by", ())),
            segments=tuple(data.get("segments", ())),
            data_start=data.get("data_start"),
            data_end=data.get("data_end"),
            training_rows=int(data.get("training_rows", 0)),
            holdout_rows=int(data.get("holdout_rows", 0)),
            parent=None if data.get("parent") is None else int(data["parent"]),
            reason=str(data.get("reason", "")),
        )


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model.

    Attributes:
        model, version: the model's name and this version's number (1, 2, ...).
        status: champion, challenger, retired or rolled_back.
        artifact_key: the artifact's key in the bucket; ``sha256`` its digest.
        backend: lambda, sagemaker or external.
        estimator, params: what was trained (lambda backend).
        metrics: holdout figures (``challenger`` and ``champion`` per metric).
        lineage: where it comes from.
        created_at: ISO 8601 time of registration.
        history: every status change, ``{"status", "at", "reason"}``.
    """

    model: str
    version: int
    status: Status
    artifact_key: str
    sha256: str
    backend: str = "lambda"
    estimator: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    lineage: Lineage | None = None
    created_at: str = ""
    history: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"expected status in {', '.join(STATUSES)}, got {self.status!r}")
        if self.version < 1:
            raise ValueError(f"expected a version >= 1, got {self.version}")

    @property
    def label(self) -> str:
        """``v<version>``, as notifications name it."""
        return f"v{self.version}"

    def transition(self, to: Status, *, at: str, reason: str) -> ModelVersion:
        """This version with status ``to``, the move recorded in its history.

        Raises:
            InvalidTransitionError: the lifecycle does not allow the move.
        """
        allowed = TRANSITIONS[self.status]
        if to not in allowed:
            names = ", ".join(sorted(allowed)) or "none (final)"
            raise InvalidTransitionError(
                f"{self.model} {self.label}: cannot go from {self.status} to {to}; "
                f"allowed: {names}",
                model=self.model,
                version=self.version,
            )
        entry = {"status": to, "at": at, "reason": reason}
        return replace(self, status=to, history=(*self.history, entry))

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "status": self.status,
            "artifact_key": self.artifact_key,
            "sha256": self.sha256,
            "backend": self.backend,
            "estimator": self.estimator,
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "lineage": None if self.lineage is None else self.lineage.to_dict(),
            "created_at": self.created_at,
            "history": [dict(entry) for entry in self.history],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelVersion:
        status = str(data["status"])
        if status not in STATUSES:
            raise ValueError(f"expected status in {', '.join(STATUSES)}, got {status!r}")
        lineage = data.get("lineage")
        return cls(
            model=str(data["model"]),
            version=int(data["version"]),
            status=status,
            artifact_key=str(data["artifact_key"]),
            sha256=str(data["sha256"]),
            backend=str(data.get("backend", "lambda")),
            estimator=data.get("estimator"),
            params=dict(data.get("params") or {}),
            metrics=dict(data.get("metrics") or {}),
            lineage=None if lineage is None else Lineage.from_dict(lineage),
            created_at=str(data.get("created_at", "")),
            history=tuple(dict(entry) for entry in data.get("history", ())),
        )


@dataclass(frozen=True)
class TrafficSplit:
    """Which version serves which share of a model's requests.

    ``champion`` None means the model that served before driftline registered any version
    (it keeps serving ``1 - challenger_weight``). ``challenger_weight`` is 0 unless a
    canary runs.

    >>> split = TrafficSplit("fraud", champion=2).with_canary(3, 0.1)
    >>> split.weights()
    {'champion': 0.9, 'challenger': 0.1}
    >>> split.promoted().champion, split.promoted().challenger, split.rolled_back().champion
    (3, None, 2)
    """

    model: str
    champion: int | None = None
    challenger: int | None = None
    challenger_weight: float = 0.0
    updated_at: str = ""
    execution: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.challenger_weight < 1.0:
            raise ValueError(f"expected challenger_weight in [0, 1), got {self.challenger_weight}")
        if (self.challenger is None) != (self.challenger_weight == 0.0):
            raise ValueError("a challenger needs a weight in (0, 1), and a weight a challenger")
        if self.challenger is not None and self.challenger == self.champion:
            raise ValueError(f"version {self.challenger} cannot be champion and challenger")

    def weights(self) -> dict[str, float]:
        """The share of requests of each role."""
        weights = {"champion": round(1.0 - self.challenger_weight, 12)}
        if self.challenger is not None:
            weights["challenger"] = self.challenger_weight
        return weights

    def with_canary(
        self, challenger: int, weight: float, *, at: str = "", execution: str | None = None
    ) -> TrafficSplit:
        """The split with ``challenger`` serving ``weight`` of the requests.

        Raises:
            RegistryError: another challenger already serves (one canary at a time).
        """
        if self.challenger not in (None, challenger):
            raise RegistryError(
                f"{self.model}: v{self.challenger} is already in a canary; one canary at a time",
                reason="canary_running",
            )
        if not 0.0 < weight < 1.0:
            raise ValueError(f"expected a canary weight in (0, 1), got {weight}")
        return replace(
            self,
            challenger=challenger,
            challenger_weight=weight,
            updated_at=at,
            execution=execution,
        )

    def promoted(self, *, at: str = "") -> TrafficSplit:
        """The challenger becomes the champion and serves everything."""
        if self.challenger is None:
            raise RegistryError(f"{self.model}: no challenger to promote", reason="no_challenger")
        return replace(
            self, champion=self.challenger, challenger=None, challenger_weight=0.0, updated_at=at
        )

    def rolled_back(self, *, at: str = "") -> TrafficSplit:
        """The champion serves everything again."""
        return replace(self, challenger=None, challenger_weight=0.0, updated_at=at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "champion": self.champion,
            "challenger": self.challenger,
            "challenger_weight": self.challenger_weight,
            "weights": self.weights(),
            "updated_at": self.updated_at,
            "execution": self.execution,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrafficSplit:
        return cls(
            model=str(data["model"]),
            champion=None if data.get("champion") is None else int(data["champion"]),
            challenger=None if data.get("challenger") is None else int(data["challenger"]),
            challenger_weight=float(data.get("challenger_weight", 0.0)),
            updated_at=str(data.get("updated_at", "")),
            execution=data.get("execution"),
        )
