"""The drift methods by name, their defaults, and the ``auto`` choice.

Each method is a small registered spec: the column kinds it applies to, its default
threshold and the direction of the comparison (distances drift when the statistic reaches
the threshold; tests drift when the p-value falls below it).

The ``auto`` rule (:func:`choose_method`):

============  =====================================  ========================================
kind          min(n_reference, n_current) <= 1000    larger samples
============  =====================================  ========================================
numeric       ``ks`` (p < 0.05)                      ``wasserstein`` normalised (>= 0.1)
categorical   ``chisquare`` (p < 0.05)               ``jensenshannon`` (>= 0.1)
============  =====================================  ========================================

Why: on small samples a test is the honest tool, since a distance is too noisy to threshold.
On large samples every p-value test flags differences too small to matter (with a million
rows, a shift of 1 % of a standard deviation is "significant"), so alerts would fire on
every batch; a distance with a threshold measures how large the change is instead.
Wasserstein is normalised by the reference's standard deviation so one threshold fits every
feature's scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from driftline.errors import InsufficientDataError
from driftline.stats.base import ColumnKind, Direction, DriftResult, FeatureDistributions
from driftline.stats.distance import (
    chi_square_test,
    hellinger_distance,
    jensen_shannon_distance,
    population_stability_index,
)
from driftline.stats.ecdf import ks_p_value, ks_statistic, wasserstein_distance

#: Sample size up to which ``auto`` prefers a statistical test.
SMALL_SAMPLE = 1000

Computation = Callable[[FeatureDistributions], tuple[float, float | None]]


@dataclass(frozen=True)
class MethodSpec:
    """A drift method: name, the kinds it applies to, default threshold and direction."""

    name: str
    kinds: frozenset[ColumnKind]
    default_threshold: float
    direction: Direction
    compute: Computation


def _counts(d: FeatureDistributions) -> tuple[object, object]:
    if d.reference_counts.sum() == 0 or d.current_counts.sum() == 0:
        raise InsufficientDataError("no values on one side to compare")
    return d.reference_counts, d.current_counts


def _samples(d: FeatureDistributions) -> tuple[object, object]:
    if d.reference_sample is None or d.current_sample is None:
        raise ValueError("this method needs samples (numeric features only)")
    if d.reference_sample.n == 0 or d.current_sample.n == 0:
        raise InsufficientDataError("no values on one side to compare")
    return d.reference_sample, d.current_sample


def _psi(d: FeatureDistributions) -> tuple[float, float | None]:
    return population_stability_index(*_counts(d)), None


def _js(d: FeatureDistributions) -> tuple[float, float | None]:
    return jensen_shannon_distance(*_counts(d)), None


def _hellinger(d: FeatureDistributions) -> tuple[float, float | None]:
    return hellinger_distance(*_counts(d)), None


def _chisquare(d: FeatureDistributions) -> tuple[float, float | None]:
    return chi_square_test(*_counts(d))


def _ks(d: FeatureDistributions) -> tuple[float, float | None]:
    _samples(d)
    assert d.reference_sample is not None and d.current_sample is not None
    statistic = ks_statistic(d.reference_sample, d.current_sample)
    return statistic, ks_p_value(statistic, d.reference_sample.n, d.current_sample.n)


def _wasserstein(d: FeatureDistributions) -> tuple[float, float | None]:
    _samples(d)
    assert d.reference_sample is not None and d.current_sample is not None
    distance = wasserstein_distance(d.reference_sample, d.current_sample)
    std = d.reference_std
    # A constant reference has no scale: the raw distance is reported instead.
    return (distance / std if std else distance), None


_BOTH: frozenset[ColumnKind] = frozenset({"numeric", "categorical"})
_NUMERIC: frozenset[ColumnKind] = frozenset({"numeric"})
_DISTANCE: Direction = "statistic >= threshold"
_TEST: Direction = "p_value < threshold"

METHODS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec("psi", _BOTH, 0.2, _DISTANCE, _psi),
        MethodSpec("ks", _NUMERIC, 0.05, _TEST, _ks),
        MethodSpec("wasserstein", _NUMERIC, 0.1, _DISTANCE, _wasserstein),
        MethodSpec("jensenshannon", _BOTH, 0.1, _DISTANCE, _js),
        MethodSpec("chisquare", _BOTH, 0.05, _TEST, _chisquare),
        MethodSpec("hellinger", _BOTH, 0.1, _DISTANCE, _hellinger),
    )
}
METHOD_NAMES: tuple[str, ...] = tuple(METHODS)


def get_method(name: str) -> MethodSpec:
    """The spec of a method by name.

    Raises:
        ValueError: unknown name (the message lists the allowed ones).
    """
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown drift method {name!r}; allowed: {', '.join(METHOD_NAMES)}"
        ) from None


def choose_method(kind: ColumnKind, n_reference: int, n_current: int) -> str:
    """The ``auto`` choice (see the module's table).

    >>> choose_method("numeric", 5000, 800), choose_method("categorical", 5000, 5000)
    ('ks', 'jensenshannon')
    """
    small = min(n_reference, n_current) <= SMALL_SAMPLE
    if kind == "numeric":
        return "ks" if small else "wasserstein"
    return "chisquare" if small else "jensenshannon"


def compute_drift(
    distributions: FeatureDistributions, method: str, threshold: float | None = None
) -> DriftResult:
    """Run ``method`` on one feature and decide drift against ``threshold`` (or the default).

    Raises:
        ValueError: unknown method, or a method that does not apply to the feature's kind.
        InsufficientDataError: a side has no values.
    """
    spec = get_method(method)
    if distributions.kind not in spec.kinds:
        raise ValueError(
            f"drift method {method!r} does not apply to {distributions.kind} features "
            f"(it applies to {', '.join(sorted(spec.kinds))})"
        )
    limit = spec.default_threshold if threshold is None else threshold
    statistic, p_value = spec.compute(distributions)
    if spec.direction == _TEST:
        assert p_value is not None
        drifted = p_value < limit
    else:
        drifted = statistic >= limit
    return DriftResult(method, statistic, p_value, limit, spec.direction, drifted)
