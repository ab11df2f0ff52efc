"""Every drift statistic against scipy as the oracle, on the same (seeded) data."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.spatial.distance import jensenshannon

from driftline.stats import (
    EXACT_KS_MAX_N,
    WeightedSample,
    chi_square_homogeneity_test,
    chi_square_test,
    jensen_shannon_distance,
    ks_p_value,
    ks_statistic,
    population_stability_index,
    wasserstein_distance,
)
from driftline.stats.ecdf import KSTWO_MAX_N

FloatArray = NDArray[np.float64]

# -- Kolmogorov-Smirnov ------------------------------------------------------------------

#: Small and large, equal and unequal sizes, both sides of the exact/asymptotic cut-off.
KS_SIZES = [
    (1, 1),
    (3, 7),
    (8, 8),
    (25, 40),
    (300, 200),
    (1000, 1500),
    (4000, 4000),
    (3, 10_000),
    (9_999, 10_000),
    (10_000, 10_000),
    (10_000, 10_001),
    (12_000, 20_000),
]


def _scipy_ks_p_value(a: Any, b: Any) -> tuple[float, float]:
    """scipy's statistic and p-value, where scipy's exact p-value is sound.

    For equal sizes scipy evaluates an alternating series; when the true p-value is within
    ~1e-16 of 1 the series can come out above 1, and scipy then warns and falls back to
    the asymptotic value (e.g. 0.99996 for D = 1/7, n = m = 7, where the exact p-value is
    1). driftline returns the exact value, so there the oracle is 1.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = scipy.stats.ks_2samp(a, b)
    fell_back = any("Exact calculation unsuccessful" in str(w.message) for w in caught)
    return float(result.statistic), 1.0 if fell_back else float(result.pvalue)


def _two_samples(
    n: int, m: int, *, shift: float, decimals: int | None
) -> tuple[FloatArray, FloatArray]:
    rng = np.random.default_rng([n, m, int(shift * 100)])
    a, b = rng.normal(size=n), rng.normal(shift, 1.1, size=m)
    if decimals is not None:  # rounding makes many ties, within and across the samples
        a, b = a.round(decimals), b.round(decimals)
    return a, b


@pytest.mark.parametrize(("n", "m"), KS_SIZES)
@pytest.mark.parametrize("decimals", [None, 1], ids=["distinct", "ties"])
@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5])
def test_ks_statistic_and_p_value_equal_scipy_ks_2samp(
    n: int, m: int, decimals: int | None, shift: float
) -> None:
    # GIVEN two raw samples
    a, b = _two_samples(n, m, shift=shift, decimals=decimals)
    expected_statistic, expected_p_value = _scipy_ks_p_value(a, b)
    # WHEN driftline computes the statistic on the samples and the p-value from it
    statistic = ks_statistic(WeightedSample.from_values(a), WeightedSample.from_values(b))
    p_value = ks_p_value(statistic, n, m)
    # THEN both equal scipy's, p-values to 1e-9 relative however small they are
    assert statistic == pytest.approx(expected_statistic, rel=1e-9)
    assert p_value == pytest.approx(expected_p_value, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(("n", "m"), [(60, 60), (200, 150), (2000, 3000)])
def test_ks_p_value_keeps_relative_precision_far_below_1e_16(n: int, m: int) -> None:
    # GIVEN samples so far apart that the p-value is astronomically small
    a, b = _two_samples(n, m, shift=3.0, decimals=None)
    expected = scipy.stats.ks_2samp(a, b)
    assert expected.pvalue < 1e-17
    # WHEN its p-value is computed exactly
    p_value = ks_p_value(
        ks_statistic(WeightedSample.from_values(a), WeightedSample.from_values(b)), n, m
    )
    # THEN it is not rounded to 0 (1 - P(inside) would be), it matches to 1e-9 relative
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=60),
    st.lists(st.integers(-5, 5), min_size=1, max_size=60),
)
def test_ks_on_small_samples_with_ties_equals_scipy(a: list[int], b: list[int]) -> None:
    expected_statistic, expected_p_value = _scipy_ks_p_value(a, b)
    statistic = ks_statistic(WeightedSample.from_values(a), WeightedSample.from_values(b))
    assert statistic == pytest.approx(expected_statistic, rel=1e-9)
    assert ks_p_value(statistic, len(a), len(b)) == pytest.approx(
        expected_p_value, rel=1e-9, abs=1e-300
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=80),
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=80),
)
def test_ks_on_any_finite_floats_equals_scipy(a: list[float], b: list[float]) -> None:
    expected_statistic, expected_p_value = _scipy_ks_p_value(a, b)
    statistic = ks_statistic(WeightedSample.from_values(a), WeightedSample.from_values(b))
    assert statistic == pytest.approx(expected_statistic, rel=1e-9)
    assert ks_p_value(statistic, len(a), len(b)) == pytest.approx(
        expected_p_value, rel=1e-9, abs=1e-300
    )


