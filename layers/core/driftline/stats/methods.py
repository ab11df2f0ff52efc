"""The drift methods by name: what each applies to, its default threshold and direction,
and the ``auto`` choice between them.

Each method is a small registered :class:`MethodSpec`. Its ``run(distributions,
threshold)`` returns a :class:`~driftline.stats.base.DriftResult` that states how it
decided: distances drift when ``statistic >= threshold``, tests when
``p_value < threshold``.

=============  ====================  ===========  =========  =========================
method         kinds                 input        default    drifts when
=============  ====================  ===========  =========  =========================
psi            numeric, categorical  counts       0.2        statistic >= threshold
ks             numeric               samples      0.05       p_value < threshold
wasserstein    numeric               samples      0.1        statistic >= threshold
jensenshannon  numeric, categorical  counts       0.1        statistic >= threshold
chisquare      numeric, categorical  counts       0.05       p_value < threshold
hellinger      numeric, categorical  counts       0.1        statistic >= threshold
=============  ====================  ===========  =========  =========================

"counts" are the aligned histogram bins (numeric) or category counts (categorical);
"samples" are the weighted samples of a numeric feature (raw data or a quantile sketch).

- ``psi`` defaults to 0.2, the usual "significant shift" level (below 0.1 is read as
  stable, 0.1-0.2 as moderate): a drift alert triggers actions, so it fires at the level
  that calls for one.
- ``chisquare`` is Pearson's test of homogeneity (both samples random), not the
  goodness of fit of the current counts to the reference proportions
  (:func:`~driftline.stats.distance.chi_square_test`). The latter treats the reference as
  exact: with a reference no larger than the current data its own noise doubles the
  statistic, and the histogram's under- and overflow bins, empty in the reference by
  construction, look like new categories. Simulated on two samples of one normal
  distribution (10 bins plus under/overflow, 400 runs per size, n = 200 to 50,000 a side),
  goodness of fit flagged drift in 58-83 % of the runs, homogeneity in 7-8 %.
- ``wasserstein`` reports the distance divided by the reference standard deviation, so one
  threshold fits every feature's scale: 0.1 means the mass moved a tenth of a standard
  deviation on average. When the reference std is unknown or 0 (a constant reference) the
  raw distance is reported, in the feature's units. ``DriftResult`` keeps one statistic;
  the raw distance is ``statistic * reference_std``, or
  :func:`driftline.stats.wasserstein_distance` on the samples.

The ``auto`` rule (:func:`choose_method`): ``ks`` for numeric features, ``chisquare`` for
categorical ones, at every sample size. In an evaluation each is decided by its evidence
and its effect together (:mod:`driftline.stats.decision`): the test says whether a
difference is credible at this batch's size, the effect whether it is large enough to
matter. (Until 2026-12 ``auto`` switched to a distance with a fixed threshold above 1,000
values a side, and a test alone below: noisy on small batches, blind on large ones.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from driftline.errors import InsufficientDataError
from driftline.stats.base import (
    ColumnKind,
    Direction,
    DriftResult,
    FeatureDistributions,
    WeightedSample,
)
from driftline.stats.distance import (
    chi_square_homogeneity_test,
    hellinger_distance,
    jensen_shannon_distance,
    population_stability_index,
)
from driftline.stats.ecdf import ks_p_value, ks_statistic, wasserstein_distance

DISTANCE: Direction = "statistic >= threshold"
TEST: Direction = "p_value < threshold"

MethodInput = Literal["counts", "samples"]
#: The test behind a method's p-value in a drift decision (``ks``: KS on the samples, and in
#: a decision also the binned test on the histogram, :mod:`driftline.stats.decision`).
Evidence = Literal["ks", "binned"]
#: A method's computation: the statistic and, for a test, its p-value (None for a distance).
Measure = Callable[[FeatureDistributions], tuple[float, float | None]]

_KINDS: tuple[ColumnKind, ...] = ("numeric", "categorical")

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MethodSpec:
    """A registered drift method.

    Attributes:
        name: the name used in monitor definitions and results.
        kinds: the column kinds it applies to.
        default_threshold: used when the monitor definition gives none.
        direction: how the statistic (distance) or p-value (test) meets the threshold.
        uses: whether it reads the aligned counts or the weighted samples.
        measure: computes ``(statistic, p_value)``; p_value is None for a distance.
        evidence: the test whose p-value says whether a difference is credible at these
            sample sizes: ``ks`` (on the samples) or ``binned`` (the calibrated test of
            homogeneity on the counts, :mod:`driftline.stats.homogeneity`).
        effect: the measure of how large the difference is (its name).
        default_min_effect: the smallest effect that drifts (``drift.min_effect``).
    """

    name: str
    kinds: frozenset[ColumnKind]
    default_threshold: float
    direction: Direction
    uses: MethodInput
    measure: Measure
    evidence: Evidence = "binned"
    effect: str = ""
    default_min_effect: float = 0.0

    def run(
        self, distributions: FeatureDistributions, threshold: float | None = None
    ) -> DriftResult:
        """The method on one feature, decided against ``threshold`` (default: its own).

        Args:
            distributions: the feature's reference and current distributions.
            threshold: the threshold to decide drift; None for :attr:`default_threshold`.

        Returns:
            The result, stating statistic, p-value, threshold, direction and verdict.

        Raises:
            ValueError: the feature's kind is not one the method applies to, or the
                threshold is not positive (or, for a test, not below 1).
            InsufficientDataError: a side has no values.
        """
        if distributions.kind not in self.kinds:
            raise ValueError(
                f"drift method {self.name!r} does not apply to {distributions.kind} features; "
                f"it applies to: {', '.join(sorted(self.kinds))}"
            )
        limit = self.default_threshold if threshold is None else float(threshold)
        upper = 1.0 if self.direction == TEST else math.inf
        if not 0.0 < limit < upper:
            allowed = "(0, 1)" if self.direction == TEST else "> 0"
            raise ValueError(
                f"expected a threshold {allowed} for drift method {self.name!r}, got {limit}"
            )
        statistic, p_value = self.measure(distributions)
        if self.direction == TEST:
            if p_value is None:  # pragma: no cover - a test always measures a p-value
                raise AssertionError(f"drift method {self.name!r} returned no p-value")
            drifted = p_value < limit
        else:
            drifted = statistic >= limit
        return DriftResult(self.name, statistic, p_value, limit, self.direction, drifted)


_REGISTRY: dict[str, MethodSpec] = {}


def _register(
    name: str,
    *,
    kinds: tuple[ColumnKind, ...],
    default_threshold: float,
    direction: Direction,
    uses: MethodInput,
    evidence: Evidence,
    effect: str,
    min_effect: float,
) -> Callable[[Measure], Measure]:
    def add(measure: Measure) -> Measure:
        _REGISTRY[name] = MethodSpec(
            name,
            frozenset(kinds),
            default_threshold,
            direction,
            uses,
            measure,
            evidence,
            effect,
            min_effect,
        )
        return measure

    return add


@_register(
    "psi",
    kinds=_KINDS,
    default_threshold=0.2,
    direction=DISTANCE,
    uses="counts",
    evidence="binned",
    effect="psi",
    min_effect=0.1,
)
def _psi(distributions: FeatureDistributions) -> tuple[float, float | None]:
    return population_stability_index(*counts_of(distributions)), None


@_register(
    "ks",
    kinds=("numeric",),
    default_threshold=0.05,
    direction=TEST,
    uses="samples",
    evidence="ks",
    effect="ks",
    min_effect=0.02,
)
def _ks(distributions: FeatureDistributions) -> tuple[float, float | None]:
    reference, current = samples_of(distributions, "ks")
    statistic = ks_statistic(reference, current)
    return statistic, ks_p_value(statistic, reference.n, current.n)


@_register(
    "wasserstein",
    kinds=("numeric",),
    default_threshold=0.1,
    direction=DISTANCE,
    uses="samples",
    evidence="ks",
    effect="wasserstein",
    min_effect=0.05,
)
def _wasserstein(distributions: FeatureDistributions) -> tuple[float, float | None]:
    distance = wasserstein_distance(*samples_of(distributions, "wasserstein"))
    scale = distributions.reference_std
    if scale is None or not math.isfinite(scale) or scale <= 0:
        return distance, None  # no scale to normalise by: the raw distance
    return distance / scale, None


@_register(
    "jensenshannon",
    kinds=_KINDS,
    default_threshold=0.1,
    direction=DISTANCE,
    uses="counts",
    evidence="binned",
    effect="jensenshannon",
    min_effect=0.02,
)
def _jensenshannon(distributions: FeatureDistributions) -> tuple[float, float | None]:
    return jensen_shannon_distance(*counts_of(distributions)), None


@_register(
    "chisquare",
    kinds=_KINDS,
    default_threshold=0.05,
    direction=TEST,
    uses="counts",
    evidence="binned",
    effect="jensenshannon",
    min_effect=0.02,
)
def _chisquare(distributions: FeatureDistributions) -> tuple[float, float | None]:
    return chi_square_homogeneity_test(*counts_of(distributions))


@_register(
    "hellinger",
    kinds=_KINDS,
    default_threshold=0.1,
    direction=DISTANCE,
    uses="counts",
    evidence="binned",
    effect="hellinger",
    min_effect=0.017,
)
def _hellinger(distributions: FeatureDistributions) -> tuple[float, float | None]:
    return hellinger_distance(*counts_of(distributions)), None


#: Every registered method by name (read-only).
METHODS: Mapping[str, MethodSpec] = MappingProxyType(_REGISTRY)
#: The registered names, in registration order.
METHOD_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get_method(name: str) -> MethodSpec:
    """The registered method called ``name``.

    Args:
        name: a method name, one of :data:`METHOD_NAMES`.

    Returns:
        Its spec.

    Raises:
        ValueError: no method has that name (the message lists the allowed ones).

    >>> spec = get_method("ks")
    >>> spec.default_threshold, spec.direction
    (0.05, 'p_value < threshold')
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown drift method {name!r}; allowed: {', '.join(METHOD_NAMES)}"
        ) from None


