"""Tail probabilities of the drift tests' null distributions, without importing scipy.

A drift decision reads three limits: Kolmogorov's distribution (the KS test past an
effective size of 50,000), the chi-square distribution (the binned and category tests) and
log-factorials (the exact test of a sparse bin). ``scipy.special`` has all three, but
importing it takes 0.2-0.5 s of a fresh process, where the decisions of 20 columns take
0.03 s: on the 1M × 20 benchmark it was most of the drift step's time, and on Lambda it is
paid on every cold start. (KS between its exact sizes, up to 10,000 values a side, and an
effective size of 50,000 still reads ``scipy.stats.kstwo``'s finite-sample tail,
:func:`driftline.stats.ecdf.ks_p_value`.) The series below are short and converge to the
last bit, and ``tests/unit/stats/test_tails.py`` holds them to ``scipy.special``
(``kolmogorov``, ``chdtrc``, ``gammaln``) across their range, far tails included.

>>> round(kolmogorov_sf(1.36), 4)     # about the 5 % point of the KS limit
0.0495
>>> round(chi2_sf(3.841458820694124, 1), 12)
0.05
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: The modified Lentz method's guard against a zero denominator: the smallest positive
#: normal double.
_TINY = 2.2250738585072014e-308
#: A series stops when its next term no longer moves the sum in double precision.
_EPSILON = 1e-17
#: The continued fraction stops when a step moves it by less than two units in the last place.
_FRACTION_TOLERANCE = 4.5e-16
#: Steps after which a series or fraction that has not converged is an error (they need a
#: few hundred at most for ``a`` up to 10^6).
_MAX_STEPS = 100_000


def kolmogorov_sf(x: float) -> float:
    """``P(K > x)`` for Kolmogorov's limiting distribution ``K`` (``scipy.special.kolmogorov``,
    ``scipy.stats.kstwobign.sf``).

    For ``x >= 1`` the alternating series ``2 Σ (-1)^(k-1) exp(-2 k² x²)``, whose terms fall
    by ``exp(-6 x²)`` or faster, so a p-value far in the tail keeps its relative precision;
    below 1 that series cancels, and the CDF's theta-function form
    ``sqrt(2π) / x Σ exp(-(2k - 1)² π² / (8 x²))`` converges in a few terms instead, its
    complement being at least 0.27 there.

    >>> kolmogorov_sf(0.0), kolmogorov_sf(40.0)
    (1.0, 0.0)
    """
    if not math.isfinite(x):
        if math.isnan(x):
            raise ValueError("expected a number, got NaN")
        return 0.0 if x > 0 else 1.0
    if x <= 0.0:
        return 1.0
    if x < 1.0:
        exponent = -(math.pi**2) / (8.0 * x * x)
        total = 0.0
        for k in range(1, 64):
            term = math.exp(exponent * (2 * k - 1) ** 2)
            total += term
            if term <= _EPSILON * total:
                break
        return min(1.0, max(0.0, 1.0 - math.sqrt(2.0 * math.pi) / x * total))
    total = 0.0
    for k in range(1, 64):
        term = math.exp(-2.0 * k * k * x * x)
        total += term if k % 2 else -term
        if term <= _EPSILON * total:
            break
    return min(1.0, max(0.0, 2.0 * total))


def chi2_sf(statistic: float, degrees_of_freedom: float) -> float:
    """``P(X > statistic)`` for a chi-square ``X`` with ``degrees_of_freedom``
    (``scipy.special.chdtrc``): the regularised upper incomplete gamma function
    ``Q(df / 2, statistic / 2)``.

    >>> chi2_sf(0.0, 3)
    1.0
    """
    if degrees_of_freedom <= 0 or not math.isfinite(degrees_of_freedom):
        raise ValueError(f"expected positive degrees of freedom, got {degrees_of_freedom}")
    if math.isnan(statistic):
        raise ValueError("expected a chi-square statistic, got NaN")
    if statistic <= 0.0:
        return 1.0
    if math.isinf(statistic):
        return 0.0
    return upper_gamma_q(degrees_of_freedom / 2.0, statistic / 2.0)


def upper_gamma_q(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function ``Q(a, x) = Γ(a, x) / Γ(a)`` for
    ``a > 0``, ``x > 0`` (``scipy.special.gammaincc``).

    Below ``x = a + 1`` the power series of the lower function ``P = 1 - Q`` converges fast
    and ``Q`` is not small there (about a half or more), so ``1 - P`` loses nothing; above
    it the continued fraction of ``Q`` itself (evaluated by the modified Lentz method)
    converges fast and keeps a far-tail value's relative precision. Both carry the factor
    ``x^a e^(-x) / Γ(a)``, taken through its logarithm so a large ``a`` cannot overflow.
    """
    log_factor = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        term = 1.0 / a
        total = term
        denominator = a
        for _ in range(_MAX_STEPS):
            denominator += 1.0
            term *= x / denominator
            total += term
            if term <= _EPSILON * total:
                break
        else:
            raise ArithmeticError(f"the gamma series did not converge for a={a}, x={x}")
        lower = math.exp(log_factor) * total
        return min(1.0, max(0.0, 1.0 - lower))
    # Q = factor / (x + 1 - a - 1(1 - a) / (x + 3 - a - 2(2 - a) / (x + 5 - a - ...)))
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    fraction = d
    for step in range(1, _MAX_STEPS + 1):
        numerator = -step * (step - a)
        b += 2.0
        d = numerator * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + numerator / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        fraction *= delta
        if abs(delta - 1.0) <= _FRACTION_TOLERANCE:
            break
    else:
        raise ArithmeticError(f"the gamma fraction did not converge for a={a}, x={x}")
    return min(1.0, max(0.0, math.exp(log_factor) * fraction))


#: ``log Γ(x)`` elementwise over an array (``scipy.special.gammaln`` for positive ``x``).
log_gamma: Any = np.vectorize(math.lgamma, otypes=[np.float64])
