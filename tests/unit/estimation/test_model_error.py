"""The estimator's error beyond sampling, measured on the baseline's consecutive blocks.

The oracle re-does the measurement with scikit-learn: its isotonic regression fitted on the
other blocks, its metrics on each chunk's labels, and the figures gathered in plain Python;
only the estimate and its sampling variance come from the core (they have their own tests).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import sklearn.metrics as sk
from sklearn.isotonic import IsotonicRegression

from driftline.errors import InvalidInputError
from driftline.estimation import ESTIMATED_METRICS, IdentityCalibrator, ScoreCells, estimate_binary
from driftline.estimation.baseline import BaselineCalibration
from driftline.estimation.calibration import IsotonicCalibrator
from driftline.estimation.model_error import (
    MIN_CHUNK_ROWS,
    ModelError,
    ModelErrorTerm,
    measure_model_error,
    realised_metrics,
)
from driftline.estimation.sampling import sampling_variances


def baseline(rows: int, seed: int, *, drift: bool = False) -> tuple[Any, Any, Any]:
    """Scores, labels and predicted classes; ``P(y = 1 | s)`` is ``s²`` (miscalibrated), and
    with ``drift`` ``s`` in the second half of the rows."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(size=rows)
    truth = np.where(drift & (np.arange(rows) >= rows // 2), scores, scores**2)
    positive = rng.uniform(size=rows) < truth
    return scores, positive, (scores >= 0.5).astype(np.int8)


def oracle(scores: Any, positive: Any, predicted: Any, blocks: int, chunks: int) -> dict[str, Any]:
    errors: dict[str, list[float]] = {name: [] for name in ESTIMATED_METRICS}
    variances: dict[str, list[float]] = {name: [] for name in ESTIMATED_METRICS}
    rows = scores.size
    for k in range(blocks):
        start, end = k * rows // blocks, (k + 1) * rows // blocks
        others = np.r_[0:start, end:rows]
        fitted = IsotonicRegression(out_of_bounds="clip").fit(scores[others], positive[others])
        calibrator = IsotonicCalibrator(fitted.X_thresholds_, fitted.y_thresholds_)
        for chunk in np.array_split(np.arange(start, end), chunks):
            cells = ScoreCells.from_arrays(scores[chunk], predicted[chunk])
            estimate = estimate_binary(cells, calibrator).metrics
            spread = sampling_variances(cells, calibrator)
            y, yhat = positive[chunk], predicted[chunk]
            realised = {
                "accuracy": sk.accuracy_score(y, yhat),
                "precision": sk.precision_score(y, yhat),
                "recall": sk.recall_score(y, yhat),
                "specificity": sk.recall_score(y, yhat, pos_label=0),
                "f1": sk.f1_score(y, yhat),
                "auc": sk.roc_auc_score(y, scores[chunk]),
            }
            for name in ESTIMATED_METRICS:
                errors[name].append(estimate[name] - realised[name])
                variances[name].append(spread[name])
    return {
        name: (
            sum(errors[name]) / len(errors[name]),
            max(0.0, np.mean(np.square(errors[name])) - np.mean(variances[name])),
            len(errors[name]),
        )
        for name in ESTIMATED_METRICS
    }


def test_the_terms_are_the_mean_and_excess_squared_error_of_held_out_chunks() -> None:
    # GIVEN a miscalibrated baseline of 6,000 rows in file order
    scores, positive, predicted = baseline(6_000, seed=1)
    # WHEN its model error is measured in 10 blocks of 5 chunks
    measured = measure_model_error(scores, positive, predicted, calibrate=True)
    # THEN each term is the oracle's: calibrators fitted by scikit-learn on the other blocks,
    # metrics by scikit-learn on each chunk of 120 rows
    expected = oracle(scores, positive, predicted, blocks=10, chunks=5)
    assert (measured.rows, measured.chunk_rows) == (6_000, 120)
    assert set(measured.terms) == set(ESTIMATED_METRICS)
    for name, (mean_error, excess, chunks) in expected.items():
        term = measured.terms[name]
        assert term.mean_error == pytest.approx(mean_error, abs=1e-9), name
        assert term.excess_variance == pytest.approx(excess, abs=1e-9), name
        assert term.chunks == chunks == 50


def test_a_baseline_whose_labels_change_half_way_has_a_larger_term_than_a_steady_one() -> None:
    # GIVEN two baselines of 20,000 rows: one steady, one whose P(y | s) changes half way
    steady = measure_model_error(*baseline(20_000, seed=2), calibrate=True)
    changing = measure_model_error(*baseline(20_000, seed=2, drift=True), calibrate=True)
    # THEN the change shows as error beyond sampling on every metric but accuracy, whose
    # gains among the rows predicted 1 and losses among those predicted 0 balance out here
    for name in ("precision", "recall", "specificity", "f1", "auc"):
        assert changing.terms[name].sd > steady.terms[name].sd + 0.015, name
    # AND the same rows shuffled (no period differs from another) show almost none of it:
    # the term reads the order of the file
    scores, positive, predicted = baseline(20_000, seed=2, drift=True)
    order = np.random.default_rng(0).permutation(scores.size)
    shuffled = measure_model_error(scores[order], positive[order], predicted[order], calibrate=True)
    assert shuffled.terms["precision"].sd < changing.terms["precision"].sd / 3


def test_the_same_rows_give_the_same_terms_to_the_bit() -> None:
    rows = baseline(8_000, seed=3)
    first = measure_model_error(*rows, calibrate=True)
    assert measure_model_error(*rows, calibrate=True) == first


def test_without_calibration_the_held_out_blocks_read_the_raw_scores() -> None:
    # GIVEN a baseline whose decision was not to calibrate
    scores, positive, predicted = baseline(5_000, seed=4)
    measured = measure_model_error(scores, positive, predicted, calibrate=False)
    # THEN every chunk is estimated with the identity, as the baseline's calibrator would:
    # the raw scores overstate P(y = 1 | s) = s², so precision is overestimated by about
    # 0.75 - 0.58 on every chunk, and the term holds that error
    chunk = np.arange(0, 100)
    cells = ScoreCells.from_arrays(scores[chunk], predicted[chunk])
    first_error = (
        estimate_binary(cells, IdentityCalibrator()).metrics["precision"]
        - realised_metrics(scores[chunk], positive[chunk], predicted[chunk])["precision"]
    )
    assert first_error > 0.05
    assert measured.terms["precision"].mean_error == pytest.approx(0.17, abs=0.03)
    assert measured.terms["precision"].sd > 0.15


def test_rows_without_a_predicted_class_are_left_out_and_large_baselines_thinned_in_order() -> None:
    # GIVEN 20,000 rows of which every tenth has no predicted class
    scores, positive, predicted = baseline(20_000, seed=5)
    predicted[::10] = -1
    # WHEN measured on at most 6,000 rows
    measured = measure_model_error(scores, positive, predicted, calibrate=True, max_rows=6_000)
    # THEN the 18,000 rows with a class are thinned to 6,000 at evenly spaced positions of the
    # file, and measured as those rows alone would be
    kept = predicted >= 0
    spaced = np.arange(6_000) * 18_000 // 6_000
    alone = measure_model_error(
        scores[kept][spaced], positive[kept][spaced], predicted[kept][spaced], calibrate=True
    )
    assert measured == alone and measured.rows == 6_000


def test_a_baseline_too_small_to_cut_into_chunks_has_no_terms_and_says_why() -> None:
    rows = 50 * MIN_CHUNK_ROWS - 1
    measured = measure_model_error(*baseline(rows, seed=6), calibrate=True)
    assert measured.terms == {}
    assert measured.skipped == (
        f"the baseline has {rows} labelled rows with a score and a predicted class; "
        f"measuring the estimator's error takes at least {50 * MIN_CHUNK_ROWS}"
    )
    assert ModelError.from_dict(json.loads(json.dumps(measured.to_dict()))) == measured


def test_realised_metrics_are_scikit_learns_and_leave_out_the_undefined() -> None:
    scores, positive, predicted = baseline(700, seed=7)
    realised = realised_metrics(scores, positive, predicted.astype(np.int64))
    assert realised["auc"] == pytest.approx(sk.roc_auc_score(positive, scores), abs=1e-12)
    assert realised["f1"] == pytest.approx(sk.f1_score(positive, predicted), abs=1e-12)
    one_class = realised_metrics(scores[:5], np.zeros(5, bool), np.zeros(5, np.int64))
    assert sorted(one_class) == ["accuracy", "specificity"]


def test_the_stored_terms_round_trip_with_the_baselines_calibration() -> None:
    # GIVEN a baseline calibration with its model-error terms, through JSON
    scores, positive, predicted = baseline(6_000, seed=8)
    calibration = BaselineCalibration.fitted(scores, positive, predicted)
    assert calibration.model_error is not None and calibration.model_error.terms
    document = json.loads(json.dumps(calibration.to_dict()))
    # THEN it reads back equal, terms and all
    assert BaselineCalibration.from_dict(document) == calibration
    assert set(document["model_error"]) == {"rows", "chunk_rows", "terms"}
    # AND a calibration stored before the terms were measured still reads, without them
    del document["model_error"]
    old = BaselineCalibration.from_dict(document)
    assert old.model_error is None and old.calibrator == calibration.calibrator


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"terms": {"auc": {"mean_error": 0.0, "excess_variance": -1e-6, "chunks": 50}}},
         "model_error.terms.auc.excess_variance"),
        ({"terms": {"f1": {"mean_error": "x", "excess_variance": 0.0, "chunks": 50}}},
         "model_error.terms.f1.mean_error"),
        ({"terms": {"f1": {"mean_error": 0.0, "excess_variance": 0.0, "chunks": 0}}},
         "model_error.terms.f1.chunks"),
        ({"terms": {"gini": {"mean_error": 0.0, "excess_variance": 0.0, "chunks": 5}}},
         "model_error.terms"),
        ({"chunk_rows": -1}, "model_error.chunk_rows"),
        ({"terms": []}, "model_error.terms"),
    ],
)  # fmt: skip
def test_a_broken_stored_term_is_refused_naming_its_key(change: dict[str, Any], key: str) -> None:
    stored = ModelError(5_000, 100, {"auc": ModelErrorTerm(0.001, 1e-5, 50)}).to_dict()
    stored.update(change)
    with pytest.raises(InvalidInputError) as raised:
        ModelError.from_dict(stored)
    assert raised.value.reason == "invalid_calibrator"
    assert raised.value.details["key"] == key
