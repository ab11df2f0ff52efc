"""merge(profile(a), profile(b)) == profile(a + b): exactly for counts and histograms, within
floating-point tolerance for moments, in any split and any order."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.profile.categorical import CategoricalProfile
from driftline.profile.dataset import DatasetProfile, ProfileSpec, build_reference, profile_frame
from driftline.profile.numeric import NumericProfile, numeric_edges_from_values

finite_floats = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
messy_floats = st.one_of(
    finite_floats, st.just(float("nan")), st.just(float("inf")), st.just(float("-inf"))
)
EDGES = numeric_edges_from_values(np.linspace(-100, 100, 1001), bins=10)


def assert_numeric_equal(left: NumericProfile, right: NumericProfile) -> None:
    assert (left.count, left.missing, left.type_violations, left.infinite, left.n) == (
        right.count,
        right.missing,
        right.type_violations,
        right.infinite,
        right.n,
    )
    assert left.histogram == right.histogram
    assert left.edges == right.edges
    for a, b in ((left.minimum, right.minimum), (left.maximum, right.maximum)):
        assert (math.isnan(a) and math.isnan(b)) or a == b
    scale = max(1.0, abs(right.mean))
    assert math.isclose(left.mean, right.mean, rel_tol=1e-9, abs_tol=1e-9 * scale)
    assert math.isclose(left.m2, right.m2, rel_tol=1e-6, abs_tol=1e-6 * max(1.0, right.m2))
    assert left.sketch.n == right.sketch.n


@settings(max_examples=200, deadline=None)
@given(st.lists(messy_floats, max_size=60), st.lists(messy_floats, max_size=60))
def test_numeric_merge_of_two_parts_equals_profile_of_whole(a: list[float], b: list[float]) -> None:
    # GIVEN two batches WHEN each is profiled and the profiles merged
    merged = NumericProfile.from_values(a, edges=EDGES).merge(
        NumericProfile.from_values(b, edges=EDGES)
    )
    # THEN the result equals the profile of both batches at once
    assert_numeric_equal(merged, NumericProfile.from_values(a + b, edges=EDGES))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(finite_floats, max_size=30),
    st.lists(finite_floats, max_size=30),
    st.lists(finite_floats, max_size=30),
)
def test_numeric_merge_is_associative_and_commutative(
    a: list[float], b: list[float], c: list[float]
) -> None:
    pa, pb, pc = (NumericProfile.from_values(x, edges=EDGES) for x in (a, b, c))
    assert_numeric_equal(pa.merge(pb).merge(pc), pa.merge(pb.merge(pc)))
    assert_numeric_equal(pa.merge(pb), pb.merge(pa))


categories = st.one_of(st.none(), st.sampled_from(list("abcdefghijklmnop")), st.integers(0, 30))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(categories, max_size=80),
    st.lists(categories, max_size=80),
    st.integers(1, 12),
)
def test_categorical_merge_is_exact_for_any_split_and_bound(
    a: list[object], b: list[object], max_tracked: int
) -> None:
    # GIVEN a small bound, so the bottom-k selection of tracked categories is exercised
    vocabulary = ("a", "b", "7")
    pa = CategoricalProfile.from_values(a, vocabulary=vocabulary, max_tracked=max_tracked)
    pb = CategoricalProfile.from_values(b, vocabulary=vocabulary, max_tracked=max_tracked)
    whole = CategoricalProfile.from_values(a + b, vocabulary=vocabulary, max_tracked=max_tracked)
    # THEN merging in either order gives exactly the profile of the whole
    assert pa.merge(pb) == whole
    assert pb.merge(pa) == whole
    assert len(whole.tracked) <= max_tracked
    assert sum(whole.vocabulary_counts) + sum(whole.tracked.values()) + whole.other == (
        whole.count - whole.missing
    )


def test_categorical_profile_treats_integral_floats_and_ints_as_one_category() -> None:
    with_missing = CategoricalProfile.from_values(pd.Series([1.0, 2.0, np.nan]))
    without = CategoricalProfile.from_values(pd.Series([1, 2]))
    assert with_missing.tracked == without.tracked == {"1": 1, "2": 1}


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 200), st.integers(0, 200), st.integers(0, 10_000))
def test_dataset_merge_with_segments_equals_profile_of_concatenation(
    split: int, size: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    rows = split + size
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "c": rng.choice(["u", "v", "w"], size=rows),
            "seg": rng.choice(["p", "q"], size=rows),
        }
    )
    spec = ProfileSpec(columns={"x": "numeric", "c": "categorical"}, segments=("seg",))
    reference = build_reference(lambda: [frame], spec) if rows else None
    bins = reference.bins if reference else None
    head, tail = frame.iloc[:split], frame.iloc[split:]
    merged = profile_frame(head, spec, bins).merge(profile_frame(tail, spec, bins))
    whole = profile_frame(frame, spec, bins)
    assert merged.rows == whole.rows
    assert sorted(merged.segments) == sorted(whole.segments)
    for key in whole.segments:
        assert merged.segments[key].rows == whole.segments[key].rows
        assert merged.segments[key].columns["c"] == whole.segments[key].columns["c"]
    assert merged.columns["c"] == whole.columns["c"]
    left, right = merged.columns["x"], whole.columns["x"]
    assert isinstance(left, NumericProfile) and isinstance(right, NumericProfile)
    assert_numeric_equal(left, right)


def test_profile_json_round_trip_keeps_every_figure() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=500),
            "c": rng.choice(list("abc"), 500),
            "s": rng.choice(["1", "2"], 500),
        }
    )
    spec = ProfileSpec(columns={"x": "numeric", "c": "categorical"}, segments=("s",))
    reference = build_reference(lambda: [frame], spec)
    restored = DatasetProfile.from_dict(reference.profile.to_dict())
    assert restored.to_dict() == reference.profile.to_dict()
    assert restored.columns["x"].sample().values.tolist() == (
        reference.profile.columns["x"].sample().values.tolist()
    )
