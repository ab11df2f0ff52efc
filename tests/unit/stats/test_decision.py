"""The decision of one evaluation's drift tests: credible after the family's correction and
large enough; borderline when a sketch's error could turn it; the evidence it states."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from driftline.profile.numeric import NumericProfile, numeric_edges_from_values
from driftline.stats.base import FeatureDistributions
from driftline.stats.decision import DriftMeasure, decide_family, measure_drift
from driftline.stats.ecdf import ks_p_value


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
        if exact:
            assert measure.p_value == pytest.approx(oracle.pvalue, rel=1e-6)
            assert measure.p_value_range is None
        else:
            low, high = measure.p_value_range or (0.0, 0.0)
            assert high <= measure.p_value <= low
