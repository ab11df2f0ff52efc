"""An oracle for weighted Holm: adjusted p-values by brute-force closed testing."""

from __future__ import annotations

import itertools
from collections.abc import Sequence


def closed_testing(p: Sequence[float], w: Sequence[float]) -> list[float]:
    """Adjusted p-values by closed testing: H_i is rejected at level a when every
    intersection containing it is, each by the weighted Bonferroni test (reject S when some
    j in S has p_j <= a * w_j / sum of w over S). Exponential in len(p): small families."""
    m = len(p)
    local = {}
    for size in range(1, m + 1):
        for subset in itertools.combinations(range(m), size):
            total = sum(w[k] for k in subset)
            local[subset] = min(1.0, *(p[j] * total / w[j] for j in subset))
    return [max(value for subset, value in local.items() if i in subset) for i in range(m)]
