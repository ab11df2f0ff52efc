"""Drift statistics: pure functions on counts and weighted samples, and the method registry."""

from __future__ import annotations

from driftline.stats.base import DriftResult, FeatureDistributions, WeightedSample
from driftline.stats.distance import (
    chi_square_test,
    hellinger_distance,
    jensen_shannon_distance,
    population_stability_index,
)
from driftline.stats.ecdf import ks_p_value, ks_statistic, wasserstein_distance
from driftline.stats.registry import (
    METHOD_NAMES,
    METHODS,
    MethodSpec,
    choose_method,
    compute_drift,
    get_method,
)

__all__ = [
    "METHODS",
    "METHOD_NAMES",
    "DriftResult",
    "FeatureDistributions",
    "MethodSpec",
    "WeightedSample",
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
