"""Adjusted p-values equal statsmodels' ``multipletests`` (Holm, Benjamini–Hochberg); the
weighted forms equal closed testing with weighted Bonferroni tests (Holm) and statsmodels'
BH on ``p / w`` (Benjamini–Hochberg)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from closed_testing import closed_testing
from driftline.stats.correction import adjust, benjamini_hochberg, holm

P_VALUES = st.lists(
    st.one_of(
        st.floats(0.0, 1.0, allow_nan=False),
        st.sampled_from([0.0, 1e-300, 0.01, 0.05, 0.5, 1.0]),  # ties and edges
    ),
    min_size=1,
    max_size=200,
)


@settings(max_examples=120, deadline=None)
@given(P_VALUES)
def test_holm_equals_statsmodels(p: list[float]) -> None:
    _, expected, _, _ = multipletests(p, method="holm")
    assert holm(p) == pytest.approx(list(expected), rel=1e-12, abs=1e-300)


@settings(max_examples=120, deadline=None)
@given(P_VALUES)
def test_benjamini_hochberg_equals_statsmodels(p: list[float]) -> None:
    _, expected, _, _ = multipletests(p, method="fdr_bh")
    assert benjamini_hochberg(p) == pytest.approx(list(expected), rel=1e-12, abs=1e-300)


def test_holm_keeps_the_family_wise_false_alarm_rate_at_alpha_on_null_families() -> None:
    # GIVEN 4,000 families of 120 independent null p-values (uniform)
    rng = np.random.default_rng(20261207)
    families = rng.random((4000, 120))
    # WHEN each is adjusted and any adjusted p below 0.01 counts as a page
    pages = sum(min(holm(list(family))) < 0.01 for family in families)
    # THEN the page rate is within the binomial 99.9 % range of at most 1 %
    # (without the correction nearly every family would page: 1 - 0.99**120 = 70 %)
    assert pages / 4000 <= 0.01 + 3.3 * (0.01 * 0.99 / 4000) ** 0.5


def test_no_correction_returns_the_raw_values_and_bad_input_is_refused() -> None:
    assert adjust([0.3, 0.02], "none") == [0.3, 0.02]
    assert adjust([], "holm") == []
    with pytest.raises(ValueError, match="unknown correction"):
        adjust([0.1], "bonferroni")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        holm([0.1, float("nan")])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        benjamini_hochberg([1.2])


WEIGHTED = st.integers(1, 7).flatmap(
    lambda m: st.tuples(
        st.lists(
            st.one_of(st.floats(0.0, 1.0, allow_nan=False), st.sampled_from([0.0, 0.01, 1.0])),
            min_size=m,
            max_size=m,
        ),
        st.lists(st.floats(0.01, 10.0, allow_nan=False), min_size=m, max_size=m),
    )
)


@settings(max_examples=200, deadline=None)
@given(WEIGHTED)
def test_weighted_holm_equals_closed_testing_with_weighted_bonferroni(
    case: tuple[list[float], list[float]],
) -> None:
    p, w = case
    assert holm(p, weights=w) == pytest.approx(closed_testing(p, w), rel=1e-9, abs=1e-300)


@settings(max_examples=120, deadline=None)
@given(P_VALUES)
def test_equal_weights_give_the_plain_corrections(p: list[float]) -> None:
    weights = [3.0] * len(p)
    assert holm(p, weights=weights) == pytest.approx(holm(p), rel=1e-12, abs=1e-300)
    assert benjamini_hochberg(p, weights=weights) == pytest.approx(
        benjamini_hochberg(p), rel=1e-12, abs=1e-300
    )


@settings(max_examples=120, deadline=None)
@given(WEIGHTED)
def test_weighted_benjamini_hochberg_equals_statsmodels_on_p_over_w(
    case: tuple[list[float], list[float]],
) -> None:
    p, w = case
    scaled = np.asarray(w) / np.mean(w)
    _, expected, _, _ = multipletests(np.minimum(1.0, np.asarray(p) / scaled), method="fdr_bh")
    # statsmodels caps p / w at 1 before ordering; capping after gives the same values once
    # each adjusted value is capped at 1
    assert benjamini_hochberg(p, weights=w) == pytest.approx(list(expected), rel=1e-9, abs=1e-300)


def test_weighted_holm_keeps_the_family_wise_rate_and_gives_the_heavier_tests_more_power() -> None:
    # GIVEN 4,000 null families of 20 "overall" and 100 "segment" p-values, the overall
    # ones given half of alpha, and the same families with the first overall test shifted
    rng = np.random.default_rng(20261208)
    weights = [0.5 / 20] * 20 + [0.5 / 100] * 100
    families = rng.random((4000, 120))
    # WHEN each is adjusted and any adjusted p below 0.01 counts as a page
    pages = sum(min(holm(list(family), weights=weights)) < 0.01 for family in families)
    # THEN the page rate is within the binomial 99.9 % range of at most 1 %
    assert pages / 4000 <= 0.01 + 3.3 * (0.01 * 0.99 / 4000) ** 0.5
    # AND an overall test with p = 0.0002 (above 0.01 / 120, below 0.005 / 20) is rejected
    # only with the weights
    family = [0.0002] + [0.5] * 119
    assert holm(family)[0] > 0.01 > holm(family, weights=weights)[0]


def test_weights_must_be_one_positive_number_per_p_value() -> None:
    for weights in ([1.0], [1.0, 0.0], [1.0, -1.0], [1.0, float("nan")]):
        with pytest.raises(ValueError, match="weights must be 2 positive numbers"):
            adjust([0.1, 0.2], "holm", weights)
    with pytest.raises(ValueError, match="weights must be"):
        adjust([0.1, 0.2], "none", [1.0])
