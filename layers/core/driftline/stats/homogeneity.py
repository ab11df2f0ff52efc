"""A calibrated test of homogeneity for two binned distributions, valid at small batches.

Pearson's chi-square test of homogeneity (:func:`~driftline.stats.distance.
chi_square_homogeneity_test`) reads its p-value from the chi-square distribution, which is
right only while every bin expects a few counts on both sides. A batch of 200 rows against a
baseline of 50,000 expects less than one row in every category of under 0.5 % share; one
such row in the batch then gives a statistic of ~25 and a p-value of 1e-6: a page for a
category that is merely rare. So:

1. **Sparse bins are pooled.** A bin whose expected count is below :data:`MIN_EXPECTED` on
   either side joins one pooled bin (and if the pooled bin is still sparse, so does the
   smallest other bin, until it is not or nothing is left). Pearson's test runs on the pooled
   table: the omnibus p-value, for shares that moved between common categories.
2. **Each sparse bin is tested exactly.** A category new in the batch (or one that grew
   from rare to common) would vanish into the pooled bin, so each pooled bin also gets an
   exact test: given how many rows fall in the bin on both sides together, the number that
   fall in the batch is hypergeometric under "nothing changed" (Fisher's test of the 2 x 2
   table bin vs the rest), two-sided by doubling the smaller tail.
3. The two are combined by Bonferroni: ``p = min(1, 2 min(p_omnibus, S min_j p_j))`` for S
   sparse bins (``p_omnibus`` alone when no bin is sparse). Each part is valid (the pooled
   table meets the chi-square rule of thumb; the exact tests are exact and conservative), so
   the combination is valid at every batch size.

A new category of 10 rows in a batch of 1,000 against 25,000 baseline rows that never held
it has a p-value of about 3e-14: it pages. One row of a category of share 1/50,000
(expected 0.02 in the batch) does not (p = 0.3 with two sparse bins).

>>> statistic, p_value, pooled = binned_homogeneity_test([5000, 3000, 2000, 0], [50, 30, 10, 10])
>>> pooled, p_value < 1e-12
(1, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from driftline.stats.distance import chi_square_homogeneity_test
from driftline.stats.tails import log_gamma

#: A bin expecting fewer counts than this on either side is sparse (Cochran's rule of thumb
#: for the chi-square approximation).
MIN_EXPECTED = 5.0


def binned_homogeneity_test(
    reference_counts: ArrayLike, current_counts: ArrayLike
) -> tuple[float, float, int]:
    """Were both count vectors drawn from one distribution? Calibrated at every size.

    Args:
        reference_counts: counts per bin of the reference.
        current_counts: counts per bin of the current data, aligned with the reference.

    Returns:
        ``(statistic, p_value, sparse_bins)``: Pearson's statistic on the pooled table, the
        combined p-value (module doc), and how many bins were sparse.

    Raises:
        ValueError: as :func:`~driftline.stats.distance.chi_square_homogeneity_test`.
    """
    reference = np.asarray(reference_counts, dtype=np.float64)
    current = np.asarray(current_counts, dtype=np.float64)
    chi_square_homogeneity_test(reference, current)  # the same input checks
    used = (reference + current) > 0
    reference, current = reference[used], current[used]
    n_reference, n_current = float(reference.sum()), float(current.sum())
    total = n_reference + n_current
    column = reference + current
    expected = np.minimum(column * n_reference / total, column * n_current / total)
    sparse = expected < MIN_EXPECTED
    if not sparse.any():
        statistic, p_omnibus = chi_square_homogeneity_test(reference, current)
        return statistic, p_omnibus, 0
    pooled = _pooled(reference, current, sparse, n_reference, n_current)
    statistic, p_omnibus = chi_square_homogeneity_test(*pooled)
    cells = [
        _exact_cell_p_value(round(float(c)), round(float(t)), int(total), int(n_current))
        for c, t in zip(current[sparse], column[sparse], strict=True)
    ]
    count = int(sparse.sum())
    p_cells = min(1.0, count * min(cells))
    return statistic, min(1.0, 2.0 * min(p_omnibus, p_cells)), count


def _pooled(
    reference: np.ndarray,
    current: np.ndarray,
    sparse: np.ndarray,
    n_reference: float,
    n_current: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The table with every sparse bin pooled into one (grown until it is not sparse)."""
    keep = ~sparse
    pooled_reference = float(reference[sparse].sum())
    pooled_current = float(current[sparse].sum())
    total = n_reference + n_current
    order = [int(i) for i in np.argsort(reference + current, kind="stable") if keep[i]]
    while order:
        column = pooled_reference + pooled_current
        if min(column * n_reference, column * n_current) / total >= MIN_EXPECTED:
            break
        smallest = order.pop(0)
        keep[smallest] = False
        pooled_reference += float(reference[smallest])
        pooled_current += float(current[smallest])
    return (
        np.append(reference[keep], pooled_reference),
        np.append(current[keep], pooled_current),
    )


def _exact_cell_p_value(in_current: int, in_bin: int, total: int, n_current: int) -> float:
    """Two-sided exact p-value of ``in_current`` of the bin's ``in_bin`` rows falling in the
    current data, when ``n_current`` of all ``total`` rows are current (hypergeometric).

    The tails are summed from the log-probabilities (``math.lgamma`` elementwise, as
    :data:`driftline.stats.tails.log_gamma`): ``scipy.stats.hypergeom`` gives the same
    figures (tested) but importing scipy costs 0.2-0.6 s of a cold start, and every numeric
    column's histogram has sparse under- and overflow bins.

    >>> round(_exact_cell_p_value(10, 10, 26000, 1000), 16)   # a category new in the batch
    0.0
    >>> _exact_cell_p_value(0, 1, 51000, 1000) == 1.0
    True
    """
    low, high = max(0, n_current - (total - in_bin)), min(in_bin, n_current)
    drawn = np.arange(low, high + 1, dtype=np.float64)
    log_pmf = (
        _log_choose(in_bin, drawn)
        + _log_choose(total - in_bin, n_current - drawn)
        - _log_choose(total, np.float64(n_current))
    )
    upper = _tail(log_pmf[drawn >= in_current])
    lower = _tail(log_pmf[drawn <= in_current])
    return min(1.0, 2.0 * min(upper, lower))


def _log_choose(n: float, k: Any) -> Any:
    """``log C(n, k)``, elementwise over ``k``."""
    return log_gamma(n + 1.0) - log_gamma(k + 1.0) - log_gamma(n - k + 1.0)


def _tail(log_pmf: np.ndarray) -> float:
    """The sum of the probabilities whose logarithms are ``log_pmf`` (0 for none)."""
    if log_pmf.size == 0:
        return 0.0
    top = float(log_pmf.max())
    return float(np.exp(top) * np.exp(log_pmf - top).sum())
