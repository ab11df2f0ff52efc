"""Every drift statistic against an independent implementation on the same data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from driftline.errors import InsufficientDataError
from driftline.stats import (
    METHOD_NAMES,
    FeatureDistributions,
    WeightedSample,
    chi_square_test,
    choose_method,
    compute_drift,
    hellinger_distance,
    jensen_shannon_distance,
    ks_p_value,
    ks_statistic,
    population_stability_index,
    wasserstein_distance,
)

SIZES = [(8, 8), (25, 40), (300, 200), (1000, 1500), (4000, 4000), (12_000, 20_000)]


@pytest.mark.parametrize(("n", "m"), SIZES)
@pytest.mark.parametrize("rounding", [None, 1])
def test_ks_statistic_and_p_value_equal_scipy(n: int, m: int, rounding: int | None) -> None:
    # GIVEN two samples (rounded ones have many ties)
    rng = np.random.default_rng(n + m)
    a, b = rng.normal(size=n), rng.normal(0.1, 1.1, size=m)
    if rounding is not None:
        a, b = a.round(rounding), b.round(rounding)
    expected = scipy.stats.ks_2samp(a, b)
    # WHEN driftline computes the statistic and its p-value
    statistic = ks_statistic(WeightedSample.from_values(a), WeightedSample.from_values(b))
    p_value = ks_p_value(statistic, n, m)
    # THEN both equal scipy's (exact below 10,000 per side, asymptotic above)
    assert statistic == pytest.approx(expected.statistic, rel=1e-9)
    # 1 - P(inside) loses relative precision on small p-values (docs/drift.md)
    if expected.pvalue > 1e-2:
        assert p_value == pytest.approx(expected.pvalue, rel=1e-9)
    else:
        assert p_value == pytest.approx(expected.pvalue, rel=1e-4, abs=1e-10)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=40),
    st.lists(st.integers(-5, 5), min_size=1, max_size=40),
)
def test_ks_on_small_tied_samples_equals_scipy(a: list[int], b: list[int]) -> None:
    expected = scipy.stats.ks_2samp(a, b)
    statistic = ks_statistic(WeightedSample.from_values(a), WeightedSample.from_values(b))
    assert statistic == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
    # scipy's exact routine and ours agree to 1e-4 here; where every path reaches D (the
    # smallest possible statistic) ours says 1.0 and scipy's may say 0.99996.
    assert ks_p_value(statistic, len(a), len(b)) == pytest.approx(
        expected.pvalue, rel=1e-4, abs=1e-4
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50),
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50),
    st.integers(0, 2**32 - 1),
)
def test_wasserstein_with_weights_equals_scipy(a: list[float], b: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    wa, wb = rng.integers(1, 9, len(a)).astype(float), rng.integers(1, 9, len(b)).astype(float)
    order_a, order_b = np.argsort(a, kind="stable"), np.argsort(b, kind="stable")
    sa = WeightedSample(np.asarray(a)[order_a], wa[order_a], int(wa.sum()))
    sb = WeightedSample(np.asarray(b)[order_b], wb[order_b], int(wb.sum()))
    expected = scipy.stats.wasserstein_distance(a, b, wa, wb)
    assert wasserstein_distance(sa, sb) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_wasserstein_on_large_samples_equals_scipy() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(size=50_000), rng.lognormal(0.1, size=40_000)
    expected = scipy.stats.wasserstein_distance(a, b)
    actual = wasserstein_distance(WeightedSample.from_values(a), WeightedSample.from_values(b))
    assert actual == pytest.approx(expected, rel=1e-9)


counts = st.lists(st.integers(0, 1000), min_size=2, max_size=30)


def _pair(draw_a: list[int], draw_b: list[int]) -> tuple[np.ndarray, np.ndarray]:
    size = min(len(draw_a), len(draw_b))
    a, b = np.asarray(draw_a[:size], float), np.asarray(draw_b[:size], float)
    a[0] += 1  # never all zero
    b[-1] += 1
    return a, b


@settings(max_examples=200, deadline=None)
@given(counts, counts)
def test_jensen_shannon_equals_scipy(draw_a: list[int], draw_b: list[int]) -> None:
    a, b = _pair(draw_a, draw_b)
    expected = jensenshannon(a / a.sum(), b / b.sum(), base=2)
    assert jensen_shannon_distance(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-7)
    assert jensen_shannon_distance(a, b) == pytest.approx(jensen_shannon_distance(b, a))


@settings(max_examples=200, deadline=None)
@given(counts, counts)
def test_chi_square_equals_scipy_contingency_on_the_same_counts(
    draw_a: list[int], draw_b: list[int]
) -> None:
    a, b = _pair(draw_a, draw_b)
    table = np.vstack([a, b])
    table = table[:, table.sum(axis=0) > 0]
    statistic, p_value = chi_square_test(a, b)
    if table.shape[1] < 2:
        assert (statistic, p_value) == (0.0, 1.0)
        return
    expected = scipy.stats.chi2_contingency(table, correction=False)
    assert statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(counts, counts)
def test_hellinger_equals_its_definition(draw_a: list[int], draw_b: list[int]) -> None:
    a, b = _pair(draw_a, draw_b)
    p, q = a / a.sum(), b / b.sum()
    # the L2 form: (1 / sqrt 2) * || sqrt p - sqrt q ||
    expected = np.linalg.norm(np.sqrt(p) - np.sqrt(q)) / math.sqrt(2)
    assert hellinger_distance(a, b) == pytest.approx(expected, abs=1e-7)
    assert 0.0 <= hellinger_distance(a, b) <= 1.0


def test_psi_hand_checked_example() -> None:
    # p = (0.1, 0.4, 0.5), q = (0.2, 0.4, 0.4):
    # (0.2-0.1) ln 2 + 0 + (0.4-0.5) ln 0.8 = 0.0693147 + 0.0223144 = 0.0916291
    assert population_stability_index([10, 40, 50], [20, 40, 40]) == pytest.approx(
        0.0916291, abs=1e-7
    )


def test_psi_replaces_an_empty_bin_by_epsilon() -> None:
    # q = (1, 0) vs p = (0.5, 0.5): (1-0.5) ln 2 + (1e-4 - 0.5) ln(1e-4 / 0.5)
    expected = 0.5 * math.log(2) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert population_stability_index([5, 5], [10, 0]) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([1, 2], [1, 2, 3], "same length"),
        ([1, -1], [1, 1], "non-negative reference"),
        ([0, 0], [1, 1], "all zero"),
    ],
)
def test_bad_counts_are_refused_saying_what_was_received(
    a: list[int], b: list[int], message: str
) -> None:
    for function in (population_stability_index, jensen_shannon_distance, hellinger_distance):
        with pytest.raises(ValueError, match=message):
            function(a, b)


def test_identical_distributions_show_no_drift() -> None:
    sample = WeightedSample.from_values(np.arange(100.0))
    assert ks_statistic(sample, sample) == 0.0
    assert ks_p_value(0.0, 100, 100) == 1.0
    assert wasserstein_distance(sample, sample) == 0.0
    assert population_stability_index([3, 4], [3, 4]) == 0.0


def test_empty_sample_is_insufficient_data() -> None:
    with pytest.raises(InsufficientDataError):
        ks_statistic(WeightedSample.from_values([]), WeightedSample.from_values([1.0]))


def _numeric(shift: float, n: int = 2000) -> FeatureDistributions:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=n), rng.normal(shift, size=n)
    edges = np.quantile(a, np.linspace(0, 1, 11))
    return FeatureDistributions(
        kind="numeric",
        reference_counts=np.histogram(a, edges)[0].astype(float),
        current_counts=np.histogram(np.clip(b, edges[0], edges[-1]), edges)[0].astype(float),
        reference_sample=WeightedSample.from_values(a),
        current_sample=WeightedSample.from_values(b),
        reference_std=float(a.std()),
    )


#: Every registered method is exercised here; a new one must be added to this table.
REGISTRY_CASES = {
    "psi": (0.0, 1.0),
    "ks": (0.0, 1.0),
    "wasserstein": (0.0, 1.0),
    "jensenshannon": (0.0, 1.0),
    "chisquare": (0.0, 1.0),
    "hellinger": (0.0, 1.0),
}


def test_no_registered_method_is_left_out_of_the_registry_tests() -> None:
    assert set(REGISTRY_CASES) == set(METHOD_NAMES)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_each_method_flags_a_large_shift_and_not_none(method: str) -> None:
    stable, shifted = REGISTRY_CASES[method]
    quiet = compute_drift(_numeric(stable), method)
    loud = compute_drift(_numeric(shifted), method)
    assert not quiet.drifted, quiet
    assert loud.drifted, loud
    assert loud.direction in ("statistic >= threshold", "p_value < threshold")
    assert (loud.p_value is None) == (loud.direction == "statistic >= threshold")


def test_wasserstein_is_normalised_by_the_reference_std() -> None:
    distributions = _numeric(1.0)
    assert distributions.reference_sample is not None and distributions.current_sample is not None
    raw = wasserstein_distance(distributions.reference_sample, distributions.current_sample)
    result = compute_drift(distributions, "wasserstein")
    assert result.statistic == pytest.approx(raw / (distributions.reference_std or 1))


def test_method_on_wrong_kind_is_refused() -> None:
    categorical = FeatureDistributions("categorical", np.array([1.0, 2.0]), np.array([2.0, 1.0]))
    with pytest.raises(ValueError, match="'ks' does not apply to categorical"):
        compute_drift(categorical, "ks")
    with pytest.raises(ValueError, match="unknown drift method 'kl'; allowed: psi"):
        compute_drift(categorical, "kl")


@pytest.mark.parametrize(
    ("kind", "n_reference", "n_current", "expected"),
    [
        ("numeric", 500, 100_000, "ks"),
        ("numeric", 1001, 1001, "wasserstein"),
        ("categorical", 1000, 5000, "chisquare"),
        ("categorical", 5000, 5000, "jensenshannon"),
    ],
)
def test_auto_rule_picks_tests_for_small_and_distances_for_large_samples(
    kind: str, n_reference: int, n_current: int, expected: str
) -> None:
    assert choose_method(kind, n_reference, n_current) == expected  # type: ignore[arg-type]
