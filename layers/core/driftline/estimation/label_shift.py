"""The current class prior estimated from the predictions alone: black-box shift estimation.

If only the class prior changed since the baseline (label shift: ``P(x | y)``, hence the
model's ``P(ŷ | y)``, is the same), the share of rows predicted each class is a known mix of
the baseline's per-class prediction rates, and the prior can be solved for before a label
arrives (Lipton, Wang and Smola 2018; for two classes this is Forman's adjusted count).

**Notation.** ``k`` classes. On the baseline's labelled rows, ``n[i, j]`` rows were predicted
``i`` and are truly ``j``; ``n_j = Σ_i n[i, j]`` rows are of class ``j``, and
``M[i, j] = n[i, j] / n_j`` estimates ``P(ŷ = i | y = j)`` (each column sums to 1). In the
current data ``m_i`` of ``m`` rows are predicted ``i``, ``q_i = m_i / m``.

**Estimate.** Under label shift ``q = M π``, with ``π`` the current prior, so
``π̂ = M̂⁻¹ q̂`` (one ``numpy.linalg.solve``). Lipton et al. write the same system with the
joint matrix ``C[i, j] = P(ŷ = i, y = j) = M[i, j] p_j`` and importance weights
``w = π / p`` (``p`` the baseline prior): ``q = C w`` and ``π = w ⊙ p``; both give the
same ``π̂``. Since every column of ``M`` sums to 1, so does ``π̂``; its components may
fall outside [0, 1] when the predictions fit no mix of the baseline's classes. For two
classes, with ``T`` the baseline's true-positive rate and ``F`` its false-positive rate,
``π̂₁ = (q̂₁ − F) / (T − F)``.

**Interval** (first-order delta method). ``q̂`` is a multinomial share of ``m`` rows:
``Cov q̂ = (diag q − q qᵀ) / m``. Column ``j`` of ``M̂`` is a multinomial share of ``n_j``
rows, ``Cov M̂_j = (diag M_j − M_j M_jᵀ) / n_j``, independent of the other columns (the
baseline's class counts held fixed: ``π̂`` does not depend on them) and of ``q̂``.
Linearised, ``dπ = M⁻¹ (dq − dM π) = M⁻¹ (dq − Σ_j π_j dM_j)``, so

    Cov π̂ ≈ M⁻¹ [Cov q̂ + Σ_j π_j² Cov M̂_j] M⁻ᵀ,

every term evaluated at the estimates. For two classes the positive share's variance is
``[q₁ (1 − q₁) / m + π₁² T (1 − T) / n₁ + π₀² F (1 − F) / n₀] / (T − F)²``. The 95 %
interval is ``π̂ ± 1.96 · √Var``, and both the estimate and the interval are clipped to
[0, 1]. Nothing is drawn at random: the same counts give the same interval to the bit.

**Accuracy at the estimated prior.** Under label shift the per-class rates stay the
baseline's, so recall and specificity do not move, and accuracy becomes
``a = Σ_j π_j M[j, j]``: the accuracy expected of the current rows (the interval covers
that expectation, not the window's realised accuracy, which varies about it). Its variance
is linearised the same way: with ``d`` the diagonal of ``M``, ``∂a/∂q = M⁻ᵀ d`` and
``∂a/∂M_j = π_j (e_j − M⁻ᵀ d)``.

**When there is none** (:attr:`PriorEstimate.skipped`): a class without a baseline row
(``M`` has no column for it), fewer than :data:`MIN_CLASS_ROWS` baseline rows of a class
or :data:`MIN_CURRENT_ROWS` current rows, or per-class rates too alike to tell the classes
apart: the 2-norm condition number of ``M̂`` above :data:`MAX_CONDITION`. For two classes
``M`` is singular when ``T = F``; its condition number is about ``1 / (T − F)`` when the
errors are balanced and larger when they are not (2.5 at ``T = 0.7, F = 0.3``, 20 at
``T = 0.1, F = 0.01``). At 100 an error of one point in a predicted share can move the prior
by up to a hundred. The bound is a choice, not where the interval fails: in simulation (two
classes, 2,000 to 200,000 baseline rows, condition numbers 20 to 390, 500 draws each) the
intervals covered the true prior in 93–100 % of draws, wider than needed where the rates
are alike and the window small (the clipping to [0, 1] makes them conservative); but past
100 they are informative only for windows of tens of thousands of rows.

>>> estimate = estimate_prior([[720, 30], [80, 170]], [600, 400])  # 800 negatives, 200 positives
>>> [round(value, 4) for value in estimate.prior], round(estimate.baseline_prior[1], 4)
([0.6, 0.4], 0.2)
>>> [round(bound, 4) for bound in estimate.interval(1)]       # T = 0.85, F = 0.1, q₁ = 0.4
[0.3489, 0.4511]

References:
    Lipton, Z., Wang, Y.-X., Smola, A. (2018). Detecting and correcting for label shift with
    black box predictors. *ICML '18*.
    Forman, G. (2008). Quantifying counts and costs via classification. *Data Mining and
    Knowledge Discovery* 17(2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from driftline.estimation.multiclass import ClassScoreCells
from driftline.estimation.score_cells import ScoreCells
from driftline.metrics.confusion import ConfusionCounts
from driftline.metrics.encoding import FloatArray, Label

#: The method the result names: black-box shift estimation.
METHOD = "bbse"
#: How a binary estimate's skip reason names its classes, class 0 first.
BINARY_CLASSES = ("the negative class", "the positive class")
#: The standard normal quantile of a 95 % interval's upper end.
Z = 1.959963984540054
#: The fewest baseline rows of each class, and current rows with a predicted class, for an
#: estimate: below them the normal approximation of the shares is poor.
MIN_CLASS_ROWS = 30
MIN_CURRENT_ROWS = 30
#: The largest 2-norm condition number of the per-class prediction rates ``M̂``.
MAX_CONDITION = 100.0


@dataclass(frozen=True)
class PriorEstimate:
    """The current prior estimated from the predictions, or why there is none.

    Attributes:
        baseline_rows: the baseline's labelled rows with a predicted class.
        current_rows: the current rows with a predicted class.
        prior: ``π̂``, one share per class (not clipped: it sums to 1); empty when skipped.
        covariance: the delta-method covariance of ``prior``, row by row.
        baseline_prior: each class's share of the baseline's labelled rows.
        rates: ``M̂``, the baseline's per-class prediction rates, ``rates[i][j] =
            P(ŷ = i | y = j)``; empty when skipped for a class without rows or too few.
        accuracy: the accuracy the baseline's per-class rates give at ``prior``.
        accuracy_variance: its delta-method variance.
        condition: the 2-norm condition number of ``rates`` (None when not computed).
        skipped: why there is no estimate (None when there is one).
    """

    baseline_rows: int
    current_rows: int
    prior: tuple[float, ...] = ()
    covariance: tuple[tuple[float, ...], ...] = ()
    baseline_prior: tuple[float, ...] = ()
    rates: tuple[tuple[float, ...], ...] = ()
    accuracy: float | None = None
    accuracy_variance: float | None = None
    condition: float | None = None
    skipped: str | None = None

    def standard_error(self, index: int) -> float:
        """The standard error of class ``index``'s share."""
        return math.sqrt(max(0.0, self.covariance[index][index]))

    def interval(self, index: int) -> tuple[float, float]:
        """The 95 % interval of class ``index``'s share, clipped to [0, 1]."""
        return _clipped(self.prior[index], self.standard_error(index))

    def share(self, index: int) -> float:
        """Class ``index``'s estimated share, clipped to [0, 1]."""
        return min(1.0, max(0.0, self.prior[index]))

    def consistent(self, index: int) -> bool:
        """Whether some share in [0, 1] lies within class ``index``'s unclipped interval:
        False says no mix of the baseline's classes gives the current predictions."""
        half = Z * self.standard_error(index)
        return self.prior[index] - half <= 1.0 and self.prior[index] + half >= 0.0

    def shifted(self, index: int) -> bool:
        """Whether class ``index``'s share differs from the baseline's beyond chance: by
        more than 1.96 standard errors of the difference, the baseline's share counted as
        a binomial share of its rows (independent of ``π̂``, which reads only the rates)."""
        baseline = self.baseline_prior[index]
        variance = self.covariance[index][index] + baseline * (1 - baseline) / self.baseline_rows
        return abs(self.prior[index] - baseline) > Z * math.sqrt(max(0.0, variance))

    def accuracy_interval(self) -> tuple[float, float]:
        """The 95 % interval of :attr:`accuracy`, clipped to [0, 1]."""
        assert self.accuracy is not None and self.accuracy_variance is not None
        return _clipped(self.accuracy, math.sqrt(max(0.0, self.accuracy_variance)))


