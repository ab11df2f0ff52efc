"""Estimated binary performance against scikit-learn on duplicated rows: every row becomes a
positive of weight p and a negative of weight 1 - p, p the calibrated probability of its
cell's mean score; then accuracy, precision, recall, specificity and F1 on the predicted
classes and ROC AUC on the cell-mean scores, with those weights, equal the estimates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk
from hypothesis import example, given, settings
from hypothesis import strategies as st

from driftline.estimation import (
    ESTIMATED_METRICS,
    Calibrator,
    IdentityCalibrator,
    ScoreCells,
    estimate_binary,
    fit_isotonic,
)
from driftline.metrics.score_histograms import score_bin

TOLERANCE = 1e-9


def oracle(
    scores: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any], calibrator: Calibrator
) -> tuple[dict[str, float], float]:
    """The metrics scikit-learn computes on the duplicated rows (NaN where a denominator
    is zero), and the expected number of positives."""
    rows = pd.DataFrame({"s": scores, "yhat": predicted.astype(int)})
    rows["bin"] = score_bin(rows["s"].to_numpy())
    rows["mean"] = rows.groupby(["yhat", "bin"])["s"].transform("mean")
    p = calibrator.apply(rows["mean"].to_numpy())
    y = np.r_[np.ones(len(rows)), np.zeros(len(rows))]
    yhat = np.r_[rows["yhat"], rows["yhat"]]
    mean = np.r_[rows["mean"], rows["mean"]]
    weight = np.r_[p, 1 - p]
    nan = {"zero_division": np.nan}
    both = 0 < p.sum() < len(p)
    values = {
        "accuracy": sk.accuracy_score(y, yhat, sample_weight=weight),
        "precision": sk.precision_score(y, yhat, sample_weight=weight, **nan),
        "recall": sk.recall_score(y, yhat, sample_weight=weight, **nan),
        "specificity": sk.recall_score(y, yhat, pos_label=0, sample_weight=weight, **nan),
        "f1": sk.f1_score(y, yhat, sample_weight=weight, **nan),
        "auc": sk.roc_auc_score(y, mean, sample_weight=weight) if both else np.nan,
    }
    return values, float(p.sum())


def assert_matches_oracle(
    scores: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any], calibrator: Calibrator
) -> float:
    """The estimates of the rows' cells equal the oracle's (a metric the oracle finds
    undefined is undefined); returns the largest difference."""
    estimate = estimate_binary(ScoreCells.from_arrays(scores, predicted), calibrator)
    expected, positives = oracle(scores, predicted, calibrator)
    assert estimate.rows == scores.size
    assert estimate.expected_positives == pytest.approx(positives, rel=1e-12, abs=1e-9)
    assert set(estimate.metrics) | set(estimate.undefined) == set(ESTIMATED_METRICS)
    worst = 0.0
    for name, value in expected.items():
        if np.isnan(value):
            assert name in estimate.undefined, name
        else:
            difference = abs(estimate.metrics[name] - value)
            assert difference <= TOLERANCE, (name, estimate.metrics[name], value)
            worst = max(worst, difference)
    return worst


def baseline_calibrator(seed: int) -> Calibrator:
    """Isotonic, fitted on 3,000 baseline rows whose true probability is the score squared."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(size=3_000)
    return fit_isotonic(scores, rng.uniform(size=scores.size) < scores**2)


@pytest.mark.parametrize("kind", ["uniform", "rounded", "beta", "confident"])
@pytest.mark.parametrize("calibrated", [False, True])
def test_estimates_equal_scikit_learn_on_duplicated_rows(kind: str, calibrated: bool) -> None:
    # GIVEN 20,000 scores of one kind, the class predicted at a threshold for most rows
    # and against it for some, and a calibrator (isotonic, or none)
    rng = np.random.default_rng(len(kind) + calibrated)
    n = 20_000
    scores = {
        "uniform": rng.uniform(size=n),
        "rounded": np.round(rng.uniform(size=n), 2),
        "beta": rng.beta(0.5, 3.0, size=n),
        "confident": 1 / (1 + np.exp(-rng.normal(0, 8, size=n))),
    }[kind]
    predicted = (scores >= 0.4) ^ (rng.uniform(size=n) < 0.05)
    calibrator = baseline_calibrator(7) if calibrated else IdentityCalibrator()

    # WHEN estimated from the cells THEN every metric equals scikit-learn's on the
    # duplicated rows
    assert_matches_oracle(scores, predicted, calibrator)


