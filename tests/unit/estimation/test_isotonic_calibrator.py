"""The isotonic calibrator against scikit-learn's IsotonicRegression(out_of_bounds="clip"):
the same predictions to 1e-12 on data with ties and weights; its stored form, validated."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.estimation import (
    IdentityCalibrator,
    IsotonicCalibrator,
    calibrator_from_dict,
    fit_isotonic,
)

TOLERANCE = 1e-12


def sklearn_predictions(
    scores: Any, labels: Any, weights: Any, queries: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    model = IsotonicRegression(out_of_bounds="clip", increasing=True)
    model.fit(np.asarray(scores, float), np.asarray(labels, float), sample_weight=weights)
    return np.asarray(model.predict(queries), dtype=float)


def queries_for(scores: Any, calibrator: IsotonicCalibrator) -> np.ndarray[Any, Any]:
    """Every training score, every fitted point, the midpoints between fitted points and
    points beyond both ends."""
    points = calibrator.scores
    midpoints = (points[:-1] + points[1:]) / 2
    beyond = [points[0] - 1.0, points[0] - 1e-9, points[-1] + 1e-9, points[-1] + 1.0]
    return np.concatenate([np.asarray(scores, float), points, midpoints, beyond])


# Scores on a grid (few distinct values: many ties; or fine: few ties). Distinct scores are
# at least 1e-6 apart: scikit-learn pools scores closer than 1e-15, driftline does not.
rows = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.sampled_from([4, 20, 1000, 10**6]).flatmap(
            lambda grid: st.lists(st.integers(0, grid), min_size=n, max_size=n).map(
                lambda ticks: [t / grid for t in ticks]
            )
        ),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.one_of(
            st.none(),
            st.lists(
                st.one_of(st.just(0.0), st.floats(1e-3, 5.0)),
                min_size=n,
                max_size=n,
            ),
        ),
    )
)


@settings(max_examples=300, deadline=None)
@given(rows)
def test_isotonic_fit_predicts_as_scikit_learn_with_ties_and_weights(
    data: tuple[list[float], list[int], list[float] | None],
) -> None:
    # GIVEN scores with ties, 0/1 labels and weights (some of them 0), or no weights
    scores, labels, weights = data
    assume(weights is None or any(w > 0 for w in weights))

    # WHEN driftline and scikit-learn fit an increasing isotonic regression
    calibrator = fit_isotonic(scores, labels, weights)
    queries = queries_for(scores, calibrator)
    expected = sklearn_predictions(scores, labels, weights, queries)

    # THEN they predict the same everywhere: at the data, between points and beyond them
    assert np.max(np.abs(calibrator.apply(queries) - expected)) <= TOLERANCE
    # and the stored points are increasing, their probabilities non-decreasing in [0, 1]
    assert np.all(np.diff(calibrator.scores) > 0)
    assert np.all(np.diff(calibrator.probabilities) >= 0)
    assert calibrator.probabilities.min() >= 0 and calibrator.probabilities.max() <= 1


@pytest.mark.parametrize(
    ("scores", "labels", "weights"),
    [
        ([0.5], [1], None),  # one row: a constant
        ([0.1, 0.4, 0.9], [0, 0, 0], None),  # one class
        ([0.1, 0.2, 0.3, 0.4], [1, 1, 0, 0], None),  # decreasing: one pooled block
        ([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1], None),  # increasing: nothing pooled
        ([0.3, 0.3, 0.3, 0.7, 0.7], [1, 0, 0, 0, 1], None),  # ties of both classes
        ([0.2, 0.1, 0.3, 0.2], [0, 1, 1, 1], [2.0, 0.5, 1.0, 0.0]),  # unsorted, a 0 weight
        ([0.0, 1.0, 0.5, 0.25, 0.75], [1, 0, 1, 0, 1], [1.0, 3.0, 1e-3, 7.0, 0.25]),
    ],
)
def test_isotonic_fit_matches_scikit_learn_on_fixed_cases(
    scores: list[float], labels: list[int], weights: list[float] | None
) -> None:
    calibrator = fit_isotonic(scores, labels, weights)
    queries = np.concatenate([queries_for(scores, calibrator), np.linspace(-0.5, 1.5, 41)])
    expected = sklearn_predictions(scores, labels, weights, queries)
    assert np.max(np.abs(calibrator.apply(queries) - expected)) <= TOLERANCE


def test_isotonic_fit_on_many_continuous_rows_matches_scikit_learn() -> None:
    # GIVEN 20,000 continuous scores whose true probability is the score squared
    rng = np.random.default_rng(3)
    scores = rng.uniform(size=20_000)
    labels = (rng.uniform(size=scores.size) < scores**2).astype(int)
    weights = rng.uniform(0.1, 2.0, size=scores.size)

    # WHEN both fit THEN they agree at 10,000 points in and beyond the data
    calibrator = fit_isotonic(scores, labels, weights)
    queries = rng.uniform(-0.1, 1.1, size=10_000)
    expected = sklearn_predictions(scores, labels, weights, queries)
    assert np.max(np.abs(calibrator.apply(queries) - expected)) <= TOLERANCE
    # and the runs of equal fitted values keep only their ends (as scikit-learn does)
    model = IsotonicRegression(out_of_bounds="clip").fit(scores, labels, sample_weight=weights)
    assert calibrator.scores.size == model.X_thresholds_.size


def test_the_calibrator_holds_its_end_values_beyond_the_data_and_keeps_nan() -> None:
    calibrator = fit_isotonic([0.2, 0.4, 0.6, 0.8], [0, 1, 0, 1])
    assert calibrator.apply([-5.0, 0.0, 1.0, 9.0]).tolist() == [0.0, 0.0, 1.0, 1.0]
    assert np.isnan(calibrator.apply([np.nan])[0])


def test_the_identity_calibrator_returns_the_scores() -> None:
    scores = np.array([0.0, 0.3, 1.0])
    assert np.array_equal(IdentityCalibrator().apply(scores), scores)


def test_calibrators_round_trip_through_json_exactly() -> None:
    # GIVEN a fitted calibrator with awkward floats, and the identity
    rng = np.random.default_rng(5)
    scores = rng.uniform(size=500)
    fitted = fit_isotonic(scores, rng.uniform(size=500) < scores)
    for calibrator in (fitted, IdentityCalibrator()):
        # WHEN stored as JSON and read back
        text = json.dumps(calibrator.to_dict(), allow_nan=False)
        restored = calibrator_from_dict(json.loads(text))
        # THEN it is the same calibrator, to the bit
        assert restored == calibrator
        assert np.array_equal(restored.apply(scores), calibrator.apply(scores))


GOOD: dict[str, Any] = {"kind": "isotonic", "scores": [0.1, 0.5, 0.9], "probabilities": [0, 0.5, 1]}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"kind": "platt"}, "kind"),
        ({"kind": None}, "kind"),
        ({"scores": None}, "scores"),
        ({"scores": "0.1,0.5,0.9"}, "scores"),
        ({"scores": [0.5, 0.1, 0.9]}, "scores"),  # not sorted
        ({"scores": [0.1, 0.1, 0.9]}, "scores"),  # not distinct
        ({"scores": [0.1, float("nan"), 0.9]}, "scores"),
        ({"scores": [0.1, 0.5, float("inf")]}, "scores"),
        ({"scores": [0.1, "x", 0.9]}, "scores"),
        ({"scores": [[0.1], [0.5], [0.9]]}, "scores"),
        ({"scores": [], "probabilities": []}, "scores"),
        ({"probabilities": [0.0, 0.5]}, "probabilities"),  # not one per score
        ({"probabilities": [0.0, 0.5, 1.5]}, "probabilities"),  # outside [0, 1]
        ({"probabilities": [-0.1, 0.5, 1.0]}, "probabilities"),
        ({"probabilities": [0.0, 0.7, 0.5]}, "probabilities"),  # decreasing
        ({"probabilities": [0.0, float("nan"), 1.0]}, "probabilities"),
    ],
)
def test_a_bad_stored_calibrator_is_refused_naming_the_key(
    change: dict[str, Any], key: str
) -> None:
    # GIVEN a stored calibrator with one key broken
    data = {**GOOD, **change}
    # WHEN it is read THEN it is refused, naming that key
    with pytest.raises(InvalidInputError) as raised:
        calibrator_from_dict(data)
    assert raised.value.reason == "invalid_calibrator"
    assert raised.value.details["key"] == key
    assert f"'{key}'" in str(raised.value)


def test_a_stored_calibrator_missing_a_key_or_not_a_mapping_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="'probabilities'"):
        calibrator_from_dict({"kind": "isotonic", "scores": [0.5]})
    with pytest.raises(InvalidInputError, match="must be a mapping"):
        calibrator_from_dict([0.5])  # type: ignore[arg-type]
    assert calibrator_from_dict(GOOD).apply([0.3]).tolist() == pytest.approx([0.25])


@pytest.mark.parametrize(
    ("scores", "labels", "weights", "reason"),
    [
        ([0.1, np.nan], [0, 1], None, "invalid_scores"),
        ([0.1, np.inf], [0, 1], None, "invalid_scores"),
        ([0.1, 0.2], [0, 2], None, "invalid_label"),
        ([0.1, 0.2], ["no", "yes"], None, "invalid_label"),
        ([0.1, 0.2], [0], None, "invalid_label"),
        ([0.1, 0.2], [0, 1], [1.0, -1.0], "invalid_weights"),
        ([0.1, 0.2], [0, 1], [1.0, np.nan], "invalid_weights"),
        ([0.1, 0.2], [0, 1], [1.0], "invalid_weights"),
    ],
)
def test_bad_rows_are_refused_with_a_reason_and_no_value_quoted(
    scores: list[float], labels: list[Any], weights: list[float] | None, reason: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        fit_isotonic(scores, labels, weights)
    assert raised.value.reason == reason
    assert "0.1" not in str(raised.value) and "yes" not in str(raised.value)


def test_no_row_of_positive_weight_is_too_little_data() -> None:
    with pytest.raises(InsufficientDataError) as raised:
        fit_isotonic([0.1, 0.2], [0, 1], [0.0, 0.0])
    assert raised.value.reason == "no_rows"
    with pytest.raises(InsufficientDataError):
        fit_isotonic([], [])
