"""Distances and tests between two binned distributions (aligned count vectors).

Every function takes the reference counts first and the current counts second; counts are
non-negative and aligned bin by bin (histogram bins on the baseline's edges, or the
baseline's categories plus one bin for the rest).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

FloatArray = NDArray[np.float64]


def _proportions(reference_counts: Any, current_counts: Any) -> tuple[FloatArray, FloatArray]:
    reference = np.asarray(reference_counts, dtype=np.float64)
    current = np.asarray(current_counts, dtype=np.float64)
    if reference.ndim != 1 or reference.shape != current.shape:
        raise ValueError(
            "expected two 1-d count vectors of the same length, got shapes "
            f"{reference.shape} and {current.shape}"
        )
    for name, counts in (("reference", reference), ("current", current)):
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError(f"expected finite non-negative {name} counts, got {counts.tolist()}")
        if counts.sum() == 0:
            raise ValueError(f"expected some {name} counts, got all zero")
    return reference / reference.sum(), current / current.sum()


def _smoothed(proportions: FloatArray, epsilon: float) -> FloatArray:
    return np.where(proportions == 0, epsilon, proportions)


def population_stability_index(
    reference_counts: Any, current_counts: Any, *, epsilon: float = 1e-4
) -> float:
    """Population stability index: sum over bins of (q - p) * ln(q / p).

    ``p`` are the reference proportions, ``q`` the current ones; an empty bin's proportion
    is replaced by ``epsilon`` (the usual convention, so a bin empty on one side gives a large
    but finite contribution).

    Hand-checked: p = (0.25, 0.25, 0.5), q = (0.5, 0.25, 0.25) gives
    0.25 ln 2 + 0 + (-0.25) ln 0.5 = 0.5 ln 2 = 0.34657.

    >>> round(population_stability_index([1, 1, 2], [2, 1, 1]), 5)
    0.34657

    Raises:
        ValueError: the vectors differ in length, hold negative counts or are all zero.

    Reference: Yurdakul (2018), "Statistical properties of population stability index".
    """
    p, q = _proportions(reference_counts, current_counts)
    p, q = _smoothed(p, epsilon), _smoothed(q, epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon_distance(
    reference_counts: Any, current_counts: Any, *, base: float = 2.0
) -> float:
    """Jensen-Shannon distance: the square root of the JS divergence (base 2: in [0, 1]).

    >>> round(jensen_shannon_distance([1, 0], [0, 1]), 6)
    1.0

    Raises:
        ValueError: as :func:`population_stability_index`.

    Reference: Endres and Schindelin (2003), "A new metric for probability distributions".
    """
    p, q = _proportions(reference_counts, current_counts)
    m = (p + q) / 2

    def kl(a: FloatArray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / m[mask])))

    divergence = (kl(p) + kl(q)) / 2 / math.log(base)
    return math.sqrt(max(divergence, 0.0))


def hellinger_distance(reference_counts: Any, current_counts: Any) -> float:
    """Hellinger distance sqrt(1 - sum sqrt(p q)), in [0, 1].

    >>> hellinger_distance([1, 1], [1, 1])
    0.0

    Raises:
        ValueError: as :func:`population_stability_index`.

    Reference: Hellinger (1909).
    """
    p, q = _proportions(reference_counts, current_counts)
    return math.sqrt(max(1.0 - float(np.sum(np.sqrt(p * q))), 0.0))


def chi_square_test(reference_counts: Any, current_counts: Any) -> tuple[float, float]:
    """Pearson's chi-square test of homogeneity: do both samples share one distribution?

    The 2 x bins contingency table of reference and current counts is tested against the
    pooled proportions (bins empty on both sides are dropped), so the reference's own
    sampling noise is accounted for and a category new in the current data gives a large,
    finite statistic. Degrees of freedom: non-empty bins - 1.

    Returns:
        ``(statistic, p_value)``.

    >>> chi_square_test([50, 50], [50, 50])
    (0.0, 1.0)

    Raises:
        ValueError: as :func:`population_stability_index`.

    Reference: Pearson (1900); equals ``scipy.stats.chi2_contingency(..., correction=False)``.
    """
    _proportions(reference_counts, current_counts)
    table = np.vstack(
        [np.asarray(reference_counts, np.float64), np.asarray(current_counts, np.float64)]
    )
    table = table[:, table.sum(axis=0) > 0]
    dof = table.shape[1] - 1
    if dof < 1:
        return 0.0, 1.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, float(chi2.sf(statistic, dof))
