"""The decision of one evaluation's drift tests: credible after the family's correction and
large enough; borderline when a sketch's error could turn it; the evidence it states."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import ansari, ks_2samp

from driftline.profile.numeric import NumericProfile, numeric_edges_from_values
from driftline.stats.base import FeatureDistributions
from driftline.stats.decision import DriftMeasure, decide_family, measure_drift
from driftline.stats.ecdf import ks_p_value
from driftline.stats.homogeneity import binned_homogeneity_test


def ks_measure(effect: float, *, rank_error: float = 0.0, n: int = 200_000) -> DriftMeasure:
    p = ks_p_value(effect, n, n)
    bounds = None
    if rank_error:
        bounds = (ks_p_value(effect - rank_error, n, n), ks_p_value(effect + rank_error, n, n))
    return DriftMeasure("ks", effect, p, "ks", effect, "ks", n, n, rank_error, bounds)


def test_a_credible_change_smaller_than_the_minimum_effect_does_not_drift() -> None:
    # GIVEN a million rows a side, a KS distance of 0.01: overwhelmingly "significant"
    (tiny,) = decide_family([ks_measure(0.01, n=1_000_000)])
    # THEN not drifted: the effect is below the default minimum (0.02); the evidence is stated
    assert tiny.p_adjusted is not None and tiny.p_adjusted < 1e-20
    assert (tiny.drifted, tiny.threshold, tiny.effect) == (False, 0.02, 0.01)
    assert (tiny.n_current, tiny.n_reference, tiny.family, tiny.correction) == (
        1_000_000,
        1_000_000,
        1,
        "holm",
    )


def test_the_family_correction_turns_a_lone_small_p_value_into_no_drift() -> None:
    # GIVEN 120 columns: one with raw p 0.004 and a large effect, the others unchanged
    lone = DriftMeasure("chisquare", 9.0, 0.004, "binned", 0.2, "jensenshannon", 5000, 500)
    rest = [DriftMeasure("chisquare", 1.0, 0.6, "binned", 0.01, "jensenshannon", 5000, 500)]
    decided = decide_family([lone, *rest * 119])
    # THEN Holm multiplies it by 120: 0.48, no drift; uncorrected it would have drifted
    assert decided[0].p_adjusted == pytest.approx(0.48)
    assert not decided[0].drifted
    assert decide_family([lone, *rest * 119], correction="none")[0].drifted


def test_a_sketch_decision_within_the_error_bound_is_borderline() -> None:
    # GIVEN KS distances near the minimum effect 0.02, from sketches good to ±0.003
    near = decide_family([ks_measure(0.021, rank_error=0.003)])[0]
    far = decide_family([ks_measure(0.05, rank_error=0.003)])[0]
    exact = decide_family([ks_measure(0.021)])[0]
    # THEN the one the error could turn is borderline, decided on its own statistic
    assert (near.drifted, near.borderline) == (True, True)
    assert (far.drifted, far.borderline) == (True, False)
    assert (exact.drifted, exact.borderline) == (True, False)


def test_ks_evidence_on_exact_profiles_equals_scipy_and_sketches_carry_their_bound() -> None:
    # GIVEN two columns of 50,000 values (exact) and two of 150,000 distinct values (sketched)
    rng = np.random.default_rng(5)
    small = rng.normal(0, 1, 50_000), rng.normal(0.03, 1, 50_000)
    large = rng.normal(0, 1, 150_000), rng.normal(0.03, 1, 150_000)
    for (reference, current), exact in ((small, True), (large, False)):
        edges = numeric_edges_from_values(reference, bins=10)
        ref = NumericProfile.from_values(reference, edges=edges)
        cur = NumericProfile.from_values(current, edges=edges)
        bound = ref.rank_error() + cur.rank_error()
        distributions = FeatureDistributions(
            "numeric",
            np.asarray(ref.histogram, float),
            np.asarray(cur.histogram, float),
            ref.sample(),
            cur.sample(),
            ref.std,
            rank_error=bound,
        )
        measure = measure_drift(distributions, "ks")
        oracle = ks_2samp(reference, current)
        # THEN exact profiles give scipy's statistic; sketches stay within their bound
        assert (bound == 0) == exact
        assert measure.effect == pytest.approx(oracle.statistic, abs=max(bound, 1e-12))
        parts = dict(measure.parts)
        _, binned, _ = binned_homogeneity_test(ref.histogram, cur.histogram)
        assert measure.evidence == "ks+binned+scale" and parts["binned"] == binned
        assert measure.p_value == min(1.0, 3 * min(parts["ks"], binned, parts["scale"]))
        if exact:
            assert parts["ks"] == pytest.approx(oracle.pvalue, rel=1e-6)
            scale = ansari(current, reference)
            assert parts["scale"] == pytest.approx(scale.pvalue, rel=1e-9)
            assert measure.p_value_range is None
        else:
            low, high = measure.p_value_range or (0.0, 0.0)
            assert high <= measure.p_value <= low


def numeric_distributions(reference: np.ndarray, current: np.ndarray) -> FeatureDistributions:
    edges = numeric_edges_from_values(reference, bins=10)
    ref = NumericProfile.from_values(reference, edges=edges)
    cur = NumericProfile.from_values(current, edges=edges)
    return FeatureDistributions(
        "numeric",
        np.asarray(ref.histogram, float),
        np.asarray(cur.histogram, float),
        ref.sample(),
        cur.sample(),
        ref.std,
    )


def test_a_wider_spread_that_ks_barely_sees_is_credible_by_the_binned_and_scale_tests() -> None:
    # GIVEN 1,000 current values whose standard deviation grew by 20 %, same mean
    rng = np.random.default_rng(11)
    reference, current = rng.normal(0, 1, 50_000), rng.normal(0, 1.2, 1000)
    # WHEN the numeric column's evidence is measured
    measure = measure_drift(numeric_distributions(reference, current), "ks")
    parts = dict(measure.parts)
    # THEN the deciles' tails and the scale test carry it, far stronger than KS; the scale
    # test equals scipy's Ansari–Bradley, and the evidence is the Bonferroni combination
    assert parts["binned"] < 1e-6 and parts["binned"] < parts["ks"] / 1000
    assert parts["scale"] < parts["binned"] / 1000
    assert parts["scale"] == pytest.approx(ansari(current, reference).pvalue, rel=1e-9)
    assert measure.p_value == 3 * parts["scale"]
    decided = decide_family([measure], alpha=0.01)[0]
    assert decided.drifted
    assert decided.to_dict()["p_values"] == parts


def test_wasserstein_takes_the_same_three_part_evidence_as_ks() -> None:
    # GIVEN a 0.1 sigma mean shift in 2,000 values
    rng = np.random.default_rng(12)
    reference, current = rng.normal(0, 1, 50_000), rng.normal(0.1, 1, 2000)
    # WHEN measured by wasserstein (its effect) and by ks
    distributions = numeric_distributions(reference, current)
    by_wasserstein, by_ks = (measure_drift(distributions, m) for m in ("wasserstein", "ks"))
    parts = dict(by_wasserstein.parts)
    # THEN both state the same evidence: scipy's KS p-value, the binned test's and the scale
    # test's, combined
    assert parts["ks"] == pytest.approx(ks_2samp(reference, current).pvalue, rel=1e-6)
    assert by_wasserstein.parts == by_ks.parts
    assert by_wasserstein.p_value == by_ks.p_value == min(1.0, 3 * min(parts.values()))


CLARITY_SHARES = np.array([0.242, 0.227, 0.170, 0.152, 0.094, 0.068, 0.033, 0.014])


def moved_shares(points: float) -> np.ndarray:
    shares = CLARITY_SHARES.copy()
    shares[0] -= points / 100
    shares[1] += points / 100
    return shares


@pytest.mark.parametrize(
    ("points", "rows", "drifted"),
    [(2, 10_000, True), (1, 100_000, False)],
)
def test_a_credible_two_point_move_of_a_common_category_drifts_and_one_point_does_not(
    points: float, rows: int, drifted: bool
) -> None:
    # GIVEN a baseline of 100,000 rows and a batch with `points` of share moved between the
    # two most common categories (counts exactly at the shares)
    reference = np.round(CLARITY_SHARES * 100_000)
    current = np.round(moved_shares(points) * rows)
    distributions = FeatureDistributions("categorical", reference, current)
    # WHEN decided with the default minimum effect
    decided = decide_family([measure_drift(distributions, "chisquare")])[0]
    # THEN both are credible; only the 2-point move reaches Jensen-Shannon's minimum of 0.02
    oracle = jensenshannon(reference / reference.sum(), current / current.sum(), base=2)
    assert decided.effect == pytest.approx(oracle, rel=1e-9)
    assert decided.p_adjusted is not None and decided.p_adjusted < 0.01
    assert decided.threshold == 0.02
    assert decided.drifted is drifted
