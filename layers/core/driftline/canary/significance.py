"""The canary's significance tests, each a small pure function checked against scipy and
statsmodels: :func:`two_proportion_ztest` (pooled), :func:`welch_t_test`, a seeded
:func:`bootstrap_difference_ci` and :func:`mixture_sprt`, the sequential rule valid at every
look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from driftline.errors import InsufficientDataError

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Comparison:
    """A two-sample comparison of the challenger (b) against the champion (a).

    ``difference`` is ``b - a`` in the metric's units; ``p_value`` is two-sided.
    ``df`` is the Welch degrees of freedom (None for the z-test).
    """

    name: str
    value_a: float
    value_b: float
    difference: float
    statistic: float
    p_value: float
    df: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "champion": self.value_a,
            "challenger": self.value_b,
            "difference": self.difference,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "df": self.df,
        }


def two_proportion_ztest(successes_a: int, n_a: int, successes_b: int, n_b: int) -> Comparison:
    """Two-sided z-test of equal proportions with the pooled variance.

    ``z = (p_b - p_a) / sqrt(p (1 - p) (1/n_a + 1/n_b))`` with ``p`` the pooled proportion;
    ``z**2`` is Pearson's chi-square of the 2x2 table without continuity correction, and
    the result equals statsmodels' ``proportions_ztest`` (order b, a).

    Raises:
        InsufficientDataError: an arm has no rows.
        ValueError: a count is negative or exceeds its rows.

    >>> result = two_proportion_ztest(150, 1000, 90, 1000)
    >>> round(result.difference, 3), round(result.statistic, 4), round(result.p_value, 6)
    (-0.06, -4.1286, 3.6e-05)
    """
    for successes, n, arm in ((successes_a, n_a, "a"), (successes_b, n_b, "b")):
        if n <= 0:
            raise InsufficientDataError(f"arm {arm} has no rows", reason="insufficient_data")
        if not 0 <= successes <= n:
            raise ValueError(f"expected 0 <= successes <= n for arm {arm}, got {successes}/{n}")
    p_a, p_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    variance = pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b)
    difference = p_b - p_a
    if variance == 0.0:
        # Both arms all-0 or all-1: no evidence of a difference (statsmodels returns nan).
        return Comparison("two_proportion_z", p_a, p_b, difference, 0.0, 1.0)
    z = difference / math.sqrt(variance)
    p_value = float(2.0 * stats.norm.sf(abs(z)))
    return Comparison("two_proportion_z", p_a, p_b, difference, z, p_value)


def welch_t_test(a: ArrayLike, b: ArrayLike) -> Comparison:
    """Welch's two-sided t-test of equal means (unequal variances).

    Equals ``scipy.stats.ttest_ind(b, a, equal_var=False)``.

    Raises:
        InsufficientDataError: an arm has fewer than two values.

    >>> result = welch_t_test([1.0, 2.0, 3.0, 4.0], [2.0, 3.5, 4.0, 5.5, 6.0])
    >>> round(result.statistic, 4), round(result.df, 3), round(result.p_value, 4)
    (1.7612, 6.99, 0.1216)
    """
    values_a, values_b = _finite(a, "a"), _finite(b, "b")
    n_a, n_b = values_a.size, values_b.size
    mean_a, mean_b = float(values_a.mean()), float(values_b.mean())
    var_a, var_b = float(values_a.var(ddof=1)), float(values_b.var(ddof=1))
    se2_a, se2_b = var_a / n_a, var_b / n_b
    difference = mean_b - mean_a
    standard_error = math.sqrt(se2_a + se2_b)
    if standard_error == 0.0:
        same = difference == 0.0
        return Comparison(
            "welch_t",
            mean_a,
            mean_b,
            difference,
            0.0 if same else math.copysign(math.inf, difference),
            1.0 if same else 0.0,
            float(n_a + n_b - 2),
        )
    t = difference / standard_error
    df = (se2_a + se2_b) ** 2 / (se2_a**2 / (n_a - 1) + se2_b**2 / (n_b - 1))
    p_value = float(2.0 * stats.t.sf(abs(t), df))
    return Comparison("welch_t", mean_a, mean_b, difference, t, p_value, df)


def bootstrap_difference_ci(
    a: ArrayLike,
    b: ArrayLike,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Confidence interval of ``mean(b) - mean(a)`` by the BCa bootstrap, seeded.

    Each arm is resampled independently (``scipy.stats.bootstrap``, ``paired=False``);
    the same seed gives the same interval.

    Raises:
        InsufficientDataError: an arm has fewer than two values.
        ValueError: ``confidence`` is not in (0, 1).

    >>> rng = np.random.default_rng(3)
    >>> low, high = bootstrap_difference_ci(rng.normal(1.0, 1, 400), rng.normal(1.3, 1, 400))
    >>> round(low, 3), round(high, 3)
    (0.162, 0.437)
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"expected confidence in (0, 1), got {confidence}")
    values_a, values_b = _finite(a, "a"), _finite(b, "b")

    def difference(x: FloatArray, y: FloatArray, axis: int) -> FloatArray:
        return np.asarray(np.mean(y, axis=axis) - np.mean(x, axis=axis))

    if np.ptp(values_a) == 0.0 and np.ptp(values_b) == 0.0:
        value = float(values_b[0] - values_a[0])
        return value, value
    result = stats.bootstrap(
        (values_a, values_b),
        difference,
        paired=False,
        vectorized=True,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="BCa",
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


@dataclass(frozen=True)
class SequentialResult:
    """The mixture SPRT at one look.

    ``statistic`` is the mixture likelihood ratio Λ of "the difference is not zero" against
    "it is zero"; the rule stops when Λ ≥ ``threshold`` = 1/alpha. ``always_valid_p`` is
    ``min(1, 1/Λ)`` (or the smaller one carried from earlier looks): a p-value that stays
    valid however many times it was looked at.
    """

    statistic: float
    threshold: float
    tau: float
    always_valid_p: float
    crossed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": "mixture_sprt",
            "statistic": self.statistic,
            "threshold": self.threshold,
            "tau": self.tau,
            "always_valid_p": self.always_valid_p,
            "crossed": self.crossed,
        }


def mixture_sprt(
    difference: float,
    variance: float,
    *,
    tau: float,
    alpha: float,
    previous_p: float | None = None,
) -> SequentialResult:
    """The normal-mixture sequential probability ratio test of "difference = 0".

    With an estimated difference ``d ~ N(θ, V)`` (``V = variance``, the squared standard
    error) and a normal mixing distribution ``θ ~ N(0, τ²)`` over the alternatives, the
    mixture likelihood ratio is::

        Λ = sqrt(V / (V + τ²)) · exp(τ² d² / (2 V (V + τ²)))

    and ``P(Λ ever ≥ 1/alpha | θ = 0) ≤ alpha`` (Ville's inequality), so the test may be
    applied after every batch of traffic. ``tau`` is the size of difference that matters
    (the test is most powerful near it). The variance is estimated from the data, which
    makes the guarantee approximate at small samples: hence a minimum of rows per arm.

    Raises:
        ValueError: ``tau`` or ``variance`` is not positive, or ``alpha`` not in (0, 1).

    >>> result = mixture_sprt(-0.06, 0.000216, tau=0.02, alpha=0.025)
    >>> round(result.statistic, 2), result.crossed
    (132.59, True)
    """
    if not tau > 0.0:
        raise ValueError(f"expected tau > 0, got {tau}")
    if not variance > 0.0:
        raise ValueError(f"expected variance > 0, got {variance}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"expected alpha in (0, 1), got {alpha}")
    tau2 = tau * tau
    log_ratio = 0.5 * math.log(variance / (variance + tau2)) + tau2 * difference**2 / (
        2.0 * variance * (variance + tau2)
    )
    statistic = math.exp(min(log_ratio, 700.0))
    p_value = min(1.0, 1.0 / statistic)
    if previous_p is not None:
        p_value = min(p_value, previous_p)
    return SequentialResult(statistic, 1.0 / alpha, tau, p_value, statistic >= 1.0 / alpha)


def _finite(values: ArrayLike, arm: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    array = array[np.isfinite(array)]
    if array.size < 2:
        raise InsufficientDataError(
            f"arm {arm} needs at least two values, got {array.size}", reason="insufficient_data"
        )
    return array
