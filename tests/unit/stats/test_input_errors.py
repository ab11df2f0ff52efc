"""Bad inputs are refused with messages that say what was received."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from driftline.errors import DriftlineError, InsufficientDataError
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

COUNT_FUNCTIONS: list[Callable[..., Any]] = [
    population_stability_index,
    jensen_shannon_distance,
    hellinger_distance,
    chi_square_test,
    chi_square_homogeneity_test,
]
SAMPLE_FUNCTIONS: list[Callable[..., Any]] = [ks_statistic, wasserstein_distance]


@pytest.mark.parametrize("function", COUNT_FUNCTIONS)
@pytest.mark.parametrize(
    ("reference", "current", "message"),
    [
        ([1, 2], [1, 2, 3], r"same length, got shapes \(2,\) \(reference\) and \(3,\) \(current\)"),
        ([[1, 2]], [[1, 2]], r"1-d count vectors .* got shapes \(1, 2\)"),
        ([1, -1, 2], [1, 1, 1], r"non-negative reference counts, got -1.0 in bin 1"),
        ([1, 1], [1, float("nan")], r"finite non-negative current counts, got nan in bin 1"),
        ([1, 1], [float("inf"), 1], r"finite non-negative current counts, got inf in bin 0"),
        ([0, 0, 0], [1, 1, 1], r"some reference counts, got all 3 bins zero"),
        ([1, 1], [0, 0], r"some current counts, got all 2 bins zero"),
    ],
)
def test_bad_counts_are_refused_saying_what_was_received(
    function: Callable[..., Any], reference: Any, current: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        function(reference, current)


@pytest.mark.parametrize("function", [population_stability_index, chi_square_test])
@pytest.mark.parametrize("epsilon", [0.0, -1e-4, 1.0, float("nan")])
def test_epsilon_outside_zero_one_is_refused(function: Callable[..., Any], epsilon: float) -> None:
    with pytest.raises(ValueError, match=r"expected epsilon in \(0, 1\), got"):
        function([1, 0], [1, 1], epsilon=epsilon)


@pytest.mark.parametrize("base", [1.0, 0.0, -2.0, float("inf")])
def test_jensen_shannon_base_that_is_not_a_logarithm_base_is_refused(base: float) -> None:
    with pytest.raises(ValueError, match=f"logarithm base > 0 other than 1, got {base}"):
        jensen_shannon_distance([1, 1], [1, 2], base=base)


@pytest.mark.parametrize("function", SAMPLE_FUNCTIONS)
def test_an_empty_sample_is_insufficient_data(function: Callable[..., Any]) -> None:
    empty, full = WeightedSample.from_values([]), WeightedSample.from_values([1.0, 2.0])
    with pytest.raises(InsufficientDataError, match="the reference sample has no values") as info:
        function(empty, full)
    assert isinstance(info.value, DriftlineError)
    assert info.value.reason == "insufficient_data"
    with pytest.raises(InsufficientDataError, match="the current sample has no values"):
        function(full, empty)


@pytest.mark.parametrize("function", SAMPLE_FUNCTIONS)
@pytest.mark.parametrize(
    ("values", "weights", "message"),
    [
        ([2.0, 1.0], [1.0, 1.0], "current values sorted and without NaN"),
        ([1.0, np.nan], [1.0, 1.0], "current values sorted and without NaN"),
        ([1.0, 2.0], [1.0, 0.0], "positive finite current weights, got minimum 0.0"),
        ([1.0, 2.0], [1.0, -3.0], "positive finite current weights, got minimum -3.0"),
        ([1.0, 2.0], [1.0], r"one length, got shapes \(2,\) and \(1,\)"),
    ],
)
def test_a_malformed_weighted_sample_is_refused(
    function: Callable[..., Any], values: list[float], weights: list[float], message: str
) -> None:
    good = WeightedSample.from_values([0.0, 1.0])
    bad = WeightedSample(np.array(values), np.array(weights), 2)
    with pytest.raises(ValueError, match=message):
        function(good, bad)


@pytest.mark.parametrize(
    ("statistic", "n", "m", "error", "message"),
    [
        (1.5, 10, 10, ValueError, r"KS statistic in \[0, 1\], got 1.5"),
        (-0.1, 10, 10, ValueError, r"KS statistic in \[0, 1\], got -0.1"),
        (float("nan"), 10, 10, ValueError, r"KS statistic in \[0, 1\], got nan"),
        (0.5, -1, 10, ValueError, "non-negative sample sizes, got -1 and 10"),
        (0.5, 0, 10, InsufficientDataError, "both sides, got sample sizes 0 and 10"),
        (0.5, 10, 0, InsufficientDataError, "both sides, got sample sizes 10 and 0"),
    ],
)
def test_ks_p_value_refuses_impossible_arguments(
    statistic: float, n: int, m: int, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        ks_p_value(statistic, n, m)
