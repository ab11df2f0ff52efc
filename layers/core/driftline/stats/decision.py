"""Drift decisions an on-call engineer can trust: credible, large enough, and corrected for
the number of tests one evaluation runs.

A column drifts when both hold:

- **credible**: its evidence p-value, adjusted for the evaluation's family of tests
  (:mod:`driftline.stats.correction`), is below ``alpha``. The evidence is valid at the
  batch's size: for a numeric column (``ks``, ``wasserstein``) Kolmogorov–Smirnov on the
  samples and the calibrated test of homogeneity on its histogram, combined by Bonferroni
  (``ks+binned``: KS sees a shift of the bulk, the binned test a change in the tails, such
  as a wider spread); for every other method the calibrated test of homogeneity on the
  counts (:mod:`driftline.stats.homogeneity`). So a stationary model's evaluation pages with
  probability at most ``alpha`` however many columns and segments it tests;
- **large enough**: its effect — the method's own measure of how far the distributions are
  apart — is at least the minimum effect. So a batch of a million rows does not page on a
  difference too small to matter, which every test finds significant at that size.

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
chisquare      Jensen–Shannon distance of the binned shares    0.03
jensenshannon  Jensen–Shannon distance (base 2)                0.03
hellinger      Hellinger distance                              0.025
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

#: The default family-wise false-alarm probability of one evaluation (``drift.alpha``).
DEFAULT_ALPHA = 0.01
DECIDED: Direction = "p_adjusted < alpha and effect >= threshold"
#: The evidence of a numeric column: KS on the samples and the binned test on its histogram.
KS_AND_BINNED = "ks+binned"


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
        p_value_range: for a KS decision on sketches, the p-values at the KS statistic
            minus and plus ``rank_error`` (None when exact).
        parts: for evidence of two tests (``ks+binned``), each test's own p-value, by name.
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
        p_binned = _binned_beside_ks(distributions)
        if p_binned is not None:
            evidence = KS_AND_BINNED
            parts = (("ks", p_value), ("binned", p_binned))
            p_value = _either(p_value, p_binned)
            if p_value_range is not None:
                p_value_range = (
                    _either(p_value_range[0], p_binned),
                    _either(p_value_range[1], p_binned),
                )
    else:
        statistic, _ = spec.measure(distributions)
        reference_counts, current_counts = counts_of(distributions)
        n_reference, n_current = int(reference_counts.sum()), int(current_counts.sum())
        _, p_value, _ = binned_homogeneity_test(reference_counts, current_counts)
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
    )


def _binned_beside_ks(distributions: FeatureDistributions) -> float | None:
    """The calibrated binned test on a numeric column's histogram (the baseline's decile
    bins and the under- and overflow bins), or None without counts on both sides."""
    reference, current = distributions.reference_counts, distributions.current_counts
    if reference.size < 2 or reference.size != current.size:
        return None
    if not reference.any() or not current.any():
        return None
    return binned_homogeneity_test(reference, current)[1]


def _either(p_ks: float, p_binned: float) -> float:
    """Bonferroni's combination of the two tests of one numeric column: valid whatever their
    dependence."""
    return min(1.0, 2.0 * min(p_ks, p_binned))


def decide_family(
    measures: Sequence[DriftMeasure],
    *,
    alpha: float | Sequence[float] = DEFAULT_ALPHA,
    min_effect: float | Sequence[float | None] | None = None,
    correction: Correction = "holm",
    weights: Sequence[float] | None = None,
) -> list[DriftResult]:
    """Decide every column of one evaluation together.

    Args:
        measures: the family's measures (every column tested, overall and per segment).
        alpha: the family-wise false-alarm probability, or one per measure.
        min_effect: the minimum effect, or one per measure (None: the method's default).
        correction: how p-values are adjusted for the family.
        weights: each measure's share of α (normalised to sum 1; None: equal shares).

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
        drifted = p_adjusted < level and measure.effect >= threshold
        borderline = _borderline(measure, p_adjusted, level, threshold, drifted)
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
            )
        )
    return decided


def _borderline(
    measure: DriftMeasure, p_adjusted: float, alpha: float, threshold: float, drifted: bool
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
        outcomes.add(min(1.0, p_raw * factor) < alpha and effect >= threshold)
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
