"""Adjusted p-values for a family of tests: the drift tests of one evaluation.

One evaluation runs one test per feature and output column, overall and in every segment:
with 20 features and 5 segments, 120 tests. Each at p < 0.01 alone would page a stationary
model on most evaluations; adjusted for the family, the chance that *any* of them pages
without a change stays at α.

- ``holm`` (the default): Holm's step-down adjustment. It controls the family-wise error
  rate — the probability of one or more false alarms — at α under any dependence between
  the tests, and is uniformly more powerful than Bonferroni.
- ``bh``: Benjamini–Hochberg. It controls the expected share of false alarms among the
  alarms (the false discovery rate); under the global null (nothing changed) that equals
  the family-wise rate only when the tests are independent or positively dependent.
- ``none``: the raw p-values (each test alone at α).

Both corrections take optional **weights**: a test's share of α. Weighted Holm rejects, step
by step, the test whose p-value is smallest relative to its weight while ``p <= α · w / W``
(``W`` the weight of the tests not yet rejected): the family-wise rate stays at α under any
dependence, and a test given more of α needs less evidence. Weighted Benjamini–Hochberg
applies BH to ``p / w`` (weights scaled to average 1). Equal weights give the plain methods.

>>> holm([0.01, 0.04, 0.03, 0.005])
[0.03, 0.06, 0.06, 0.02]
>>> benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
[0.02, 0.04, 0.04, 0.02]
>>> [round(x, 9) for x in holm([0.01, 0.04, 0.03, 0.005], weights=[3, 1, 1, 1])]
[0.02, 0.06, 0.06, 0.02]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

Correction = Literal["holm", "bh", "none"]
CORRECTIONS: tuple[Correction, ...] = ("holm", "bh", "none")


def holm(p_values: Sequence[float], weights: Sequence[float] | None = None) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given.

    Unweighted, the i-th smallest of m p-values is multiplied by m - i + 1 (i from 1). With
    weights (normalised to sum 1), the tests are taken in the order of ``p / w`` and the
    i-th is scaled by the weight still in play divided by its own: ``p / w * W_i``. Either
    way the values are capped at 1 and made non-decreasing in that order.
    """
    p = _checked(p_values)
    m = p.size
    if m == 0:
        return []
    if weights is None:
        order = np.argsort(p, kind="stable")
        scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    else:
        w = _weights(weights, m)
        order = np.argsort(p / w, kind="stable")
        remaining = np.cumsum(w[order][::-1])[::-1]
        scaled = np.minimum(1.0, p[order] / w[order] * remaining)
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return [float(x) for x in adjusted]


def benjamini_hochberg(
    p_values: Sequence[float], weights: Sequence[float] | None = None
) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the order given.

    The i-th smallest of m p-values is multiplied by m / i, capped at 1, and the adjusted
    values are made non-decreasing in that order (a running minimum from the largest). With
    weights, the same on ``p / w``, the weights scaled to average 1.
    """
    p = _checked(p_values)
    m = p.size
    if m == 0:
        return []
    if weights is not None:
        p = p / (_weights(weights, m) * m)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, p[order] * m / np.arange(1, m + 1))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum.accumulate(scaled[::-1])[::-1]
    return [float(x) for x in adjusted]


def adjust(
    p_values: Sequence[float],
    correction: Correction,
    weights: Sequence[float] | None = None,
) -> list[float]:
    """The family's p-values adjusted by ``correction`` (``none``: unchanged), each test
    given its share of α by ``weights`` (None: equal shares).

    Raises:
        ValueError: an unknown correction, a p-value outside [0, 1] or not a number, or
            weights that are not one positive number per p-value.

    >>> adjust([0.2, 0.01], "none")
    [0.2, 0.01]
    """
    if correction == "holm":
        return holm(p_values, weights)
    if correction == "bh":
        return benjamini_hochberg(p_values, weights)
    if correction == "none":
        checked = _checked(p_values)
        if weights is not None:
            _weights(weights, checked.size)
        return [float(x) for x in checked]
    raise ValueError(f"unknown correction {correction!r}; allowed: {', '.join(CORRECTIONS)}")


def _checked(p_values: Sequence[float]) -> np.ndarray:
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must be numbers in [0, 1]")
    return p


def _weights(weights: Sequence[float], count: int) -> np.ndarray:
    """The weights as shares of α (summing to 1)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (count,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"weights must be {count} positive numbers, one per p-value")
    shares: np.ndarray = w / w.sum()
    return shares
