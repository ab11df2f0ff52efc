"""Estimated multiclass performance against independent computations with scikit-learn.

Two oracles, neither using driftline's estimation code:

- rows whose class probabilities add up to 1 and are taken as they are (identity
  calibrators): every row is duplicated once per class ``k`` with true class ``k`` and
  weight ``p_k``, and scikit-learn's multiclass metrics with those sample weights (macro
  precision, recall and F1, accuracy, and the one-vs-rest macro ROC AUC) are the estimates;
- rows calibrated per class (isotonic, so a row's probabilities no longer add up to 1):
  per class, every row is a positive of weight ``p_k`` and a negative of weight ``1 - p_k``,
  scikit-learn's binary metrics with those weights are the class's one-vs-rest figures, and
  their mean the macro estimate; accuracy is the weighted share of rows whose predicted
  class is right (weight ``p`` of the predicted class) and wrong (``1 - p``).

Scores are on a grid of 0.01, where every distinct score has a bin of its own, so a cell's
mean score is the score of each of its rows.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import sklearn.metrics as sk
from sklearn.isotonic import IsotonicRegression

from driftline.errors import IncompatibleProfilesError, InvalidInputError
from driftline.estimation.calibration import Calibrator, IdentityCalibrator, fit_isotonic
from driftline.estimation.class_calibration import realised_class_metrics
from driftline.estimation.multiclass import (
    MULTICLASS_METRICS,
    ClassScoreCells,
    estimate_multiclass,
    multiclass_sampling_variances,
)

TOLERANCE = 1e-9
Array = np.ndarray[Any, Any]


def grid_probabilities(rng: np.random.Generator, rows: int, classes: int) -> Array:
    """Rows of class probabilities on a grid of 0.01 that add up to 1 (hundredths dealt by
    a multinomial draw around a random Dirichlet centre per row)."""
    centres = rng.dirichlet(np.full(classes, 0.8), size=rows)
    hundredths = np.array([rng.multinomial(100, centre) for centre in centres])
    return hundredths / 100.0


def sklearn_multiclass(probabilities: Array, predicted: Array) -> dict[str, float]:
    """The oracle for probabilities adding up to 1: every row once per class, true class k
    with weight p_k, through scikit-learn's multiclass metrics."""
    rows, classes = probabilities.shape
    truth = np.tile(np.arange(classes), rows)
    guess = np.repeat(predicted, classes)
    weight = probabilities.reshape(-1)
    scores = np.repeat(probabilities, classes, axis=0)
    labels = list(range(classes))
    macro = {"average": "macro", "labels": labels, "sample_weight": weight, "zero_division": 0}
    return {
        "accuracy": sk.accuracy_score(truth, guess, sample_weight=weight),
        "precision_macro": sk.precision_score(truth, guess, **macro),
        "recall_macro": sk.recall_score(truth, guess, **macro),
        "f1_macro": sk.f1_score(truth, guess, **macro),
        "auc_macro": sk.roc_auc_score(
            truth, scores, multi_class="ovr", average="macro", labels=labels, sample_weight=weight
        ),
    }


def sklearn_one_vs_rest(calibrated: Array, scores: Array, predicted: Array) -> dict[str, float]:
    """The oracle for per-class calibrated probabilities: each class's binary metrics on
    rows duplicated as a positive of weight p_k and a negative of weight 1 - p_k."""
    rows, classes = scores.shape
    per_class: dict[str, list[float]] = {"precision": [], "recall": [], "f1": [], "auc": []}
    truth = np.r_[np.ones(rows), np.zeros(rows)]
    for k in range(classes):
        guess = np.r_[predicted == k, predicted == k].astype(int)
        weight = np.r_[calibrated[:, k], 1.0 - calibrated[:, k]]
        score = np.r_[scores[:, k], scores[:, k]]
        zero = {"sample_weight": weight, "zero_division": 0}
        per_class["precision"].append(sk.precision_score(truth, guess, **zero))
        per_class["recall"].append(sk.recall_score(truth, guess, **zero))
        per_class["f1"].append(sk.f1_score(truth, guess, **zero))
        per_class["auc"].append(sk.roc_auc_score(truth, score, sample_weight=weight))
    right = calibrated[np.arange(rows), predicted]
    accuracy = sk.accuracy_score(
        np.r_[np.ones(rows), np.zeros(rows)],
        np.ones(2 * rows),
        sample_weight=np.r_[right, 1.0 - right],
    )
    return {
        "accuracy": accuracy,
        **{f"{name}_macro": float(np.mean(values)) for name, values in per_class.items()},
    }