def test_ks_p_value_is_exact_up_to_the_cut_off_and_asymptotic_above() -> None:
    # AT the cut-off (max(n, m) == 10,000): scipy's exact distribution
    exact_a, exact_b = _two_samples(EXACT_KS_MAX_N, 7_000, shift=0.05, decimals=None)
    exact_stat = scipy.stats.ks_2samp(exact_a, exact_b).statistic
    assert ks_p_value(exact_stat, EXACT_KS_MAX_N, 7_000) == pytest.approx(
        scipy.stats.ks_2samp(exact_a, exact_b, method="exact").pvalue, rel=1e-9
    )
    # ONE above it: Smirnov's limit with n_eff = round(n m / (n + m))
    n, m, statistic = EXACT_KS_MAX_N + 1, 7_000, 0.02
    expected = scipy.stats.kstwo.sf(statistic, np.round(n * m / (n + m)))
    assert ks_p_value(statistic, n, m) == pytest.approx(expected, rel=1e-12)


def test_ks_on_a_million_rows_equals_scipy() -> None:
    rng = np.random.default_rng(7)
    a = rng.lognormal(size=1_000_000).round(2)
    b = rng.lognormal(0.01, size=800_000).round(2)
    expected_statistic, expected_p_value = _scipy_ks_p_value(a, b)
    statistic = ks_statistic(WeightedSample.from_values(a), WeightedSample.from_values(b))
    assert statistic == pytest.approx(expected_statistic, rel=1e-9)
    # past an effective size of 50,000 the p-value is Kolmogorov's limit (kstwo's finite-n
    # tail takes ~0.5 s a call there), within 1 % of scipy's
    effective_n = np.round(a.size * b.size / (a.size + b.size))
    limit = scipy.stats.kstwobign.sf(statistic * np.sqrt(effective_n))
    assert ks_p_value(statistic, a.size, b.size) == pytest.approx(limit, rel=1e-12)
    assert ks_p_value(statistic, a.size, b.size) == pytest.approx(expected_p_value, rel=0.01)


def test_ks_p_value_takes_kolmogorovs_limit_only_past_an_effective_size_of_50_000() -> None:
    for n, m in ((100_000, 100_000), (100_001, 100_001), (10**6, 60_000)):
        effective_n = np.round(n * m / (n + m))
        for statistic in (0.003, 0.006, 0.01):
            finite = scipy.stats.kstwo.sf(statistic, effective_n)
            found = ks_p_value(statistic, n, m)
            if effective_n <= KSTWO_MAX_N:
                assert found == pytest.approx(finite, rel=1e-12)
            else:
                assert found == pytest.approx(finite, rel=0.007)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-20, 20), st.integers(1, 5)), min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(-20, 20), st.integers(1, 5)), min_size=1, max_size=30),
)
def test_ks_statistic_with_integer_weights_equals_scipy_on_the_repeated_values(
    a: list[tuple[int, int]], b: list[tuple[int, int]]
) -> None:
    # GIVEN weighted samples whose weights are repetition counts
    sample_a, raw_a = _weighted(a)
    sample_b, raw_b = _weighted(b)
    # THEN the weighted ECDFs are the ECDFs of the repeated values
    expected = scipy.stats.ks_2samp(raw_a, raw_b).statistic
    assert ks_statistic(sample_a, sample_b) == pytest.approx(expected, rel=1e-9)


