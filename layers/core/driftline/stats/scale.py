"""Did the spread change? The Ansari–Bradley test on two weighted samples, valid with ties.

KS sees a shift of the bulk of a distribution well and a change of its spread poorly: a
standard deviation grown by 20 % moves the CDFs apart by about 0.04 at most, and on a
column whose values crowd around a few grid points (a depth to 0.1 mm, an age in years) by
less. The binned test sees the spread only through the baseline's two outer deciles. A
test of scale reads every value's distance from the middle of the pooled sample.

**The statistic.** Rank both samples together; the value at rank *i* of *N* scores
``min(i, N + 1 - i)`` (how far it sits from the nearer end: small in the tails, large in the
middle). Tied values share the mean of their positions' scores. The statistic is the sum of
the current sample's scores: a wider current spread puts its values in the tails and makes
it small, a narrower one large.

**The p-value.** Under "nothing changed" every assignment of the pooled values to the two
sides is equally likely, so the sum's mean is ``m · ā`` and its variance
``m n / (N (N - 1)) · Σ (a_i - ā)²`` over all *N* positions (``ā`` the mean score, *m* the
current and *n* the reference size): exact permutation moments with the ties as they are.
The p-value is two-sided from the normal limit of the standardised sum, which is a sum of
bounded scores drawn without replacement, close to normal from a few dozen values.

On untied samples this equals ``scipy.stats.ansari`` (which takes the normal limit above 50
values a side). With ties scipy (1.17) scores each tied value at its mean rank and centres
on the untied mean, which is biased when most values are tied: for 5,000 and 200 draws of
one Poisson(1.2) count it reads p = 0. Here the scores are averaged over the tied positions
and the mean is the scores' own, so the test stays valid (``tests/unit/stats/test_scale.py``
enumerates every split of a tied sample and checks the false-alarm rate on grid values).

**On sketches.** A quantile sketch stands for its column by weighted items (weights sum to
the column's size): the statistic is computed on them as on tied values. Every item's rank
is within the sketch's rank-error bound ε (normalised) of its true one, and a score moves
by at most one per position, so the sum moves by at most ``m ε N``:
:func:`ansari_bradley` reports the p-values at the standardised sum moved that far either
way, as KS does, for the borderline rule.

>>> from driftline.stats.base import WeightedSample
>>> wide = WeightedSample.from_values([-3.0, -2.0, -1.5, 1.5, 2.0, 3.0] * 10)
>>> narrow = WeightedSample.from_values([-0.5, -0.2, 0.0, 0.1, 0.3, 0.6] * 10)
>>> round(ansari_bradley(narrow, wide).p_value, 12) < 1e-9
True

Reference: Ansari, A. R. and Bradley, R. A. (1960), "Rank-sum tests for dispersions".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from driftline.stats.base import WeightedSample

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ScaleTest:
    """The Ansari–Bradley test of one column.

    Attributes:
        statistic: the current sample's sum of scores.
        z: the standardised statistic (negative: the current spread is wider).
        p_value: two-sided, from the normal limit.
        p_value_range: the p-values with the statistic moved by the sketches' rank-error
            bound toward and away from "nothing changed" (None when both are exact).
    """

    statistic: float
    z: float
    p_value: float
    p_value_range: tuple[float, float] | None = None


def ansari_bradley(
    reference: WeightedSample, current: WeightedSample, *, rank_error: float = 0.0
) -> ScaleTest:
    """Ansari–Bradley's test of equal spread on two weighted samples (module doc).

    Args:
        reference: the reference sample (sorted values, positive weights).
        current: the current sample.
        rank_error: the samples' normalised rank-error bound (0 when both are exact).

    Returns:
        The statistic, its standardised value and the two-sided p-value; p = 1 when every
        value is the same.

    >>> from driftline.stats.base import WeightedSample
    >>> same = WeightedSample.from_values([1.0, 2.0, 3.0, 4.0])
    >>> ansari_bradley(same, same).p_value
    1.0
    """
    values = np.unique(np.concatenate([reference.values, current.values]))
    on_reference = _weights_on(values, reference)
    on_current = _weights_on(values, current)
    held = on_reference + on_current
    total = float(held.sum())
    m, n = float(on_current.sum()), float(on_reference.sum())
    end = np.cumsum(held)
    start = end - held
    scores = (_score_sum(end, total) - _score_sum(start, total)) / held
    mean_score = float((held * scores).sum()) / total
    statistic = float((on_current * scores).sum())
    spread = float((held * (scores - mean_score) ** 2).sum())
    variance = m * n / (total * (total - 1.0)) * spread if total > 1 else 0.0
    if variance <= 0 or not math.isfinite(variance):
        return ScaleTest(statistic, 0.0, 1.0, (1.0, 1.0) if rank_error > 0 else None)
    deviation = math.sqrt(variance)
    z = (statistic - m * mean_score) / deviation
    p_value = _two_sided(abs(z))
    p_value_range = None
    if rank_error > 0:
        moved = m * rank_error * total / deviation
        p_value_range = (_two_sided(max(0.0, abs(z) - moved)), _two_sided(abs(z) + moved))
    return ScaleTest(statistic, z, p_value, p_value_range)


def _weights_on(values: FloatArray, sample: WeightedSample) -> FloatArray:
    """The sample's weight at each of ``values`` (which hold every value of the sample)."""
    at = np.searchsorted(values, sample.values)
    return np.bincount(at, weights=sample.weights, minlength=values.size).astype(np.float64)


def _score_sum(k: FloatArray, total: float) -> FloatArray:
    """``Σ_{i=1..k} min(i, N + 1 - i)`` for N = ``total``, continued linearly between whole
    positions (a sketch's weights are whole, so only ends of tied runs are ever asked)."""
    half = math.floor((total + 1.0) / 2.0)
    rising = np.minimum(k, half)
    falling = np.maximum(k - half, 0.0)
    # positions half+1 .. half+falling score N+1-i: the sum of N+1-i over them
    return np.asarray(
        rising * (rising + 1.0) / 2.0
        + falling * (total + 1.0)
        - (falling * (2.0 * half + falling + 1.0) / 2.0),
        dtype=np.float64,
    )


def _two_sided(z: float) -> float:
    return min(1.0, math.erfc(z / math.sqrt(2.0)))
