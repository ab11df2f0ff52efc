"""Scores that are not probabilities: the rows whose score lies outside [0, 1], counted.

A classifier's score (``schema.score`` of a binary classifier, each column of
``schema.class_scores`` of a multiclass one) is a probability. A number below 0 or above 1,
±inf included, is none, and nothing downstream can read it as one: the estimate leaves such
a row out (``performance.estimated.left_out.score_out_of_range``) and the measured AUC, log
loss and Brier score clip it into [0, 1]. Every profile counts these rows
(:class:`OutOfRangeScores`), and the built-in ``scores-in-range`` check fails on them
(docs/monitor-definition.md). A missing score, or one that is not a number, is not counted
here: it is the score column's ``missing_share`` or ``type_violation_share``.

Every figure is a count of rows, so profiles merge by addition, exactly.

>>> frame = pd.DataFrame({"p": [0.2, 1.3, -0.2, float("inf"), None, "x", 1.0]})
>>> counted = OutOfRangeScores.of_frame(frame, ("p",))
>>> counted.rows, counted.columns
(3, {'p': 3})
>>> counted.merge(counted).to_dict()
{'rows': 6, 'columns': {'p': 6}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from driftline.errors import InvalidInputError
from driftline.numbers import coerce_numbers


@dataclass(frozen=True)
class OutOfRangeScores:
    """Rows whose score is a number outside [0, 1] (±inf included), of one or more batches.

    Attributes:
        rows: rows with at least one such score (a multiclass row counts once, however many
            of its class scores are out of range).
        columns: per score column, the rows whose value in it is out of range (a column
            absent from the data counts 0: the built-in ``schema-columns`` check reports it).
    """

    rows: int = 0
    columns: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of_frame(cls, frame: pd.DataFrame, columns: tuple[str, ...]) -> OutOfRangeScores:
        """Count a chunk's rows whose value in one of ``columns`` is outside [0, 1]."""
        outside = np.zeros(len(frame), dtype=bool)
        counts: dict[str, int] = {}
        for name in columns:
            if name not in frame.columns:
                counts[name] = 0
                continue
            values = coerce_numbers(frame[name]).to_numpy(dtype=np.float64, na_value=np.nan)
            column_outside = (values < 0.0) | (values > 1.0)  # NaN compares False
            counts[name] = int(np.count_nonzero(column_outside))
            outside |= column_outside
        return cls(int(np.count_nonzero(outside)), counts)

    def merge(self, other: OutOfRangeScores) -> OutOfRangeScores:
        """The counts of both (added; a column only one of them has keeps its count)."""
        columns = dict(self.columns)
        for name, count in other.columns.items():
            columns[name] = columns.get(name, 0) + count
        return OutOfRangeScores(self.rows + other.rows, dict(sorted(columns.items())))

    def to_dict(self) -> dict[str, Any]:
        """``{"rows": <count>, "columns": {<column>: <count>}}``, as a profile stores it."""
        return {"rows": self.rows, "columns": dict(self.columns)}

    @classmethod
    def from_dict(cls, data: Any) -> OutOfRangeScores:
        """Inverse of :meth:`to_dict`, validated.

        Raises:
            InvalidInputError: ``reason="invalid_out_of_range_scores"``, naming the key: not
                a mapping, a count that is not an integer >= 0, or ``rows`` below a column's
                count or above their sum (the message gives types and keys, never a value).

        >>> OutOfRangeScores.from_dict({"rows": 4, "columns": {"p": 1}})
        Traceback (most recent call last):
        ...
        driftline.errors.InvalidInputError: out_of_range_scores.rows must lie between the \
largest column count and the sum of the column counts
        """
        if not isinstance(data, Mapping):
            raise _invalid("", f"must be a mapping; got {_kind_of(data)}")
        stored = data.get("columns")
        if not isinstance(stored, Mapping):
            raise _invalid("columns", f"must be a mapping; got {_kind_of(stored)}")
        columns = {str(name): _count(count, f"columns.{name}") for name, count in stored.items()}
        rows = _count(data.get("rows"), "rows")
        if not max(columns.values(), default=0) <= rows <= sum(columns.values()):
            raise _invalid(
                "rows",
                "must lie between the largest column count and the sum of the column counts",
            )
        return cls(rows, columns)


def _count(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(key, f"must be a count (an integer >= 0); got {_kind_of(value)}")
    if value < 0:
        raise _invalid(key, "must be a count (an integer >= 0); got a negative integer")
    return value


def _invalid(key: str, problem: str) -> InvalidInputError:
    where = f"out_of_range_scores.{key}" if key else "out_of_range_scores"
    return InvalidInputError(
        f"{where} {problem}", reason="invalid_out_of_range_scores", key=key or None
    )


def _kind_of(value: object) -> str:
    """A value's type for a message (never the value itself)."""
    return "nothing" if value is None else type(value).__name__
