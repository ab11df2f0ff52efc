"""JSON Lines: one JSON object per line, read a chunk of rows at a time.

Each non-blank line must hold a JSON object; a line that is not valid JSON, or holds an
array, a string or a number, is a rejected row (its line number and reason go to the
report). Blank lines are skipped and not counted. Nested objects are flattened with dotted
names (``{"user": {"age": 3}}`` gives the column ``user.age``), all the way down; arrays are
kept as Python lists in an object column.

The same loop reads SageMaker files: a *record converter* turns each JSON object into zero or
more rows, rejects it with :class:`RejectedRecord` (a bad row), or rejects the whole file with
:class:`RejectedFile` (a record showing that the file cannot be read as configured).

>>> import io
>>> from driftline.io.report import ReadReport
>>> report = ReadReport()
>>> stream = io.BytesIO(b'{"a": 1, "b": {"c": "x"}}\\n\\nnot json\\n{"a": 2}\\n')
>>> frames = list(read_json_lines(stream, name="t.jsonl", report=report, chunk_rows=10))
>>> frames[0].to_dict("list")
{'a': [1, 2], 'b.c': ['x', nan]}
>>> report.samples
[BadRow(line=3, reason='invalid JSON')]
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pandas as pd

from driftline.io.report import ReadReport
from driftline.io.source import invalid_input

UTF8_BOM = b"\xef\xbb\xbf"

Row = dict[str, Any]
#: Turns one JSON object of the file into rows; raises :class:`RejectedRecord` to reject it.
RecordConverter = Callable[[dict[str, Any]], list[Row]]


class RejectedRecord(Exception):
    """Raised by a record converter: this record is a bad row, for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RejectedFile(Exception):
    """Raised by a record converter: this record shows that the file does not fit the way it
    is read (rows would be named wrongly), so no row of it is used.

    The reader turns it into an :class:`~driftline.errors.InvalidInputError` naming the file
    and the line of the record; like a bad row's reason, ``problem`` never quotes a value.
    """

    def __init__(self, reason: str, problem: str, **details: Any) -> None:
        super().__init__(problem)
        self.reason = reason
        self.problem = problem
        self.details = details


def flatten(record: Mapping[str, Any]) -> Row:
    """One row from a JSON object: nested objects become dotted column names.

    Args:
        record: a parsed JSON object.

    Returns:
        A flat mapping of column name to value; empty nested objects are kept as ``{}``.

    >>> flatten({"a": 1, "b": {"c": 2, "d": {"e": [3]}}, "f": {}})
    {'a': 1, 'b.c': 2, 'b.d.e': [3], 'f': {}}
    """
    if not any(isinstance(value, dict) for value in record.values()):
        return dict(record)
    row: Row = {}
    # Depth first with an explicit stack, not recursion: json.loads accepts nesting deeper
    # than the interpreter's stack would allow here. Columns keep their order of appearance.
    stack: list[tuple[str, Iterator[tuple[str, Any]]]] = [("", iter(record.items()))]
    while stack:
        prefix, items = stack[-1]
        for key, value in items:
            column = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                stack.append((f"{column}.", iter(value.items())))
                break
            row[column] = value
        else:
            stack.pop()
    return row


def read_json_lines(
    stream: io.BufferedIOBase,
    *,
    name: str,
    report: ReadReport,
    chunk_rows: int,
    convert: RecordConverter | None = None,
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``chunk_rows`` rows from a JSON Lines stream.

    Args:
        stream: the decompressed bytes of the file, from its start.
        name: the file's name, for errors.
        report: receives every rejected row (line number and reason).
        chunk_rows: the most rows per frame.
        convert: turns a JSON object into rows; by default :func:`flatten` (one row).

    Returns:
        An iterator of frames; a frame may be empty when all its rows were rejected late.

    Raises:
        InvalidInputError: ``not_utf8`` when a line is not UTF-8 (its number is in the
            details), or the reason of a :class:`RejectedFile` raised by ``convert``.
    """
    rows: list[Row] = []
    lines: list[int] = []
    for number, raw in enumerate(stream, start=1):
        line = raw[len(UTF8_BOM) :] if number == 1 and raw.startswith(UTF8_BOM) else raw
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid_input(
                name,
                "not_utf8",
                f"line {number} is not UTF-8 text (byte 0x{line[exc.start]:02x}); "
                "expected UTF-8 encoded JSON Lines",
                line=number,
            ) from exc
        try:
            record = json.loads(text)
        except RecursionError:
            report.reject(number, "invalid JSON (nested too deeply)")
            continue
        except ValueError:  # JSONDecodeError, and integers beyond Python's digit limit
            report.reject(number, "invalid JSON")
            continue
        if not isinstance(record, dict):
            report.reject(number, "not a JSON object")
            continue
        if convert is None:
            # Without a "{" after the first character there is no nested object to flatten.
            rows.append(record if text.find("{", 1) < 0 else flatten(record))
            lines.append(number)
        else:
            try:
                converted = convert(record)
            except RejectedRecord as exc:
                report.reject(number, exc.reason)
                continue
            except RejectedFile as exc:
                raise invalid_input(
                    name,
                    exc.reason,
                    f"the record on line {number}: {exc.problem}",
                    line=number,
                    **exc.details,
                ) from None
            rows.extend(converted)
            lines.extend([number] * len(converted))
        while len(rows) >= chunk_rows:
            yield frame_from_rows(rows[:chunk_rows], lines[:chunk_rows], report)
            del rows[:chunk_rows], lines[:chunk_rows]
    if rows:
        yield frame_from_rows(rows, lines, report)


def frame_from_rows(rows: list[Row], lines: list[int], report: ReadReport) -> pd.DataFrame:
    """A frame from parsed rows, rejecting rows whose text is not valid Unicode.

    JSON can spell an unpaired surrogate (``"\\ud800"``), which no string column can hold;
    such a row is rejected with its line number instead of failing the whole chunk.

    Args:
        rows: flat rows (column name to value).
        lines: the line each row came from.
        report: receives the rejected rows.

    Returns:
        The frame of the valid rows, columns in order of first appearance.
    """
    try:
        return pd.DataFrame(rows)
    except UnicodeEncodeError:
        valid: list[Row] = []
        for row, line in zip(rows, lines, strict=True):
            if _is_unicode(row):
                valid.append(row)
            else:
                report.reject(line, "text with an unpaired surrogate escape (not valid Unicode)")
        return pd.DataFrame(valid)


def _is_unicode(row: Row) -> bool:
    try:
        for key, value in row.items():
            key.encode("utf-8")
            if isinstance(value, str):
                value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
