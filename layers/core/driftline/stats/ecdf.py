"""Statistics on whole distributions given as weighted samples (raw data or KLL sketches):
Kolmogorov-Smirnov and Wasserstein-1. On raw samples (every weight 1) they equal
``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.stats import kstwo

from driftline.errors import InsufficientDataError
from driftline.stats.base import WeightedSample

#: Like scipy's ks_2samp(method="auto"): exact p-values while max(n, m) is at most this.
EXACT_KS_MAX_N = 10_000


def _cdfs(
    reference: WeightedSample, current: WeightedSample
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Both right-continuous ECDFs evaluated at every distinct value of either sample."""
    for name, sample in (("reference", reference), ("current", current)):
        if sample.values.size == 0 or sample.weights.sum() <= 0:
            raise InsufficientDataError(f"the {name} sample is empty")
    points = np.union1d(reference.values, current.values)

    def cdf(sample: WeightedSample) -> NDArray[np.float64]:
        cumulative = np.concatenate(([0.0], np.cumsum(sample.weights)))
        at = cumulative[np.searchsorted(sample.values, points, side="right")] / cumulative[-1]
        return np.asarray(at, dtype=np.float64)

    return points, cdf(reference), cdf(current)


def ks_statistic(reference: WeightedSample, current: WeightedSample) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: sup |F_ref - F_cur|.

    >>> ks_statistic(WeightedSample.from_values([1, 2, 3]), WeightedSample.from_values([2, 3, 4]))
    0.3333333333333333

    Raises:
        InsufficientDataError: a sample is empty.

    Reference: Smirnov (1939); Hodges (1957) for the exact distribution.
    """
    _, ref_cdf, cur_cdf = _cdfs(reference, current)
    return float(np.max(np.abs(ref_cdf - cur_cdf)))


def ks_p_value(statistic: float, n_reference: int, n_current: int) -> float:
    """Two-sided p-value of a KS statistic for sample sizes ``n_reference`` and ``n_current``.

    Exact (counting lattice paths) while max(n, m) <= 10,000, else Smirnov's asymptotic
    distribution ``kstwo.sf(d, round(n m / (n + m)))``: the rule of scipy's ``ks_2samp``.
    The exact value is computed as 1 - P(inside), so p-values below ~1e-12 carry only
    absolute precision.

    >>> round(ks_p_value(0.5, 10, 10), 6)
    0.167821
    """
    n, m = int(n_reference), int(n_current)
    if n <= 0 or m <= 0:
        raise InsufficientDataError(f"expected positive sample sizes, got {n} and {m}")
    if statistic <= 0:
        return 1.0
    if max(n, m) <= EXACT_KS_MAX_N:
        return _exact_p_value(statistic, n, m)
    big, small = max(n, m), min(n, m)
    en = big * small / (big + small)
    return float(np.clip(kstwo.sf(statistic, np.round(en)), 0.0, 1.0))


def _exact_p_value(statistic: float, n: int, m: int) -> float:
    g = math.gcd(n, m)
    lcm = n // g * m
    # The statistic is a multiple of 1/lcm; round to that lattice to avoid float noise.
    h = round(statistic * lcm)
    bound = h * g  # a path point (i, j) is inside while |i*m - j*n| < bound
    if n > m:
        n, m = m, n
    row = np.zeros(m + 1)
    hi = min(m, math.ceil(bound / n) - 1)
    row[: hi + 1] = 1.0
    log_scale = 0.0
    for i in range(1, n + 1):
        lo = max(0, (i * m - bound) // n + 1)
        hi = min(m, -((-(i * m + bound)) // n) - 1)
        new = np.zeros(m + 1)
        if lo <= hi:
            new[lo : hi + 1] = np.cumsum(row[lo : hi + 1])
        peak = new.max()
        if peak <= 0:
            return 1.0
        new /= peak
        log_scale += math.log(peak)
        row = new
    if row[m] <= 0:
        return 1.0
    log_inside = math.log(row[m]) + log_scale
    log_paths = math.lgamma(n + m + 1) - math.lgamma(n + 1) - math.lgamma(m + 1)
    return float(min(max(1.0 - math.exp(log_inside - log_paths), 0.0), 1.0))


def wasserstein_distance(reference: WeightedSample, current: WeightedSample) -> float:
    """Wasserstein-1 (earth mover's) distance: integral of |F_ref - F_cur| dx.

    >>> wasserstein_distance(WeightedSample.from_values([0, 1]), WeightedSample.from_values([1, 2]))
    1.0

    Raises:
        InsufficientDataError: a sample is empty.

    Reference: Vaserstein (1969); Ramdas, Garcia and Cuturi (2017).
    """
    points, ref_cdf, cur_cdf = _cdfs(reference, current)
    return float(np.sum(np.abs(ref_cdf - cur_cdf)[:-1] * np.diff(points)))