@dataclass(frozen=True)
class LabelShift:
    """A binary classifier's current positive share estimated from its predictions: the
    result's ``performance.estimated.label_shift``.

    >>> from driftline.metrics.confusion import ConfusionCounts
    >>> confusion = ConfusionCounts({(0, 0): 720, (0, 1): 80, (1, 0): 30, (1, 1): 170})
    >>> current = ScoreCells.from_arrays([0.2] * 600 + [0.8] * 400, [0] * 600 + [1] * 400)
    >>> section = LabelShift.of(confusion, 1, current).to_dict()
    >>> section["prior"], section["baseline_prior"], section["shifted"], section["consistent"]
    (0.4, 0.2, True, True)
    >>> section["accuracy_at_prior"]["value"], section["rates"]
    (0.88, {'true_positive_rate': 0.85, 'false_positive_rate': 0.1})
    """

    estimate: PriorEstimate

    @classmethod
    def of(
        cls, confusion: ConfusionCounts | None, positive: Label, cells: ScoreCells
    ) -> LabelShift:
        """The estimate from the baseline's confusion counts (None: no labelled row with a
        predicted class) and the current cells' rows predicted each class.

        Args:
            confusion: the baseline's labelled rows by (true class, predicted class); a
                class other than ``positive`` counts as negative, as for the measured
                binary metrics.
            positive: the positive class, normalised.
            cells: the current rows with a predicted class and a score in [0, 1].
        """
        counts = np.zeros((2, 2), dtype=np.int64)
        for (truth, guess), count in (confusion.cells if confusion is not None else {}).items():
            counts[int(guess == positive), int(truth == positive)] += count
        current = cells.counts.sum(axis=1)  # rows predicted 0, rows predicted 1
        return cls(estimate_prior(counts, current, class_names=BINARY_CLASSES))

    def to_dict(self) -> dict[str, Any]:
        """``{"skip": reason}``, or the positive share with its 95 % interval (clipped to
        [0, 1]), the baseline's share, whether the share moved beyond chance (``shifted``),
        whether any share in [0, 1] fits the predictions (``consistent``), the accuracy the
        baseline's per-class rates give at the estimated share, those rates, and the rows
        behind them."""
        estimate = self.estimate
        if estimate.skipped is not None:
            return {"skip": estimate.skipped}
        assert estimate.accuracy is not None
        lower, upper = estimate.interval(1)
        accuracy_lower, accuracy_upper = estimate.accuracy_interval()
        return {
            "method": METHOD,
            "prior": estimate.share(1),
            "lower": lower,
            "upper": upper,
            "baseline_prior": estimate.baseline_prior[1],
            "shifted": estimate.shifted(1),
            "consistent": estimate.consistent(1),
            "accuracy_at_prior": {
                "value": min(1.0, max(0.0, estimate.accuracy)),
                "lower": accuracy_lower,
                "upper": accuracy_upper,
            },
            "rates": {
                "true_positive_rate": estimate.rates[1][1],
                "false_positive_rate": estimate.rates[1][0],
            },
            "rows": {"baseline": estimate.baseline_rows, "current": estimate.current_rows},
        }


