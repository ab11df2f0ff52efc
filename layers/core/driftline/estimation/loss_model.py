"""Estimated MAE and RMSE of a regression model before labels: a loss model of the baseline.

A regression model's error cannot be read off its prediction alone, but how large it tends
to be can: on the baseline, where the labels are known, each row's absolute error ``|e|``
and squared error ``e²`` are regressed on the row's prediction and features (direct loss
estimation, DLE in NannyML's terms). On new rows the model gives each row its expected
``|e|`` and ``e²``; the estimated MAE is their mean, the estimated RMSE the square root of
the mean expected ``e²``.

**The loss model is additive over pairs of bins of the prediction and each feature**:
``E[loss | row] = intercept + effect_0[bin_0(row)] + Σ_j effect_j[bin_0(row), bin_j(row)]``,
where column 0 is the prediction and ``j`` runs over the features. A numeric column's bins
are its histogram's (the baseline's edges, with an under- and an overflow bin, and one bin
for a value that is not a finite number); a categorical column's are its vocabulary's (one
bin per category, one for any other category, one for a missing value). So the loss may
depend on each feature differently at each level of the prediction (the error of a large
price grows with the car's age, say), but not on two features together. It is fitted by
backfitting (:func:`fit_additive`): each term's effects in turn are the mean residual of
its cells' rows, shrunk towards 0 by :data:`SHRINKAGE` rows (a cell of few rows keeps
little of its own mean), for :data:`SWEEPS` fixed sweeps. Nothing is random: the same rows
give the same model to the bit.

**Why pairs of bins.** The mean of such a model over a window's rows needs only how many
of its rows fall in each (prediction bin, feature bin) cell, and those counts add up: every
profile of a regression model keeps them (:class:`LossCells`, a few hundred integers a
feature), overall and per segment, so a window's estimate is read off its merged profile
and equals the estimate of its rows together, exactly. On NannyML's car-price data, the
prediction's bins alone, or the columns' bins each on their own (no pairs), missed the fall
of the error in its analysis period's second half by about 100 per chunk of 10,000 rows
(estimates of 790 to 805 against 693 to 703 realised, tried while writing this); the pairs
bring the miss to 33 (benchmarks/README.md). What the model cannot hold, two features
acting together, is the model's error, measured below.

**Intervals.** ``value ± 1.96 · √(sampling variance + excess variance)``, the lower end
clipped at 0. The sampling variance assumes the window's rows scatter around their expected
loss as much as the baseline's rows did around theirs: ``s² / n`` with ``s²`` the mean
squared residual of the fit (of ``|e|`` for MAE; of ``e²`` for the mean squared error,
whose variance becomes RMSE's by the delta method, ``Var(MSE) / (4 · MSE)``). The excess
variance is the loss model's own error, measured on the baseline as the classifiers'
(:mod:`~driftline.estimation.model_error`): the rows in the order of the file cut into
:data:`~driftline.estimation.model_error.BLOCKS` consecutive blocks, each estimated with a
loss model fitted on the other nine, in :data:`~driftline.estimation.model_error.
CHUNKS_PER_BLOCK` chunks, compared with what its labels give.

>>> rng = np.random.default_rng(0)
>>> x = rng.uniform(size=4_000)
>>> codes = np.stack([np.minimum((x * 4).astype(np.int64), 3)], axis=1)
>>> errors = rng.normal(scale=1 + 2 * x)    # E|e| = 0.8 (1 + 2x): 1.0 and 2.2 at the ends
>>> fit = fit_additive(codes, (4,), np.abs(errors))
>>> [round(value, 1) for value in fit.predict(np.array([[0], [3]])).tolist()]
[1.0, 2.2]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftline.errors import IncompatibleProfilesError, InvalidInputError
from driftline.estimation.model_error import (
    BLOCKS,
    CHUNKS_PER_BLOCK,
    MIN_CHUNK_ROWS,
    ModelError,
    ModelErrorTerm,
    error_terms,
    held_out_blocks,
)
from driftline.metrics.encoding import FloatArray
from driftline.numbers import coerce_numbers
from driftline.profile.categorical import category_keys

#: The metrics a regression model's estimate reports, in their order.
REGRESSION_METRICS: tuple[str, ...] = ("mae", "rmse")
#: The method every regression estimate names.
LOSS_METHOD = "loss_model"
#: Backfitting sweeps over the terms. The terms share the prediction's bins, so how the
#: effects split among them is not identified and keeps moving from sweep to sweep; the
#: mean over a window's rows, which is what is estimated, does not (on the car-price
#: benchmark the estimate of its analysis period's second half is 731.06 after 8 sweeps,
#: 731.46 after 20, 731.56 after 100).
SWEEPS = 10
#: Rows' worth of shrinkage of a bin's effect towards 0: ``Σ residual / (rows + SHRINKAGE)``.
SHRINKAGE = 5.0
#: The most labelled rows the loss model is fitted on: a larger baseline keeps rows at
#: evenly spaced positions of the file (see docs/performance.md for the time it takes).
MAX_LOSS_ROWS = 100_000
#: Why a regression baseline has no loss model without a label column.
NO_LABEL_COLUMN = "schema.label is not set: the baseline has no labels to fit the loss model on"
#: Why it has none when the prediction has no histogram edges in the baseline's bins.
NO_PREDICTION_BINS = "the baseline has no histogram edges of the prediction to bin it on"
#: Why it has none without a labelled row with a prediction.
NO_LABELLED_ROWS = "the baseline has no labelled row with a numeric prediction and label"

Z = 1.959963984540054
IntArray = NDArray[np.int64]
Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class RegressionColumns:
    """The columns a regression model's estimate reads.

    Attributes:
        prediction: the predicted value.
        features: each feature column with its kind, as the definition declares them.
        label: the true value (read on the baseline only, to fit the loss model); None when
            the model has no label column.
    """

    prediction: str
    features: tuple[tuple[str, Kind], ...] = ()
    label: str | None = None

    @property
    def columns(self) -> tuple[tuple[str, Kind], ...]:
        """The loss model's columns, the prediction first (numeric), then the features."""
        return ((self.prediction, "numeric"), *self.features)


