"""Distances and tests between two binned distributions given as aligned count vectors.

Every function takes the reference counts first and the current counts second. Counts are
non-negative floats aligned bin by bin (a numeric feature's histogram on the baseline's
edges, or a categorical feature's baseline categories plus one bin for the rest) and each
vector is turned into proportions ``p`` (reference) and ``q`` (current) by dividing by its
total. The vectors hold one entry per bin, so nothing here depends on the number of rows.

- :func:`population_stability_index`: in [0, inf); an empty bin's proportion becomes
  ``epsilon``.
- :func:`jensen_shannon_distance`: in [0, 1] (base 2); empty bins need nothing (0 ln 0 = 0).
- :func:`hellinger_distance`: in [0, 1]; empty bins need nothing.
- :func:`chi_square_test`: goodness of fit of the current counts to the reference
  proportions, ``(statistic, p_value)``; an empty reference bin's proportion becomes
  ``epsilon``.
- :func:`chi_square_homogeneity_test`: do both count vectors share one distribution?
  ``(statistic, p_value)``; needs no smoothing. The registry's ``chisquare`` uses this one.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from driftline.stats.tails import chi2_sf

FloatArray = NDArray[np.float64]


def population_stability_index(
    reference_counts: ArrayLike, current_counts: ArrayLike, *, epsilon: float = 1e-4
) -> float:
    """Population stability index ``sum_i (q_i - p_i) ln(q_i / p_i)``.

    Each term is >= 0 and the index is symmetric in the two distributions (it is the
    symmetrised Kullback-Leibler divergence). A bin empty on one side would make it
    infinite, so, as is usual for PSI, a zero proportion is replaced by ``epsilon`` (the
    proportions are not renormalised): one bin emptied or newly filled then adds a large but
    finite ``(q - epsilon) ln(q / epsilon)``. Common reading: < 0.1 stable, 0.1-0.2 a
    moderate shift, >= 0.2 a significant one.

    Args:
        reference_counts: counts (or weights) per bin of the reference.
        current_counts: counts per bin of the current data, aligned with the reference.
        epsilon: the proportion that stands in for an empty bin, in (0, 1).

    Returns:
        The index, >= 0.

    Raises:
        ValueError: the vectors differ in length, hold negative or non-finite counts, one is
            all zero, or ``epsilon`` is not in (0, 1).

    Hand-checked: p = (0.25, 0.25, 0.5), q = (0.5, 0.25, 0.25) gives
    (0.5 - 0.25) ln 2 + 0 + (0.25 - 0.5) ln 0.5 = 0.25 ln 2 + 0.25 ln 2 = 0.5 ln 2 = 0.34657.

    >>> round(population_stability_index([1, 1, 2], [2, 1, 1]), 5)
    0.34657

    Reference: Yurdakul, B. (2018), "Statistical properties of population stability
    index", Western Michigan University dissertation 3208.
    """
    _check_epsilon(epsilon)
    p, q = _proportions(reference_counts, current_counts)
    p, q = _replace_zeros(p, epsilon), _replace_zeros(q, epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon_distance(
    reference_counts: ArrayLike, current_counts: ArrayLike, *, base: float = 2.0
) -> float:
    """Jensen-Shannon distance: the square root of the Jensen-Shannon divergence.

    With ``m = (p + q) / 2``, the divergence is ``(KL(p || m) + KL(q || m)) / 2`` in
    logarithms of ``base``; ``0 ln 0`` counts as 0, so empty bins need no smoothing. In base
    2 the distance lies in [0, 1] (1 for distributions with disjoint support). It is a
    metric, exactly symmetric here, and equals ``scipy.spatial.distance.jensenshannon``.

    Args:
        reference_counts: counts (or weights) per bin of the reference.
        current_counts: counts per bin of the current data, aligned with the reference.
        base: the logarithm's base, > 0 and not 1.

    Returns:
        The distance, in [0, sqrt(ln 2 / ln base)] (in [0, 1] for base 2).

    Raises:
        ValueError: as :func:`population_stability_index`, or ``base`` is invalid.

    >>> round(jensen_shannon_distance([1, 0], [0, 1]), 4)
    1.0
    >>> round(jensen_shannon_distance([3, 1], [1, 3]), 4)
    0.4344

    Reference: Endres, D. M. and Schindelin, J. E. (2003), "A new metric for probability
    distributions", IEEE Transactions on Information Theory 49(7).
    """
    if not (base > 0 and base != 1 and math.isfinite(base)):
        raise ValueError(f"expected a logarithm base > 0 other than 1, got {base}")
    p, q = _proportions(reference_counts, current_counts)
    m = (p + q) / 2
    # Per bin p ln(p/m) + q ln(q/m), with 0 ln 0 = 0; written symmetrically in p and q.
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = _x_log_x_over_m(p, m) + _x_log_x_over_m(q, m)
    divergence = float(np.sum(terms)) / 2 / math.log(base)
    return math.sqrt(max(divergence, 0.0))


def hellinger_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Hellinger distance ``sqrt(1 - sum_i sqrt(p_i q_i))``, in [0, 1].

    Computed in its equal form ``||sqrt(p) - sqrt(q)||_2 / sqrt(2)``, which is exactly 0 for
    identical distributions (``1 - sum sqrt(p q)`` would leave rounding noise of ~1e-16,
    that is a distance of ~1e-8), and clipped to [0, 1].

    Args:
        reference_counts: counts (or weights) per bin of the reference.
        current_counts: counts per bin of the current data, aligned with the reference.

    Returns:
        The distance, in [0, 1] (1 for disjoint support).

    Raises:
        ValueError: as :func:`population_stability_index`.

    >>> hellinger_distance([1, 1], [2, 2])
    0.0
    >>> round(hellinger_distance([1, 0], [1, 1]), 4)
    0.5412

    Reference: Hellinger, E. (1909), "Neue Begründung der Theorie quadratischer Formen von
    unendlichvielen Veränderlichen", Journal für die reine und angewandte Mathematik 136.
    """
    p, q = _proportions(reference_counts, current_counts)
    distance = float(np.linalg.norm(np.sqrt(p) - np.sqrt(q))) / math.sqrt(2.0)
    return min(distance, 1.0)