@dataclass(frozen=True)
class ClassLabelShift:
    """A multiclass classifier's current class shares estimated from its predictions (the
    same estimate, ``k`` classes at once): the result's ``performance.estimated.
    label_shift``, each figure by class (the class as text).

    >>> from driftline.metrics.confusion import ConfusionCounts
    >>> confusion = ConfusionCounts({("a", "a"): 80, ("a", "b"): 20, ("b", "b"): 90,
    ...                              ("b", "a"): 10, ("c", "c"): 100})
    >>> cells = ClassScoreCells.from_arrays([[0.8, 0.1, 0.1]] * 410 + [[0.1, 0.8, 0.1]] * 390
    ...     + [[0.1, 0.1, 0.8]] * 200, [0] * 410 + [1] * 390 + [2] * 200, classes=("a", "b", "c"))
    >>> section = ClassLabelShift.of(confusion, cells).to_dict()
    >>> {name: round(share, 4) for name, share in section["prior"].items()}
    {'a': 0.4, 'b': 0.4, 'c': 0.2}
    >>> section["baseline_prior"]["c"], section["shifted"]["c"], section["consistent"]
    (0.3333333333333333, True, True)
    """

    classes: tuple[Label, ...]
    estimate: PriorEstimate

    @classmethod
    def of(cls, confusion: ConfusionCounts | None, cells: ClassScoreCells) -> ClassLabelShift:
        """The estimate from the baseline's confusion counts (None: no labelled row with a
        predicted class) and the current class cells' rows predicted each class.

        Only the declared classes (``cells.classes``) count: a baseline row whose label or
        predicted class is none of them is left out, as the current rows predicted another
        class are (``prediction_unknown``). A skip reason names a class by its place among
        the declared ones, never by its value.
        """
        index = {label: position for position, label in enumerate(cells.classes)}
        k = len(cells.classes)
        counts = np.zeros((k, k), dtype=np.int64)
        for (truth, guess), count in (confusion.cells if confusion is not None else {}).items():
            if truth in index and guess in index:
                counts[index[guess], index[truth]] += count
        # every class's cells hold the same rows; those predicted the class are its "1"s
        current = [int(class_cells.counts.sum(axis=1)[1]) for class_cells in cells.cells]
        names = [f"declared class {position + 1} (schema.class_scores)" for position in range(k)]
        return cls(cells.classes, estimate_prior(counts, current, class_names=names))

    def to_dict(self) -> dict[str, Any]:
        """``{"skip": reason}``, or by class: the estimated share with its 95 % interval
        (clipped to [0, 1]), the baseline's share, whether the share moved beyond chance
        (``shifted``); whether the predictions fit a mix of the baseline's classes
        (``consistent``: every class's interval reaches [0, 1]); the accuracy the baseline's
        per-class rates give at the estimated shares; the condition number of those rates;
        and the rows behind them."""
        estimate = self.estimate
        if estimate.skipped is not None:
            return {"skip": estimate.skipped}
        assert estimate.accuracy is not None
        names = [str(label) for label in self.classes]
        positions = range(len(names))
        intervals = [estimate.interval(position) for position in positions]
        accuracy_lower, accuracy_upper = estimate.accuracy_interval()
        return {
            "method": METHOD,
            "prior": {name: estimate.share(i) for i, name in enumerate(names)},
            "lower": {name: intervals[i][0] for i, name in enumerate(names)},
            "upper": {name: intervals[i][1] for i, name in enumerate(names)},
            "baseline_prior": {name: estimate.baseline_prior[i] for i, name in enumerate(names)},
            "shifted": {name: estimate.shifted(i) for i, name in enumerate(names)},
            "consistent": all(estimate.consistent(position) for position in positions),
            "accuracy_at_prior": {
                "value": min(1.0, max(0.0, estimate.accuracy)),
                "lower": accuracy_lower,
                "upper": accuracy_upper,
            },
            "condition": estimate.condition,
            "rows": {"baseline": estimate.baseline_rows, "current": estimate.current_rows},
        }


