"""merge(profile(a), profile(b)) == profile(a + b): exactly for counts and histograms, within
float tolerance for sums, in any split and any order; JSON round trips; the AUC bound."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.errors import IncompatibleProfilesError, InvalidInputError
from driftline.metrics import (
    SCORE_BINS,
    PerformanceProfile,
    ScoreHistograms,
    profile_performance,
    roc_auc_score,
    score_edges,
)

BINARY: dict[str, Any] = {
    "task": "binary_classification",
    "label": "y",
    "prediction": "pred",
    "score": "p",
    "sensitive": "group",
}
MULTICLASS: dict[str, Any] = {
    "task": "multiclass_classification",
    "label": "y",
    "prediction": "pred",
}
REGRESSION: dict[str, Any] = {"task": "regression", "label": "y", "prediction": "pred"}
RANKING: dict[str, Any] = {
    "task": "ranking",
    "label": "y",
    "query": "q",
    "score": "s",
    "k": 3,
    "conversion": "bought",
}


def assert_same(left: Any, right: Any, path: str = "") -> None:
    """Equal JSON forms: ints, strings and lists exactly, floats to 1e-9 (relative)."""
    if isinstance(left, dict):
        assert isinstance(right, dict) and left.keys() == right.keys(), path
        for key in left:
            assert_same(left[key], right[key], f"{path}.{key}")
    elif isinstance(left, list):
        assert isinstance(right, list) and len(left) == len(right), path
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same(a, b, f"{path}[{index}]")
    elif isinstance(left, float) and not isinstance(left, bool):
        assert isinstance(right, float), path
        assert math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9), (path, left, right)
    else:
        assert type(left) is type(right) and left == right, (path, left, right)


def assert_profiles_equal(left: PerformanceProfile, right: PerformanceProfile) -> None:
    assert_same(left.to_dict(), right.to_dict())


def frame_of(rows: list[tuple[Any, ...]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


binary_rows = st.lists(
    st.tuples(
        st.sampled_from([0, 1, None]),
        st.sampled_from([0, 1, None]),
        st.one_of(
            st.floats(-0.5, 1.5),
            st.sampled_from([0.0, 1.0, 0.5, float("inf"), float("-inf")]),
            st.none(),
        ),
        st.sampled_from(["a", "b", "c", None]),
    ),
    max_size=40,
)
BINARY_COLUMNS = ["y", "pred", "p", "group"]


@settings(max_examples=200, deadline=None)
@given(binary_rows, st.data())
def test_binary_profile_merge_equals_profile_of_whole(
    rows: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    # GIVEN two batches with missing labels, predictions, scores and groups, and scores
    # outside [0, 1]
    split = data.draw(st.integers(0, len(rows)))
    a, b = frame_of(rows[:split], BINARY_COLUMNS), frame_of(rows[split:], BINARY_COLUMNS)
    # WHEN each is profiled and the profiles merged
    merged = profile_performance(a, **BINARY).merge(profile_performance(b, **BINARY))
    # THEN the result equals the profile of both batches at once
    whole = profile_performance(frame_of(rows, BINARY_COLUMNS), **BINARY)
    assert_profiles_equal(merged, whole)
    # and every metric reads the same (or is undefined for the same reason)
    assert_same(merged.metrics(), whole.metrics())


@settings(max_examples=100, deadline=None)
@given(binary_rows, binary_rows, binary_rows, st.randoms(use_true_random=False))
def test_binary_merge_is_associative_commutative_and_order_free(
    a: list[tuple[Any, ...]], b: list[tuple[Any, ...]], c: list[tuple[Any, ...]], rng: Any
) -> None:
    pa, pb, pc = (profile_performance(frame_of(x, BINARY_COLUMNS), **BINARY) for x in (a, b, c))
    assert_profiles_equal(pa.merge(pb).merge(pc), pa.merge(pb.merge(pc)))
    assert_profiles_equal(pa.merge(pb), pb.merge(pa))
    shuffled = list(a)
    rng.shuffle(shuffled)
    assert_profiles_equal(profile_performance(frame_of(shuffled, BINARY_COLUMNS), **BINARY), pa)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["x", "y", "z", None]), st.sampled_from(["x", "y", "w", None])),
        max_size=40,
    ),
    st.data(),
)
def test_multiclass_profile_merge_equals_profile_of_whole(
    rows: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    split = data.draw(st.integers(0, len(rows)))
    columns = ["y", "pred"]
    a, b = frame_of(rows[:split], columns), frame_of(rows[split:], columns)
    merged = profile_performance(a, **MULTICLASS).merge(profile_performance(b, **MULTICLASS))
    whole = profile_performance(frame_of(rows, columns), **MULTICLASS)
    assert merged == whole
    assert_same(merged.metrics(), whole.metrics())


regression_values = st.one_of(st.floats(-1e3, 1e3), st.just(0.0), st.none())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(regression_values, regression_values), max_size=40), st.data())
def test_regression_profile_merge_equals_profile_of_whole(
    rows: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    split = data.draw(st.integers(0, len(rows)))
    columns = ["y", "pred"]
    a, b = frame_of(rows[:split], columns), frame_of(rows[split:], columns)
    merged = profile_performance(a, **REGRESSION).merge(profile_performance(b, **REGRESSION))
    whole = profile_performance(frame_of(rows, columns), **REGRESSION)
    left, right = merged.to_dict(), whole.to_dict()
    sums_left, sums_right = left.pop("regression"), right.pop("regression")
    assert left == right
    # sums to float tolerance: a merge adds sums, the whole sums in another order
    for key, value in sums_left.items():
        scale = max(1.0, abs(sums_right[key] or 0.0), abs(sums_right["target_mean"]) ** 2)
        if isinstance(value, float):
            assert math.isclose(value, sums_right[key], rel_tol=1e-9, abs_tol=1e-9 * scale), key
        else:
            assert value == sums_right[key], key


ranking_queries = st.lists(
    st.tuples(
        st.booleans(),
        st.lists(
            st.tuples(
                st.sampled_from([0.1, 0.3, 0.7, 0.9]),
                st.sampled_from([0, 0, 1, 3]),
                st.sampled_from([0, 1]),
            ),
            min_size=1,
            max_size=6,
        ),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(ranking_queries, st.randoms(use_true_random=False))
def test_ranking_profile_merge_equals_profile_of_whole(
    queries: list[tuple[bool, list[tuple[float, int, int]]]], rng: Any
) -> None:
    # GIVEN queries, each wholly in batch a or batch b, rows shuffled
    columns = ["q", "s", "y", "bought"]
    rows: dict[bool, list[tuple[Any, ...]]] = {True: [], False: []}
    for i, (first, items) in enumerate(queries):
        rows[first].extend((f"q{i}", *item) for item in items)
    everything = rows[True] + rows[False]
    rng.shuffle(everything)
    a, b = frame_of(rows[True], columns), frame_of(rows[False], columns)
    # THEN merging the batches' profiles equals profiling all rows
    merged = profile_performance(a, **RANKING).merge(profile_performance(b, **RANKING))
    whole = profile_performance(frame_of(everything, columns), **RANKING)
    assert_profiles_equal(merged, whole)
    assert_same(merged.metrics(), whole.metrics())


def test_profiles_round_trip_through_json() -> None:
    rng = np.random.default_rng(3)
    n = 500
    binary = pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "pred": rng.integers(0, 2, n),
            "p": rng.random(n),
            "group": rng.choice(["a", "b"], n),
        }
    )
    ranking = pd.DataFrame(
        {
            "q": rng.integers(0, 50, n),
            "s": rng.random(n),
            "y": rng.integers(0, 2, n),
            "bought": rng.integers(0, 2, n),
        }
    )
    regression = pd.DataFrame({"y": rng.normal(size=n), "pred": rng.normal(size=n)})
    multiclass = pd.DataFrame({"y": rng.choice(["a", "b", "c"], n), "pred": rng.integers(0, 3, n)})
    for frame, options in (
        (binary, BINARY),
        (ranking, RANKING),
        (regression, REGRESSION),
        (multiclass, MULTICLASS),
    ):
        profile = profile_performance(frame, **options)
        text = json.dumps(profile.to_dict())
        restored = PerformanceProfile.from_dict(json.loads(text))
        assert restored == profile
        assert restored.to_dict()["version"] == 1


def test_score_histograms_are_compact_in_json() -> None:
    # GIVEN a million scores WHEN profiled THEN the histograms stay small in JSON
    rng = np.random.default_rng(4)
    y = rng.random(1_000_000) < 0.3
    p = 1 / (1 + np.exp(-rng.normal(y * 1.0, 1.0)))
    histograms = ScoreHistograms.from_scores(y, p)
    size = len(json.dumps(histograms.to_dict()))
    assert size < 120_000, size


# Score distributions the AUC bound was measured on (docs in driftline.metrics.score_histograms).
def scored(kind: str, n: int, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    if kind == "logistic":
        y = rng.random(n) < 0.5
        p = 1 / (1 + np.exp(-rng.normal(y * 1.0, 1.0)))
    elif kind == "beta":
        y = rng.random(n) < 0.3
        p = np.where(y, rng.beta(5, 2, n), rng.beta(2, 5, n))
    elif kind == "confident":
        y = rng.random(n) < 0.2
        p = 1 / (1 + np.exp(-rng.normal(np.where(y, 4, -4), 3)))
    elif kind == "rare_events":
        p = 1 / (1 + np.exp(-rng.normal(-5, 1.5, n)))
        y = rng.random(n) < p
    elif kind == "rarer_events":
        p = 1 / (1 + np.exp(-rng.normal(-8, 1.5, n)))
        y = rng.random(n) < p
    else:
        y = rng.random(n) < 0.4
        p = np.round(1 / (1 + np.exp(-rng.normal(y * 1.0, 1.0))), 3)
    return y.astype(int), p


@pytest.mark.parametrize(
    "kind", ["logistic", "beta", "confident", "rare_events", "rarer_events", "rounded"]
)
@pytest.mark.parametrize("n", [20_000, 1_000_000])
def test_auc_from_histograms_is_within_1e3_and_within_its_bound(kind: str, n: int) -> None:
    # GIVEN realistic score distributions, up to a million rows
    y, p = scored(kind, n, seed=n + len(kind))
    frame = pd.DataFrame({"y": y, "pred": (p > 0.5).astype(int), "p": p})
    started = time.perf_counter()
    profile = profile_performance(
        frame, task="binary_classification", label="y", prediction="pred", score="p"
    )
    elapsed = time.perf_counter() - started
    # WHEN AUC is read from the histograms
    histograms = profile.scores
    assert histograms is not None
    error = abs(histograms.auc() - sk.roc_auc_score(y, p))
    # THEN it is within the profile's own bound, and that bound is within 1e-3
    assert error <= histograms.auc_error_bound + 1e-12
    assert histograms.auc_error_bound <= 1e-3
    assert elapsed < 10, f"profiling {n} rows took {elapsed:.1f}s"


def test_auc_of_crowded_scores_reports_a_loose_bound() -> None:
    # GIVEN every score within 0.5 +- 0.003, which bins of width 2.5e-4 cannot separate
    rng = np.random.default_rng(5)
    y = (rng.random(100_000) < 0.5).astype(int)
    p = 0.5 + 0.001 * rng.normal(y * 0.5, 1.0)
    histograms = ScoreHistograms.from_scores(y == 1, p)
    error = abs(histograms.auc() - sk.roc_auc_score(y, p))
    # THEN the bound says the histogram AUC is imprecise, and it holds
    assert histograms.auc_error_bound > 1e-2
    assert error <= histograms.auc_error_bound


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.floats(0, 1) | st.sampled_from([0.0, 1.0, 0.25])),
        min_size=2,
        max_size=60,
    ).filter(lambda rows: 0 < sum(label for label, _ in rows) < len(rows))
)
def test_histogram_auc_is_within_its_bound_for_any_scores(rows: list[tuple[bool, float]]) -> None:
    y = np.array([label for label, _ in rows])
    p = np.array([score for _, score in rows])
    histograms = ScoreHistograms.from_scores(y, p)
    assert abs(histograms.auc() - roc_auc_score(y, p)) <= histograms.auc_error_bound + 1e-12


def test_histogram_auc_is_exact_when_no_bin_holds_both_classes() -> None:
    edges = score_edges()
    assert edges.size == SCORE_BINS + 1
    # GIVEN scores at distinct bins' lower edges
    rng = np.random.default_rng(6)
    p = edges[rng.choice(SCORE_BINS, 400, replace=False)]
    y = rng.integers(0, 2, 400)
    histograms = ScoreHistograms.from_scores(y == 1, p)
    assert histograms.auc_error_bound == 0.0
    assert histograms.auc() == pytest.approx(sk.roc_auc_score(y, p), abs=1e-15)


def test_scores_outside_0_1_are_clipped_and_counted() -> None:
    frame = pd.DataFrame({"y": [1, 0, 1, 0], "pred": [1, 0, 1, 1], "p": [1.2, -0.1, 0.9, 0.2]})
    profile = profile_performance(frame, **{**BINARY, "sensitive": None})
    assert profile.scores is not None
    assert profile.scores.clipped == 2
    # log loss and Brier are those of the clipped scores
    clipped = [1.0, 0.0, 0.9, 0.2]
    assert profile.metrics()["brier"] == pytest.approx(
        sk.brier_score_loss([1, 0, 1, 0], clipped), rel=1e-12
    )


def test_unlabelled_and_incomplete_rows_are_counted_not_lost() -> None:
    frame = pd.DataFrame(
        {
            "y": [1, 0, None, 1, 0],
            "pred": [1, None, 1, 0, 0],
            "p": [0.9, 0.2, 0.4, None, 0.1],
            "group": ["a", "b", "a", None, "b"],
        }
    )
    profile = profile_performance(frame, **BINARY)
    assert (profile.rows, profile.labelled) == (5, 4)
    assert dict(profile.missing) == {"prediction": 1, "score": 1, "sensitive": 1}
    assert profile.confusion is not None and profile.confusion.n == 3
    assert profile.scores is not None and profile.scores.n == 3


def test_single_class_segment_gives_a_reason_not_a_crash() -> None:
    # GIVEN a segment whose labels are all positive
    frame = pd.DataFrame({"y": [1, 1, 1], "pred": [1, 0, 1], "p": [0.9, 0.3, 0.8]})
    profile = profile_performance(frame, **{**BINARY, "sensitive": None})
    metrics = profile.metrics()
    # THEN AUC and Gini carry the reason, and the rest have values
    assert metrics["auc"] == "AUC needs both classes; only class 1 present"
    assert metrics["gini"] == metrics["auc"]
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert "disparate_impact" not in metrics  # no sensitive column was profiled


def test_incompatible_profiles_do_not_merge() -> None:
    frame = pd.DataFrame({"y": [1, 0], "pred": [1, 0], "p": [0.9, 0.2], "group": ["a", "b"]})
    binary = profile_performance(frame, **BINARY)
    with pytest.raises(IncompatibleProfilesError, match="positive_class 0"):
        binary.merge(profile_performance(frame, **{**BINARY, "positive_class": 0}))
    with pytest.raises(IncompatibleProfilesError, match="parts"):
        binary.merge(profile_performance(frame, **{**BINARY, "score": None}))
    with pytest.raises(IncompatibleProfilesError, match="multiclass_classification"):
        binary.merge(profile_performance(frame, **MULTICLASS))
    ranking = pd.DataFrame({"q": [1, 1], "s": [0.2, 0.4], "y": [0, 1], "bought": [0, 1]})
    with pytest.raises(IncompatibleProfilesError, match="k=3 and k=5"):
        profile_performance(ranking, **RANKING).merge(
            profile_performance(ranking, **{**RANKING, "k": 5})
        )
    data = binary.to_dict()
    with pytest.raises(IncompatibleProfilesError, match="version 2"):
        PerformanceProfile.from_dict({**data, "version": 2})
    data["scores"]["grid"] = "uniform1000"
    with pytest.raises(IncompatibleProfilesError, match="grid 'uniform1000'"):
        PerformanceProfile.from_dict(data)


def test_profile_input_errors_say_what_is_wrong() -> None:
    frame = pd.DataFrame({"y": [0, 1, 2], "pred": [0, 1, 2], "p": [0.1, 0.5, 0.9]})
    expected = "at most 2 classes; got 3 classes \\(3 numeric\\) in the label column 'y' and the"
    with pytest.raises(InvalidInputError, match=expected):
        profile_performance(frame, task="binary_classification", label="y", prediction="pred")
    words = pd.DataFrame({"y": ["no", "yes"], "pred": ["no", "no"]})
    with pytest.raises(InvalidInputError, match=r"cannot default to 1; set schema\.positive_class"):
        profile_performance(words, task="binary_classification", label="y", prediction="pred")
    with pytest.raises(InvalidInputError, match="the prediction column 'guess' is not in the data"):
        profile_performance(frame, task="regression", label="y", prediction="guess")
    with pytest.raises(ValueError, match=r"score .* does not apply to regression"):
        profile_performance(frame, task="regression", label="y", prediction="pred", score="p")
    with pytest.raises(ValueError, match="expected task in"):
        profile_performance(frame, task="clustering", label="y")  # type: ignore[arg-type]
    text_scores = pd.DataFrame({"y": [0, 1], "pred": [0, 1], "p": ["low", "high"]})
    with pytest.raises(InvalidInputError, match="score column 'p' must be numeric"):
        profile_performance(text_scores, **{**BINARY, "sensitive": None})
