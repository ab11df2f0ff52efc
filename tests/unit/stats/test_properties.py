"""Properties every drift statistic must have, driven by lists of statistics (with a check
that no public statistic was left off the lists), and hand-checked values."""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import ArrayLike, NDArray

import driftline.stats
from driftline.stats import (
    WeightedSample,
    chi_square_homogeneity_test,
    chi_square_test,
    hellinger_distance,
    jensen_shannon_distance,
    ks_p_value,
    ks_statistic,
    population_stability_index,
    wasserstein_distance,
)

FloatArray = NDArray[np.float64]
CountStatistic = Callable[[ArrayLike, ArrayLike], float]
SampleStatistic = Callable[[WeightedSample, WeightedSample], float]

#: Distances on counts: symmetric, >= 0, 0 for identical proportions.
COUNT_DISTANCES: dict[str, CountStatistic] = {
    "population_stability_index": population_stability_index,
    "jensen_shannon_distance": jensen_shannon_distance,
    "hellinger_distance": hellinger_distance,
}
#: Count distances bounded by 1, reached on disjoint support.
BOUNDED_BY_ONE = ("jensen_shannon_distance", "hellinger_distance")
#: Statistics on weighted samples: symmetric, >= 0, 0 for identical samples.
SAMPLE_STATISTICS: dict[str, SampleStatistic] = {
    "ks_statistic": ks_statistic,
    "wasserstein_distance": wasserstein_distance,
}
#: Public functions that are not symmetric distances, with the tests covering them.
NOT_DISTANCES = {
    "chi_square_test": "a goodness-of-fit test: current against reference (oracle tests)",
    "chi_square_homogeneity_test": "a test, symmetric in its p-value (oracle tests, here)",
    "ks_p_value": "a p-value, not a distance (oracle tests, identity and monotonicity here)",
    "choose_method": "the auto rule (test_registry)",
    "compute_drift": "the registry (test_registry)",
    "get_method": "the registry (test_registry)",
}


def test_no_public_statistic_is_left_off_the_property_lists() -> None:
    public_functions = {
        name
        for name in driftline.stats.__all__
        if inspect.isfunction(getattr(driftline.stats, name))
    }
    listed = set(COUNT_DISTANCES) | set(SAMPLE_STATISTICS) | set(NOT_DISTANCES)
    assert public_functions == listed


counts = st.lists(st.integers(0, 1000), min_size=1, max_size=30)


def _aligned(draw_a: list[int], draw_b: list[int]) -> tuple[FloatArray, FloatArray]:
    size = min(len(draw_a), len(draw_b))
    a, b = np.asarray(draw_a[:size], float), np.asarray(draw_b[:size], float)
    a[0] += 1  # neither side all zero
    b[-1] += 1
    return a, b


