"""Drift decisions an on-call engineer can trust: credible, large enough, and corrected for
the number of tests one evaluation runs.

A column drifts when both hold:

- **credible**: its evidence p-value, adjusted for the evaluation's family of tests
  (:mod:`driftline.stats.correction`), is below ``alpha``. The evidence is valid at the
  batch's size: for a numeric column (``ks``, ``wasserstein``) Kolmogorov–Smirnov on the
  samples, the calibrated test of homogeneity on its histogram and the Ansari–Bradley test
  of spread (:mod:`driftline.stats.scale`), combined by Bonferroni (``ks+binned+scale``: KS
  sees a shift of the bulk, the binned test a change in the tails, the scale test a wider
  or narrower spread); for every other method the calibrated test of homogeneity on the
  counts (:mod:`driftline.stats.homogeneity`). So a stationary model's evaluation pages with
  probability at most ``alpha`` however many columns and segments it tests;
- **large enough**: its effect — the method's own measure of how far the distributions are
  apart — is at least the minimum effect. So a batch of a million rows does not page on a
  difference too small to matter, which every test finds significant at that size.

**Missing values.** The methods compare the values present. When either side has missing
values, they are one more bin of the test of homogeneity (beside KS for a numeric column),
whose adjusted p-value must be credible as always; and each of the two things that can make
the change large enough must be credible on its own evidence (with the same adjustment): the
values (the effect at least the minimum effect, and the tests without the missing bin), or
the missing share (moved by at least ``min_missing_change``, default
:data:`DEFAULT_MIN_MISSING_CHANGE`, two points, and the test of present against missing
rows). So a feature that goes missing in a fifth of the rows drifts although its values look
as before, while a credible rise of one point in a small slice, whose values' effect is
sampling noise above its minimum, does not; a stationary missing share costs the test a bin.

**Borderline.** Past 100,000 values a numeric profile keeps a deterministic quantile sketch
(:mod:`driftline.profile.quantile_sketch`), whose KS statistic is within the profiles' rank-
error bound of the exact one. Such a decision is made on the sketch's own statistic (the
same on every run), and reported ``borderline`` when the statistic moved by the bound either
way would decide otherwise.

Effects (and their default minimum, ``drift.min_effect``):

=============  =============================================  ===========
method         effect                                          min_effect
=============  =============================================  ===========
ks             KS distance: the largest gap between the CDFs  0.02
wasserstein    mass moved, in reference standard deviations    0.05
chisquare      Jensen–Shannon distance of the binned shares    0.02
jensenshannon  Jensen–Shannon distance (base 2)                0.02
hellinger      Hellinger distance                              0.017
psi            population stability index                      0.1
=============  =============================================  ===========

>>> import numpy as np
>>> from driftline.stats.base import FeatureDistributions
>>> same = FeatureDistributions("categorical", np.array([600.0, 400.0]), np.array([61.0, 39.0]))
>>> moved = FeatureDistributions("categorical", np.array([600.0, 400.0]), np.array([40.0, 60.0]))
>>> decided = decide_family([measure_drift(same, "chisquare"), measure_drift(moved, "chisquare")])
>>> [d.drifted for d in decided]
[False, True]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from driftline.stats.base import Direction, DriftResult, FeatureDistributions
from driftline.stats.correction import Correction, adjust
from driftline.stats.distance import (
    hellinger_distance,
    jensen_shannon_distance,
    population_stability_index,
)
from driftline.stats.ecdf import ks_p_value, ks_statistic, wasserstein_distance
from driftline.stats.homogeneity import binned_homogeneity_test
from driftline.stats.methods import counts_of, get_method, samples_of
from driftline.stats.scale import ScaleTest, ansari_bradley

#: The default family-wise false-alarm probability of one evaluation (``drift.alpha``).
DEFAULT_ALPHA = 0.01
DECIDED: Direction = "p_adjusted < alpha and effect >= threshold"
#: The change of a column's missing share that is large enough to drift by itself
#: (``drift.min_missing_change``): two points, e.g. from 0 % to 2 % of the rows.
DEFAULT_MIN_MISSING_CHANGE = 0.02


@dataclass(frozen=True)
class DriftMeasure:
    """One column's figures before the family's decision.

    Attributes:
        method: the drift method.
        statistic: the method's own statistic (as :func:`~driftline.stats.compute_drift`).
        p_value: the evidence test's raw p-value.
        evidence: ``ks`` or ``binned`` (which test gave the p-value).
        effect: how far apart the distributions are, by ``effect_measure``.
        effect_measure: the effect's name.
        n_reference, n_current: the values compared on each side.
        rank_error: the samples' rank-error bound (0 when exact; :attr:`FeatureDistributions.
            rank_error`).
        p_value_range: for a decision on sketches, the combined evidence's p-values with the
            KS and scale statistics moved by ``rank_error`` toward and away from "nothing
            changed" (None when exact).
        parts: for evidence of several tests (``ks+binned+scale``), each test's own p-value,
            by name.
        missing_shares: the share of missing values in the reference and in the current
            data, when either side has any (None otherwise).
        split: with missing values, the raw p-values of the values alone (the tests without
            the missing bin) and of the missing share alone (present against missing rows).
    """

    method: str
    statistic: float
    p_value: float
    evidence: str
    effect: float
    effect_measure: str
    n_reference: int
    n_current: int
    rank_error: float = 0.0
    p_value_range: tuple[float, float] | None = None
    parts: tuple[tuple[str, float], ...] = ()
    missing_shares: tuple[float, float] | None = None
    split: tuple[float, float] | None = None

    @property
    def missing_change(self) -> float:
        """How far the missing share moved (0 without missing values)."""
        if self.missing_shares is None:
            return 0.0
        return abs(self.missing_shares[1] - self.missing_shares[0])


def measure_drift(distributions: FeatureDistributions, method: str) -> DriftMeasure:
    """The statistic, evidence p-value and effect of one column by ``method``.

    Raises:
        ValueError: an unknown method, or one that does not apply to the column's kind.
        InsufficientDataError: a side has no values.
    """
    spec = get_method(method)
    if distributions.kind not in spec.kinds:
        raise ValueError(
            f"drift method {method!r} does not apply to {distributions.kind} features; "
            f"it applies to: {', '.join(sorted(spec.kinds))}"
        )
    p_value_range: tuple[float, float] | None = None
    evidence: str = spec.evidence
    parts: tuple[tuple[str, float], ...] = ()
    if spec.evidence == "ks":
        reference, current = samples_of(distributions, method)
        n_reference, n_current = reference.n, current.n
        gap = ks_statistic(reference, current)
        p_value = ks_p_value(gap, n_reference, n_current)
        # (the p-value is the costly part of ks's own measure: not computed twice)
        statistic = gap if method == "ks" else spec.measure(distributions)[0]
        bound = distributions.rank_error
        if bound > 0:
            p_value_range = (
                ks_p_value(max(0.0, gap - bound), n_reference, n_current),
                ks_p_value(min(1.0, gap + bound), n_reference, n_current),
            )
        scale = ansari_bradley(reference, current, rank_error=bound)
        p_binned = _binned_beside_ks(*_with_missing(distributions))
        named = [("ks", p_value), ("binned", p_binned), ("scale", scale.p_value)]
        parts = tuple((name, p) for name, p in named if p is not None)
        evidence = "+".join(name for name, _ in parts)
        if p_value_range is not None:
            p_value_range = (
                _bonferroni([p_value_range[0], p_binned, _range_end(scale, 0)]),
                _bonferroni([p_value_range[1], p_binned, _range_end(scale, 1)]),
            )
        p_values_binned = (
            p_binned
            if _missing_shares(distributions) is None
            else _binned_beside_ks(distributions.reference_counts, distributions.current_counts)
        )
        values_alone = _bonferroni([p_value, p_values_binned, scale.p_value])
        p_value = _bonferroni([p for _, p in named])
    else:
        statistic, _ = spec.measure(distributions)
        reference_counts, current_counts = counts_of(distributions)
        n_reference, n_current = int(reference_counts.sum()), int(current_counts.sum())
        _, p_value, _ = binned_homogeneity_test(*_with_missing(distributions))
        values_alone = p_value
        if _missing_shares(distributions) is not None:
            _, values_alone, _ = binned_homogeneity_test(reference_counts, current_counts)
    return DriftMeasure(
        method,
        statistic,
        p_value,
        evidence,
        _effect(spec.effect, distributions),
        spec.effect,
        n_reference,
        n_current,
        distributions.rank_error if spec.evidence == "ks" else 0.0,
        p_value_range,
        parts,
        _missing_shares(distributions),
        _split(distributions, values_alone),
    )


def _split(distributions: FeatureDistributions, values_alone: float) -> tuple[float, float] | None:
    """The raw p-values of the values alone and of the missing share alone (the calibrated
    test of present against missing rows), or None without missing values."""
    if _missing_shares(distributions) is None or distributions.missing is None:
        return None
    reference_missing, reference_rows, current_missing, current_rows = distributions.missing
    _, p_missing, _ = binned_homogeneity_test(
        [float(reference_rows - reference_missing), float(reference_missing)],
        [float(current_rows - current_missing), float(current_missing)],
    )
    return (values_alone, p_missing)


def measure_missing_only(distributions: FeatureDistributions, method: str) -> DriftMeasure:
    """The measure of a column whose current rows are all missing: its values cannot be
    compared (statistic and effect NaN, written as null), so the evidence is the test of
    homogeneity of present against missing rows, and only the change of the missing share
    can make it large enough.

    >>> from driftline.stats.base import FeatureDistributions
    >>> gone = FeatureDistributions("numeric", np.array([4950.0]), np.array([0.0]),
    ...                             missing=(50, 5000, 300, 300))
    >>> measured = measure_missing_only(gone, "ks")
    >>> measured.p_value < 1e-100, measured.missing_shares, measured.n_current
    (True, (0.01, 1.0), 0)
    """
    spec = get_method(method)
    if distributions.missing is None:
        raise ValueError("a column without values can only be measured by its missing share")
    reference_missing, reference_rows, current_missing, current_rows = distributions.missing
    present = np.array([float(reference_rows - reference_missing), float(reference_missing)])
    absent = np.array([float(current_rows - current_missing), float(current_missing)])
    _, p_value, _ = binned_homogeneity_test(present, absent)
    return DriftMeasure(
        method,
        math.nan,
        p_value,
        "binned",
        math.nan,
        spec.effect,
        int(distributions.reference_counts.sum()),
        0,
        missing_shares=_missing_shares(distributions),
        split=(1.0, p_value),
    )


def _with_missing(
    distributions: FeatureDistributions,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The aligned counts, followed by one bin of missing values when either side has any.

    >>> from driftline.stats.base import FeatureDistributions
    >>> both = FeatureDistributions("categorical", np.array([6.0, 4.0]), np.array([3.0, 2.0]),
    ...                             missing=(0, 10, 5, 10))
    >>> [side.tolist() for side in _with_missing(both)]
    [[6.0, 4.0, 0.0], [3.0, 2.0, 5.0]]
    """
    reference, current = distributions.reference_counts, distributions.current_counts
    missing = distributions.missing
    if missing is None or (missing[0] == 0 and missing[2] == 0):
        return reference, current
    return np.append(reference, float(missing[0])), np.append(current, float(missing[2]))


def _missing_shares(distributions: FeatureDistributions) -> tuple[float, float] | None:
    missing = distributions.missing
    if missing is None or (missing[0] == 0 and missing[2] == 0):
        return None
    reference_missing, reference_rows, current_missing, current_rows = missing
    return (
        reference_missing / reference_rows if reference_rows else 0.0,
        current_missing / current_rows if current_rows else 0.0,
    )


def _binned_beside_ks(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float | None:
    """The calibrated binned test on a numeric column's histogram (the baseline's decile
    bins and the under- and overflow bins, and the missing values' bin when there is one),
    or None without counts on both sides."""
    if reference.size < 2 or reference.size != current.size:
        return None
    if not reference.any() or not current.any():
        return None
    return binned_homogeneity_test(reference, current)[1]


def _bonferroni(p_values: Sequence[float | None]) -> float:
    """Bonferroni's combination of the tests of one numeric column (those that ran, not
    None): the smallest p-value times their number, valid whatever their dependence."""
    ran = [p for p in p_values if p is not None]
    return min(1.0, len(ran) * min(ran))


def _range_end(scale: ScaleTest, end: int) -> float:
    return scale.p_value if scale.p_value_range is None else scale.p_value_range[end]


def decide_family(
    measures: Sequence[DriftMeasure],
    *,
    alpha: float | Sequence[float] = DEFAULT_ALPHA,
    min_effect: float | Sequence[float | None] | None = None,
    correction: Correction = "holm",
    weights: Sequence[float] | None = None,
    min_missing_change: float = DEFAULT_MIN_MISSING_CHANGE,
) -> list[DriftResult]:
    """Decide every column of one evaluation together.

    Args:
        measures: the family's measures (every column tested, overall and per segment).
        alpha: the family-wise false-alarm probability, or one per measure.
        min_effect: the minimum effect, or one per measure (None: the method's default).
        correction: how p-values are adjusted for the family.
        weights: each measure's share of α (normalised to sum 1; None: equal shares).
        min_missing_change: the change of a column's missing share that is large enough
            whatever its effect.

    Returns:
        One decision per measure, in order, stating its evidence.
    """
    count = len(measures)
    alphas = [float(alpha)] * count if isinstance(alpha, (int, float)) else list(alpha)
    if min_effect is None or isinstance(min_effect, (int, float)):
        minimums: list[float | None] = [min_effect] * count
    else:
        minimums = list(min_effect)
    adjusted = adjust([m.p_value for m in measures], correction, weights)
    total = float(sum(weights)) if weights is not None else float(count)
    shares = [w / total for w in weights] if weights is not None else [1.0 / max(count, 1)] * count
    decided = []
    for measure, p_adjusted, level, own, share in zip(
        measures, adjusted, alphas, minimums, shares, strict=True
    ):
        threshold = get_method(measure.method).default_min_effect if own is None else own
        split_adjusted = _split_adjusted(measure, p_adjusted)
        if split_adjusted is None:
            values_large, missing_large = measure.effect >= threshold, False
        else:
            values_large = measure.effect >= threshold and split_adjusted[0] < level
            missing_large = (
                measure.missing_change >= min_missing_change and split_adjusted[1] < level
            )
        drifted = p_adjusted < level and (values_large or missing_large)
        borderline = _borderline(
            measure, p_adjusted, level, threshold, drifted, missing_large=missing_large
        )
        decided.append(
            DriftResult(
                measure.method,
                measure.statistic,
                measure.p_value,
                float(threshold),
                DECIDED,
                drifted,
                effect=measure.effect,
                effect_measure=measure.effect_measure,
                p_adjusted=p_adjusted,
                alpha=level,
                correction=correction,
                n_reference=measure.n_reference,
                n_current=measure.n_current,
                evidence=measure.evidence,
                family=count,
                alpha_share=share,
                borderline=borderline,
                rank_error=measure.rank_error,
                evidence_parts=measure.parts,
                missing_shares=measure.missing_shares,
                min_missing_change=(
                    min_missing_change if measure.missing_shares is not None else None
                ),
                split_p_adjusted=split_adjusted,
            )
        )
    return decided


def _split_adjusted(measure: DriftMeasure, p_adjusted: float) -> tuple[float, float] | None:
    """The values' and the missing share's own p-values, adjusted by the same factor as the
    column's evidence (None without missing values)."""
    if measure.split is None:
        return None
    factor = p_adjusted / measure.p_value if measure.p_value > 0 else 1.0
    return (min(1.0, measure.split[0] * factor), min(1.0, measure.split[1] * factor))


def _borderline(
    measure: DriftMeasure,
    p_adjusted: float,
    alpha: float,
    threshold: float,
    drifted: bool,
    *,
    missing_large: bool = False,
) -> bool:
    """Whether a decision on sketches could go the other way on the exact values: the KS
    statistic can be off by the rank-error bound either way, which moves the p-value (by the
    same factor as the family's adjustment) and, for ``ks``, the effect."""
    if measure.p_value_range is None:
        return False
    factor = p_adjusted / measure.p_value if measure.p_value > 0 else 1.0
    low_gap, high_gap = measure.p_value_range
    outcomes = set()
    for p_raw, shift in ((low_gap, -measure.rank_error), (high_gap, measure.rank_error)):
        effect = measure.effect + shift if measure.effect_measure == "ks" else measure.effect
        outcomes.add(min(1.0, p_raw * factor) < alpha and (effect >= threshold or missing_large))
    return len(outcomes) > 1 or drifted not in outcomes


def _effect(name: str, distributions: FeatureDistributions) -> float:
    if name in ("ks", "wasserstein"):
        reference, current = samples_of(distributions, name)
        if name == "ks":
            return ks_statistic(reference, current)
        distance = wasserstein_distance(reference, current)
        scale = distributions.reference_std
        if scale is None or not math.isfinite(scale) or scale <= 0:
            return distance
        return distance / scale
    counts = counts_of(distributions)
    if name == "psi":
        return population_stability_index(*counts)
    if name == "hellinger":
        return hellinger_distance(*counts)
    return jensen_shannon_distance(*counts)
