"""Each drift method's evidence is calibrated: on simulated unchanged data its p-value falls
below α about α of the time, at small and large batches (the observed false-alarm rate lies
within the binomial interval of α), and never much more often where the chi-square
approximation would break (rare categories in small batches)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from driftline.stats.base import FeatureDistributions, WeightedSample
from driftline.stats.decision import measure_drift
from driftline.stats.distance import chi_square_homogeneity_test

RUNS = 300
ALPHA = 0.05
REFERENCE_ROWS = 5000


def numeric_pair(rng: np.random.Generator, n: int) -> FeatureDistributions:
    # (a reference of twice a large batch: KS then takes its asymptotic p-value, as it
    # does past 10,000 values a side)
    reference = rng.normal(10.0, 2.0, max(REFERENCE_ROWS, 2 * n))
    current = rng.normal(10.0, 2.0, n)
    edges = np.quantile(reference, np.linspace(0.1, 0.9, 9))
    return FeatureDistributions(
        "numeric",
        np.bincount(np.searchsorted(edges, reference, side="right"), minlength=10).astype(float),
        np.bincount(np.searchsorted(edges, current, side="right"), minlength=10).astype(float),
        WeightedSample.from_values(reference),
        WeightedSample.from_values(current),
        float(np.std(reference)),
    )


COMMON = np.array([0.4, 0.3, 0.2, 0.1])
WITH_RARE = np.array([0.4, 0.3, 0.2, 0.09, 0.005, 0.003, 0.001, 0.0005, 0.0003, 0.0002])


def categorical_pair(rng: np.random.Generator, n: int, shares: np.ndarray) -> FeatureDistributions:
    return FeatureDistributions(
        "categorical",
        rng.multinomial(REFERENCE_ROWS, shares).astype(float),
        rng.multinomial(n, shares).astype(float),
    )


def interval(alarms: int) -> tuple[float, float]:
    found = binomtest(alarms, RUNS, ALPHA).proportion_ci(confidence_level=0.999)
    return found.low, found.high


@pytest.mark.parametrize("n", [200, 1000, 10_000])
@pytest.mark.parametrize("method", ["ks", "wasserstein", "psi", "jensenshannon", "hellinger"])
def test_numeric_evidence_is_calibrated_at_every_batch_size(method: str, n: int) -> None:
    # GIVEN 300 reference/current pairs drawn from one normal distribution
    rng = np.random.default_rng(n)
    # WHEN each method's evidence p-value is taken
    alarms = sum(measure_drift(numeric_pair(rng, n), method).p_value < ALPHA for _ in range(RUNS))
    # THEN alarms happen at rate α: α lies in the 99.9 % interval of the observed rate
    low, high = interval(alarms)
    assert low <= ALPHA <= high, (method, n, alarms)


@pytest.mark.parametrize("n", [200, 1000, 10_000])
def test_categorical_evidence_is_calibrated_with_common_categories(n: int) -> None:
    rng = np.random.default_rng(7 + n)
    alarms = sum(
        measure_drift(categorical_pair(rng, n, COMMON), "chisquare").p_value < ALPHA
        for _ in range(RUNS)
    )
    low, high = interval(alarms)
    assert low <= ALPHA <= high, (n, alarms)


@pytest.mark.parametrize("n", [200, 1000])
def test_rare_categories_in_small_batches_do_not_raise_false_alarms(n: int) -> None:
    # GIVEN categories of 0.02 % to 0.5 % share: in a batch of 200 they expect < 1 row each
    rng = np.random.default_rng(11 + n)
    pairs = [categorical_pair(rng, n, WITH_RARE) for _ in range(RUNS)]
    # WHEN tested by the calibrated test and by Pearson's test read from chi-square alone
    calibrated = sum(measure_drift(pair, "chisquare").p_value < ALPHA for pair in pairs)
    pearson = sum(
        chi_square_homogeneity_test(pair.reference_counts, pair.current_counts)[1] < ALPHA
        for pair in pairs
    )
    # THEN the calibrated test alarms no more often than α allows (it is conservative here:
    # sparse bins are pooled and tested exactly), while Pearson's approximation alarms
    # well above α in the batch of 200
    assert interval(calibrated)[0] <= ALPHA
    if n == 200:
        assert interval(pearson)[0] > ALPHA