@dataclass(frozen=True)
class LossColumn:
    """One column of the loss model: its name, kind and the bins its effects are of
    (a numeric column's histogram bins and one for no number; a categorical column's
    vocabulary, one for another category and one for a missing value)."""

    name: str
    kind: Kind
    bins: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "bins": self.bins}


@dataclass(frozen=True)
class AdditiveFit:
    """``intercept + Σ_j effects[j][code_j]``: one fitted additive model.

    Attributes:
        intercept: the mean of the target on the rows fitted on.
        effects: per column, one effect per bin (weighted mean 0 on the rows fitted on).
        residual_variance: the mean squared residual on those rows.
    """

    intercept: float
    effects: tuple[tuple[float, ...], ...]
    residual_variance: float

    def predict(self, codes: IntArray) -> FloatArray:
        """Each row's fitted value (``codes``: one row per row, one column per column)."""
        fitted = np.full(codes.shape[0], self.intercept)
        for j, effect in enumerate(self.effects):
            fitted += np.asarray(effect)[codes[:, j]]
        return fitted

    def mean_of(self, shares: Sequence[FloatArray]) -> float:
        """The mean fitted value of rows whose bins have these shares (per column, summing
        to 1): equal to the mean of :meth:`predict` over the rows."""
        total = self.intercept
        for share, effect in zip(shares, self.effects, strict=True):
            total += float(np.dot(share, np.asarray(effect)))
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "intercept": self.intercept,
            "effects": [list(effect) for effect in self.effects],
            "residual_variance": self.residual_variance,
        }


