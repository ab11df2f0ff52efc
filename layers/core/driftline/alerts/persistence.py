"""A check's persistence rule (``persist: {windows: K, of: M}``) as the act step applies it:
the recent outcomes kept per window length and ordered by window end, and whether the rule
is met.

The rule is met at an evaluation that failed when at least K of the M latest decided
evaluations of the same window length, this one included, failed. "Latest" is by window end,
not by arrival: a late evaluation takes its place in the history, and one older than the M
latest cannot fire. A skipped evaluation is not an outcome. The same evaluation recorded
twice counts once.

>>> from driftline.config import PersistSpec
>>> rule = PersistSpec(windows=2, of=3)
>>> history = record((), Outcome("P1D", "2024-06-01T00:00:00Z", "e1", True))
>>> tally(history, rule, "P1D", "e1")
Tally(failures=1, needed=2, of=3, counted=True)
>>> history = record(history, Outcome("P1D", "2024-06-02T00:00:00Z", "e2", True))
>>> tally(history, rule, "P1D", "e2").met
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from driftline.alerts.states import Outcome, iso_utc
from driftline.config.checks import PERSIST_MAX_EVALUATIONS, PersistSpec

#: The most outcomes one alert state keeps across all its window lengths; past it, those of
#: the lengths other than the one just recorded go first, oldest first.
HISTORY_LIMIT = 4 * PERSIST_MAX_EVALUATIONS
#: How the window length reads when the result does not give both ends.
UNKNOWN_WINDOW = "unknown"


@dataclass(frozen=True)
class Tally:
    """How a persistence rule stands after an evaluation.

    Attributes:
        failures: failed evaluations among the ``of`` latest of the window length.
        needed: the rule's ``windows``.
        of: the rule's ``of``.
        counted: whether the evaluation is among those latest (a late one may not be).
    """

    failures: int
    needed: int
    of: int
    counted: bool

    @property
    def met(self) -> bool:
        """Whether the rule fires: the evaluation counted, with enough failures."""
        return self.counted and self.failures >= self.needed

    def to_dict(self) -> dict[str, Any]:
        return {"failures": self.failures, "needed": self.needed, "of": self.of}


def window_length(start: str | None, end: str | None) -> str:
    """The length of a window as an ISO 8601 duration, in its largest whole unit.

    >>> window_length("2024-06-01T00:00:00+00:00", "2024-06-08T00:00:00+00:00")
    'P7D'
    >>> window_length("2024-06-01T10:00:00Z", "2024-06-01T11:00:00Z"), window_length(None, "x")
    ('PT1H', 'unknown')
    """
    first, last = _moment(start), _moment(end)
    if first is None or last is None or last <= first:
        return UNKNOWN_WINDOW
    seconds = int((last - first).total_seconds())
    for unit, size in (("D", 86_400), ("H", 3_600), ("M", 60)):
        if seconds % size == 0:
            return f"P{seconds // size}D" if unit == "D" else f"PT{seconds // size}{unit}"
    return f"PT{seconds}S"


def window_end(end: str | None) -> str | None:
    """A window end as the history keeps it (UTC, to the second), None when unreadable."""
    moment = _moment(end)
    return None if moment is None else iso_utc(moment)


def record(history: Sequence[Outcome], outcome: Outcome) -> tuple[Outcome, ...]:
    """``history`` with ``outcome`` in its place: ordered by window end within its window
    length (an unknown end after the known ones, in arrival order), replacing an outcome of
    the same evaluation, and at most :data:`PERSIST_MAX_EVALUATIONS` kept per length.

    >>> late = record([Outcome("P1D", "2024-06-03T00:00:00Z", "e3", False)],
    ...               Outcome("P1D", "2024-06-02T00:00:00Z", "e2", True))
    >>> [item.evaluation_id for item in late]
    ['e2', 'e3']
    >>> record(late, Outcome("P1D", "2024-06-02T00:00:00Z", "e2", True)) == late
    True
    """
    same = [
        item
        for item in history
        if item.window == outcome.window and item.evaluation_id != outcome.evaluation_id
    ]
    same = sorted([*same, outcome], key=_by_end)[-PERSIST_MAX_EVALUATIONS:]
    others = [item for item in history if item.window != outcome.window]
    if len(others) + len(same) > HISTORY_LIMIT:
        others = sorted(others, key=_by_end)[len(others) + len(same) - HISTORY_LIMIT :]
    return (*others, *same)


def tally(history: Sequence[Outcome], rule: PersistSpec, window: str, evaluation_id: str) -> Tally:
    """How ``rule`` stands for the evaluation ``evaluation_id`` of length ``window``, once
    :func:`record` has put it in ``history``."""
    latest = [item for item in history if item.window == window][-rule.of :]
    return Tally(
        failures=sum(item.failed for item in latest),
        needed=rule.windows,
        of=rule.of,
        counted=any(item.evaluation_id == evaluation_id for item in latest),
    )


def _by_end(item: Outcome) -> tuple[int, datetime]:
    moment = _moment(item.end)
    return (1, datetime.min.replace(tzinfo=UTC)) if moment is None else (0, moment)


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