@pytest.mark.parametrize(("seed", "classes", "rows"), [(1, 3, 500), (2, 4, 2_000), (3, 5, 300)])
def test_estimates_of_probabilities_adding_to_one_equal_sklearn_multiclass_metrics(
    seed: int, classes: int, rows: int
) -> None:
    # GIVEN rows whose class probabilities add up to 1, predicted mostly as their most
    # likely class and sometimes at random
    rng = np.random.default_rng(seed)
    probabilities = grid_probabilities(rng, rows, classes)
    predicted = np.where(
        rng.uniform(size=rows) < 0.8, probabilities.argmax(axis=1), rng.integers(classes, size=rows)
    )

    # WHEN their cells are estimated with the scores taken as they are
    cells = ClassScoreCells.from_arrays(probabilities, predicted, classes=tuple(range(classes)))
    estimate = estimate_multiclass(cells, [IdentityCalibrator()] * classes)

    # THEN every metric is scikit-learn's on the rows duplicated per class
    expected = sklearn_multiclass(probabilities, predicted)
    assert estimate.rows == rows
    assert tuple(estimate.metrics) == MULTICLASS_METRICS
    for name, value in expected.items():
        assert estimate.metrics[name] == pytest.approx(value, abs=TOLERANCE), name


def calibrators_for(seed: int, classes: int) -> list[Calibrator]:
    """Per class, isotonic on 3,000 baseline rows whose true class follows the probabilities
    squared and renormalised (so the raw scores are miscalibrated)."""
    rng = np.random.default_rng(seed)
    probabilities = grid_probabilities(rng, 3_000, classes)
    truth_weights = probabilities**2 / (probabilities**2).sum(axis=1, keepdims=True)
    truth = np.array([rng.choice(classes, p=row) for row in truth_weights])
    return [fit_isotonic(probabilities[:, k], truth == k) for k in range(classes)]


@pytest.mark.parametrize(("seed", "classes"), [(11, 3), (12, 4)])
def test_estimates_with_a_calibrator_per_class_equal_sklearn_one_vs_rest_metrics(
    seed: int, classes: int
) -> None:
    # GIVEN a calibrator per class fitted on miscalibrated baseline rows, and new rows
    calibrators = calibrators_for(seed, classes)
    rng = np.random.default_rng(seed + 100)
    scores = grid_probabilities(rng, 1_500, classes)
    predicted = scores.argmax(axis=1)

    # WHEN the new rows' cells are estimated
    cells = ClassScoreCells.from_arrays(scores, predicted, classes=tuple(range(classes)))
    estimate = estimate_multiclass(cells, calibrators)

    # THEN each metric is the oracle's on each class's calibrated probabilities (which no
    # longer add up to 1 per row)
    calibrated = np.column_stack([c.apply(scores[:, k]) for k, c in enumerate(calibrators)])
    assert np.abs(calibrated.sum(axis=1) - 1.0).max() > 0.01
    expected = sklearn_one_vs_rest(calibrated, scores, predicted)
    for name, value in expected.items():
        assert estimate.metrics[name] == pytest.approx(value, abs=TOLERANCE), name
    # and each class's expected share is its mean calibrated probability
    assert estimate.expected_shares == pytest.approx(tuple(calibrated.mean(axis=0)), abs=1e-12)