def fit_additive(
    codes: IntArray,
    sizes: Sequence[int],
    target: FloatArray,
    *,
    sweeps: int = SWEEPS,
    shrinkage: float = SHRINKAGE,
) -> AdditiveFit:
    """Fit ``target ≈ intercept + Σ_j effect_j[codes[:, j]]`` by backfitting: each sweep
    sets each column's effects to its bins' mean residual given the other columns', shrunk
    (``Σ residual / (rows + shrinkage)``), centred to a weighted mean of 0.

    Args:
        codes: each row's bin per column, ``0 <= codes[:, j] < sizes[j]``.
        sizes: the bins of each column.
        target: each row's value (``|e|`` or ``e²``), at least one row.

    Raises:
        ValueError: no row, or codes and sizes that do not agree.
    """
    rows = target.size
    if rows == 0:
        raise ValueError("fit_additive needs at least one row")
    if codes.shape != (rows, len(sizes)):
        raise ValueError(f"codes must be {rows} x {len(sizes)}; got {codes.shape}")
    intercept = float(target.mean())
    effects = [np.zeros(size) for size in sizes]
    fitted = np.full(rows, intercept)
    counts = [np.bincount(codes[:, j], minlength=size) for j, size in enumerate(sizes)]
    for _ in range(sweeps):
        for j, size in enumerate(sizes):
            column = codes[:, j]
            fitted -= effects[j][column]
            sums = np.bincount(column, weights=target - fitted, minlength=size)
            effect = sums / (counts[j] + shrinkage)
            effect -= float(np.dot(counts[j], effect)) / rows
            effects[j] = effect
            fitted += effect[column]
    residual = target - fitted
    return AdditiveFit(
        intercept,
        tuple(tuple(effect.tolist()) for effect in effects),
        float(np.dot(residual, residual) / rows),
    )


@dataclass(frozen=True)
class RegressionEstimate:
    """The estimated MAE and RMSE of a scope's rows with a prediction.

    Attributes:
        rows: the rows estimated (a finite prediction).
        metrics: ``mae`` and ``rmse`` (empty without rows).
        undefined: each metric not estimated, with why.
        variances: each metric's sampling variance.
    """

    rows: int
    metrics: dict[str, float] = field(default_factory=dict)
    undefined: dict[str, str] = field(default_factory=dict)
    variances: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LossModel:
    """What a regression baseline stores for estimating MAE and RMSE: the additive models
    of ``|e|`` and ``e²`` and their measured error, or why there are none.

    Attributes:
        rows: the baseline's labelled rows with a numeric prediction and label.
        fitted_rows: the rows fitted on (``rows``, or :data:`MAX_LOSS_ROWS` evenly spaced).
        columns: the model's columns, the prediction first.
        absolute: the model of ``|e|``; squared: of ``e²`` (None when skipped).
        skipped: why there is no model (None when there is one).
        model_error: the terms measured on the baseline (``mae``, ``rmse``), or why none.
    """

    rows: int
    fitted_rows: int = 0
    columns: tuple[LossColumn, ...] = ()
    absolute: AdditiveFit | None = None
    squared: AdditiveFit | None = None
    skipped: str | None = None
    model_error: ModelError | None = None

    @classmethod
    def fitted(
        cls,
        columns: Sequence[LossColumn],
        codes: IntArray,
        errors: FloatArray,
        *,
        labelled: int | None = None,
    ) -> LossModel:
        """The loss model of these rows (``codes``: each row's bin per column, in the order
        of ``columns``; rows in the order of the file) and its error terms; ``labelled``:
        the labelled rows before thinning (default: the rows given)."""
        rows = int(errors.size) if labelled is None else labelled
        if errors.size == 0:
            return cls(rows, skipped=NO_LABELLED_ROWS)
        sizes = term_sizes(columns)
        terms = term_codes(codes, columns)
        return cls(
            rows,
            int(errors.size),
            tuple(columns),
            fit_additive(terms, sizes, np.abs(errors)),
            fit_additive(terms, sizes, errors**2),
            model_error=measure_loss_error(terms, sizes, errors),
        )

    def estimate(self, cells: LossCells) -> RegressionEstimate:
        """The estimate of a scope's rows with a finite prediction, from their cells.

        Raises:
            ValueError: cells of other columns or bins than the model's (the caller checks
                :meth:`reads`).
        """
        assert self.absolute is not None and self.squared is not None
        if not self.reads(cells):
            raise ValueError("the cells are of other columns or bins than the loss model")
        rows = cells.rows
        if rows == 0:
            why = "no row with a numeric prediction to estimate"
            return RegressionEstimate(0, undefined={name: why for name in REGRESSION_METRICS})
        shares = [np.asarray(count, dtype=np.float64) / rows for count in cells.counts]
        mae = max(0.0, self.absolute.mean_of(shares))
        mse = max(0.0, self.squared.mean_of(shares))
        variances = {
            "mae": self.absolute.residual_variance / rows,
            "rmse": self.squared.residual_variance / rows / (4 * mse) if mse > 0 else 0.0,
        }
        return RegressionEstimate(rows, {"mae": mae, "rmse": math.sqrt(mse)}, {}, variances)

    def reads(self, cells: LossCells) -> bool:
        """Whether ``cells`` are of this model's columns and bins."""
        return cells.columns == self.columns

    def to_dict(self) -> dict[str, Any]:
        """``{"rows", "fitted_rows", "columns", "absolute", "squared", "model_error"}``,
        or ``{"rows", "skipped"}``."""
        if self.absolute is None or self.squared is None:
            return {"rows": self.rows, "skipped": self.skipped}
        document: dict[str, Any] = {
            "rows": self.rows,
            "fitted_rows": self.fitted_rows,
            "columns": [column.to_dict() for column in self.columns],
            "absolute": self.absolute.to_dict(),
            "squared": self.squared.to_dict(),
        }
        if self.model_error is not None:
            document["model_error"] = self.model_error.to_dict()
        return document

    @classmethod
    def from_dict(cls, data: Any) -> LossModel:
        """Inverse of :meth:`to_dict`, validated.

        Raises:
            InvalidInputError: ``reason="invalid_loss_model"``, naming the key.
        """
        if not isinstance(data, Mapping):
            raise _invalid("", f"must be a mapping; got {type(data).__name__}")
        rows = _count(data.get("rows"), "rows")
        if "skipped" in data:
            if not isinstance(data["skipped"], str):
                raise _invalid("skipped", "must be a text")
            return cls(rows, skipped=data["skipped"])
        fitted_rows = _count(data.get("fitted_rows"), "fitted_rows")
        stored = data.get("columns")
        if not isinstance(stored, list) or not stored:
            raise _invalid("columns", "must be a non-empty list")
        columns = tuple(_column(value, f"columns[{i}]") for i, value in enumerate(stored))
        sizes = term_sizes(columns)
        model_error = data.get("model_error")
        return cls(
            rows,
            fitted_rows,
            columns,
            _fit(data.get("absolute"), "absolute", sizes),
            _fit(data.get("squared"), "squared", sizes),
            model_error=(
                None
                if model_error is None
                else ModelError.from_dict(model_error, REGRESSION_METRICS)
            ),
        )


