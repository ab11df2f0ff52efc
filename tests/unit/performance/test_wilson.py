"""The Wilson score interval against scipy's ``binomtest(...).proportion_ci("wilson")``.

:func:`wilson_interval` returns the unrounded bounds (the result JSON carries them as they
are), so it must equal scipy's to float rounding; and it must contain the observed proportion
however rare it is (bounds rounded to 4 decimals once collapsed 3/200,000 to ``(0.0, 0.0)``).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, norm

from driftline.performance import Z_95, wilson_interval

#: Two float evaluations of the same formula in another order.
FLOAT_NOISE = 1e-12


@st.composite
def successes_and_trials(draw: st.DrawFn) -> tuple[int, int]:
    trials = draw(st.one_of(st.integers(1, 50), st.integers(1, 10**7)))
    successes = draw(
        st.one_of(
            st.just(0), st.just(trials), st.integers(0, trials), st.integers(0, min(trials, 5))
        )
    )
    return successes, trials


def scipy_wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    ci = binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@settings(max_examples=500, deadline=None)
@given(successes_and_trials())
@example((0, 1))
@example((1, 1))
@example((0, 10**7))
@example((10**7, 10**7))
@example((84, 100))
@example((3, 200_000))
@example((199_997, 200_000))
def test_wilson_interval_equals_scipy(case: tuple[int, int]) -> None:
    successes, trials = case
    low, high = wilson_interval(successes, trials)
    expected_low, expected_high = scipy_wilson(successes, trials)
    assert math.isclose(low, expected_low, rel_tol=1e-9, abs_tol=FLOAT_NOISE), (case, low)
    assert math.isclose(high, expected_high, rel_tol=1e-9, abs_tol=FLOAT_NOISE), (case, high)
    # inside [0, 1] and around the observed proportion, however rare
    assert 0.0 <= low <= successes / trials <= high <= 1.0


@pytest.mark.parametrize(("successes", "trials"), [(3, 200_000), (199_997, 200_000), (1, 113_295)])
def test_interval_of_a_rare_proportion_contains_it_and_is_not_a_point(
    successes: int, trials: int
) -> None:
    low, high = wilson_interval(successes, trials)
    assert low < successes / trials < high


@pytest.mark.parametrize("trials", [1, 2, 7, 100, 12_345])
def test_wilson_interval_at_no_and_all_successes_touches_the_bound(trials: int) -> None:
    assert wilson_interval(0, trials)[0] == 0.0
    assert wilson_interval(trials, trials)[1] == 1.0
    # and the other end is scipy's
    assert math.isclose(wilson_interval(0, trials)[1], scipy_wilson(0, trials)[1], rel_tol=1e-9)
    assert math.isclose(
        wilson_interval(trials, trials)[0], scipy_wilson(trials, trials)[0], rel_tol=1e-9
    )


@settings(max_examples=200, deadline=None)
@given(successes_and_trials(), st.sampled_from([0.5, 0.8, 0.9, 0.99, 0.999]))
def test_wilson_interval_with_another_z_equals_scipy_at_that_confidence(
    case: tuple[int, int], confidence: float
) -> None:
    successes, trials = case
    z = float(norm.ppf(0.5 + confidence / 2))
    low, high = wilson_interval(successes, trials, z=z)
    expected_low, expected_high = scipy_wilson(successes, trials, confidence)
    assert math.isclose(low, expected_low, rel_tol=1e-9, abs_tol=FLOAT_NOISE), (case, confidence)
    assert math.isclose(high, expected_high, rel_tol=1e-9, abs_tol=FLOAT_NOISE), (case, confidence)


def test_default_z_is_the_two_sided_95_percent_quantile() -> None:
    assert math.isclose(Z_95, float(norm.ppf(0.975)), rel_tol=1e-15)
    low, high = wilson_interval(84, 100)
    assert (round(low, 4), round(high, 4)) == (0.7558, 0.899)


@pytest.mark.parametrize(
    ("successes", "trials"),
    [(0, 0), (1, 0), (-1, 10), (11, 10), (0, -3), (5, -3)],
)
def test_wilson_interval_refuses_impossible_counts_saying_what_it_got(
    successes: int, trials: int
) -> None:
    with pytest.raises(ValueError, match=f"got {successes}/{trials}"):
        wilson_interval(successes, trials)