def _weighted(pairs: list[tuple[int, int]]) -> tuple[WeightedSample, FloatArray]:
    values = np.array([value for value, _ in pairs], dtype=np.float64)
    weights = np.array([weight for _, weight in pairs], dtype=np.float64)
    order = np.argsort(values, kind="stable")
    sample = WeightedSample(values[order], weights[order], int(weights.sum()))
    return sample, np.repeat(values, weights.astype(int))


# -- Wasserstein -------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(finite, st.floats(0.01, 100)), min_size=1, max_size=50),
    st.lists(st.tuples(finite, st.floats(0.01, 100)), min_size=1, max_size=50),
)
def test_wasserstein_with_non_unit_weights_equals_scipy(
    a: list[tuple[float, float]], b: list[tuple[float, float]]
) -> None:
    (va, wa), (vb, wb) = _columns(a), _columns(b)
    expected = scipy.stats.wasserstein_distance(va, vb, wa, wb)
    actual = wasserstein_distance(_sorted_sample(va, wa), _sorted_sample(vb, wb))
    assert actual == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=60),
    st.lists(st.integers(-5, 5), min_size=1, max_size=60),
)
def test_wasserstein_on_samples_with_ties_equals_scipy(a: list[int], b: list[int]) -> None:
    expected = scipy.stats.wasserstein_distance(a, b)
    actual = wasserstein_distance(WeightedSample.from_values(a), WeightedSample.from_values(b))
    assert actual == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_wasserstein_on_a_million_rows_equals_scipy() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(size=1_000_000), rng.lognormal(0.1, size=700_000)
    expected = scipy.stats.wasserstein_distance(a, b)
    actual = wasserstein_distance(WeightedSample.from_values(a), WeightedSample.from_values(b))
    assert actual == pytest.approx(expected, rel=1e-9)


def _columns(pairs: list[tuple[float, float]]) -> tuple[FloatArray, FloatArray]:
    return (
        np.array([value for value, _ in pairs], dtype=np.float64),
        np.array([weight for _, weight in pairs], dtype=np.float64),
    )


def _sorted_sample(values: FloatArray, weights: FloatArray) -> WeightedSample:
    order = np.argsort(values, kind="stable")
    return WeightedSample(values[order], weights[order], round(float(weights.sum())))


# -- counts: Jensen-Shannon, chi-square tests, PSI ------------------------------------------

counts = st.lists(st.integers(0, 1000), min_size=1, max_size=30)


def _aligned(draw_a: list[int], draw_b: list[int]) -> tuple[FloatArray, FloatArray]:
    """Two count vectors of one length, neither all zero (zeros elsewhere are kept)."""
    size = min(len(draw_a), len(draw_b))
    a, b = np.asarray(draw_a[:size], float), np.asarray(draw_b[:size], float)
    a[0] += 1
    b[-1] += 1
    return a, b


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_jensen_shannon_distance_equals_scipy_in_base_2(
    draw_a: list[int], draw_b: list[int]
) -> None:
    a, b = _aligned(draw_a, draw_b)
    expected = jensenshannon(a / a.sum(), b / b.sum(), base=2)
    # abs: near 0 the square root turns rounding noise of ~1e-16 into ~1e-8, on both sides
    assert jensen_shannon_distance(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-7)


def test_jensen_shannon_distance_in_another_base_equals_scipy() -> None:
    a, b = np.array([10.0, 0.0, 5.0, 85.0]), np.array([3.0, 7.0, 0.0, 90.0])
    for base in (math.e, 10.0):
        expected = jensenshannon(a / a.sum(), b / b.sum(), base=base)
        assert jensen_shannon_distance(a, b, base=base) == pytest.approx(expected, rel=1e-12)