rows = st.lists(
    st.tuples(
        st.one_of(st.floats(0.0, 1.0), st.integers(0, 20).map(lambda k: k / 20)),
        st.booleans(),
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(rows, st.booleans())
@example([(5e-324, True)], False)  # a subnormal score: P * N underflowed in AUC
@example([(5e-324, False)], False)  # and (FP + FN) / 2 in F1
def test_estimates_equal_scikit_learn_for_any_rows(
    rows: list[tuple[float, bool]], calibrated: bool
) -> None:
    # GIVEN any scored rows (ties, scores of 0 and 1, one predicted class only) and a
    # calibrator WHEN estimated THEN scikit-learn agrees, undefined metrics included
    scores = np.array([s for s, _ in rows])
    predicted = np.array([p for _, p in rows])
    calibrator = baseline_calibrator(1) if calibrated else IdentityCalibrator()
    assert_matches_oracle(scores, predicted, calibrator)


def test_estimates_of_merged_cells_equal_the_estimates_of_the_whole() -> None:
    # GIVEN a day of rows in 24 hourly batches
    rng = np.random.default_rng(8)
    scores = rng.beta(2, 5, size=24_000)
    predicted = scores >= 0.3
    calibrator = baseline_calibrator(3)
    merged = ScoreCells.empty()
    for hour in range(24):
        part = slice(hour * 1000, (hour + 1) * 1000)
        merged = merged.merge(ScoreCells.from_arrays(scores[part], predicted[part]))

    # WHEN estimated from the merged cells and from the cells of all rows at once
    day = estimate_binary(merged, calibrator)
    whole = estimate_binary(ScoreCells.from_arrays(scores, predicted), calibrator)

    # THEN the estimates agree to float rounding
    assert day.metrics.keys() == whole.metrics.keys()
    for name, value in whole.metrics.items():
        assert day.metrics[name] == pytest.approx(value, rel=1e-12)


def test_a_calibrated_score_estimates_the_realised_metrics() -> None:
    # GIVEN 200,000 rows whose labels are drawn from their (calibrated) scores
    rng = np.random.default_rng(12)
    scores = rng.beta(2, 2, size=200_000)
    labels = rng.uniform(size=scores.size) < scores
    predicted = scores >= 0.5

    # WHEN their performance is estimated without the labels
    estimate = estimate_binary(ScoreCells.from_arrays(scores, predicted), IdentityCalibrator())

    # THEN each estimate is within sampling error of the metric the labels give
    realised = {
        "accuracy": sk.accuracy_score(labels, predicted),
        "precision": sk.precision_score(labels, predicted),
        "recall": sk.recall_score(labels, predicted),
        "specificity": sk.recall_score(labels, predicted, pos_label=False),
        "f1": sk.f1_score(labels, predicted),
        "auc": sk.roc_auc_score(labels, scores),
    }
    for name, value in realised.items():
        assert estimate.metrics[name] == pytest.approx(value, abs=0.006), name
    assert estimate.expected_positives == pytest.approx(labels.sum(), rel=0.01)


def test_zero_denominators_give_reasons_not_numbers() -> None:
    identity = IdentityCalibrator()
    # GIVEN no row predicted positive THEN precision is undefined, F1 is 0 (positives
    # are expected, none is found)
    none_predicted = estimate_binary(ScoreCells.from_arrays([0.2, 0.6], [0, 0]), identity)
    assert "no row is predicted positive" in none_predicted.undefined["precision"]
    assert none_predicted.metrics["f1"] == 0.0
    # GIVEN every probability 0 THEN recall and AUC are undefined, and F1 too when
    # nothing is predicted positive
    zeros = estimate_binary(ScoreCells.from_arrays([0.0, 0.0], [0, 0]), identity)
    assert {"recall", "auc", "f1", "precision"} <= zeros.undefined.keys()
    assert zeros.metrics == {"accuracy": 1.0, "specificity": 1.0}
    # GIVEN every probability 1 THEN specificity and AUC are undefined
    ones = estimate_binary(ScoreCells.from_arrays([1.0, 1.0], [1, 0]), identity)
    assert {"specificity", "auc"} == ones.undefined.keys()
    # GIVEN no binned row THEN nothing is defined, and the rows are 0
    empty = estimate_binary(ScoreCells.from_arrays([np.nan, 2.0], [1, 0]), identity)
    assert empty.rows == 0 and empty.metrics == {}
    assert set(empty.undefined) == set(ESTIMATED_METRICS)
    for reason in (*none_predicted.undefined.values(), *zeros.undefined.values()):
        assert reason.split(" ")[2] == "undefined:"


def test_the_estimate_is_json_safe() -> None:
    estimate = estimate_binary(
        ScoreCells.from_arrays([0.2, 0.7, 0.9], [0, 1, 1]), baseline_calibrator(2)
    )
    stored = estimate.to_dict()
    assert stored["rows"] == 3 and set(stored["metrics"]) == set(ESTIMATED_METRICS)
    assert stored["true_positives"] + stored["false_positives"] == pytest.approx(2.0)
