"""Estimated performance through driftline's own profiles and evaluations.

A binary classifier's baseline is labelled; its current data is not (or only partly). The
estimate in ``performance.estimated`` must be the estimation core's on the same rows: the
calibrator ``build_calibrator`` fits on the baseline's labelled, scored rows, applied to the
cells of every current row with a predicted class (``estimate_binary`` on
``ScoreCells.from_arrays``), and around it the interval of the cells' sampling variance
and the model-error terms measured on the baseline's rows in file order. As an independent
check, on data calibrated by construction (the true probability of a positive is known) the
estimate is near the metrics scikit-learn measures on the labels held back.
"""

from __future__ import annotations

import json
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk
from scipy.stats import norm

from driftline.cli import main
from driftline.config import load_monitor_definition
from driftline.estimation import IdentityCalibrator, ScoreCells, build_calibrator, estimate_binary
from driftline.estimation.baseline import BaselineCalibration
from driftline.estimation.performance import BASELINE_PREDATES, CELLS_PREDATE, MODEL_ERROR_PREDATES
from driftline.estimation.sampling import sampling_variances
from driftline.evaluation import evaluate, profile_spec
from driftline.profile.dataset import DatasetProfile, Reference, build_reference, profile_frames

DEFINITION = """
model: churn
schema:
  id: customer_id
  task: binary_classification
  prediction: churn_predicted
  score: churn_score
  label: churned
  positive_class: 1
  features: {tenure: numeric, plan: categorical}
  segments: [plan]
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
"""
METRICS = ("accuracy", "precision", "recall", "specificity", "f1", "auc")


