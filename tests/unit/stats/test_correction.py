"""Adjusted p-values equal statsmodels' ``multipletests`` (Holm, Benjamini–Hochberg)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

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
