"""The one path of a detector check: which rows, which values, in which order.

Both the label-arrival handler (:mod:`driftline.aws.jobs.labels`) and ``driftline
backtest`` (:mod:`driftline.backtest`) go through this module, so a backtest reproduces
production:

- :func:`segment_rows` scopes rows to the check's segment (``column=value``, compared as
  text);
- :func:`detector_signal` takes the labelled rows of the segment and turns them into the
  values the detector reads. A row whose signal cannot be read (no prediction for the
  ``error`` signal; a missing, non-numeric or non-finite value; a value other than 0/1 for
  a detector of error indicators) is left out and counted, never fed and never an error;
- :func:`event_order` orders rows by event time (stable: rows of equal or unreadable time
  keep their order, unreadable ones last);
- :func:`feed` feeds a batch at its event time, whatever order the batches arrive in.

Feeding in event-time order
---------------------------

Labels come back late and in any order: hour 11's label file may land before hour 10's. A
detector fed in arrival order would see another stream each time (ADWIN fired on hour 10's
labels only because hour 11's came first). So each batch of signal values carries its event
time (the hour of the predictions it labels) and the detector's saved state keeps, besides
the detector, the batches of the last ``horizon`` of event time:

- a batch newer than every batch seen is applied at once;
- a batch older than some, but within ``horizon`` of the newest, is put in its place: the
  detector is rebuilt from the checkpoint (its state before the kept batches) by replaying
  the kept batches with the new one in event-time order;
- a batch older than the horizon (behind the newest by more than ``horizon``, or older than
  a batch already folded into the checkpoint) is *late*: it is counted and not fed, since
  feeding it would make the detector depend on arrival order;
- batches that fall out of the horizon are folded into the checkpoint, in order.

Ties in event time are ordered by batch id. So any two arrival orders whose disorder stays
within the horizon leave the same detector state. The values of the kept batches are read
back with ``load`` (the caller stores them), so this module does no I/O.

>>> from datetime import datetime, timedelta, timezone
>>> from driftline.detectors import make_detector
>>> hour = lambda h: datetime(2026, 11, 24, h, tzinfo=timezone.utc)
>>> batches = {"b10": [0.0] * 50, "b11": [1.0] * 50}
>>> def run(order):
...     state = {}
...     for name in order:
...         h = 10 if name == "b10" else 11
...         state, _ = feed(state, hour(h), name, batches[name], horizon=timedelta(hours=6),
...                         make=lambda: make_detector("page_hinkley"), load=batches.get)
...     return state["detector"]
>>> run(["b10", "b11"]) == run(["b11", "b10"])
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from driftline.config.checks import CheckSpec
from driftline.config.data import SchemaSpec
from driftline.detectors import DETECTORS, detector_from_dict
from driftline.detectors.base import DriftDetector
from driftline.errors import ConfigError
from driftline.numbers import coerce_numbers
from driftline.profile.performance import row_errors


@dataclass(frozen=True)
class DetectorSignal:
    """What a detector check reads from some rows.

    Attributes:
        rows: the rows fed, in their order (one per value).
        values: the signal, one float per fed row.
        without_signal: labelled rows of the segment left out (signal unreadable).
        missing: columns the check needs that the rows lack (the segment's or the
            signal's); when any is missing nothing is fed.
    """

    rows: pd.DataFrame
    values: list[float]
    without_signal: int = 0
    missing: tuple[str, ...] = ()


def segment_rows(rows: pd.DataFrame, segment: Mapping[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """The rows of a segment (each ``column=value``, compared as text) and the segment's
    columns the rows lack (then no row is in the segment).

    >>> frame = pd.DataFrame({"tier": ["gold", "basic", None], "x": [1, 2, 3]})
    >>> inside, missing = segment_rows(frame, {"tier": "gold"})
    >>> inside["x"].tolist(), missing
    ([1], [])
    >>> segment_rows(frame, {"region": "west"})[1]
    ['region']
    """
    missing = [column for column in segment if column not in rows.columns]
    if missing:
        return rows.iloc[0:0], missing
    keep = np.ones(len(rows), dtype=bool)
    for column, value in segment.items():
        keep &= (rows[column].astype("string") == value).fillna(False).to_numpy(dtype=bool)
    return rows[keep], []


def detector_signal(check: CheckSpec, schema: SchemaSpec, rows: pd.DataFrame) -> DetectorSignal:
    """The labelled rows of the check's segment and the signal values the detector reads.

    Rows without a label are not the check's (they are not counted); a labelled row whose
    signal cannot be read is left out and counted in ``without_signal``.

    Raises:
        ConfigError: the check's signal does not apply to the schema (``error`` without a
            prediction column or for ranking; ``score`` without a score column).

    >>> from driftline.config import CheckSpec, SchemaSpec
    >>> schema = SchemaSpec(task="binary_classification", features={"x": "numeric"}, label="y",
    ...                     prediction="p", score="s")
    >>> check = CheckSpec(name="d", detector="ddm", signal="error")
    >>> rows = pd.DataFrame({"y": [1, 0, 1, None], "p": [1, 1, None, 0], "s": [0.9] * 4})
    >>> found = detector_signal(check, schema, rows)
    >>> found.values, found.without_signal
    ([0.0, 1.0], 1)
    """
    assert check.signal is not None and check.detector is not None
    if schema.label is None:
        raise ConfigError("a detector check needs schema.label", reason="invalid_signal")
    scoped, missing = segment_rows(rows, check.segment or {})
    if check.signal == "error":
        if schema.task == "ranking" or schema.prediction is None:
            raise ConfigError(
                "the error signal needs schema.prediction and a "
                f"classification or regression task (task {schema.task}, prediction "
                f"{schema.prediction!r})",
                reason="invalid_signal",
            )
        column = schema.prediction
    elif check.signal == "score":
        if schema.score is None:
            raise ConfigError("the score signal needs schema.score", reason="invalid_signal")
        column = schema.score
    else:
        column = check.signal
    missing += [c for c in (schema.label, column) if c not in rows.columns and c not in missing]
    if missing:
        return DetectorSignal(rows.iloc[0:0], [], 0, tuple(missing))
    labelled = scoped[scoped[schema.label].notna().to_numpy(dtype=bool)]
    if check.signal == "error":
        present = labelled[column].notna().to_numpy(dtype=bool)
        numbers = np.full(len(labelled), np.nan)
        if schema.task == "regression":
            truth = _numbers(labelled[schema.label][present])
            predicted = _numbers(labelled[column][present])
            numbers[present] = np.abs(truth - predicted)
        elif present.any():
            numbers[present] = row_errors(
                labelled[schema.label][present], labelled[column][present], schema.task
            )
    else:
        numbers = _numbers(labelled[column])
    readable = np.isfinite(numbers)
    if DETECTORS[check.detector].binary_input:
        readable &= (numbers == 0.0) | (numbers == 1.0)
    fed = labelled[readable]
    return DetectorSignal(
        fed, [float(x) for x in numbers[readable].tolist()], int(len(labelled) - len(fed))
    )


def event_order(rows: pd.DataFrame, column: str | None) -> pd.DataFrame:
    """The rows in event-time order (stable); unchanged without a time column.

    Times are ISO 8601 text or datetimes; rows whose time cannot be read go last, in
    their order.
    """
    if column is None or column not in rows.columns:
        return rows
    times = pd.to_datetime(rows[column], utc=True, errors="coerce", format="mixed")
    order = np.argsort(times.to_numpy(dtype="datetime64[ns]"), kind="stable")
    return rows.iloc[order]


def _numbers(values: pd.Series) -> np.ndarray[Any, Any]:
    """Values as float64; NaN where missing or not a number."""
    if pd.api.types.is_bool_dtype(values):
        values = values.astype("float64")
    elif not pd.api.types.is_numeric_dtype(values):
        values = coerce_numbers(values)
    return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


#: Fired rows remembered as already reported, so that a replay does not report them again.
REPORTED_MEMORY = 200


@dataclass(frozen=True)
class Fed:
    """What feeding one batch did.

    Attributes:
        status: ``applied`` (in order), ``reordered`` (replayed into place), ``late``
            (older than the horizon: not fed) or ``duplicate`` (seen before).
        fired: rows of the new batch at which the detector fired.
        fired_elsewhere: ``(batch, row)`` of fires in other kept batches that a replay
            found and that were not reported before.
        forget: batches folded into the checkpoint, whose stored values are no longer read.
        rows: values the detector took from the new batch.
    """

    status: str
    fired: list[int] = field(default_factory=list)
    fired_elsewhere: list[tuple[str, int]] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)
    rows: int = 0


def feed(
    state: Mapping[str, Any],
    time: datetime,
    batch: str,
    values: Sequence[float],
    *,
    horizon: timedelta,
    make: Callable[[], DriftDetector],
    load: Callable[[str], Sequence[float] | None],
    memory: int = 500,
) -> tuple[dict[str, Any], Fed]:
    """Feed one batch of signal values (in their row order) at its event time.

    Args:
        state: the saved state (empty for a new detector); not changed.
        time: the batch's event time (time-zone aware).
        batch: the batch's id (unique per batch; the tie-break between equal times).
        values: the batch's signal values.
        horizon: how far behind the newest batch a batch may arrive and still be put in
            its place.
        make: a new detector (the check's kind and parameters).
        load: the stored values of a kept batch by id (None: gone; replayed as empty).
        memory: how many batch ids the state remembers as applied (a duplicate older than
            that would be fed again).

    Returns:
        The new state and what feeding did.
    """
    applied = list(state.get("applied", []))
    if batch in applied:
        return dict(state), Fed("duplicate")
    log: list[list[str]] = [list(item) for item in state.get("log", [])]
    stamp = time.isoformat()
    floor = state.get("floor")
    newest = max([stamp, *(item[0] for item in log)])
    new = dict(state)
    if (floor is not None and (stamp, batch) <= tuple(floor)) or (
        datetime.fromisoformat(newest) - time > horizon
    ):
        new["applied"] = [*applied, batch][-memory:]
        new["late"] = int(state.get("late", 0)) + 1
        return new, Fed("late")
    entry = [stamp, batch]
    earlier = [(str(b), int(r)) for b, r in state.get("reported", [])]
    reported = set(earlier)
    if not log or tuple(entry) > tuple(log[-1]):
        detector = _restore(state.get("detector"), make)
        fired = _run(detector, values)
        log.append(entry)
        outcome = Fed("applied", fired=fired, rows=len(values))
    else:
        log = sorted([*log, entry])
        detector = _restore(state.get("checkpoint"), make)
        fired, elsewhere = [], []
        for item_time, item in log:
            del item_time
            series = values if item == batch else (load(item) or [])
            fires = _run(detector, series)
            if item == batch:
                fired = fires
            else:
                elsewhere += [(item, row) for row in fires if (item, row) not in reported]
        outcome = Fed("reordered", fired=fired, fired_elsewhere=elsewhere, rows=len(values))
    # Fold what fell out of the horizon into the checkpoint, oldest first.
    cutoff = datetime.fromisoformat(max(item[0] for item in log)) - horizon
    folded = [item for item in log if datetime.fromisoformat(item[0]) < cutoff]
    if folded:
        checkpoint = _restore(state.get("checkpoint"), make)
        for _, item in folded:
            _run(checkpoint, values if item == batch else (load(item) or []))
        new["checkpoint"] = checkpoint.to_dict()
        new["floor"] = folded[-1]
        log = log[len(folded) :]
    now_reported = [*earlier, *((batch, row) for row in outcome.fired), *outcome.fired_elsewhere]
    new.update(
        detector=detector.to_dict(),
        log=log,
        applied=[*applied, batch][-memory:],
        reported=[list(item) for item in now_reported[-REPORTED_MEMORY:]],
    )
    return new, Fed(
        outcome.status,
        fired=outcome.fired,
        fired_elsewhere=outcome.fired_elsewhere,
        forget=[item for _, item in folded],
        rows=outcome.rows,
    )


def _restore(saved: Mapping[str, Any] | None, make: Callable[[], DriftDetector]) -> DriftDetector:
    return detector_from_dict(saved) if saved else make()


def _run(detector: DriftDetector, values: Sequence[float]) -> list[int]:
    fired = []
    for position, value in enumerate(values):
        detector.update(float(value))
        if detector.drift_detected:
            fired.append(position)
    return fired