def chi_square_test(
    reference_counts: ArrayLike, current_counts: ArrayLike, *, epsilon: float = 1e-4
) -> tuple[float, float]:
    """Pearson's chi-square goodness-of-fit test of the current counts against the reference.

    The expected counts are the reference proportions times the current total. A category
    absent from the reference but present now would have an expected count of 0 and an
    infinite statistic, so a zero reference proportion is replaced by ``epsilon`` and the
    proportions renormalised to sum to 1: a new category then gives a large, finite
    statistic. Degrees of freedom: bins with a non-zero expected count, minus 1. A single
    bin cannot show a change: ``(0.0, 1.0)``.

    The reference proportions are taken as known, which only suits a reference much larger
    than the current data: otherwise the reference's own sampling noise, and bins empty in
    the reference by construction (a histogram's under- and overflow bins), make it flag
    drift where there is none. The registry's ``chisquare`` therefore uses
    :func:`chi_square_homogeneity_test`. Equals ``scipy.stats.chisquare(current, expected)``.

    Args:
        reference_counts: counts (or weights) per bin of the reference.
        current_counts: observed counts per bin of the current data, aligned.
        epsilon: the proportion that stands in for an empty reference bin, in (0, 1).

    Returns:
        ``(statistic, p_value)``.

    Raises:
        ValueError: as :func:`population_stability_index`.

    >>> statistic, p_value = chi_square_test([50, 30, 20], [40, 40, 20])
    >>> round(statistic, 4), round(p_value, 4)
    (5.3333, 0.0695)

    Reference: Pearson, K. (1900), "On the criterion that a given system of deviations from
    the probable in the case of a correlated system of variables is such that it can be
    reasonably supposed to have arisen from random sampling", Philosophical Magazine 50.
    """
    _check_epsilon(epsilon)
    p, _ = _proportions(reference_counts, current_counts)
    observed = np.asarray(current_counts, dtype=np.float64)
    smoothed = _replace_zeros(p, epsilon)
    expected = smoothed / smoothed.sum() * observed.sum()
    nonzero = expected > 0
    degrees_of_freedom = int(np.count_nonzero(nonzero)) - 1
    if degrees_of_freedom < 1:
        return 0.0, 1.0
    statistic = float(np.sum((observed[nonzero] - expected[nonzero]) ** 2 / expected[nonzero]))
    return statistic, _chi2_sf(statistic, degrees_of_freedom)