def estimate_prior(
    baseline: ArrayLike, current: ArrayLike, *, class_names: Sequence[str] | None = None
) -> PriorEstimate:
    """The current class prior from the baseline's confusion counts and the current rows
    predicted each class (see the module's description for the method and the interval).

    Args:
        baseline: ``k × k`` counts of the baseline's labelled rows, ``baseline[i][j]``
            predicted ``i`` and truly ``j``.
        current: ``k`` counts of the current rows predicted each class.
        class_names: how a skip reason names each class (``class 0``, ... when None).

    Raises:
        ValueError: counts of the wrong shape, negative or not whole.

    >>> estimate_prior([[50, 0], [0, 0]], [40, 60]).skipped
    'the baseline has no labelled row of class 1'
    """
    counts = _counts(baseline, "baseline")
    predicted = _counts(current, "current")
    k = predicted.size
    if counts.ndim != 2 or counts.shape != (k, k) or k < 2:
        raise ValueError(
            f"expected baseline counts of shape (k, k) and current counts of shape (k,) with "
            f"k >= 2; got {counts.shape} and {predicted.shape}"
        )
    class_rows = counts.sum(axis=0)
    baseline_rows, current_rows = int(class_rows.sum()), int(predicted.sum())
    names = list(class_names) if class_names is not None else [f"class {i}" for i in range(k)]
    if len(names) != k:
        raise ValueError(f"expected {k} class names; got {len(names)}")
    skip = _skip_reason(class_rows, current_rows, names)
    if skip is not None:
        return PriorEstimate(baseline_rows, current_rows, skipped=skip)
    baseline_prior = class_rows / baseline_rows
    rates = counts / class_rows
    condition = float(np.linalg.cond(rates))
    if not condition <= MAX_CONDITION:  # also an infinite or NaN condition number
        return PriorEstimate(
            baseline_rows,
            current_rows,
            baseline_prior=_vector(baseline_prior),
            rates=_matrix(rates),
            condition=condition if math.isfinite(condition) else None,
            skipped=(
                "the baseline's predictions barely depend on the true class (condition "
                f"number of the per-class prediction rates {_shown(condition)}, above "
                f"{MAX_CONDITION:g}): the prior cannot be told from the predictions"
            ),
        )
    shares = predicted / current_rows
    prior = np.linalg.solve(rates, shares)
    noise = _multinomial(shares, current_rows) + sum(
        prior[j] ** 2 * _multinomial(rates[:, j], int(class_rows[j])) for j in range(k)
    )
    inverse_noise = np.linalg.solve(rates, noise)
    covariance = np.linalg.solve(rates, inverse_noise.T).T
    diagonal = np.diag(rates)
    towards = np.linalg.solve(rates.T, diagonal)  # M⁻ᵀ d
    accuracy_variance = towards @ _multinomial(shares, current_rows) @ towards + sum(
        _rate_term(prior[j], j, towards, rates[:, j], int(class_rows[j])) for j in range(k)
    )
    return PriorEstimate(
        baseline_rows,
        current_rows,
        prior=_vector(prior),
        covariance=_matrix((covariance + covariance.T) / 2),
        baseline_prior=_vector(baseline_prior),
        rates=_matrix(rates),
        accuracy=float(prior @ diagonal),
        accuracy_variance=float(accuracy_variance),
        condition=condition,
    )


