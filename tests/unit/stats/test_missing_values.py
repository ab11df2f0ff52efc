"""Missing values in a drift decision: one more bin of the test of homogeneity (against
scipy's chi-square test on the same table), calibrated when the missing share holds, and a
change of the missing share of at least ``min_missing_change`` drifts by itself."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest, chi2_contingency

from driftline.stats.base import FeatureDistributions, WeightedSample
from driftline.stats.decision import DEFAULT_MIN_MISSING_CHANGE, decide_family, measure_drift

RUNS = 300
ALPHA = 0.05
EDGES = np.linspace(-1.5, 1.5, 9)


def numeric(
    reference: np.ndarray, current: np.ndarray, *, counted: bool = True
) -> FeatureDistributions:
    """The distributions of two columns whose missing values are NaN."""

    def histogram(values: np.ndarray) -> np.ndarray:
        present = values[~np.isnan(values)]
        return np.bincount(np.searchsorted(EDGES, present, side="right"), minlength=10).astype(
            float
        )

    missing = (
        int(np.isnan(reference).sum()),
        reference.size,
        int(np.isnan(current).sum()),
        current.size,
    )
    return FeatureDistributions(
        "numeric",
        histogram(reference),
        histogram(current),
        WeightedSample.from_values(reference),
        WeightedSample.from_values(current),
        float(np.nanstd(reference)),
        missing=missing if counted else None,
    )


def with_missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    out = values.copy()
    out[rng.random(values.size) < share] = np.nan
    return out


def test_the_missing_bin_is_tested_with_the_values_bins_as_scipy_does() -> None:
    # GIVEN a categorical column with 10 % missing in the reference and 16 % in the batch
    reference = np.array([2000.0, 1500.0, 1000.0])
    current = np.array([380.0, 290.0, 170.0])
    distributions = FeatureDistributions(
        "categorical", reference, current, missing=(500, 5000, 160, 1000)
    )
    measured = measure_drift(distributions, "chisquare")
    # THEN the p-value is Pearson's on the table with a missing column (no bin is sparse)
    table = np.array([[*reference, 500.0], [*current, 160.0]])
    expected = chi2_contingency(table, correction=False).pvalue
    assert measured.p_value == pytest.approx(expected, rel=1e-9)
    assert measured.missing_shares == pytest.approx((0.1, 0.16))
    # AND the values compared are the present ones
    assert (measured.n_reference, measured.n_current) == (4500, 840)


def test_a_numeric_columns_binned_part_counts_the_missing_values() -> None:
    rng = np.random.default_rng(3)
    reference = with_missing(rng, rng.normal(0, 1, 20_000), 0.05)
    current = with_missing(rng, rng.normal(0, 1, 2_000), 0.12)
    distributions = numeric(reference, current)
    measured = measure_drift(distributions, "ks")
    parts = dict(measured.parts)
    table = np.array(
        [
            [*distributions.reference_counts, np.isnan(reference).sum()],
            [*distributions.current_counts, np.isnan(current).sum()],
        ]
    )
    assert parts["binned"] == pytest.approx(
        chi2_contingency(table, correction=False).pvalue, rel=1e-9
    )


def test_without_missing_values_nothing_changes() -> None:
    rng = np.random.default_rng(4)
    reference, current = rng.normal(0, 1, 5000), rng.normal(0.1, 1, 800)
    counted = measure_drift(numeric(reference, current), "ks")
    uncounted = measure_drift(numeric(reference, current, counted=False), "ks")
    assert counted == uncounted
    assert counted.missing_shares is None
    assert "missing_share" not in decide_family([counted])[0].to_dict()


@pytest.mark.parametrize(
    ("share", "n"), [(0.003, 200), (0.3, 200), (0.05, 1000), (0.003, 10_000), (0.3, 10_000)]
)
def test_a_steady_missing_share_keeps_the_evidence_calibrated(share: float, n: int) -> None:
    # GIVEN 300 pairs from one distribution with the same share of missing values
    rng = np.random.default_rng(int(share * 1000) + n)
    alarms = 0
    for _ in range(RUNS):
        reference = with_missing(rng, rng.normal(0, 1, max(5000, 2 * n)), share)
        current = with_missing(rng, rng.normal(0, 1, n), share)
        alarms += measure_drift(numeric(reference, current), "ks").p_value < ALPHA
    # THEN alarms happen no more often than α allows (the 99.9 % interval of the observed
    # rate reaches down to α; the Bonferroni pair of KS and binned test is conservative)
    low = binomtest(alarms, RUNS, ALPHA).proportion_ci(confidence_level=0.999).low
    assert low <= ALPHA, (share, n, alarms)


def test_a_feature_going_missing_drifts_although_its_values_hold() -> None:
    # GIVEN a batch whose values come from the baseline's distribution, a fifth of them gone
    rng = np.random.default_rng(5)
    reference = rng.normal(0, 1, 50_000)
    current = with_missing(rng, rng.normal(0, 1, 1000), 0.2)
    measured = measure_drift(numeric(reference, current), "ks")
    (decided,) = decide_family([measured])
    # THEN it drifts, where the values alone are no credible change
    (blind,) = decide_family([measure_drift(numeric(reference, current, counted=False), "ks")])
    assert decided.drifted and not blind.drifted
    # AND the change of the missing share is large enough by itself, whatever the effect
    (large,) = decide_family([measured], min_effect=0.5)
    assert large.effect is not None and large.effect < large.threshold and large.drifted
    body = decided.to_dict()
    assert body["missing_share"]["reference"] == 0.0
    assert body["missing_share"]["current"] == pytest.approx(np.isnan(current).mean())
    assert body["min_missing_change"] == DEFAULT_MIN_MISSING_CHANGE


def test_a_credible_but_small_change_of_the_missing_share_waits_for_its_minimum() -> None:
    # GIVEN one point more missing in a large batch: credible, below two points
    rng = np.random.default_rng(6)
    reference = with_missing(rng, rng.normal(0, 1, 200_000), 0.01)
    current = with_missing(rng, rng.normal(0, 1, 100_000), 0.02)
    measured = measure_drift(numeric(reference, current), "ks")
    assert measured.p_value < 1e-10
    # THEN it does not drift by default, and does with a minimum of half a point
    assert not decide_family([measured])[0].drifted
    assert decide_family([measured], min_missing_change=0.005)[0].drifted


def test_each_part_of_large_enough_needs_its_own_credible_evidence() -> None:
    # GIVEN a slice of 900 rows, 9 of them missing where the baseline had none, its values
    # drawn as before
    rng = np.random.default_rng(8)
    reference = rng.normal(0, 1, 50_000)
    current = with_missing(rng, rng.normal(0, 1, 900), 0.0)
    current[rng.choice(900, size=9, replace=False)] = np.nan
    measured = measure_drift(numeric(reference, current), "ks")
    (decided,) = decide_family([measured])
    # THEN the column's evidence is credible (the missing bin) and its values' effect, mere
    # sampling noise, is above the minimum — yet it does not drift: the values alone are no
    # credible change, and the missing share moved by one point, below two
    assert decided.p_adjusted is not None and decided.p_adjusted < 0.01
    assert decided.effect is not None and decided.effect >= decided.threshold
    assert decided.split_p_adjusted is not None and decided.split_p_adjusted[0] >= 0.01
    assert not decided.drifted
    # AND with a minimum change of half a point it drifts on the missing share
    assert decide_family([measured], min_missing_change=0.005)[0].drifted


def test_the_split_p_values_are_the_tests_of_each_part_alone() -> None:
    rng = np.random.default_rng(9)
    reference = with_missing(rng, rng.normal(0, 1, 20_000), 0.05)
    current = with_missing(rng, rng.normal(0.05, 1, 2_000), 0.08)
    distributions = numeric(reference, current)
    measured = measure_drift(distributions, "ks")
    assert measured.split is not None
    values_alone, missing_alone = measured.split
    # the values alone: the evidence of the same column with its missing values not counted
    assert values_alone == measure_drift(numeric(reference, current, counted=False), "ks").p_value
    # the missing share alone: Pearson's test of present against missing rows (no sparse bin)
    table = [
        [np.count_nonzero(~np.isnan(reference)), np.isnan(reference).sum()],
        [np.count_nonzero(~np.isnan(current)), np.isnan(current).sum()],
    ]
    assert missing_alone == pytest.approx(chi2_contingency(table, correction=False).pvalue)
