"""What a reader saw: rows yielded, rows rejected and why.

A reader never drops a row silently: every rejected row is counted in
:attr:`ReadReport.bad_rows`, and the first :data:`MAX_SAMPLES` are kept with their line
number and a short reason for the quarantine record. Reasons describe the *shape* of the
problem ("expected 3 fields, saw 4", "invalid JSON"); they never quote feature values,
which may be sensitive.

>>> report = ReadReport()
>>> report.reject(4, "expected 2 fields, saw 3")
>>> report.rows += 10
>>> report.to_dict()
{'rows': 10, 'bad_rows': 1, 'samples': [{'line': 4, 'reason': 'expected 2 fields, saw 3'}]}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: How many rejected rows a report keeps as samples (all of them are counted).
MAX_SAMPLES = 20


@dataclass(frozen=True)
class BadRow:
    """One rejected row: where it was and why it was rejected.

    Attributes:
        line: 1-based line number in the (decompressed) file, or ``None`` where lines have no
            meaning. For CSV it is the line as the parser counts it: a quoted value that spans
            several physical lines counts as one.
        reason: a short description of the problem that never includes the row's values.
    """

    line: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form: ``{"line": ..., "reason": ...}``."""
        return {"line": self.line, "reason": self.reason}


@dataclass
class ReadReport:
    """Counts of one pass over a file, filled in while the reader is iterated.

    Attributes:
        rows: rows yielded so far.
        bad_rows: rows rejected so far (each one counted, none dropped silently).
        samples: the first :data:`MAX_SAMPLES` rejected rows.
    """

    rows: int = 0
    bad_rows: int = 0
    samples: list[BadRow] = field(default_factory=list)

    def reject(self, line: int | None, reason: str) -> None:
        """Count one rejected row, keeping it as a sample while there is room.

        Args:
            line: its 1-based line number, or ``None`` if unknown.
            reason: why it was rejected, without its values.
        """
        self.bad_rows += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(BadRow(line, reason))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, as written next to a quarantined file or into a report."""
        return {
            "rows": self.rows,
            "bad_rows": self.bad_rows,
            "samples": [sample.to_dict() for sample in self.samples],
        }