def measure_loss_error(
    codes: IntArray,
    sizes: Sequence[int],
    errors: FloatArray,
    *,
    blocks: int = BLOCKS,
    chunks_per_block: int = CHUNKS_PER_BLOCK,
) -> ModelError:
    """The loss model's error beyond sampling, on the baseline's rows in the order of the
    file: each of ``blocks`` consecutive blocks estimated, in ``chunks_per_block`` chunks,
    with models fitted on the other blocks; per metric the mean error and the excess of
    the mean squared error over the mean sampling variance
    (:func:`~driftline.estimation.model_error.error_terms`)."""
    rows = int(errors.size)
    chunks = blocks * chunks_per_block
    if rows < chunks * MIN_CHUNK_ROWS:
        return ModelError(
            rows,
            skipped=(
                f"the baseline has {rows} labelled rows with a prediction; measuring the "
                f"loss model's error takes at least {chunks * MIN_CHUNK_ROWS}"
            ),
        )
    found: dict[str, list[float]] = {name: [] for name in REGRESSION_METRICS}
    variances: dict[str, list[float]] = {name: [] for name in REGRESSION_METRICS}
    for start, end in held_out_blocks(rows, blocks):
        others = np.ones(rows, dtype=bool)
        others[start:end] = False
        absolute = fit_additive(codes[others], sizes, np.abs(errors[others]))
        squared = fit_additive(codes[others], sizes, errors[others] ** 2)
        for chunk in np.array_split(np.arange(start, end), chunks_per_block):
            n = chunk.size
            mae = max(0.0, float(absolute.predict(codes[chunk]).mean()))
            mse = max(0.0, float(squared.predict(codes[chunk]).mean()))
            found["mae"].append(mae - float(np.abs(errors[chunk]).mean()))
            variances["mae"].append(absolute.residual_variance / n)
            found["rmse"].append(math.sqrt(mse) - math.sqrt(float(np.mean(errors[chunk] ** 2))))
            variances["rmse"].append(squared.residual_variance / n / (4 * mse) if mse else 0.0)
    return ModelError(rows, rows // chunks, error_terms(found, variances))


def interval(value: float, variance: float, term: ModelErrorTerm | None) -> tuple[float, float]:
    """``value ± Z · √(variance + excess variance)``, the lower end clipped at 0.

    >>> [round(end, 4) for end in interval(10.0, 4.0, ModelErrorTerm(0.0, 5.0, 50))]
    [4.1201, 15.8799]
    """
    excess = term.excess_variance if term is not None else 0.0
    half = Z * math.sqrt(variance + excess)
    return max(0.0, value - half), value + half


def column_codes(
    frame: pd.DataFrame,
    column: LossColumn,
    edges: Mapping[str, tuple[float, ...]],
    vocabularies: Mapping[str, tuple[str, ...]],
) -> IntArray:
    """Each row's bin of ``column``, as the profile bins it (an absent column: every row
    missing): a numeric value's histogram bin on the baseline's edges or the last bin (no
    finite number); a category's vocabulary position, then one bin for another category and
    one for a missing value."""
    rows = len(frame)
    values = frame[column.name] if column.name in frame.columns else pd.Series([None] * rows)
    if column.kind == "numeric":
        cut = np.asarray(edges[column.name], dtype=np.float64)
        numbers = coerce_numbers(values).to_numpy(np.float64, na_value=np.nan)
        codes = np.searchsorted(cut, numbers, side="right").astype(np.int64)
        codes[~np.isfinite(numbers)] = cut.size + 1
        return codes
    vocabulary = vocabularies.get(column.name, ())
    position = {category: index for index, category in enumerate(vocabulary)}
    present = values.notna().to_numpy()
    codes = np.full(rows, len(vocabulary) + 1, dtype=np.int64)
    found, uniques = pd.factorize(values[present], sort=False)
    keys = category_keys(pd.Index(uniques))
    mapped = np.array([position.get(key, len(vocabulary)) for key in keys], dtype=np.int64)
    codes[present] = mapped[found] if mapped.size else codes[present]
    return codes


def loss_columns(
    columns: RegressionColumns,
    edges: Mapping[str, tuple[float, ...]],
    vocabularies: Mapping[str, tuple[str, ...]],
) -> tuple[LossColumn, ...]:
    """The loss model's columns with their bins: the prediction, then each feature the
    baseline's bins hold (a numeric one with edges, a categorical one with a vocabulary)."""
    found = []
    for name, kind in columns.columns:
        if kind == "numeric" and name in edges:
            found.append(LossColumn(name, kind, len(edges[name]) + 2))
        elif kind == "categorical" and name in vocabularies:
            found.append(LossColumn(name, kind, len(vocabularies[name]) + 2))
    return tuple(found)


def term_sizes(columns: Sequence[LossColumn]) -> list[int]:
    """The cells of each term: the prediction's bins, then (prediction bin, feature bin)."""
    first = columns[0].bins
    return [first, *(first * column.bins for column in columns[1:])]


def term_codes(codes: IntArray, columns: Sequence[LossColumn]) -> IntArray:
    """Each row's cell of each term, from its bin of each column.

    >>> columns = (LossColumn("p", "numeric", 3), LossColumn("a", "categorical", 4))
    >>> term_codes(np.array([[0, 3], [2, 1]]), columns).tolist()
    [[0, 3], [2, 9]]
    """
    first = codes[:, :1]
    pairs = [first * column.bins + codes[:, j : j + 1] for j, column in enumerate(columns) if j]
    return np.concatenate([first, *pairs], axis=1)


@dataclass(frozen=True)
class LossCells:
    """A batch's rows with a finite prediction as counts per cell of each loss-model term
    (the prediction's bins, then per feature the (prediction bin, feature bin) pairs,
    row-major), with the columns and bins they are of. Every field but the columns is a
    count, so cells merge by addition and a window's cells are its batches' added up.

    >>> columns = (LossColumn("p", "numeric", 3), LossColumn("a", "categorical", 3))
    >>> frame = pd.DataFrame({"p": [0.5, 2.0, None], "a": ["x", None, "y"]})
    >>> cells = LossCells.of_frame(frame, columns, {"p": (1.0,)}, {"a": ("x",)})
    >>> cells.rows, cells.counts[0], cells.counts[1]
    (2, (1, 1, 0), (1, 0, 0, 0, 0, 1, 0, 0, 0))
    """

    columns: tuple[LossColumn, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def rows(self) -> int:
        """The rows counted: those with a finite prediction."""
        return sum(self.counts[0])

    @classmethod
    def of_frame(
        cls,
        frame: pd.DataFrame,
        columns: tuple[LossColumn, ...],
        edges: Mapping[str, tuple[float, ...]],
        vocabularies: Mapping[str, tuple[str, ...]],
    ) -> LossCells:
        """The cells of a chunk's rows with a finite prediction."""
        codes = np.stack(
            [column_codes(frame, column, edges, vocabularies) for column in columns], axis=1
        ).reshape(len(frame), len(columns))
        codes = codes[codes[:, 0] < columns[0].bins - 1]
        terms = term_codes(codes, columns)
        return cls(
            columns,
            tuple(
                tuple(np.bincount(terms[:, j], minlength=size).tolist())
                for j, size in enumerate(term_sizes(columns))
            ),
        )

    def merge(self, other: LossCells) -> LossCells:
        """Both batches' cells added up.

        Raises:
            IncompatibleProfilesError: cells of other columns or bins.
        """
        if self.columns != other.columns:
            raise IncompatibleProfilesError(
                "cannot merge loss cells of different columns or bins (the baseline changed "
                "between the profiles)"
            )
        return LossCells(
            self.columns,
            tuple(
                tuple(a + b for a, b in zip(mine, theirs, strict=True))
                for mine, theirs in zip(self.counts, other.counts, strict=True)
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"columns": [...], "counts": {term: {cell: rows}}}``: only the cells with rows
        (most pairs of a categorical feature's cells are empty)."""
        return {
            "columns": [column.to_dict() for column in self.columns],
            "counts": [
                {str(cell): rows for cell, rows in enumerate(count) if rows}
                for count in self.counts
            ],
        }

    @classmethod
    def from_dict(cls, data: Any) -> LossCells:
        """Inverse of :meth:`to_dict`, validated.

        Raises:
            InvalidInputError: ``reason="invalid_loss_cells"``, naming the key.
        """

        def invalid(key: str, problem: str) -> InvalidInputError:
            return InvalidInputError(
                f"profile key 'loss_cells.{key}' {problem}", reason="invalid_loss_cells", key=key
            )

        if not isinstance(data, Mapping) or not isinstance(data.get("columns"), list):
            raise invalid("columns", "must be a list of columns")
        try:
            columns = tuple(
                _column(value, f"columns[{i}]") for i, value in enumerate(data["columns"])
            )
        except InvalidInputError as exc:
            raise invalid(str(exc.details.get("key", "columns")), "is not a column") from exc
        stored = data.get("counts")
        sizes = term_sizes(columns) if columns else []
        if not columns or not isinstance(stored, list) or len(stored) != len(sizes):
            raise invalid("counts", f"must be a list of {len(sizes)} mappings, one per term")
        counts = []
        for index, (sparse, size) in enumerate(zip(stored, sizes, strict=True)):
            dense = [0] * size
            if not isinstance(sparse, Mapping):
                raise invalid(f"counts[{index}]", "must be a mapping of cell to rows")
            for cell, rows in sparse.items():
                if not str(cell).isdigit() or int(cell) >= size:
                    raise invalid(f"counts[{index}]", f"holds a cell outside 0..{size - 1}")
                if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
                    raise invalid(f"counts[{index}]", "must count rows (integers >= 0)")
                dense[int(cell)] = rows
            counts.append(tuple(dense))
        return cls(columns, tuple(counts))


class LossRows:
    """A regression baseline's labelled rows with a numeric prediction and label, as bin
    codes and errors, gathered chunk by chunk in the order of the file: every
    ``stride``-th row of the file (``stride`` from the baseline's rows, so at most about
    :data:`MAX_LOSS_ROWS` are kept), ``8 (columns + 1)`` bytes a row."""

    def __init__(
        self,
        columns: RegressionColumns,
        edges: Mapping[str, tuple[float, ...]],
        vocabularies: Mapping[str, tuple[str, ...]],
        *,
        baseline_rows: int = 0,
        max_rows: int = MAX_LOSS_ROWS,
    ) -> None:
        self.columns = columns
        self.edges, self.vocabularies = edges, vocabularies
        self.loss_columns = loss_columns(columns, edges, vocabularies)
        self.stride = max(1, -(-baseline_rows // max_rows))
        self._position = 0
        self._labelled = 0
        self._codes: list[IntArray] = []
        self._errors: list[FloatArray] = []

    def add(self, frame: pd.DataFrame) -> None:
        """Keep the labelled rows with a numeric prediction of one chunk."""
        rows = len(frame)
        start, self._position = self._position, self._position + rows
        label = self.columns.label
        if label is None or label not in frame.columns or self.columns.prediction not in frame:
            return
        truth = coerce_numbers(frame[label]).to_numpy(np.float64, na_value=np.nan)
        guess = coerce_numbers(frame[self.columns.prediction]).to_numpy(np.float64, na_value=np.nan)
        usable = np.isfinite(truth) & np.isfinite(guess)
        self._labelled += int(usable.sum())
        kept = usable & ((np.arange(start, start + rows) % self.stride) == 0)
        if not kept.any():
            return
        chunk = frame[kept]
        self._codes.append(
            np.stack(
                [
                    column_codes(chunk, column, self.edges, self.vocabularies)
                    for column in self.loss_columns
                ],
                axis=1,
            )
        )
        self._errors.append(truth[kept] - guess[kept])

    def gathering(self, frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """The chunks, passed on unchanged, each kept as it goes by."""
        for frame in frames:
            self.add(frame)
            yield frame

    def loss_model(self) -> LossModel:
        """The loss model of the rows gathered, or why there is none."""
        if self.columns.label is None:
            return LossModel(0, skipped=NO_LABEL_COLUMN)
        if not self.loss_columns or self.loss_columns[0].name != self.columns.prediction:
            return LossModel(0, skipped=NO_PREDICTION_BINS)
        width = len(self.loss_columns)
        codes = np.concatenate(self._codes) if self._codes else np.empty((0, width), np.int64)
        errors = np.concatenate(self._errors) if self._errors else np.empty(0)
        self._codes, self._errors = [], []
        return LossModel.fitted(self.loss_columns, codes, errors, labelled=self._labelled)


def _column(value: Any, key: str) -> LossColumn:
    if not isinstance(value, Mapping):
        raise _invalid(key, "must be a mapping")
    name, kind = value.get("name"), value.get("kind")
    if not isinstance(name, str):
        raise _invalid(f"{key}.name", "must be a text")
    if kind not in ("numeric", "categorical"):
        raise _invalid(f"{key}.kind", "must be numeric or categorical")
    bins = _count(value.get("bins"), f"{key}.bins")
    if bins < 2:
        raise _invalid(f"{key}.bins", "must be at least 2")
    return LossColumn(name, kind, bins)


def _fit(value: Any, key: str, sizes: Sequence[int]) -> AdditiveFit:
    if not isinstance(value, Mapping):
        raise _invalid(key, "must be a mapping")
    numbers = {}
    for part in ("intercept", "residual_variance"):
        number = value.get(part)
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise _invalid(f"{key}.{part}", "must be a number")
        if not math.isfinite(number):
            raise _invalid(f"{key}.{part}", "must be a finite number")
        numbers[part] = float(number)
    effects = value.get("effects")
    if not isinstance(effects, list) or len(effects) != len(sizes):
        raise _invalid(f"{key}.effects", f"must be a list of {len(sizes)} lists, one per column")
    parsed = []
    for index, (effect, size) in enumerate(zip(effects, sizes, strict=True)):
        if not isinstance(effect, list) or len(effect) != size:
            raise _invalid(f"{key}.effects[{index}]", f"must be a list of {size} numbers")
        if not all(isinstance(e, int | float) and not isinstance(e, bool) for e in effect):
            raise _invalid(f"{key}.effects[{index}]", "must hold numbers only")
        parsed.append(tuple(float(e) for e in effect))
    return AdditiveFit(numbers["intercept"], tuple(parsed), numbers["residual_variance"])


def _count(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _invalid(key, "must be a count (an integer >= 0)")
    return value


def _invalid(key: str, problem: str) -> InvalidInputError:
    where = f"loss_model.{key}" if key else "loss_model"
    return InvalidInputError(
        f"baseline key {where!r} {problem}", reason="invalid_loss_model", key=where
    )
