"""The Ansari–Bradley test of spread: equal to scipy on untied samples, exact permutation
moments with ties (checked by enumerating every split), the same on a sketch's weighted
items as on the values they stand for, and calibrated on grid-valued columns."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import ansari, binomtest

from driftline.stats.base import WeightedSample
from driftline.stats.scale import ansari_bradley


@pytest.mark.parametrize(
    ("n_reference", "n_current", "spread"),
    [(300, 50, 1.0), (301, 60, 1.3), (5000, 999, 1.1), (2000, 2000, 0.8), (80, 400, 1.5)],
)
def test_untied_samples_give_scipys_statistic_and_p_value(
    n_reference: int, n_current: int, spread: float
) -> None:
    # GIVEN continuous samples (no ties), even and odd pooled sizes
    rng = np.random.default_rng(n_reference + n_current)
    reference, current = rng.normal(0, 1, n_reference), rng.normal(0, spread, n_current)
    # WHEN tested on the weighted samples
    found = ansari_bradley(
        WeightedSample.from_values(reference), WeightedSample.from_values(current)
    )
    oracle = ansari(current, reference)
    # THEN the current sample's sum of scores and the p-value are scipy's
    assert found.statistic == pytest.approx(oracle.statistic, rel=1e-12)
    assert found.p_value == pytest.approx(oracle.pvalue, rel=1e-9)


def test_with_ties_the_standardised_statistic_has_mean_0_and_variance_1_over_every_split() -> None:
    # GIVEN 11 pooled values with heavy ties (a value on a grid), 4 of them current
    pooled = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0, 6.0])
    zs = []
    # WHEN every one of the C(11, 4) = 330 equally likely splits is tested
    for chosen in itertools.combinations(range(pooled.size), 4):
        mask = np.zeros(pooled.size, dtype=bool)
        mask[list(chosen)] = True
        zs.append(
            ansari_bradley(
                WeightedSample.from_values(pooled[~mask]), WeightedSample.from_values(pooled[mask])
            ).z
        )
    # THEN the permutation mean and variance the test standardises by are exact
    assert len(zs) == 330
    assert np.mean(zs) == pytest.approx(0.0, abs=1e-12)
    assert np.mean(np.square(zs)) == pytest.approx(1.0, rel=1e-12)


def test_a_sketchs_weighted_items_give_the_result_of_the_values_they_stand_for() -> None:
    # GIVEN values repeated as integer weights, as a quantile sketch holds them
    values = np.array([1.0, 2.5, 4.0, 7.0])
    weights = np.array([3.0, 5.0, 2.0, 4.0])
    current = WeightedSample.from_values([0.5, 2.5, 2.5, 9.0, 9.5])
    weighted = WeightedSample(values, weights, int(weights.sum()))
    repeated = WeightedSample.from_values(np.repeat(values, weights.astype(int)))
    # WHEN tested both ways
    by_weights, by_values = ansari_bradley(weighted, current), ansari_bradley(repeated, current)
    # THEN the statistic and p-value agree
    assert by_weights.statistic == pytest.approx(by_values.statistic, rel=1e-12)
    assert by_weights.p_value == pytest.approx(by_values.p_value, rel=1e-12)


def test_on_sketches_the_rank_error_brackets_the_p_value() -> None:
    # GIVEN a wider current spread and a rank-error bound
    rng = np.random.default_rng(3)
    reference = WeightedSample.from_values(rng.normal(0, 1, 20_000))
    current = WeightedSample.from_values(rng.normal(0, 1.1, 2_000))
    # WHEN tested exact and with a bound of 0.002
    exact, sketched = (
        ansari_bradley(reference, current),
        ansari_bradley(reference, current, rank_error=0.002),
    )
    # THEN the bound widens a range around the same p-value; exact samples have none
    assert exact.p_value_range is None
    low, high = sketched.p_value_range or (0.0, 0.0)
    assert high < sketched.p_value == exact.p_value < low


def test_a_column_holding_one_value_has_no_evidence_of_a_change_of_spread() -> None:
    same = WeightedSample.from_values([5.0] * 40)
    assert ansari_bradley(same, WeightedSample.from_values([5.0] * 7)).p_value == 1.0


RUNS = 400


@pytest.mark.parametrize("n", [200, 1000])
@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_grid_valued_columns_raise_false_alarms_at_the_rate_alpha(n: int, alpha: float) -> None:
    # GIVEN unchanged columns on a coarse grid (a skewed count: most rows 0 to 3), where the
    # untied test's mean would be biased
    rng = np.random.default_rng(n)
    alarms = 0
    for _ in range(RUNS):
        reference = np.minimum(rng.poisson(1.2, 20_000), 6).astype(float)
        current = np.minimum(rng.poisson(1.2, n), 6).astype(float)
        # WHEN tested
        found = ansari_bradley(
            WeightedSample.from_values(reference), WeightedSample.from_values(current)
        )
        alarms += found.p_value < alpha
    # THEN the false-alarm rate lies within the binomial interval of alpha
    interval = binomtest(alarms, RUNS, alpha).proportion_ci(confidence_level=0.999)
    assert interval.low <= alpha <= interval.high, alarms