def rows(count: int, *, seed: int, threshold: float = 0.5) -> pd.DataFrame:
    """Rows whose true probability of churning is the score squared: the raw score is
    miscalibrated, so the estimate is right only through the baseline's calibrator."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(size=count)
    return pd.DataFrame(
        {
            "customer_id": np.arange(count),
            "tenure": rng.gamma(2.0, 12.0, count).round(1),
            "plan": rng.choice(["basic", "plus", "pro"], count, p=[0.5, 0.3, 0.2]),
            "churn_score": score,
            "churn_predicted": (score >= threshold).astype(int),
            "churned": (rng.uniform(size=count) < score**2).astype(int),
        }
    )


def oracle(baseline: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """The core's estimate of the current rows, with a calibrator fitted on the baseline, and
    each metric's interval: value ± z(0.975)·√(sampling variance + the baseline's term),
    clipped to [0, 1] (the baseline's rows are all labelled, scored and predicted); Gini is
    2 AUC − 1, with both ends of AUC's interval mapped the same way."""
    calibration = BaselineCalibration.fitted(
        baseline["churn_score"].to_numpy(),
        baseline["churned"].to_numpy() == 1,
        baseline["churn_predicted"].to_numpy().astype(np.int8),
    )
    assert calibration.calibrator is not None and calibration.model_error is not None
    cells = ScoreCells.from_arrays(current["churn_score"], current["churn_predicted"])
    expected = estimate_binary(cells, calibration.calibrator).to_dict()
    variances = sampling_variances(cells, calibration.calibrator)
    terms = calibration.model_error.terms
    expected["intervals"] = {}
    for name, value in expected["metrics"].items():
        half = norm.ppf(0.975) * np.sqrt(variances[name] + terms[name].excess_variance)
        expected["intervals"][name] = (max(0.0, value - half), min(1.0, value + half))
    expected["metrics"]["gini"] = 2 * expected["metrics"]["auc"] - 1
    expected["intervals"]["gini"] = tuple(2 * end - 1 for end in expected["intervals"]["auc"])
    return expected


def assert_is_the_oracle(section: dict[str, Any], expected: dict[str, Any]) -> None:
    """One scope of ``performance.estimated`` holds the oracle's metrics and intervals (to
    the rounding of score sums added in another order)."""
    assert set(section) == set(expected["metrics"])
    for name, value in expected["metrics"].items():
        lower, upper = expected["intervals"][name]
        assert section[name] == {
            "value": pytest.approx(value, rel=1e-12),
            "lower": pytest.approx(lower, rel=1e-9),
            "upper": pytest.approx(upper, rel=1e-9),
            "method": "cbpe",
        }


def write_files(tmp_path: Path, current: pd.DataFrame) -> tuple[Path, Path, Path]:
    config, reference, data = tmp_path / "churn.yaml", tmp_path / "ref.csv", tmp_path / "cur.csv"
    config.write_text(DEFINITION, encoding="utf-8")
    rows(20_000, seed=1).to_csv(reference, index=False)
    current.to_csv(data, index=False)
    return config, reference, data


def run_evaluate(
    capsys: pytest.CaptureFixture[str], config: Path, reference: Path, current: Path
) -> dict[str, Any]:
    main(
        [
            "evaluate",
            "--config",
            str(config),
            "--reference",
            str(reference),
            "--current",
            str(current),
            "--chunk-rows",
            "3000",
        ]
    )
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_evaluate_estimates_an_unlabelled_batch_with_the_baselines_calibrator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a labelled baseline and a current file of 20,000 rows without labels
    labelled = rows(20_000, seed=2)
    config, reference, current = write_files(tmp_path, labelled.drop(columns="churned"))

    # WHEN `driftline evaluate` runs, with no new flag, reading in chunks of 3,000 rows
    document = run_evaluate(capsys, config, reference, current)

    # THEN the estimate, overall and per plan, is the core's on the same rows
    estimated = document["performance"]["estimated"]
    baseline, read = pd.read_csv(reference), pd.read_csv(current)
    expected = oracle(baseline, read)
    assert estimated["method"] == "cbpe"
    assert_is_the_oracle(estimated["overall"], expected)
    assert estimated["rows"]["overall"] == 20_000
    assert estimated["expected_positive_share"]["overall"] == pytest.approx(
        expected["expected_positives"] / 20_000, rel=1e-12
    )
    assert estimated["left_out"]["overall"] == {
        "score_missing": 0,
        "score_out_of_range": 0,
        "prediction_missing": 0,
    }
    assert sorted(estimated["segments"]) == ["plan=basic", "plan=plus", "plan=pro"]
    assert estimated["undefined"] == {
        "overall": {},
        "segments": {key: {} for key in estimated["segments"]},
    }
    for key, section in estimated["segments"].items():
        plan = read[read["plan"] == key.removeprefix("plan=")]
        assert_is_the_oracle(section, oracle(baseline, plan))
        assert estimated["rows"]["segments"][key] == len(plan)
    # AND the calibration is the baseline's: isotonic (the score is miscalibrated), fitted
    # on all its 20,000 labelled rows, with both errors of the decision
    calibrator, decision = build_calibrator(baseline["churn_score"], baseline["churned"])
    assert estimated["calibration"] == {
        "rows": 20_000,
        "fitted_rows": 20_000,
        "calibrator": "isotonic",
        **decision.to_dict(),
    }
    assert decision.calibrate and calibrator.kind == "isotonic"
    # AND every interval covers sampling and the error measured on the baseline: 20,000
    # rows in 10 blocks of 5 chunks of 400
    interval = estimated["interval"]
    assert set(interval["covers"].values()) == {"sampling_and_model_error"}
    assert (interval["model_error"]["rows"], interval["model_error"]["chunk_rows"]) == (20_000, 400)

    # AND, the data being calibrated by construction, the estimate is near the metrics the
    # held-back labels give (20,000 rows: a few thousandths of sampling error)
    y, predicted = labelled["churned"], labelled["churn_predicted"]
    realised = {
        "accuracy": sk.accuracy_score(y, predicted),
        "precision": sk.precision_score(y, predicted),
        "recall": sk.recall_score(y, predicted),
        "specificity": sk.recall_score(y, predicted, pos_label=0),
        "f1": sk.f1_score(y, predicted),
        "auc": sk.roc_auc_score(y, labelled["churn_score"]),
    }
    for name, value in realised.items():
        assert estimated["overall"][name]["value"] == pytest.approx(value, abs=0.02), name
        section = estimated["overall"][name]
        assert section["lower"] < section["value"] < section["upper"], name
    # the raw scores read as probabilities would be far off: the calibrator does the work
    raw = estimate_binary(
        ScoreCells.from_arrays(read["churn_score"], read["churn_predicted"]),
        IdentityCalibrator(),
    )
    assert abs(raw.metrics["precision"] - realised["precision"]) > 0.05

    # AND the same files evaluated again give the same estimate, to the bit
    assert run_evaluate(capsys, config, reference, current)["performance"]["estimated"] == (
        estimated
    )


def test_labelled_current_rows_are_estimated_too_every_row_counted_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN current rows of which a third carry their label, one without a score and one
    # without a predicted class
    current = rows(6_000, seed=3)
    current.loc[current.index % 3 != 0, "churned"] = np.nan
    current.loc[5, "churn_score"] = np.nan
    current.loc[7, "churn_predicted"] = np.nan
    config, reference, data = write_files(tmp_path, current)
    # WHEN evaluated
    document = run_evaluate(capsys, config, reference, data)
    # THEN the performance is measured on the 2,000 labelled rows and estimated on every row
    # with a score and a predicted class, labelled or not; the two others are counted
    performance = document["performance"]
    assert performance["labels"]["overall"]["labelled"] == 2_000
    estimated = performance["estimated"]
    read = pd.read_csv(data)
    assert_is_the_oracle(
        estimated["overall"], oracle(pd.read_csv(reference), read.drop(index=[5, 7]))
    )
    assert estimated["rows"]["overall"] == 5_998
    assert estimated["left_out"]["overall"] == {
        "score_missing": 1,
        "score_out_of_range": 0,
        "prediction_missing": 1,
    }


def definition_and_reference() -> tuple[Any, Reference, pd.DataFrame]:
    definition = load_monitor_definition(DEFINITION)
    baseline = rows(8_000, seed=4)
    spec = profile_spec(definition)
    chunks = [baseline.iloc[i : i + 3_000] for i in range(0, len(baseline), 3_000)]
    return definition, build_reference(lambda: chunks, spec), baseline


def stored(profile: DatasetProfile) -> DatasetProfile:
    """The profile as the profiling function stores it and the evaluate function reads it."""
    return DatasetProfile.from_dict(json.loads(json.dumps(profile.to_dict())))


def test_the_estimate_of_a_window_of_batches_is_the_estimate_of_all_its_rows() -> None:
    # GIVEN five hourly batches of different sizes, each profiled and stored on its own
    definition, reference, baseline = definition_and_reference()
    spec = profile_spec(definition)
    batches = [rows(size, seed=10 + i) for i, size in enumerate((700, 2_500, 40, 1_300, 900))]
    profiles = [stored(profile_frames([batch], spec, reference.bins)) for batch in batches]

    # WHEN the window is their merge, oldest first, and evaluated
    window = reduce(DatasetProfile.merge, profiles)
    estimated = evaluate(definition, reference, window, evaluation_id="w").to_dict()
    section = estimated["performance"]["estimated"]

    # THEN the estimate is the core's on the concatenated rows, overall and per segment
    everything = pd.concat(batches, ignore_index=True)
    assert_is_the_oracle(section["overall"], oracle(baseline, everything))
    for key, scope in section["segments"].items():
        plan = everything[everything["plan"] == key.removeprefix("plan=")]
        assert_is_the_oracle(scope, oracle(baseline, plan))
    assert section["rows"]["overall"] == len(everything)

    # AND merged again in the same order, the estimate is the same to the bit
    again = evaluate(
        definition, reference, reduce(DatasetProfile.merge, profiles), evaluation_id="w"
    ).to_dict()
    assert again["performance"]["estimated"] == section


def without_cells(document: dict[str, Any]) -> dict[str, Any]:
    """A profile document as version 3 wrote it: no score cells, overall or per segment."""
    body = {key: value for key, value in document.items() if key != "score_cells"}
    if "segments" in body:
        body["segments"] = {key: without_cells(s) for key, s in body["segments"].items()}
    return {**body, "version": 3} if "version" in body else body


def test_profiles_written_before_score_cells_load_and_the_estimate_says_they_predate_it() -> None:
    # GIVEN a batch profile stored by version 3 (no score cells) and one stored by version 4
    definition, reference, _ = definition_and_reference()
    spec = profile_spec(definition)
    new = profile_frames([rows(1_000, seed=20)], spec, reference.bins)
    old = DatasetProfile.from_dict(without_cells(new.to_dict()))
    assert old.score_cells is None and new.score_cells is not None

    # WHEN the old one is evaluated alone, and merged into a window with the new one
    for window in (old, old.merge(new), new.merge(old)):
        result = evaluate(definition, reference, window, evaluation_id="old").to_dict()
        # THEN the evaluation runs, measured performance and all, and the estimate is
        # skipped with the reason
        assert result["performance"]["estimated"] == {"skip": CELLS_PREDATE}
        assert result["rows"]["current"] == window.rows


def test_a_baseline_profiled_before_calibrators_were_stored_gives_a_skip_reason() -> None:
    # GIVEN a reference stored without a calibration (as version 3 wrote them)
    definition, reference, _ = definition_and_reference()
    document = reference.to_dict()
    del document["calibration"]
    old = Reference.from_dict(json.loads(json.dumps(document)))
    assert old.calibration is None
    current = profile_frames([rows(500, seed=21)], profile_spec(definition), old.bins)
    # WHEN evaluated THEN the estimate is skipped, saying to upload the baseline again
    result = evaluate(definition, old, current, evaluation_id="old").to_dict()
    assert result["performance"]["estimated"] == {"skip": BASELINE_PREDATES}


def test_a_baseline_stored_before_model_error_terms_gives_intervals_of_sampling_alone() -> None:
    # GIVEN a reference whose calibration was stored without model-error terms (as the
    # first version 4 baselines were)
    definition, reference, _ = definition_and_reference()
    document = reference.to_dict()
    del document["calibration"]["model_error"]
    old = Reference.from_dict(json.loads(json.dumps(document)))
    assert old.calibration is not None and old.calibration.model_error is None
    current_rows = rows(2_000, seed=22)
    current = profile_frames([current_rows], profile_spec(definition), old.bins)
    # WHEN evaluated
    result = evaluate(definition, old, current, evaluation_id="old").to_dict()
    # THEN the estimate is the same, its intervals cover sampling error alone, and the result
    # says so and why
    estimated = result["performance"]["estimated"]
    new = evaluate(definition, reference, current, evaluation_id="new").to_dict()
    assert estimated["interval"]["model_error"] == {"skip": MODEL_ERROR_PREDATES}
    assert set(estimated["interval"]["covers"].values()) == {"sampling"}
    calibrator = old.calibration.calibrator
    assert calibrator is not None
    cells = ScoreCells.from_arrays(current_rows["churn_score"], current_rows["churn_predicted"])
    variances = sampling_variances(cells, calibrator)
    for name in METRICS:
        section = estimated["overall"][name]
        assert section["value"] == new["performance"]["estimated"]["overall"][name]["value"]
        half = norm.ppf(0.975) * np.sqrt(variances[name])
        assert section["upper"] == pytest.approx(min(1.0, section["value"] + half), rel=1e-9)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"score": None}, "schema.score is not set: the estimate reads each row's score"),
        (
            {"prediction": None},
            "schema.prediction is not set: the estimate needs each row's predicted class",
        ),
        (
            {"task": "multiclass_classification", "score": None, "positive_class": None},
            "schema.class_scores is not set: the estimate reads each row's probability of "
            "every class",
        ),
    ],
)
def test_a_model_the_estimate_cannot_read_says_why(change: dict[str, Any], reason: str) -> None:
    # GIVEN a binary classifier without a score or without a prediction column, or a
    # multiclass one without a score column per class
    raw = load_monitor_definition(DEFINITION).model_dump(mode="json", by_alias=True)
    raw["schema"].update(change)
    definition = load_monitor_definition(json.dumps(raw))
    spec = profile_spec(definition)
    data = rows(2_000, seed=5)
    reference = build_reference(lambda: [data], spec)
    current = profile_frames([rows(500, seed=6)], spec, reference.bins)
    # THEN its profiles carry no cells, its baseline no calibrator, and its result the reason
    assert spec.estimation is None and current.score_cells is None
    assert reference.calibration is None
    result = evaluate(definition, reference, current, evaluation_id="x").to_dict()
    assert result["performance"]["estimated"] == {"skip": reason}


def test_a_baseline_without_a_labelled_scored_row_says_so() -> None:
    definition = load_monitor_definition(DEFINITION)
    spec = profile_spec(definition)
    data = rows(2_000, seed=7).assign(churned=np.nan)
    reference = build_reference(lambda: [data], spec)
    current = profile_frames([rows(500, seed=8)], spec, reference.bins)
    result = evaluate(definition, reference, current, evaluation_id="x").to_dict()
    assert result["performance"]["estimated"] == {
        "skip": "the baseline has no calibrator: the baseline has no labelled row with a "
        "score in [0, 1] to calibrate on"
    }