@pytest.mark.parametrize("name", COUNT_DISTANCES)
@settings(max_examples=150, deadline=None)
@given(draw_a=counts, draw_b=counts)
def test_count_distance_is_symmetric_and_non_negative(
    name: str, draw_a: list[int], draw_b: list[int]
) -> None:
    a, b = _aligned(draw_a, draw_b)
    distance = COUNT_DISTANCES[name]
    forward, backward = distance(a, b), distance(b, a)
    assert forward >= 0.0
    assert forward == pytest.approx(backward, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", COUNT_DISTANCES)
@settings(max_examples=100, deadline=None)
@given(draw=counts, scale=st.integers(1, 50))
def test_count_distance_of_identical_proportions_is_zero(
    name: str, draw: list[int], scale: int
) -> None:
    a, _ = _aligned(draw, draw)
    distance = COUNT_DISTANCES[name]
    # identical vectors: exactly 0; proportional ones: 0 up to rounding
    assert distance(a, a) == 0.0
    assert distance(a, a * scale) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("name", BOUNDED_BY_ONE)
def test_bounded_distance_is_one_on_disjoint_support_and_never_above(name: str) -> None:
    distance = COUNT_DISTANCES[name]
    assert distance([5, 3, 0, 0], [0, 0, 1, 9]) == pytest.approx(1.0, rel=1e-12)
    rng = np.random.default_rng(1)
    for _ in range(200):
        a, b = rng.integers(0, 3, 6).astype(float), rng.integers(0, 3, 6).astype(float)
        a[0], b[-1] = a[0] + 1, b[-1] + 1  # neither side all zero
        assert 0.0 <= distance(a, b) <= 1.0


samples = st.lists(st.integers(-10, 10) | st.floats(-1e3, 1e3), min_size=1, max_size=40)


@pytest.mark.parametrize("name", SAMPLE_STATISTICS)
@settings(max_examples=150, deadline=None)
@given(a=samples, b=samples)
def test_sample_statistic_is_symmetric_and_non_negative(
    name: str, a: list[float], b: list[float]
) -> None:
    statistic = SAMPLE_STATISTICS[name]
    sample_a, sample_b = WeightedSample.from_values(a), WeightedSample.from_values(b)
    forward, backward = statistic(sample_a, sample_b), statistic(sample_b, sample_a)
    assert forward >= 0.0
    assert forward == pytest.approx(backward, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", SAMPLE_STATISTICS)
@settings(max_examples=100, deadline=None)
@given(a=samples, repeat=st.integers(1, 5))
def test_sample_statistic_of_identical_distributions_is_zero(
    name: str, a: list[float], repeat: int
) -> None:
    # GIVEN a sample and the same values each repeated `repeat` times
    statistic = SAMPLE_STATISTICS[name]
    once, repeated = WeightedSample.from_values(a), WeightedSample.from_values(a * repeat)
    # THEN the distributions are identical and so is every statistic: 0
    assert statistic(once, repeated) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(a=samples, b=samples)
def test_ks_statistic_depends_only_on_the_order_of_the_values(
    a: list[float], b: list[float]
) -> None:
    # GIVEN the values replaced by their ranks in the pooled sample (ties keep one rank)
    _, ranks = np.unique(np.concatenate([a, b]), return_inverse=True)
    rank_a, rank_b = ranks[: len(a)], ranks[len(a) :]
    # THEN KS is unchanged (Wasserstein, by contrast, measures how far values moved)
    plain = ks_statistic(WeightedSample.from_values(a), WeightedSample.from_values(b))
    ranked = ks_statistic(WeightedSample.from_values(rank_a), WeightedSample.from_values(rank_b))
    assert plain == ranked


def test_wasserstein_distance_of_a_shift_is_the_shift() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(size=10_000)
    shifted = WeightedSample.from_values(values + 2.5)
    assert wasserstein_distance(WeightedSample.from_values(values), shifted) == pytest.approx(2.5)


@pytest.mark.parametrize(("n", "m"), [(1, 1), (10, 10), (30, 70), (5_000, 9_000), (20_000, 30_000)])
def test_ks_p_value_is_one_at_zero_and_decreases_with_the_statistic(n: int, m: int) -> None:
    assert ks_p_value(0.0, n, m) == 1.0
    grid = np.linspace(0.0, 1.0, 41)
    p_values = [ks_p_value(float(d), n, m) for d in grid]
    assert all(0.0 <= p <= 1.0 for p in p_values)
    assert all(later <= earlier for earlier, later in itertools.pairwise(p_values))


@pytest.mark.parametrize("test", [chi_square_test, chi_square_homogeneity_test])
def test_chi_square_tests_of_identical_proportions_have_p_value_one(
    test: Callable[[list[int], list[int]], tuple[float, float]],
) -> None:
    assert test([10, 20, 30], [10, 20, 30]) == (0.0, 1.0)
    statistic, p_value = test([10, 20, 30], [20, 40, 60])
    assert statistic == pytest.approx(0.0, abs=1e-12)
    assert p_value == pytest.approx(1.0)


@settings(max_examples=150, deadline=None)
@given(counts, counts)
def test_chi_square_homogeneity_test_is_symmetric(draw_a: list[int], draw_b: list[int]) -> None:
    a, b = _aligned(draw_a, draw_b)
    forward, backward = chi_square_homogeneity_test(a, b), chi_square_homogeneity_test(b, a)
    assert forward == pytest.approx(backward, rel=1e-12, abs=1e-300)


# -- hand-checked values -----------------------------------------------------------------


def test_psi_hand_checked_example() -> None:
    # p = (0.25, 0.25, 0.5), q = (0.5, 0.25, 0.25):
    #   (0.5 - 0.25) ln(0.5 / 0.25) = 0.25 ln 2  = 0.1732868
    #   (0.25 - 0.25) ln 1          = 0
    #   (0.25 - 0.5) ln(0.25 / 0.5) = -0.25 ln 0.5 = 0.25 ln 2 = 0.1732868
    #   PSI = 0.5 ln 2 = 0.3465736
    assert population_stability_index([25, 25, 50], [50, 25, 25]) == pytest.approx(
        0.3465736, abs=1e-7
    )
    assert population_stability_index([25, 25, 50], [50, 25, 25]) == pytest.approx(
        0.5 * math.log(2), rel=1e-12
    )


def test_psi_second_hand_checked_example() -> None:
    # p = (0.1, 0.4, 0.5), q = (0.2, 0.4, 0.4):
    #   (0.2 - 0.1) ln 2 + 0 + (0.4 - 0.5) ln 0.8 = 0.0693147 + 0.0223144 = 0.0916291
    assert population_stability_index([10, 40, 50], [20, 40, 40]) == pytest.approx(
        0.0916291, abs=1e-7
    )


def test_psi_replaces_an_empty_bin_by_epsilon_without_renormalising() -> None:
    # p = (0.5, 0.5), q = (1, 0 -> 1e-4): (1 - 0.5) ln 2 + (1e-4 - 0.5) ln(1e-4 / 0.5)
    #   = 0.5 x 0.6931472 + (-0.4999) x (-8.5171932) = 0.3465736 + 4.2577449 = 4.6043185
    expected = 0.5 * math.log(2) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert population_stability_index([5, 5], [10, 0]) == pytest.approx(expected, rel=1e-12)
    assert population_stability_index([5, 5], [10, 0]) == pytest.approx(4.6043185, abs=1e-7)
    # a larger epsilon makes the same emptied bin count for less
    assert population_stability_index([5, 5], [10, 0], epsilon=1e-2) < expected


def test_jensen_shannon_hand_checked_example() -> None:
    # p = (0.75, 0.25), q = (0.25, 0.75), m = (0.5, 0.5):
    #   KL(p || m) = 0.75 log2 1.5 + 0.25 log2 0.5 = 0.4387219 - 0.25 = 0.1887219 = KL(q || m)
    #   JS divergence = 0.1887219, distance = sqrt(0.1887219) = 0.4344213
    assert jensen_shannon_distance([3, 1], [1, 3]) == pytest.approx(0.4344213, abs=1e-7)


def test_hellinger_hand_checked_example() -> None:
    # p = (1, 0), q = (0.5, 0.5): sum sqrt(p q) = sqrt(0.5) = 0.7071068
    #   distance = sqrt(1 - 0.7071068) = sqrt(0.2928932) = 0.5411961
    assert hellinger_distance([1, 0], [1, 1]) == pytest.approx(0.5411961, abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(counts, counts)
def test_hellinger_distance_equals_its_bhattacharyya_form(
    draw_a: list[int], draw_b: list[int]
) -> None:
    a, b = _aligned(draw_a, draw_b)
    p, q = a / a.sum(), b / b.sum()
    expected = math.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p * q)))))
    # abs: the reference form leaves ~1e-16 of rounding under its square root
    assert hellinger_distance(a, b) == pytest.approx(expected, abs=2e-8)
