"""``driftline detect``: replay recorded data through a streaming detector.

``detect`` reads one numeric column of a file, in chunks, through one streaming detector
(:mod:`driftline.detectors`) and prints where it fired. With ``--state-out`` it saves the
detector after the last row, and with ``--state-in`` it starts from a saved detector, so a
stream split into files gives the same detections as the whole stream read at once (the
*resume guarantee*: the saved state is the detector's complete state, see
:meth:`~driftline.detectors.DriftDetector.to_dict`). ``driftline backtest`` replays whole
inference logs through a definition's checks (:mod:`driftline.backtest`) with
:func:`replay`.

Positions are 0-based among the data rows of the input (the header is not a row). Warnings
are reported as runs ``[first, last]`` of consecutive positions, both included.

The command's options (``--param``, ``--state-in``, ...) are read in :mod:`driftline.cli`;
this module takes their values.

>>> import random
>>> from driftline.detectors import make_detector
>>> rng = random.Random(7)
>>> stream = [rng.gauss(0.0, 1.0) for _ in range(1000)]
>>> stream += [rng.gauss(1.0, 1.0) for _ in range(1000)]
>>> found = replay(make_detector("adwin"), stream)
>>> found.rows, found.drifts
(2000, [1055])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from driftline.detectors import DETECTORS, DriftDetector
from driftline.errors import InvalidInputError
from driftline.formatting import value_kind
from driftline.io import TableReader, open_table

CHUNK_ROWS = 100_000


# --- detect -------------------------------------------------------------------------------


@dataclass
class Detections:
    """Where a detector fired while reading a stream.

    Attributes:
        rows: values read.
        drifts: positions (0-based) after which ``drift_detected`` was true.
        warnings: runs ``(first, last)`` of consecutive positions, both included, after which
            ``warning_detected`` was true.
    """

    rows: int = 0
    drifts: list[int] = field(default_factory=list)
    warnings: list[tuple[int, int]] = field(default_factory=list)

    def add_warning(self, position: int) -> None:
        """Extend the last warning run by ``position``, or start a new run."""
        if self.warnings and self.warnings[-1][1] == position - 1:
            self.warnings[-1] = (self.warnings[-1][0], position)
        else:
            self.warnings.append((position, position))


def replay(
    detector: DriftDetector, values: Iterable[float], *, into: Detections | None = None
) -> Detections:
    """Feed ``values`` to ``detector`` in order and record where it fired.

    Args:
        detector: the detector, updated in place.
        values: the stream, already validated for the detector.
        into: earlier detections of the same stream to continue (positions go on from its
            ``rows``); a new record by default.

    Returns:
        The detections (``into`` when given).
    """
    found = into if into is not None else Detections()
    position = found.rows
    for value in values:
        detector.update(value)
        if detector.drift_detected:
            found.drifts.append(position)
        if detector.warning_detected:
            found.add_warning(position)
        position += 1
    found.rows = position
    return found


def detect_in_file(
    detector: DriftDetector, path: Path, *, column: str | None, chunk_rows: int = CHUNK_ROWS
) -> tuple[str | None, Detections]:
    """Replay one column of a data file, a chunk at a time, through ``detector``.

    Args:
        detector: the detector, updated in place.
        path: a CSV, JSON Lines or Parquet file (optionally gzip-compressed).
        column: the column to read; None to read the file's only column.
        chunk_rows: rows held in memory at a time.

    Returns:
        The column read (None for a file without rows) and the detections.

    Raises:
        InvalidInputError: the column is missing or ambiguous (the message lists the
            columns), a value is missing or not a finite number, a binary detector reads a
            value other than 0 or 1 (the message names the row and the column), or the
            reader rejected a row, which would shift every position after it.
    """
    reader = open_table(path, name=str(path), chunk_rows=chunk_rows)
    found = Detections()
    for frame in reader:
        _refuse_rejected_rows(reader)
        if column is None:
            column = _only_column(frame, reader.name)
        if column not in frame.columns:
            since = "" if found.rows == 0 else f" from row {found.rows} on"
            raise InvalidInputError(
                f"{reader.name}: no column {column!r}{since}; columns: "
                f"{', '.join(map(str, frame.columns))}",
                reason="missing_column",
                file=reader.name,
                column=column,
            )
        first = found.rows

        def where(k: int, first: int = first) -> str:
            return f"{reader.name}: row {first + k}"

        values = signal_values(frame[column], column=column, detector=detector.name, where=where)
        replay(detector, values, into=found)
    _refuse_rejected_rows(reader)
    return column, found


def _only_column(frame: pd.DataFrame, name: str) -> str:
    if len(frame.columns) != 1:
        raise InvalidInputError(
            f"{name}: {len(frame.columns)} columns ({', '.join(map(str, frame.columns))}); "
            "choose one with --column",
            reason="ambiguous_column",
            file=name,
        )
    return str(frame.columns[0])


def _refuse_rejected_rows(reader: TableReader) -> None:
    report = reader.report
    if report.bad_rows:
        sample = report.samples[0]
        line = f"line {sample.line}" if sample.line is not None else "a row"
        raise InvalidInputError(
            f"{reader.name}: {line} cannot be read ({sample.reason}; {report.bad_rows} rejected "
            "so far); positions after it would not match the file",
            reason="rejected_rows",
            file=reader.name,
            bad_rows=report.bad_rows,
        )


def signal_values(
    values: pd.Series, *, column: str, detector: str, where: Callable[[int], str]
) -> list[float]:
    """A column as the floats a detector reads, refusing anything it cannot read.

    Args:
        values: the column (numbers, booleans, or text holding numbers).
        column: its name, for errors.
        detector: the detector's registry name; binary detectors need 0 or 1.
        where: describes the ``k``-th value's place for errors (file and row).

    Raises:
        InvalidInputError: a value is missing, not a number or not finite, or not 0/1 for a
            binary detector; the message names the row and the column, and the kind of
            value, never the value.

    >>> signal_values(pd.Series([0, 1, 0.5]), column="e", detector="ddm",
    ...               where=lambda k: f"row {k}")
    Traceback (most recent call last):
    ...
    driftline.errors.InvalidInputError: row 2: column 'e' holds a number; ddm reads error
    indicators, expected 0 or 1
    """
    if pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
    elif pd.api.types.is_numeric_dtype(values):
        numbers = values
    else:
        numbers = pd.to_numeric(values, errors="coerce")
    array = np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        k = int(bad[0])
        raise InvalidInputError(
            f"{where(k)}: column {column!r} holds {value_kind(values.iloc[k])}; expected a finite "
            "number",
            reason="non_numeric_value",
            column=column,
        )
    if DETECTORS[detector].binary_input:
        wrong = np.flatnonzero((array != 0.0) & (array != 1.0))
        if wrong.size:
            k = int(wrong[0])
            raise InvalidInputError(
                f"{where(k)}: column {column!r} holds {value_kind(values.iloc[k])}; "
                f"{detector} reads error indicators, expected 0 or 1",
                reason="non_binary_value",
                column=column,
            )
    return [float(x) for x in array.tolist()]


__all__ = ["CHUNK_ROWS", "Detections", "detect_in_file", "replay", "signal_values"]
