"""A batch's scored rows reduced to a mergeable summary for estimating binary performance.

Estimating a binary classifier's performance without labels needs, for every scored row,
its calibrated probability and the class it was predicted. :class:`ScoreCells` keeps, per
cell (score bin on the project's fixed grid, :func:`~driftline.metrics.score_histograms.
score_bin`; predicted class 0 or 1), the number of rows and the sum of their scores. Every
field is a sum, so batches merge by addition and a window's cells are the cells of its rows
together (the score sums to float rounding). The calibrator is applied later, at each
cell's mean score: within a bin at most 2.5e-4 wide (narrower towards 0 and 1) a
piecewise-linear calibrator is nearly linear, so the mean of the calibrated scores is
nearly the calibrated mean score.

Scores that cannot be binned (NaN, below 0, above 1, infinities included) are not binned but
counted by kind (``missing``, ``below``, ``above``): they are a data-quality finding, not a
reason to refuse the batch.

>>> cells = ScoreCells.from_arrays([0.2, 0.2, 0.9, float("nan"), 1.5], [0, 0, 1, 1, 1])
>>> cells.n, cells.missing, cells.above
(3, 1, 1)
>>> cells.to_dict()["predicted_negative"]
{'steps': [3058], 'counts': [2], 'score_sums': [0.4]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from driftline.errors import IncompatibleProfilesError, InvalidInputError
from driftline.metrics.encoding import FloatArray, IntArray
from driftline.metrics.score_histograms import SCORE_BINS, SCORE_GRID, score_bin

#: The dictionary key of each predicted class's cells, class 0 first.
SIDES = ("predicted_negative", "predicted_positive")
_UNBINNED = ("missing", "below", "above")


@dataclass(frozen=True, eq=False)
class ScoreCells:
    """Rows and score sums per (predicted class, score bin) of one or more batches.

    Attributes:
        counts: rows per cell, shape ``(2, SCORE_BINS)``: row 0 the rows predicted 0, row 1
            those predicted 1, column ``b`` score bin ``b``.
        score_sums: the sum of the scores of each cell's rows, same shape.
        missing, below, above: rows whose score was NaN, below 0 or above 1 (not binned).
        grid: the score grid the bins are on (:data:`~driftline.metrics.score_histograms.
            SCORE_GRID`); cells on different grids do not merge.

    Raises:
        IncompatibleProfilesError: arrays of another shape than ``(2, SCORE_BINS)``.
    """

    counts: IntArray
    score_sums: FloatArray
    missing: int = 0
    below: int = 0
    above: int = 0
    grid: str = SCORE_GRID

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", _frozen(self.counts, np.int64))
        object.__setattr__(self, "score_sums", _frozen(self.score_sums, np.float64))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScoreCells):
            return NotImplemented
        return (
            (self.missing, self.below, self.above, self.grid)
            == (other.missing, other.below, other.above, other.grid)
            and np.array_equal(self.counts, other.counts)
            and np.array_equal(self.score_sums, other.score_sums)
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def empty(cls) -> ScoreCells:
        """No rows: the identity of :meth:`merge`."""
        return cls(np.zeros((2, SCORE_BINS), np.int64), np.zeros((2, SCORE_BINS)))

    @classmethod
    def from_arrays(cls, scores: ArrayLike, predicted: ArrayLike) -> ScoreCells:
        """The cells of one batch (vectorised).

        Args:
            scores: the model's score of each row; NaN, and values outside [0, 1], are
                counted, not binned.
            predicted: the predicted class of each row, 0/1 or booleans (1 is the positive
                class).

        Raises:
            InvalidInputError: lengths differ, a score is not a number, or a predicted class
                is not 0/1 (the message counts them, never quoting one).
        """
        try:
            values = np.asarray(scores, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise InvalidInputError(
                "scores must be numbers (NaN for a missing score)", reason="invalid_scores"
            ) from None
        classes = _predicted_classes(predicted, values.size)
        missing = np.isnan(values)
        below, above = values < 0.0, values > 1.0
        binned = ~(missing | below | above)
        cell = classes[binned] * SCORE_BINS + score_bin(values[binned])
        size = 2 * SCORE_BINS
        sums = np.asarray(
            np.bincount(cell, weights=values[binned], minlength=size), dtype=np.float64
        )
        return cls(
            counts=np.bincount(cell, minlength=size).reshape(2, SCORE_BINS),
            score_sums=sums.reshape(2, SCORE_BINS),
            missing=int(np.count_nonzero(missing)),
            below=int(np.count_nonzero(below)),
            above=int(np.count_nonzero(above)),
        )

    def merge(self, other: ScoreCells) -> ScoreCells:
        """The cells of both: every field added (associative and commutative; the score
        sums to float rounding).

        Raises:
            IncompatibleProfilesError: the two are on different score grids.
        """
        if self.grid != other.grid:
            raise IncompatibleProfilesError(
                f"score cells on grid {other.grid!r} do not merge with cells on {self.grid!r}",
                reason="different_score_grids",
            )
        return ScoreCells(
            counts=self.counts + other.counts,
            score_sums=self.score_sums + other.score_sums,
            missing=self.missing + other.missing,
            below=self.below + other.below,
            above=self.above + other.above,
            grid=self.grid,
        )

    @property
    def n(self) -> int:
        """Binned rows (scores in [0, 1])."""
        return int(self.counts.sum())

    @property
    def unbinned(self) -> int:
        """Rows whose score was NaN or outside [0, 1]."""
        return self.missing + self.below + self.above

    def to_dict(self) -> dict[str, Any]:
        """Sparse, compact form: per predicted class, the non-empty cells as steps from the
        previous non-empty bin (the first from bin 0), with their counts and score sums."""
        data: dict[str, Any] = {"grid": self.grid}
        for side, counts, sums in zip(SIDES, self.counts, self.score_sums, strict=True):
            where = np.flatnonzero(counts)
            data[side] = {
                "steps": np.diff(where, prepend=0).tolist(),
                "counts": counts[where].tolist(),
                "score_sums": sums[where].tolist(),
            }
        data.update(missing=self.missing, below=self.below, above=self.above)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreCells:
        """Inverse of :meth:`to_dict`, validated.

        Raises:
            IncompatibleProfilesError: the cells are on another score grid.
            InvalidInputError: ``reason="invalid_score_cells"``, naming the key: a key
                missing or of the wrong type, lists of different lengths, a bin past the
                grid, a count below 1, or a score sum outside ``[0, count]``.
        """
        if not isinstance(data, Mapping):
            raise _invalid("", f"must be a mapping; got {type(data).__name__}")
        grid = data.get("grid")
        if not isinstance(grid, str):
            raise _invalid("grid", f"must be a text; got {_kind_of(grid)}")
        if grid != SCORE_GRID:
            raise IncompatibleProfilesError(
                f"score cells on grid {grid!r} cannot be read; expected {SCORE_GRID!r}",
                reason="different_score_grids",
            )
        counts = np.zeros((2, SCORE_BINS), dtype=np.int64)
        sums = np.zeros((2, SCORE_BINS), dtype=np.float64)
        for row, side in enumerate(SIDES):
            where, side_counts, side_sums = _side(data.get(side), side)
            counts[row, where] = side_counts
            sums[row, where] = side_sums
        missing, below, above = (_count(data.get(key), key) for key in _UNBINNED)
        return cls(counts, sums, missing, below, above)


def _predicted_classes(predicted: ArrayLike, size: int) -> IntArray:
    """The predicted classes as 0/1 integers, checked."""
    raw = np.asarray(predicted).reshape(-1)
    if raw.size != size:
        raise InvalidInputError(
            f"predicted must hold one class per score ({size}); got {raw.size}",
            reason="invalid_prediction",
        )
    if raw.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"predicted classes must be 0/1 or booleans; got values of type {raw.dtype}",
            reason="invalid_prediction",
        )
    bad = int(np.count_nonzero((raw != 0) & (raw != 1)))
    if bad:
        raise InvalidInputError(
            f"predicted classes must be 0/1; {bad} of {size} are neither",
            reason="invalid_prediction",
        )
    return raw.astype(np.int64)


def _side(value: Any, side: str) -> tuple[IntArray, IntArray, FloatArray]:
    """The bins, counts and score sums of one predicted class's stored cells, checked."""
    if not isinstance(value, Mapping):
        raise _invalid(side, f"must be a mapping; got {_kind_of(value)}")
    steps = _numbers(value.get("steps"), f"{side}.steps", integers=True)
    counts = _numbers(value.get("counts"), f"{side}.counts", integers=True)
    sums = _numbers(value.get("score_sums"), f"{side}.score_sums", integers=False)
    if not steps.size == counts.size == sums.size:
        raise _invalid(
            side,
            f"must hold as many counts and score_sums as steps ({steps.size}); got "
            f"{counts.size} and {sums.size}",
        )
    if steps.size and (steps[0] < 0 or np.any(steps[1:] < 1)):
        raise _invalid(f"{side}.steps", "must be >= 0 first and >= 1 after (increasing bins)")
    where = np.cumsum(steps)
    if where.size and where[-1] >= SCORE_BINS:
        raise _invalid(f"{side}.steps", f"must stay within the grid's {SCORE_BINS} bins")
    if np.any(counts < 1):
        raise _invalid(f"{side}.counts", "must be >= 1 (only non-empty cells are stored)")
    if not np.all(np.isfinite(sums)) or np.any((sums < 0) | (sums > counts)):
        raise _invalid(f"{side}.score_sums", "must lie in [0, count] (scores are in [0, 1])")
    return where, counts, sums