def chi_square_homogeneity_test(
    reference_counts: ArrayLike, current_counts: ArrayLike
) -> tuple[float, float]:
    """Pearson's chi-square test of homogeneity: were both count vectors drawn from one
    distribution?

    The 2 x bins table (reference row, current row) is compared with the counts expected
    if both rows shared the pooled proportions: ``row total * column total / grand total``.
    Both samples count as random, so the reference's own noise is accounted for, and a bin
    empty in the reference (a new category, a value beyond the baseline's range) has a
    positive pooled expectation: a large, finite statistic without any smoothing. Bins
    empty on both sides are dropped; degrees of freedom: the remaining bins minus 1. A single
    bin cannot show a change: ``(0.0, 1.0)``. No continuity correction. Equals
    ``scipy.stats.chi2_contingency(table, correction=False)``.

    Args:
        reference_counts: counts (or weights) per bin of the reference.
        current_counts: counts per bin of the current data, aligned with the reference.

    Returns:
        ``(statistic, p_value)``.

    Raises:
        ValueError: as :func:`population_stability_index`.

    >>> statistic, p_value = chi_square_homogeneity_test([50, 30, 20], [40, 40, 20])
    >>> round(statistic, 4), round(p_value, 4)
    (2.5397, 0.2809)

    Reference: Pearson, K. (1900), as :func:`chi_square_test`; Agresti, A. (2013),
    "Categorical Data Analysis", 3rd ed., section 3.2.
    """
    _proportions(reference_counts, current_counts)
    table = np.vstack(
        [
            np.asarray(reference_counts, dtype=np.float64),
            np.asarray(current_counts, dtype=np.float64),
        ]
    )
    table = table[:, table.sum(axis=0) > 0]
    degrees_of_freedom = table.shape[1] - 1
    if degrees_of_freedom < 1:
        return 0.0, 1.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, _chi2_sf(statistic, degrees_of_freedom)


def _chi2_sf(statistic: float, degrees_of_freedom: int) -> float:
    """Upper tail of the chi-square distribution (``scipy.special.chdtrc``'s figures, from
    :mod:`driftline.stats.tails`: no scipy import on a decision's path)."""
    return chi2_sf(statistic, degrees_of_freedom)


def _proportions(
    reference_counts: ArrayLike, current_counts: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Both count vectors as proportions, after checking they can be compared."""
    reference = np.asarray(reference_counts, dtype=np.float64)
    current = np.asarray(current_counts, dtype=np.float64)
    if reference.ndim != 1 or reference.shape != current.shape:
        raise ValueError(
            "expected two 1-d count vectors of the same length, got shapes "
            f"{reference.shape} (reference) and {current.shape} (current)"
        )
    for side, counts in (("reference", reference), ("current", current)):
        bad = np.flatnonzero(~(counts >= 0) | ~np.isfinite(counts))
        if bad.size:
            raise ValueError(
                f"expected finite non-negative {side} counts, got {counts[bad[0]]} "
                f"in bin {bad[0]} ({bad.size} such bin(s) of {counts.size})"
            )
        if not counts.any():
            raise ValueError(f"expected some {side} counts, got all {counts.size} bins zero")
    return reference / reference.sum(), current / current.sum()


def _replace_zeros(proportions: FloatArray, epsilon: float) -> FloatArray:
    return np.where(proportions == 0, epsilon, proportions)


def _x_log_x_over_m(x: FloatArray, m: FloatArray) -> FloatArray:
    """``x ln(x / m)`` with ``0 ln 0 = 0`` (m is 0 only where x is)."""
    return np.where(x > 0, x * np.log(x / m), 0.0)


def _check_epsilon(epsilon: float) -> None:
    if not 0 < epsilon < 1:
        raise ValueError(f"expected epsilon in (0, 1), got {epsilon}")
