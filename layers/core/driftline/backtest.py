"""``driftline backtest``: replay recorded inference logs (joined with late labels) in
event-time order through the detector and metric checks of a monitor definition, and report
when each would have fired. It holds the logs in memory (the reference file is streamed).

The detector checks take their rows, values and order from :mod:`driftline.detector_feed`,
as production does. The command's options are read in :mod:`driftline.cli`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftline.checks import segment_key, skip
from driftline.config.checks import CheckSpec
from driftline.config.definition import MonitorDefinition
from driftline.config.durations import parse_duration
from driftline.detector_feed import detector_signal, event_order, segment_rows
from driftline.detectors import DriftDetector, make_detector
from driftline.errors import ConfigError, DriftlineError, InsufficientDataError, InvalidInputError
from driftline.evaluation import capture_columns, performance_spec
from driftline.formatting import value_kind
from driftline.io import CaptureColumns, open_table
from driftline.labels import JoinReport, LabelTable, join_labels
from driftline.metrics import PerformanceProfile, compute_metric
from driftline.metrics.catalogue import ESTIMATE_COVERAGE
from driftline.performance import decide_metric_check
from driftline.profile.dataset import DatasetProfile
from driftline.profile.performance import PerformanceSpec, performance_of
from driftline.replay import CHUNK_ROWS, replay

#: Windows of metric checks are aligned to multiples of their length since this instant.
EPOCH = pd.Timestamp("1970-01-01T00:00:00Z")

# Bookkeeping columns added to the loaded logs (where each row came from, its event time).
_FILE, _ROW, _TIME = "__driftline_file", "__driftline_row", "__driftline_time"


# --- backtest: loading ---------------------------------------------------------------------


@dataclass
class ReplayLog:
    """Inference logs joined with labels, in event-time order.

    Attributes:
        frame: the rows, sorted by event time (stable), with bookkeeping columns for the
            source file, the row's position in it and the parsed UTC event time.
        bad_rows: rows the readers rejected (malformed lines), counted, not replayed.
        labels: what joining separate label files found, or None without label files.
    """

    frame: pd.DataFrame
    bad_rows: int
    labels: dict[str, Any] | None


def load_logs(
    definition: MonitorDefinition,
    inputs: Sequence[Path],
    *,
    labels: Sequence[Path] = (),
    chunk_rows: int = CHUNK_ROWS,
) -> ReplayLog:
    """Read the inference logs (whole, into memory), join the labels, sort by event time.

    A label from a label file replaces a label already in the logs (it is the later truth);
    label rows whose id matches no prediction are counted in ``labels``.

    Raises:
        ConfigError: the definition lacks ``schema.timestamp`` or ``schema.label``, or label
            files are given without ``schema.id``.
        InvalidInputError: a file cannot be read, lacks the timestamp column or holds a row
            without a valid timestamp (the message names the file and the row).
    """
    schema = definition.schema_
    if schema.timestamp is None:
        raise ConfigError(
            "backtest needs schema.timestamp to order the logs", reason="missing_timestamp"
        )
    if schema.label is None:
        raise ConfigError("backtest needs schema.label", reason="missing_label")
    if labels and schema.id is None:
        raise ConfigError("--labels needs schema.id to join labels to predictions by id")
    capture = capture_columns(definition)
    frames: list[pd.DataFrame] = []
    bad_rows = 0
    for path in inputs:
        reader = open_table(path, name=str(path), chunk_rows=chunk_rows, capture=capture)
        chunks = list(reader)
        bad_rows += reader.report.bad_rows
        if not chunks:
            continue
        frame = pd.concat(chunks)
        frame[_FILE] = reader.name
        frame[_ROW] = np.arange(len(frame))
        frame[_TIME] = event_times(frame, schema.timestamp, file=reader.name)
        frames.append(frame)
    if not frames:
        raise InvalidInputError(
            f"no rows in the inference logs ({', '.join(map(str, inputs))})", reason="no_rows"
        )
    logs = pd.concat(frames, ignore_index=True)
    report: dict[str, Any] | None = None
    if labels:
        assert schema.id is not None
        table = _label_table(labels, schema.id, schema.label, capture, chunk_rows)
        try:
            logs, joined = join_labels(logs, table, id=schema.id, label=schema.label)
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"{', '.join(map(str, inputs))}: {exc}", reason=exc.reason, **exc.details
            ) from exc
        report = _join_summary(joined, table)
    elif schema.label not in logs.columns:
        logs[schema.label] = None
    logs = event_order(logs, _TIME).reset_index(drop=True)
    return ReplayLog(logs, bad_rows, report)


def _label_table(
    paths: Sequence[Path], id: str, label: str, capture: CaptureColumns, chunk_rows: int
) -> LabelTable:
    table = LabelTable()
    for path in paths:
        reader = open_table(path, name=str(path), chunk_rows=chunk_rows, capture=capture)
        try:
            for frame in reader:
                table.add(frame, id=id, label=label)
        except InvalidInputError as exc:
            if str(exc).startswith(reader.name):
                raise
            raise InvalidInputError(
                f"{reader.name}: {exc}", reason=exc.reason, **exc.details
            ) from exc
    return table


def _join_summary(report: JoinReport, table: LabelTable) -> dict[str, Any]:
    summary = report.to_dict(table)
    summary.pop("rows", None)
    return summary


def event_times(frame: pd.DataFrame, column: str, *, file: str) -> pd.Series:
    """The event time of every row as a UTC timestamp.

    Accepts datetimes (naive ones are taken as UTC), ISO 8601 text, and epoch seconds
    (milliseconds when larger than 1e11).

    Raises:
        InvalidInputError: the column is absent, or a row's time is missing or unparseable
            (the message names the file, the row and the value).

    >>> frame = pd.DataFrame({"t": ["2026-01-01T06:00:00Z", "2026-01-01 07:30"]})
    >>> [t.isoformat() for t in event_times(frame, "t", file="logs.csv")]
    ['2026-01-01T06:00:00+00:00', '2026-01-01T07:30:00+00:00']
    >>> event_times(pd.DataFrame({"t": [1767247200, 1767247200000]}), "t", file="f")[1].hour
    6
    """
    if column not in frame.columns:
        raise InvalidInputError(
            f"{file}: no timestamp column {column!r}; columns: "
            f"{', '.join(map(str, frame.columns))}",
            reason="missing_column",
            file=file,
            column=column,
        )
    values = frame[column]
    times: pd.Series
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        times = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values):
        times = values.dt.tz_localize("UTC")
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
        scale = np.where(numbers.abs() > 1e11, 1e-3, 1.0)
        times = pd.Series(
            pd.to_datetime(numbers * scale, unit="s", utc=True, errors="coerce"),
            index=values.index,
        )
    else:
        times = pd.Series(
            pd.to_datetime(values, utc=True, errors="coerce", format="mixed"), index=values.index
        )
    missing = np.flatnonzero(times.isna().to_numpy())
    if missing.size:
        k = int(missing[0])
        raise InvalidInputError(
            f"{file}: row {k} has no valid timestamp in column {column!r} "
            f"(got {value_kind(values.iloc[k])}); expected ISO 8601 text or epoch seconds",
            reason="invalid_timestamp",
            file=file,
            column=column,
            row=k,
        )
    return times


# --- backtest: the checks -----------------------------------------------------------------


def backtest(
    definition: MonitorDefinition,
    inputs: Sequence[Path],
    *,
    labels: Sequence[Path] = (),
    reference: Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, Any]:
    """Replay the logs through the definition's detector and metric checks.

    Detector checks read the labelled rows in event-time order (in production they run when
    labels arrive). Metric checks are decided on consecutive tumbling windows of the
    definition's first ``windows`` length, aligned to multiples of it since 1970-01-01 UTC
    (``P1D``: UTC days), by the function ``driftline evaluate`` uses; a window fails, and
    the check fires, at the window's end. Drift and quality checks compare whole batches
    and are listed as not replayed.

    Returns:
        The backtest document: ``checks`` (one entry per replayed check, each with the list
        ``fired``), ``not_replayed``, ``first_fired`` (None when nothing fired) and counts.

    Raises:
        ConfigError: the definition cannot be replayed (no timestamp or label column, a
            detector's parameters, a signal that does not apply).
        InvalidInputError: unreadable files or values (the message names file, row, column).
    """
    log = load_logs(definition, inputs, labels=labels, chunk_rows=chunk_rows)
    schema = definition.schema_
    assert schema.label is not None
    logs = log.frame
    labelled = logs[schema.label].notna().to_numpy()
    replayed = [
        (index, check)
        for index, check in enumerate(definition.checks)
        if check.detector is not None
        or (check.metric not in (None, ESTIMATE_COVERAGE) and not check.estimated)
    ]
    if replayed and not labelled.any():
        raise InvalidInputError(
            f"no labelled rows: the logs have no value in column {schema.label!r}"
            + ("" if labels else " and no --labels were given"),
            reason="no_labels",
        )
    window = definition.windows[0]
    grid = WindowGrid.covering(logs[_TIME], parse_duration(window))
    metric_checks = [check for _, check in replayed if check.metric is not None]
    baselines = reference_profiles(definition, metric_checks, reference, chunk_rows=chunk_rows)
    spec = performance_spec(definition)
    assert spec is not None  # the label column is set
    results: list[dict[str, Any]] = []
    for index, check in replayed:
        if check.detector is not None:
            results.append(replay_detector_check(check, index, definition, logs))
        else:
            results.append(replay_metric_check(check, spec, logs, grid, baselines.get(check.name)))
    return {
        "model": definition.model,
        "rows": {
            "logs": len(logs),
            "labelled": int(labelled.sum()),
            "rejected": log.bad_rows,
        },
        "labels": log.labels,
        "window": window,
        "reference": None if reference is None else str(reference),
        "checks": results,
        "not_replayed": [
            _not_replayed(check)
            for check in definition.checks
            if check.estimated
            or check.metric == ESTIMATE_COVERAGE
            or (check.detector is None and check.metric is None)
        ],
        "first_fired": _first_fired(results),
    }


def _not_replayed(check: CheckSpec) -> dict[str, Any]:
    """A check the backtest leaves out, and why: it replays what the labels measure."""
    if check.estimated:
        kind = "estimated"
        reason = (
            "decided on the estimate made before labels (a classifier's from its scores, a "
            "regression model's from its loss model), fitted on the baseline; "
            "use driftline evaluate"
        )
    elif check.metric == ESTIMATE_COVERAGE:
        kind = "metric"
        reason = (
            "reads the estimate's reconciliations that scheduled evaluations store; a "
            "backtest makes no estimate"
        )
    else:
        kind = "drift" if check.drift is not None else "quality"
        reason = "compares whole batches with the baseline; use driftline evaluate"
    return {"name": check.name, "kind": kind, "reason": reason}


def _first_fired(results: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    first: tuple[pd.Timestamp, dict[str, Any]] | None = None
    for result in results:
        for fired in result["fired"]:
            at = pd.Timestamp(fired["timestamp"] if result["kind"] == "detector" else fired["end"])
            if first is None or at < first[0]:
                first = (at, {"check": result["name"], "kind": result["kind"], "at": _iso(at)})
    return None if first is None else first[1]


def _segment_rows(frame: pd.DataFrame, check: CheckSpec) -> pd.DataFrame:
    """The rows of the check's segment (``column=value``, compared as text).

    Raises:
        InvalidInputError: the logs have no such segment column.
    """
    rows, missing = segment_rows(frame, check.segment or {})
    if missing:
        raise InvalidInputError(
            f"check {check.name}: the data has no segment column {missing[0]!r}",
            reason="missing_column",
            column=missing[0],
        )
    return rows


def replay_detector_check(
    check: CheckSpec,
    index: int,
    definition: MonitorDefinition,
    logs: pd.DataFrame,
    *,
    detector: DriftDetector | None = None,
) -> dict[str, Any]:
    """Feed the check's signal on the labelled rows (in order) to a detector: a fresh one
    of the check's kind, or ``detector`` (updated in place) when given.

    The rows and values are :func:`driftline.detector_feed.detector_signal`'s, as in
    production: labelled rows whose signal cannot be read are left out and counted
    (``rows_without_signal``).

    Raises:
        ConfigError: the detector's parameters are invalid, or the signal does not apply.
        InvalidInputError: the logs lack the signal's or the segment's column.
    """
    assert check.detector is not None and check.signal is not None
    schema = definition.schema_
    assert schema.label is not None
    if detector is None:
        try:
            detector = make_detector(check.detector, **check.params)
        except ValueError as exc:
            raise ConfigError(
                f"checks[{index}].params: {exc}", reason="invalid_parameter", check=check.name
            ) from None
    _segment_rows(logs, check)  # a segment column the logs lack is an error here
    try:
        signal = detector_signal(check, schema, logs)
    except ConfigError as exc:
        raise ConfigError(
            f"checks[{index}].signal: {exc}", reason=exc.reason, check=check.name
        ) from None
    if signal.missing:
        _column(logs, signal.missing[0])
    rows = signal.rows
    found = replay(detector, signal.values)
    ids = rows[schema.id] if schema.id is not None and schema.id in rows.columns else None
    fired = [
        {
            "index": position,
            "timestamp": _iso(rows[_TIME].iloc[position]),
            "id": None if ids is None else _json_value(ids.iloc[position]),
        }
        for position in found.drifts
    ]
    return {
        "name": check.name,
        "kind": "detector",
        "detector": detector.name,
        "params": detector.params,
        "signal": check.signal,
        "segment": segment_key(check),
        "action": check.action,
        "rows": found.rows,
        "rows_without_signal": signal.without_signal,
        "fired": fired,
    }


def _column(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows.columns:
        shown = [c for c in rows.columns if c not in (_FILE, _ROW, _TIME)]
        raise InvalidInputError(
            f"the logs have no column {column!r}; columns: {', '.join(map(str, shown))}",
            reason="missing_column",
            column=column,
        )
    return rows[column]


@dataclass(frozen=True)
class WindowGrid:
    """Consecutive tumbling windows ``[start + i d, start + (i + 1) d)`` covering the logs."""

    start: pd.Timestamp
    length: pd.Timedelta
    count: int

    @classmethod
    def covering(cls, times: pd.Series, length: timedelta) -> WindowGrid:
        """The windows, aligned to multiples of ``length`` since :data:`EPOCH`, from the
        one holding the earliest time to the one holding the latest."""
        step = pd.Timedelta(length)
        first, last = pd.Timestamp(times.min()), pd.Timestamp(times.max())
        start = EPOCH + ((first - EPOCH) // step) * step
        return cls(start, step, int((last - start) // step) + 1)

    def index(self, times: pd.Series) -> np.ndarray[Any, Any]:
        """The window of each time."""
        return np.asarray(((times - self.start) // self.length).to_numpy(), dtype=np.int64)

    def bounds(self, i: int) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Start and end of window ``i``."""
        start = self.start + i * self.length
        return start, start + self.length


def replay_metric_check(
    check: CheckSpec,
    spec: PerformanceSpec,
    logs: pd.DataFrame,
    grid: WindowGrid,
    reference: PerformanceProfile | None,
) -> dict[str, Any]:
    """Decide a metric check on every window of ``grid``, as ``driftline evaluate`` would.

    Each window's rows (of the check's segment) are reduced to a performance profile and
    decided by :func:`~driftline.performance.decide_metric_check` against ``reference``:
    ``skip`` with the reason when there are fewer labelled rows than the check's
    ``min_labelled_rows`` or the metric is undefined, and (a relative check) without a
    reference.
    """
    assert check.metric is not None
    rows = _segment_rows(logs, check)
    window_of = grid.index(rows[_TIME])
    baseline = DatasetProfile(
        rows=reference.rows if reference else 0, columns={}, performance=reference
    )
    windows: list[dict[str, Any]] = []
    for i in range(grid.count):
        start, end = grid.bounds(i)
        chunk = rows[window_of == i]
        labelled = 0
        if len(chunk) == 0:
            result = skip(check, "no rows in the window")
        else:
            profile = _performance(check, spec, chunk)
            labelled = profile.labelled
            current = DatasetProfile(rows=len(chunk), columns={}, performance=profile)
            result = decide_metric_check(check, baseline, current)
        windows.append(
            {
                "start": _iso(start),
                "end": _iso(end),
                "rows": len(chunk),
                "labelled": labelled,
                **{key: result.to_dict()[key] for key in ("status", "value", "threshold")},
                "detail": result.detail,
            }
        )
    value, note = _reference_value(reference, check.metric)
    return {
        "name": check.name,
        "kind": "metric",
        "metric": check.metric,
        "segment": segment_key(check),
        "action": check.action,
        "baseline": value,
        "baseline_note": note,
        "windows": windows,
        "fired": [
            {key: window[key] for key in ("start", "end", "value", "threshold")}
            for window in windows
            if window["status"] == "fail"
        ],
    }


def _performance(
    check: CheckSpec, spec: PerformanceSpec, frame: pd.DataFrame
) -> PerformanceProfile:
    try:
        return performance_of(frame, spec)
    except ValueError as exc:
        raise ConfigError(f"check {check.name}: {exc}", reason="invalid_schema") from None


def _reference_value(
    reference: PerformanceProfile | None, metric: str
) -> tuple[float | None, str | None]:
    """The metric on the reference (for the report), or None and why not."""
    if reference is None:
        return None, "no --reference given"
    if metric == "label_coverage":
        return (reference.labelled / reference.rows, None) if reference.rows else (None, "no rows")
    try:
        return _json_number(compute_metric(reference, metric)), None
    except InsufficientDataError as exc:
        return None, f"undefined on the reference: {exc}"


def reference_profiles(
    definition: MonitorDefinition,
    checks: Sequence[CheckSpec],
    reference: Path | None,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, PerformanceProfile]:
    """Each metric check's performance profile of the reference file (one streamed pass).

    Returns:
        check name → the profile of the check's segment; empty without a reference file.
    """
    spec = performance_spec(definition)
    if reference is None or not checks or spec is None:
        return {}
    profiles: dict[str, PerformanceProfile] = {}
    reader = open_table(
        reference, name=str(reference), chunk_rows=chunk_rows, capture=capture_columns(definition)
    )
    for frame in reader:
        for check in checks:
            try:
                profile = _performance(check, spec, _segment_rows(frame, check))
            except DriftlineError as exc:
                raise type(exc)(f"{reader.name}: {exc}", reason=exc.reason, **exc.details) from exc
            held = profiles.get(check.name)
            profiles[check.name] = profile if held is None else held.merge(profile)
    return profiles


# --- JSON helpers ---------------------------------------------------------------------------


def _iso(value: Any) -> str:
    """A UTC time as ISO 8601 text ending in ``Z``."""
    return str(pd.Timestamp(value).isoformat()).replace("+00:00", "Z")


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _json_number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


__all__ = [
    "EPOCH",
    "ReplayLog",
    "WindowGrid",
    "backtest",
    "capture_columns",
    "event_times",
    "load_logs",
    "reference_profiles",
    "replay_detector_check",
    "replay_metric_check",
]