def test_the_per_class_isotonic_fit_agrees_with_sklearn_isotonic_regression() -> None:
    # GIVEN baseline rows of three classes
    rng = np.random.default_rng(4)
    probabilities = grid_probabilities(rng, 2_000, 3)
    truth = np.array(
        [
            rng.choice(3, p=row)
            for row in probabilities**1.5 / (probabilities**1.5).sum(1, keepdims=True)
        ]
    )

    # WHEN each class is calibrated one against the rest, by driftline and by scikit-learn
    for k in range(3):
        ours = fit_isotonic(probabilities[:, k], truth == k)
        theirs = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(
            probabilities[:, k], truth == k
        )
        grid = np.linspace(0, 1, 101)

        # THEN they map every score alike
        assert np.abs(ours.apply(grid) - theirs.predict(grid)).max() < 1e-12


def test_a_window_of_merged_batches_is_estimated_as_its_rows_together() -> None:
    # GIVEN rows cut into five batches of uneven size
    rng = np.random.default_rng(5)
    scores = rng.dirichlet([1.0, 2.0, 3.0], size=4_000)
    predicted = scores.argmax(axis=1)
    classes = ("x", "y", "z")
    cuts = [0, 100, 1_300, 1_301, 2_900, 4_000]

    # WHEN each batch is reduced to cells and the cells are merged
    batches = [
        ClassScoreCells.from_arrays(scores[a:b], predicted[a:b], classes=classes)
        for a, b in itertools.pairwise(cuts)
    ]
    merged = batches[0]
    for batch in batches[1:]:
        merged = merged.merge(batch)
    whole = ClassScoreCells.from_arrays(scores, predicted, classes=classes)

    # THEN the counts are the same and the estimate equal to float rounding of score sums
    for mine, theirs in zip(merged.cells, whole.cells, strict=True):
        assert np.array_equal(mine.counts, theirs.counts)
    calibrators = [IdentityCalibrator()] * 3
    one, other = estimate_multiclass(merged, calibrators), estimate_multiclass(whole, calibrators)
    for name in MULTICLASS_METRICS:
        assert one.metrics[name] == pytest.approx(other.metrics[name], abs=1e-12)


def test_rows_that_cannot_be_estimated_are_counted_by_why_and_left_out_of_every_class() -> None:
    # GIVEN rows with a missing score, a score above 1 and an undeclared predicted class
    scores = [[0.5, 0.5], [np.nan, 0.2], [1.2, 0.1], [0.4, 0.6], [0.3, 0.7]]
    predicted = [0, 1, 0, -1, 1]

    # WHEN they are reduced to cells
    cells = ClassScoreCells.from_arrays(scores, predicted, classes=(0, 1))

    # THEN two rows are in every class's cells and each other row is counted once
    assert cells.n == 2 and [c.n for c in cells.cells] == [2, 2]
    assert cells.left_out == {"score_missing": 1, "score_out_of_range": 1, "prediction_unknown": 1}


def test_class_cells_round_trip_and_refuse_cells_of_other_classes() -> None:
    # GIVEN the cells of a batch
    rng = np.random.default_rng(6)
    scores = rng.dirichlet([1.0, 1.0, 1.0], size=50)
    cells = ClassScoreCells.from_arrays(scores, scores.argmax(axis=1), classes=(1, 2, "c"))

    # WHEN they are stored and read back
    again = ClassScoreCells.from_dict(cells.to_dict())

    # THEN they are equal, and cells of other classes do not merge with them
    assert again == cells
    other = ClassScoreCells.from_arrays(scores, scores.argmax(axis=1), classes=(1, 2, "d"))
    with pytest.raises(IncompatibleProfilesError) as raised:
        cells.merge(other)
    assert raised.value.reason == "different_classes"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.pop("classes"), "classes"),
        (lambda d: d["cells"].pop(), "cells"),
        (lambda d: d.update(score_missing=-1), "score_missing"),
        (
            lambda d: d["cells"][0]["predicted_positive"].update(
                counts=[1] * 0, steps=[], score_sums=[]
            ),
            "cells",
        ),
    ],
)
def test_stored_class_cells_that_break_the_rules_are_refused_naming_the_key(
    change: Any, key: str
) -> None:
    # GIVEN stored cells with one thing wrong
    scores = np.array([[0.6, 0.4], [0.2, 0.8], [0.7, 0.3]])
    data = ClassScoreCells.from_arrays(scores, [0, 1, 0], classes=(0, 1)).to_dict()
    change(data)

    # WHEN they are read, THEN the error names the key
    with pytest.raises(InvalidInputError) as raised:
        ClassScoreCells.from_dict(data)
    assert raised.value.reason == "invalid_score_cells"
    assert raised.value.details["key"] == key


