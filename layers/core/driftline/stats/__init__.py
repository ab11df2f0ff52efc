"""Drift statistics: pure functions on aligned counts and weighted samples, and the
registry of drift methods with their defaults and the ``auto`` choice.

- :mod:`driftline.stats.base`: the inputs and the result type.
- :mod:`driftline.stats.distance`: PSI, Jensen-Shannon, Hellinger and chi-square tests on
  counts.
- :mod:`driftline.stats.ecdf`: Kolmogorov-Smirnov and Wasserstein on weighted samples.
- :mod:`driftline.stats.methods`: the methods by name, :func:`compute_drift`,
  :func:`choose_method`.
"""

from __future__ import annotations

from driftline.stats.base import (
    ColumnKind,
    Direction,
    DriftResult,
    FeatureDistributions,
    WeightedSample,
)
from driftline.stats.distance import (
    chi_square_homogeneity_test,
    chi_square_test,
    hellinger_distance,
    jensen_shannon_distance,
    population_stability_index,
)
from driftline.stats.ecdf import (
    EXACT_KS_MAX_N,
    ks_p_value,
    ks_statistic,
    wasserstein_distance,
)
from driftline.stats.methods import (
    METHOD_NAMES,
    METHODS,
    MethodSpec,
    choose_method,
    compute_drift,
    get_method,
)

__all__ = [
    "EXACT_KS_MAX_N",
    "METHODS",
    "METHOD_NAMES",
    "ColumnKind",
    "Direction",
    "DriftResult",
    "FeatureDistributions",
    "MethodSpec",
    "WeightedSample",
    "chi_square_homogeneity_test",
    "chi_square_test",
    "choose_method",
    "compute_drift",
    "get_method",
    "hellinger_distance",
    "jensen_shannon_distance",
    "ks_p_value",
    "ks_statistic",
    "population_stability_index",
    "wasserstein_distance",
]
