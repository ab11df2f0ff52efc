"""A multiclass classifier's performance estimated before labels, through the profiles and
the evaluation: a baseline built from its file fits a calibrator per class, every batch's
profile keeps class score cells, a window of merged profiles is estimated as its rows
together, estimated checks decide on the estimate, and the labels, once in, reconcile it."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.config import load_monitor_definition
from driftline.estimation.class_calibration import ClassCalibration, realised_class_metrics
from driftline.estimation.multiclass import (
    MULTICLASS_METRICS,
    ClassScoreCells,
    estimate_multiclass,
)
from driftline.estimation.performance import CLASS_BASELINE_PREDATES, CLASS_CELLS_PREDATE
from driftline.evaluation import evaluate, profile_spec
from driftline.profile.dataset import DatasetProfile, Reference, build_reference, profile_frames
from driftline.report import render_report

CLASSES = ("gold", "silver", "bronze")
DEFINITION = {
    "model": "cards",
    "schema": {
        "task": "multiclass_classification",
        "prediction": "card",
        "label": "took",
        "class_scores": {name: f"p_{name}" for name in CLASSES},
        "features": {"income": "numeric"},
        "segments": ["region"],
    },
    "baseline": {"path": "baselines/cards/training.csv"},
    "checks": [
        {"name": "accuracy-est", "metric": "accuracy", "estimated": True, "min": 0.9},
        {"name": "auc-est", "metric": "auc_macro", "estimated": True, "min": 0.5},
        {"name": "f1-est", "metric": "f1_macro", "estimated": True, "max_relative_drop": 0.5},
    ],
}


def rows(count: int, seed: int) -> pd.DataFrame:
    """Rows whose true card follows the scores squared and renormalised (so the raw scores
    are miscalibrated), predicted as the most likely card."""
    rng = np.random.default_rng(seed)
    scores = rng.dirichlet([1.2, 1.0, 0.8], size=count)
    weights = scores**2 / (scores**2).sum(axis=1, keepdims=True)
    truth = (rng.uniform(size=(count, 1)) > weights.cumsum(axis=1)).sum(axis=1)
    frame = pd.DataFrame({f"p_{name}": scores[:, k] for k, name in enumerate(CLASSES)})
    frame["card"] = np.array(CLASSES)[scores.argmax(axis=1)]
    frame["took"] = np.array(CLASSES)[truth]
    frame["income"] = rng.normal(50, 10, size=count)
    frame["region"] = rng.choice(["north", "south"], size=count)
    return frame


def stored(document: Any) -> Any:
    """Through JSON and back, as the stores keep it."""
    return json.loads(json.dumps(document))


@pytest.fixture(scope="module")
def model() -> tuple[Any, Reference, pd.DataFrame]:
    definition = load_monitor_definition(json.dumps(DEFINITION))
    baseline = rows(20_000, seed=1)
    spec = profile_spec(definition)
    reference = build_reference(lambda: [baseline.iloc[:7_000], baseline.iloc[7_000:]], spec)
    return definition, Reference.from_dict(stored(reference.to_dict())), baseline


def test_the_baseline_stores_a_calibrator_per_class_fitted_one_against_the_rest(
    model: tuple[Any, Reference, pd.DataFrame],
) -> None:
    _, reference, baseline = model
    calibration = reference.class_calibration
    assert calibration is not None and calibration.classes == CLASSES
    scores = baseline[[f"p_{name}" for name in CLASSES]].to_numpy()
    truth = baseline["took"].map({name: k for k, name in enumerate(CLASSES)}).to_numpy()
    predicted = baseline["card"].map({name: k for k, name in enumerate(CLASSES)}).to_numpy()
    assert calibration == ClassCalibration.fitted(scores, truth, predicted, classes=CLASSES)
    assert reference.calibration is None and reference.profile.class_score_cells is not None


def test_a_window_of_stored_batches_is_estimated_as_the_core_estimates_its_rows(
    model: tuple[Any, Reference, pd.DataFrame],
) -> None:
    # GIVEN three batches of unlabelled rows, each profiled and stored
    definition, reference, _ = model
    current = rows(6_000, seed=2)
    spec = profile_spec(definition)
    batches = [current.iloc[a : a + 2_000].drop(columns="took") for a in (0, 2_000, 4_000)]
    profiles = [
        DatasetProfile.from_dict(stored(profile_frames([b], spec, reference.bins).to_dict()))
        for b in batches
    ]

    # WHEN the window of their merged profiles is evaluated
    window = profiles[0].merge(profiles[1]).merge(profiles[2])
    result = evaluate(definition, reference, window, evaluation_id="w").to_dict()
    estimated = result["performance"]["estimated"]

    # THEN its estimate is the core's on the rows together (to float rounding of sums)
    scores = current[[f"p_{name}" for name in CLASSES]].to_numpy()
    predicted = current["card"].map({name: k for k, name in enumerate(CLASSES)}).to_numpy()
    cells = ClassScoreCells.from_arrays(scores, predicted, classes=CLASSES)
    assert reference.class_calibration is not None
    calibrators = reference.class_calibration.calibrators
    assert calibrators is not None
    core = estimate_multiclass(cells, calibrators)
    assert tuple(estimated["overall"]) == MULTICLASS_METRICS
    for name in MULTICLASS_METRICS:
        figure = estimated["overall"][name]
        assert figure["value"] == pytest.approx(core.metrics[name], abs=1e-12)
        assert figure["lower"] < figure["value"] < figure["upper"]
    assert estimated["rows"]["overall"] == 6_000
    assert set(estimated["segments"]) == {"region=north", "region=south"}
    assert set(estimated["interval"]["covers"].values()) == {"sampling_and_model_error"}
    # and near what the held-back labels give (the calibrators undo the miscalibration)
    truth = current["took"].map({name: k for k, name in enumerate(CLASSES)}).to_numpy()
    realised = realised_class_metrics(scores, truth, predicted)
    for name in MULTICLASS_METRICS:
        assert core.metrics[name] == pytest.approx(realised[name], abs=0.02), name
    # and the estimated checks decide on it, quoting the interval
    checks = {check["name"]: check for check in result["checks"]}
    assert checks["accuracy-est"]["status"] == "fail"
    assert checks["accuracy-est"]["detail"].startswith("estimated accuracy is ")
    assert checks["auc-est"]["status"] == "pass"
    assert checks["auc-est"]["estimate"]["covers"] == "sampling_and_model_error"
    assert checks["f1-est"]["baseline"] == pytest.approx(
        result["performance"]["baseline"]["overall"]["f1_macro"]
    )


def test_once_labelled_the_window_is_reconciled_with_the_measured_metrics(
    model: tuple[Any, Reference, pd.DataFrame],
) -> None:
    # GIVEN a fully labelled window
    definition, reference, _ = model
    current = rows(5_000, seed=3)
    window = profile_frames([current], profile_spec(definition), reference.bins)

    # WHEN evaluated
    result = evaluate(definition, reference, window, evaluation_id="r").to_dict()
    reconciled = result["performance"]["reconciled"]["overall"]

    # THEN accuracy and the macro metrics are reconciled with the labelled rows' own
    measured = result["performance"]["overall"]
    assert set(reconciled) == {"accuracy", "precision_macro", "recall_macro", "f1_macro"}
    for name, figures in reconciled.items():
        assert figures["realised"] == pytest.approx(measured[name], abs=1e-12), name
        assert figures["error"] == pytest.approx(figures["estimated"] - figures["realised"])
    undefined = result["performance"]["reconciled"]["undefined"]["overall"]
    assert "auc_macro" in undefined
    assert result["performance"]["reconciled"]["coverage"]["pairs"] == 4


def test_profiles_and_baselines_written_before_class_cells_are_skipped_with_the_reason(
    model: tuple[Any, Reference, pd.DataFrame],
) -> None:
    # GIVEN a batch's profile, and the same profile stored without its class cells (as one
    # written before they were kept)
    definition, reference, _ = model
    profile = profile_frames([rows(500, seed=4)], profile_spec(definition), reference.bins)
    document = stored(profile.to_dict())
    document.pop("class_score_cells")
    for body in document["segments"].values():
        body.pop("class_score_cells")
    old = DatasetProfile.from_dict(document)

    # WHEN a window merges it with a new one, THEN the window is not estimated, saying why
    window = old.merge(profile)
    result = evaluate(definition, reference, window, evaluation_id="o").to_dict()
    assert result["performance"]["estimated"] == {"skip": CLASS_CELLS_PREDATE}
    checks = {check["name"]: check for check in result["checks"]}
    assert checks["accuracy-est"]["status"] == "skip"

    # and a baseline stored without its per-class calibrators is skipped likewise
    old_reference = Reference.from_dict(
        {k: v for k, v in stored(reference.to_dict()).items() if k != "class_calibration"}
    )
    result = evaluate(definition, old_reference, profile, evaluation_id="b").to_dict()
    assert result["performance"]["estimated"] == {"skip": CLASS_BASELINE_PREDATES}


def test_a_window_whose_class_shares_moved_reports_them_from_the_predictions(
    model: tuple[Any, Reference, pd.DataFrame],
) -> None:
    # GIVEN a window drawn from the baseline's process with other class shares (rows of each
    # true card resampled: P(scores | card) as on the baseline), its labels not yet in
    definition, reference, _ = model
    pool = rows(60_000, seed=7)
    wanted = {"gold": 0.2, "silver": 0.3, "bronze": 0.5}
    rng = np.random.default_rng(8)
    window = pd.concat(
        [
            pool[pool["took"] == card].sample(int(6_000 * share), random_state=rng)
            for card, share in wanted.items()
        ]
    )
    spec = profile_spec(definition)
    current = profile_frames([window.drop(columns="took")], spec, reference.bins)

    # WHEN it is evaluated
    result = evaluate(definition, reference, current, evaluation_id="w").to_dict()
    shift = result["performance"]["estimated"]["label_shift"]

    # THEN every card's share is estimated from the predictions alone, its interval holding
    # the share the window was drawn with, and the moved cards are called shifted
    baseline = reference.profile.performance
    assert baseline is not None and baseline.confusion is not None
    assert shift["method"] == "bbse" and shift["consistent"] is True
    assert shift["rows"] == {"baseline": 20_000, "current": 6_000}
    for card, share in wanted.items():
        assert shift["lower"][card] <= share <= shift["upper"][card], card
        assert shift["baseline_prior"][card] == pytest.approx(
            sum(n for (truth, _), n in baseline.confusion.cells.items() if truth == card) / 20_000
        )
    assert shift["shifted"]["gold"] and shift["shifted"]["bronze"]
    # AND the report says it under the estimate
    page = render_report(result)
    assert "Class shares, estimated from the predictions (black-box shift estimation" in page