#: The item types a stored list of integers (of numbers) may hold, as JSON reads them.
_INTEGER_TYPES: frozenset[type] = frozenset({int})
_NUMBER_TYPES: frozenset[type] = frozenset({int, float})


def _numbers(value: Any, key: str, *, integers: bool) -> NDArray[Any]:
    """A stored list of numbers (integers only if ``integers``) as an array."""
    kind = "integers" if integers else "numbers"
    if not isinstance(value, list):
        raise _invalid(key, f"must be a list of {kind}; got {_kind_of(value)}")
    allowed = _INTEGER_TYPES if integers else _NUMBER_TYPES
    if not set(map(type, value)) <= allowed:  # bool is a type of its own: refused
        raise _invalid(key, f"must be a list of {kind}")
    return np.array(value, dtype=np.int64 if integers else np.float64)


def _count(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(key, f"must be a count (an integer >= 0); got {_kind_of(value)}")
    if value < 0:
        raise _invalid(key, "must be a count (an integer >= 0); got a negative integer")
    return value


def _frozen(values: Any, dtype: type[np.generic]) -> NDArray[Any]:
    """``values`` as a read-only array of shape ``(2, SCORE_BINS)`` (a copy)."""
    array = np.array(values, dtype=dtype)
    if array.shape != (2, SCORE_BINS):
        raise IncompatibleProfilesError(
            f"score cells need shape (2, {SCORE_BINS}); got {array.shape}",
            reason="different_score_grids",
        )
    array.flags.writeable = False
    return array


def _invalid(key: str, problem: str) -> InvalidInputError:
    where = f"score cells key {key!r}" if key else "score cells"
    return InvalidInputError(f"{where} {problem}", reason="invalid_score_cells", key=key)


def _kind_of(value: object) -> str:
    """A value's type for a message (never the value itself)."""
    return "nothing" if value is None else type(value).__name__
