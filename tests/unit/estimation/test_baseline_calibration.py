"""The calibrator a baseline stores: fitted by build_calibrator on the labelled, scored rows
gathered chunk by chunk, thinned the same way whatever the order of the rows past the cap,
stored and read back exactly, and refused naming the key when the stored form is broken."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.errors import InvalidInputError
from driftline.estimation import build_calibrator
from driftline.estimation.baseline import (
    NO_LABEL_COLUMN,
    NO_LABELLED_SCORES,
    BaselineCalibration,
    CalibrationRows,
    thin_rows,
)
from driftline.estimation.columns import EstimationColumns
from driftline.estimation.model_error import measure_model_error

COLUMNS = EstimationColumns(score="p", prediction="yhat", label="y")


def baseline(rows: int, seed: int) -> pd.DataFrame:
    """A miscalibrated score (P(y = 1 | p) = p squared), some rows unlabelled or unscored."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(size=rows)
    label = (rng.uniform(size=rows) < score**2).astype(float)
    label[rng.uniform(size=rows) < 0.1] = np.nan
    score[rng.uniform(size=rows) < 0.05] = np.nan
    return pd.DataFrame({"p": score, "y": label, "yhat": (score > 0.5).astype(float)})


def test_the_calibrator_is_build_calibrator_on_the_labelled_scored_rows_of_every_chunk() -> None:
    # GIVEN a baseline read in three chunks
    frame = baseline(6_000, seed=1)
    rows = CalibrationRows(COLUMNS)
    passed = list(rows.gathering(frame.iloc[i : i + 2_500] for i in range(0, 6_000, 2_500)))
    # WHEN the pass is over
    calibration = rows.calibration()
    # THEN the chunks went by unchanged, and the calibrator and decision are build_calibrator's
    # on the labelled rows with a score, all chunks together
    assert [len(chunk) for chunk in passed] == [2_500, 2_500, 1_000]
    kept = frame.dropna(subset=["p", "y"])
    calibrator, decision = build_calibrator(kept["p"].to_numpy(), kept["y"].to_numpy())
    assert calibration.rows == calibration.fitted_rows == len(kept)
    assert calibration.calibrator == calibrator and calibration.decision == decision
    assert decision.calibrate and calibrator.kind == "isotonic"  # p squared: miscalibrated


def test_the_model_error_is_measured_on_the_gathered_rows_in_the_order_of_the_file() -> None:
    # GIVEN a baseline of 6,000 rows, some unlabelled, unscored or without a predicted class,
    # read in three chunks
    frame = baseline(6_000, seed=5)
    frame.loc[frame.index % 17 == 0, "yhat"] = np.nan
    rows = CalibrationRows(COLUMNS)
    for start in range(0, 6_000, 2_500):
        rows.add(frame.iloc[start : start + 2_500])
    # WHEN the pass is over
    calibration = rows.calibration()
    # THEN the model error is measure_model_error's on the labelled, scored rows with a
    # predicted class, in file order, with the baseline's decision whether to calibrate
    kept = frame.dropna(subset=["p", "y", "yhat"])
    assert calibration.decision is not None
    expected = measure_model_error(
        kept["p"].to_numpy(),
        kept["y"].to_numpy() == 1,
        kept["yhat"].to_numpy().astype(np.int8),
        calibrate=calibration.decision.calibrate,
    )
    assert calibration.model_error == expected and expected.rows == len(kept)
    # AND the calibrator is fitted on the rows without a predicted class too
    assert calibration.rows == len(frame.dropna(subset=["p", "y"]))


def test_a_baseline_without_labels_or_label_column_has_no_calibrator_and_says_why() -> None:
    unlabelled = CalibrationRows(COLUMNS)
    unlabelled.add(pd.DataFrame({"p": [0.2, 0.7], "y": [None, None]}))
    assert unlabelled.calibration() == BaselineCalibration(0, skipped=NO_LABELLED_SCORES)
    no_column = CalibrationRows(EstimationColumns(score="p", prediction="yhat"))
    no_column.add(pd.DataFrame({"p": [0.2, 0.7]}))
    assert no_column.calibration() == BaselineCalibration(0, skipped=NO_LABEL_COLUMN)


