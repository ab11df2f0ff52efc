"""A multiclass baseline's per-class calibrators and model-error terms, and reading the class
score columns of a chunk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftline.errors import InvalidInputError
from driftline.estimation.baseline import NO_LABEL_COLUMN, BaselineCalibration
from driftline.estimation.class_calibration import (
    NO_LABELLED_CLASS_SCORES,
    ClassCalibration,
    ClassCalibrationRows,
    realised_class_metrics,
)
from driftline.estimation.columns import ClassEstimationColumns, class_score_cells_of
from driftline.estimation.multiclass import (
    MULTICLASS_METRICS,
    ClassScoreCells,
    estimate_multiclass,
)


def baseline_rows(seed: int, rows: int, power: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows of three classes whose true class follows the scores raised to ``power`` and
    renormalised (1: calibrated)."""
    rng = np.random.default_rng(seed)
    scores = rng.dirichlet([1.5, 1.5, 1.5], size=rows)
    weights = scores**power / (scores**power).sum(axis=1, keepdims=True)
    truth = (rng.uniform(size=(rows, 1)) > weights.cumsum(axis=1)).sum(axis=1)
    return scores, truth


def test_each_class_is_calibrated_one_against_the_rest_as_a_binary_baseline_would_be() -> None:
    # GIVEN miscalibrated baseline rows of three classes
    scores, truth = baseline_rows(1, 6_000, 2.0)

    # WHEN the per-class calibrators are fitted
    calibration = ClassCalibration.fitted(
        scores, truth, scores.argmax(axis=1), classes=("a", "b", "c")
    )

    # THEN each class's is the binary calibration of its score against its label
    for k, fitted in enumerate(calibration.per_class):
        assert fitted == BaselineCalibration.fitted(scores[:, k], truth == k)
    assert calibration.calibrators is not None and len(calibration.calibrators) == 3
    assert all(c.kind == "isotonic" for c in calibration.calibrators)


def test_model_error_terms_are_measured_for_every_multiclass_metric_and_stored() -> None:
    # GIVEN a baseline of 10,000 rows in file order
    scores, truth = baseline_rows(2, 10_000, 1.0)

    # WHEN calibrated with the predicted classes
    calibration = ClassCalibration.fitted(scores, truth, scores.argmax(axis=1), classes=(0, 1, 2))

    # THEN every metric has a term over the 50 chunks, and it survives storing
    assert calibration.model_error is not None
    assert calibration.model_error.chunk_rows == 200
    assert set(calibration.model_error.terms) == set(MULTICLASS_METRICS)
    assert all(term.chunks == 50 for term in calibration.model_error.terms.values())
    assert ClassCalibration.from_dict(calibration.to_dict()) == calibration


def test_on_a_calibrated_baseline_the_estimate_is_near_the_realised_metrics() -> None:
    # GIVEN calibrated baseline rows, and new rows of the same kind with their labels
    scores, truth = baseline_rows(3, 20_000, 1.0)
    calibration = ClassCalibration.fitted(scores, truth, classes=(0, 1, 2))
    new_scores, new_truth = baseline_rows(4, 20_000, 1.0)
    predicted = new_scores.argmax(axis=1)

    # WHEN the new rows are estimated
    cells = ClassScoreCells.from_arrays(new_scores, predicted, classes=(0, 1, 2))
    assert calibration.calibrators is not None
    estimate = estimate_multiclass(cells, calibration.calibrators)

    # THEN each metric is within 0.01 of what the labels give
    realised = realised_class_metrics(new_scores, new_truth, predicted)
    for name in MULTICLASS_METRICS:
        assert estimate.metrics[name] == pytest.approx(realised[name], abs=0.01), name


def test_a_baseline_without_labels_or_labelled_rows_has_no_calibrators_and_says_why() -> None:
    columns = ClassEstimationColumns((0, 1), ("p0", "p1"), "yhat")
    assert ClassCalibrationRows(columns).calibration().skipped == NO_LABEL_COLUMN
    labelled = ClassEstimationColumns((0, 1), ("p0", "p1"), "yhat", "y")
    gathered = ClassCalibrationRows(labelled)
    gathered.add(pd.DataFrame({"p0": [0.5], "p1": [0.5], "yhat": [0], "y": [None]}))
    calibration = gathered.calibration()
    assert calibration.skipped == NO_LABELLED_CLASS_SCORES and calibration.calibrators is None


def test_rows_gathered_chunk_by_chunk_give_the_calibration_of_the_rows_together() -> None:
    # GIVEN a baseline file of three classes named as text, read in chunks
    scores, truth = baseline_rows(5, 3_000, 1.5)
    names = np.array(["low", "mid", "high"])
    frame = pd.DataFrame(
        {
            "p_low": scores[:, 0],
            "p_mid": scores[:, 1],
            "p_high": scores[:, 2],
            "pred": names[scores.argmax(axis=1)],
            "label": names[truth],
        }
    )
    columns = ClassEstimationColumns(
        ("low", "mid", "high"), ("p_low", "p_mid", "p_high"), "pred", "label"
    )

    # WHEN the rows are gathered from chunks of 700
    gathered = ClassCalibrationRows(columns)
    chunks = [frame.iloc[i : i + 700] for i in range(0, 3_000, 700)]
    passed = list(gathered.gathering(chunks))

    # THEN the chunks pass unchanged and the calibration is that of the rows together
    assert len(passed) == len(chunks)
    expected = ClassCalibration.fitted(
        scores, truth, scores.argmax(axis=1), classes=("low", "mid", "high")
    )
    assert gathered.calibration() == expected
    # and a chunk's cells count each row once
    cells = class_score_cells_of(frame, columns)
    assert cells.n == 3_000 and cells.classes == ("low", "mid", "high")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.update(classes=["a"]), "classes"),
        (lambda d: d.update(classes=[0, 1, 1.0]), "classes"),
        (lambda d: d["per_class"].pop(), "per_class"),
        (lambda d: d.update(model_error=[1]), "model_error"),
    ],
)
def test_a_stored_class_calibration_that_breaks_the_rules_is_refused_naming_the_key(
    change: object, key: str
) -> None:
    scores, truth = baseline_rows(6, 500, 1.0)
    data = ClassCalibration.fitted(scores, truth, classes=(0, 1, 2)).to_dict()
    change(data)  # type: ignore[operator]
    with pytest.raises(InvalidInputError) as raised:
        ClassCalibration.from_dict(data)
    assert raised.value.reason == "invalid_calibrator"
    assert raised.value.details["key"] == key