def _expected_counts(reference: FloatArray, current: FloatArray, epsilon: float) -> FloatArray:
    """The documented expectation: smoothed, renormalised reference shares x current total."""
    shares = reference / reference.sum()
    shares = np.where(shares == 0, epsilon, shares)
    return np.asarray(shares / shares.sum() * current.sum(), dtype=np.float64)


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_chi_square_test_equals_scipy_chisquare_on_the_same_counts(
    draw_a: list[int], draw_b: list[int]
) -> None:
    # GIVEN reference and current counts (zeros on either side included)
    reference, current = _aligned(draw_a, draw_b)
    # WHEN driftline tests the current counts against the reference proportions
    statistic, p_value = chi_square_test(reference, current)
    # THEN scipy, given the same observed and expected counts, agrees
    if reference.size == 1:
        assert (statistic, p_value) == (0.0, 1.0)  # one bin cannot show a change
        return
    expected = scipy.stats.chisquare(current, _expected_counts(reference, current, 1e-4))
    assert statistic == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_chi_square_homogeneity_test_equals_scipy_chi2_contingency_on_the_same_table(
    draw_a: list[int], draw_b: list[int]
) -> None:
    # GIVEN reference and current counts; bins empty on both sides are not categories
    reference, current = _aligned(draw_a, draw_b)
    table = np.vstack([reference, current])
    table = table[:, table.sum(axis=0) > 0]
    # WHEN driftline tests whether both come from one distribution
    statistic, p_value = chi_square_homogeneity_test(reference, current)
    # THEN scipy's test on the 2 x bins table agrees
    if table.shape[1] < 2:
        assert (statistic, p_value) == (0.0, 1.0)  # one bin cannot show a change
        return
    expected = scipy.stats.chi2_contingency(table, correction=False)
    assert statistic == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_chi_square_test_with_a_category_new_in_current_is_large_but_finite() -> None:
    # GIVEN a third category that the reference never saw
    reference, current = np.array([500.0, 500.0, 0.0]), np.array([450.0, 450.0, 100.0])
    # WHEN tested, with a non-default epsilon
    statistic, p_value = chi_square_test(reference, current, epsilon=1e-3)
    # THEN the statistic is finite, equals scipy's on the smoothed expectation, and p ~ 0
    expected = scipy.stats.chisquare(current, _expected_counts(reference, current, 1e-3))
    assert math.isfinite(statistic)
    assert statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert p_value < 1e-100


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_psi_equals_the_symmetrised_kl_divergence_from_scipy(
    draw_a: list[int], draw_b: list[int]
) -> None:
    a, b = _aligned(draw_a, draw_b)
    p = np.where(a == 0, 1e-4, a / a.sum())
    q = np.where(b == 0, 1e-4, b / b.sum())
    # sum (q - p) ln(q / p) = KL(q || p) + KL(p || q), both on the smoothed proportions
    expected = np.sum(scipy.special.rel_entr(q, p) + scipy.special.rel_entr(p, q))
    assert population_stability_index(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(2, 300_000),
    draws=st.floats(0.0, 1.0),
    in_bin=st.integers(0, 5_000),
    position=st.floats(0.0, 1.0),
)
def test_the_exact_test_of_a_sparse_bin_equals_scipy_hypergeom(
    total: int, draws: float, in_bin: int, position: float
) -> None:
    # GIVEN a bin of in_bin rows among total, n_current of them drawn into the batch
    from driftline.stats.homogeneity import _exact_cell_p_value

    n_current = max(1, min(total - 1, round(draws * total)))
    in_bin = min(in_bin, total)
    low, high = max(0, n_current - (total - in_bin)), min(in_bin, n_current)
    in_current = low + round(position * (high - low))
    # WHEN its two-sided exact p-value is taken
    found = _exact_cell_p_value(in_current, in_bin, total, n_current)
    # THEN it is scipy's: twice the smaller hypergeometric tail, at most 1
    upper = scipy.stats.hypergeom.sf(in_current - 1, total, in_bin, n_current)
    lower = scipy.stats.hypergeom.cdf(in_current, total, in_bin, n_current)
    expected = min(1.0, 2.0 * min(float(upper), float(lower)))
    assert found == pytest.approx(expected, rel=1e-7, abs=1e-300)