def test_a_class_none_is_predicted_counts_zero_in_the_macro_metrics() -> None:
    # GIVEN rows of three classes of which none is predicted class 2
    scores = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4], [0.3, 0.6, 0.1]])
    predicted = np.array([0, 1, 0, 1])

    # WHEN estimated
    cells = ClassScoreCells.from_arrays(scores, predicted, classes=(0, 1, 2))
    estimate = estimate_multiclass(cells, [IdentityCalibrator()] * 3)

    # THEN class 2's precision, recall and F1 count 0 (scikit-learn's zero_division=0)
    expected = sklearn_multiclass(scores, predicted)
    assert estimate.metrics["precision_macro"] == pytest.approx(expected["precision_macro"])
    assert "precision" in estimate.per_class[2].undefined


def test_without_rows_every_metric_is_undefined_with_the_reason() -> None:
    cells = ClassScoreCells.empty((0, 1, 2))
    estimate = estimate_multiclass(cells, [IdentityCalibrator()] * 3)
    assert estimate.metrics == {} and set(estimate.undefined) == set(MULTICLASS_METRICS)
    assert multiclass_sampling_variances(cells, [IdentityCalibrator()] * 3) == {}


def test_accuracy_and_macro_precision_variances_match_a_simulation_of_the_labels() -> None:
    # GIVEN 1,000 rows of four classes whose labels are drawn from their probabilities
    rng = np.random.default_rng(8)
    scores = grid_probabilities(rng, 1_000, 4)
    predicted = scores.argmax(axis=1)
    cells = ClassScoreCells.from_arrays(scores, predicted, classes=(0, 1, 2, 3))
    variances = multiclass_sampling_variances(cells, [IdentityCalibrator()] * 4)

    # WHEN the labels are drawn 4,000 times and the realised metrics measured
    draws = 4_000
    cumulative = scores.cumsum(axis=1)
    realised: dict[str, list[float]] = {"accuracy": [], "precision_macro": []}
    for _ in range(draws):
        truth = (rng.uniform(size=(1_000, 1)) > cumulative).sum(axis=1)
        realised["accuracy"].append(float(np.mean(truth == predicted)))
        realised["precision_macro"].append(
            sk.precision_score(
                truth, predicted, average="macro", labels=[0, 1, 2, 3], zero_division=0
            )
        )

    # THEN their standard deviations are the formulas' (exact for both) within the noise of
    # 4,000 draws (about 1.1 % relative)
    for name, values in realised.items():
        assert np.std(values) == pytest.approx(np.sqrt(variances[name]), rel=0.04), name


def test_the_variances_leaving_out_the_covariance_between_classes_are_about_a_fifth_short() -> None:
    # GIVEN 1,000 rows of three classes whose labels are drawn from their probabilities
    rng = np.random.default_rng(9)
    scores = grid_probabilities(rng, 1_000, 3)
    predicted = scores.argmax(axis=1)
    cells = ClassScoreCells.from_arrays(scores, predicted, classes=(0, 1, 2))
    variances = multiclass_sampling_variances(cells, [IdentityCalibrator()] * 3)

    # WHEN the labels are drawn 2,000 times and the realised metrics measured
    cumulative = scores.cumsum(axis=1)
    realised: dict[str, list[float]] = {"recall_macro": [], "f1_macro": [], "auc_macro": []}
    for _ in range(2_000):
        truth = (rng.uniform(size=(1_000, 1)) > cumulative).sum(axis=1)
        metrics = realised_class_metrics(scores, truth, predicted)
        for name, values in realised.items():
            values.append(metrics[name])

    # THEN the formulas' standard deviations fall short of the simulated ones, by the share
    # docs/performance.md states (0.78-0.85 of them measured): a row of one class is not of
    # another, a covariance the per-class cells cannot give
    for name, values in realised.items():
        ratio = np.sqrt(variances[name]) / np.std(values)
        assert 0.7 < ratio < 0.92, (name, ratio)