def compute_drift(
    distributions: FeatureDistributions, method: str, threshold: float | None = None
) -> DriftResult:
    """Run the method called ``method`` on one feature (see :meth:`MethodSpec.run`).

    Args:
        distributions: the feature's reference and current distributions.
        method: a registered method name (not ``auto``: see :func:`choose_method`).
        threshold: the threshold to decide drift; None for the method's default.

    Returns:
        The result, stating statistic, p-value, threshold, direction and verdict.

    Raises:
        ValueError: unknown method, a kind the method does not apply to, a bad threshold.
        InsufficientDataError: a side has no values.

    >>> import numpy as np
    >>> reference, current = np.array([50.0, 50.0]), np.array([20.0, 80.0])
    >>> feature = FeatureDistributions("categorical", reference, current)
    >>> result = compute_drift(feature, "jensenshannon")
    >>> round(result.statistic, 4), result.drifted
    (0.2704, True)
    """
    return get_method(method).run(distributions, threshold)


def choose_method(kind: ColumnKind, n_reference: int, n_current: int) -> str:
    """The ``auto`` method for a feature: ``ks`` (numeric) or ``chisquare`` (categorical),
    whatever the sample sizes (see the module doc).

    Args:
        kind: the feature's kind.
        n_reference: values in the reference.
        n_current: values in the current data.

    Returns:
        A registered method name.

    Raises:
        ValueError: an unknown kind or a negative sample size.

    >>> choose_method("numeric", 5000, 800), choose_method("numeric", 10**6, 10**6)
    ('ks', 'ks')
    >>> choose_method("categorical", 900, 10**6)
    'chisquare'
    """
    if kind not in _KINDS:
        raise ValueError(f"expected kind 'numeric' or 'categorical', got {kind!r}")
    if n_reference < 0 or n_current < 0:
        raise ValueError(f"expected non-negative sample sizes, got {n_reference} and {n_current}")
    return "ks" if kind == "numeric" else "chisquare"


def counts_of(distributions: FeatureDistributions) -> tuple[FloatArray, FloatArray]:
    """The aligned counts, after checking both sides have some."""
    for side, counts in (
        ("reference", distributions.reference_counts),
        ("current", distributions.current_counts),
    ):
        if counts.size == 0 or not counts.any():
            raise InsufficientDataError(
                f"the {side} counts are empty ({counts.size} bins, total 0)", side=side
            )
    return distributions.reference_counts, distributions.current_counts


def samples_of(
    distributions: FeatureDistributions, method: str
) -> tuple[WeightedSample, WeightedSample]:
    """Both weighted samples, after checking they exist and are not empty."""
    reference, current = distributions.reference_sample, distributions.current_sample
    if reference is None or current is None:
        raise ValueError(
            f"drift method {method!r} needs the weighted samples of a numeric feature; "
            f"got reference_sample={type(reference).__name__}, "
            f"current_sample={type(current).__name__}"
        )
    for side, sample in (("reference", reference), ("current", current)):
        if sample.n == 0 or sample.values.size == 0:
            raise InsufficientDataError(f"the {side} sample is empty (n = {sample.n})", side=side)
    return reference, current