def test_more_rows_than_the_cap_are_thinned_evenly_in_score_order() -> None:
    # GIVEN 10,000 rows of 2-decimal scores (heavy ties) and a cap of 1,000
    rng = np.random.default_rng(3)
    scores = np.round(rng.uniform(size=10_000), 2)
    positive = rng.uniform(size=10_000) < scores
    # WHEN fitted with the cap
    calibration = BaselineCalibration.fitted(scores, positive, max_rows=1_000)
    kept, kept_positive = thin_rows(scores, positive, 1_000)
    # THEN it is fitted on the thinned rows, and those keep every run of equal scores and its
    # positives in proportion, to a row
    assert (calibration.rows, calibration.fitted_rows) == (10_000, 1_000)
    calibrator, decision = build_calibrator(kept, kept_positive)
    assert calibration.calibrator == calibrator and calibration.decision == decision
    for value in np.unique(scores):
        here = scores == value
        assert abs(np.count_nonzero(kept == value) - here.sum() / 10) <= 1
        assert abs(np.count_nonzero(kept_positive[kept == value]) - positive[here].sum() / 10) <= 1


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20).map(lambda k: k / 20), st.booleans()), max_size=80),
    st.integers(1, 30),
    st.randoms(use_true_random=False),
)
def test_thinning_keeps_the_same_rows_whatever_their_order(
    rows: list[tuple[float, bool]], cap: int, shuffler: Any
) -> None:
    shuffled = list(rows)
    shuffler.shuffle(shuffled)
    first = thin_rows(np.array([s for s, _ in rows]), np.array([y for _, y in rows], bool), cap)
    second = thin_rows(
        np.array([s for s, _ in shuffled]), np.array([y for _, y in shuffled], bool), cap
    )
    assert sorted(zip(*first, strict=True)) == sorted(zip(*second, strict=True))
    assert len(first[0]) == min(cap, len(rows))


def test_the_stored_calibration_reads_back_equal() -> None:
    frame = baseline(3_000, seed=2)
    rows = CalibrationRows(COLUMNS)
    rows.add(frame)
    for calibration in (rows.calibration(), BaselineCalibration(0, skipped=NO_LABEL_COLUMN)):
        document = json.loads(json.dumps(calibration.to_dict(), allow_nan=False))
        assert BaselineCalibration.from_dict(document) == calibration


def stored() -> dict[str, Any]:
    rows = CalibrationRows(COLUMNS)
    rows.add(baseline(500, seed=4))
    return json.loads(json.dumps(rows.calibration().to_dict()))


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"rows": -1}, "rows"),
        ({"rows": True}, "rows"),
        ({"fitted_rows": 0}, "fitted_rows"),
        ({"fitted_rows": 10**6}, "fitted_rows"),
        ({"calibrator": None}, "calibrator"),
        ({"calibrator": {"kind": "platt"}}, "kind"),
        ({"decision": None}, "decision"),
        ({"decision": {"reason": "lower_error", "calibrate": "yes"}}, "decision.calibrate"),
        ({"decision": {"reason": "maybe"}}, "decision.reason"),
        ({"skipped": 3}, "skipped"),
        ({"model_error": []}, "model_error"),
        ({"model_error": {"rows": 5, "skipped": None}}, "model_error.skipped"),
    ],
)
def test_a_broken_stored_calibration_is_refused_naming_the_key(
    change: dict[str, Any], key: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        BaselineCalibration.from_dict({**stored(), **change})
    assert raised.value.reason == "invalid_calibrator"
    assert raised.value.details["key"] == key


@pytest.mark.parametrize("key", ["raw_error", "calibrated_error", "auc"])
def test_a_stored_decision_with_a_figure_that_is_not_a_number_is_refused(key: str) -> None:
    document = stored()
    document["decision"][key] = "0.1"
    with pytest.raises(InvalidInputError) as raised:
        BaselineCalibration.from_dict(document)
    assert raised.value.details["key"] == f"decision.{key}"


def test_the_unbroken_stored_calibration_is_read() -> None:
    # the fixture of the tests above is valid as it is: each failure there is its key's
    assert BaselineCalibration.from_dict(stored()).rows > 0