def _skip_reason(class_rows: FloatArray, current_rows: int, names: list[str]) -> str | None:
    """Why the counts give no estimate: a class without baseline rows, or too few rows."""
    for name, rows in zip(names, class_rows, strict=True):
        if rows == 0:
            return f"the baseline has no labelled row of {name}"
    for name, rows in zip(names, class_rows, strict=True):
        if rows < MIN_CLASS_ROWS:
            return (
                f"too few labelled baseline rows of {name}: {int(rows):,}, at least "
                f"{MIN_CLASS_ROWS} are needed"
            )
    if current_rows < MIN_CURRENT_ROWS:
        return (
            f"too few current rows with a predicted class: {current_rows:,}, at least "
            f"{MIN_CURRENT_ROWS} are needed"
        )
    return None


def _rate_term(
    weight: float, column: int, towards: FloatArray, rates: FloatArray, rows: int
) -> float:
    """Accuracy's variance from column ``column`` of ``M̂``: ``gᵀ Cov M̂_j g`` with
    ``g = π_j (e_j − M⁻ᵀ d)``."""
    gradient = -weight * towards
    gradient[column] += weight
    return float(gradient @ _multinomial(rates, rows) @ gradient)


def _multinomial(shares: FloatArray, rows: int) -> FloatArray:
    """The covariance of the shares of a multinomial of ``rows`` trials at ``shares``."""
    return (np.diag(shares) - np.outer(shares, shares)) / rows


def _counts(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array != np.round(array)):
        raise ValueError(f"expected {name} counts to be whole numbers >= 0")
    return array


def _clipped(value: float, standard_error: float) -> tuple[float, float]:
    half = Z * standard_error
    return max(0.0, min(1.0, value - half)), min(1.0, max(0.0, value + half))


def _vector(values: FloatArray) -> tuple[float, ...]:
    return tuple(float(value) for value in values)


def _matrix(values: FloatArray) -> tuple[tuple[float, ...], ...]:
    return tuple(_vector(row) for row in values)


def _shown(condition: float) -> str:
    return f"{condition:.3g}" if math.isfinite(condition) else "infinite"
