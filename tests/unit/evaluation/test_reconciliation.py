"""The estimate reconciled with the labels: which rows are compared, inside or outside the
interval, the realised values against scikit-learn, and the running coverage."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.config import load_monitor_definition
from driftline.estimation import ESTIMATED_METRICS, IdentityCalibrator, ScoreCells
from driftline.estimation.baseline import BaselineCalibration
from driftline.estimation.calibration import CalibrationDecision
from driftline.estimation.performance import EstimatedPerformance, ScopeCells
from driftline.evaluation import evaluate, profile_spec
from driftline.metrics import PerformanceProfile
from driftline.profile.dataset import build_reference, profile_frames
from driftline.profile.performance import PerformanceSpec, performance_of
from driftline.reconciliation import (
    MIN_SHARE,
    EstimateCoverage,
    ReconciledPoint,
    Reconciliation,
    estimate_records,
    realised_metrics,
)

SPEC = PerformanceSpec(
    task="binary_classification", label="y", prediction="yhat", score="p", positive_class=1
)
#: Raw scores read as probabilities: what an identity calibrator estimates with.
CALIBRATION = BaselineCalibration(
    1000, IdentityCalibrator(), CalibrationDecision(False, "no_lower_error", 0.01, 0.01, 0.8)
)


def calibrated_rows(count: int, *, seed: int, truth: str = "calibrated") -> pd.DataFrame:
    """Rows whose scores are the probability of a positive (``truth="calibrated"``), or
    whose labels are the opposite of what the scores say (``"inverted"``)."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=count)
    chance = p if truth == "calibrated" else 1.0 - p
    return pd.DataFrame(
        {
            "p": p,
            "yhat": (p >= 0.5).astype(int),
            "y": (rng.uniform(size=count) < chance).astype(int),
            "tier": rng.choice(["gold", "bronze"], count),
            "x": rng.normal(size=count),
        }
    )


def estimated(frame: pd.DataFrame) -> EstimatedPerformance:
    cells = ScoreCells.from_arrays(frame["p"].to_numpy(), frame["yhat"].to_numpy())
    return EstimatedPerformance.of(CALIBRATION, ScopeCells(len(frame), cells), {})


def measured(frame: pd.DataFrame) -> PerformanceProfile:
    return performance_of(frame, SPEC)


def test_realised_values_are_the_labelled_rows_metrics_as_scikit_learn_gives_them() -> None:
    # GIVEN labelled rows
    frame = calibrated_rows(3_000, seed=1)
    # WHEN their realised metrics are read off their performance profile
    values, undefined = realised_metrics(measured(frame))
    # THEN each is scikit-learn's, specificity (which the measured metrics leave out) too
    y, yhat = frame["y"], frame["yhat"]
    assert undefined == {}
    assert values == {
        "accuracy": pytest.approx(sk.accuracy_score(y, yhat), rel=1e-12),
        "precision": pytest.approx(sk.precision_score(y, yhat), rel=1e-12),
        "recall": pytest.approx(sk.recall_score(y, yhat), rel=1e-12),
        "specificity": pytest.approx(sk.recall_score(y, yhat, pos_label=0), rel=1e-12),
        "f1": pytest.approx(sk.f1_score(y, yhat), rel=1e-12),
        # from the profile's score histograms: within their stated bound, here far below
        "auc": pytest.approx(sk.roc_auc_score(y, frame["p"]), abs=1e-3),
    }


def test_calibrated_scores_put_the_realised_values_inside_the_intervals() -> None:
    # GIVEN rows whose scores are their probability of being positive, all labelled
    frame = calibrated_rows(5_000, seed=2)
    # WHEN the estimate made from the scores is reconciled with the labels
    reconciliation = Reconciliation.of(estimated(frame), measured(frame), {}, evaluation_id="e")
    document = reconciliation.to_dict()
    # THEN every metric is compared, the estimate and interval are the estimate's own, the
    # error is estimate − realised, and the realised value lies inside
    estimate = estimated(frame).to_dict()["overall"]
    realised, _ = realised_metrics(measured(frame))
    assert set(document["overall"]) == set(ESTIMATED_METRICS)
    for name, figures in document["overall"].items():
        assert figures["estimated"] == estimate[name]["value"]
        assert (figures["lower"], figures["upper"]) == (
            estimate[name]["lower"],
            estimate[name]["upper"],
        )
        assert figures["realised"] == realised[name]
        assert figures["error"] == figures["estimated"] - figures["realised"]
        assert figures["inside"] is True, name
    assert document["coverage"] == {
        "share": 1.0,
        "inside": 6,
        "pairs": 6,
        "evaluations": 1,
        "trailing": 100,
        "counts": "windows",
    }


def test_labels_that_contradict_the_scores_fall_outside_the_intervals() -> None:
    # GIVEN rows whose labels are the opposite of what their scores say (concept drift the
    # estimate cannot see)
    frame = calibrated_rows(5_000, seed=3, truth="inverted")
    # WHEN reconciled
    document = Reconciliation.of(estimated(frame), measured(frame), {}, evaluation_id="e").to_dict()
    # THEN every metric's realised value is outside its interval, by far, and the coverage
    # says none was covered
    for name, figures in document["overall"].items():
        assert figures["inside"] is False, name
        assert not figures["lower"] <= figures["realised"] <= figures["upper"]
    assert document["overall"]["accuracy"]["error"] > 0.3
    assert document["coverage"]["share"] == 0.0
    assert document["coverage"]["pairs"] == 6


@pytest.mark.parametrize(
    ("unlabelled", "reconciled"),
    [(0, True), (10, True), (11, False), (500, False), (1_000, False)],
)
def test_a_scope_is_reconciled_only_when_labels_cover_at_least_99_percent(
    unlabelled: int, reconciled: bool
) -> None:
    # GIVEN 1,000 estimated rows of which some are not labelled yet
    frame = calibrated_rows(1_000, seed=4)
    partly = frame.assign(y=frame["y"].astype(float))
    partly.loc[partly.index[:unlabelled], "y"] = np.nan
    # WHEN reconciled
    document = Reconciliation.of(
        estimated(frame), measured(partly), {}, evaluation_id="e"
    ).to_dict()
    # THEN the scope is compared from 990 labelled rows on; below, it is skipped, naming the
    # coverage
    if reconciled:
        assert set(document["overall"]) == set(ESTIMATED_METRICS)
    else:
        labelled = 1_000 - unlabelled
        assert document["overall"] == {
            "skip": f"labels cover {labelled:,} of 1,000 rows ({labelled / 10:.2f}%); the "
            "estimate is reconciled when they cover at least 99%"
        }
        assert document["coverage"]["pairs"] == 0
    assert MIN_SHARE == 0.99


def test_a_scope_whose_estimate_left_rows_out_is_not_reconciled() -> None:
    # GIVEN every row labelled, but 2 % without a score: measured, yet not estimated
    frame = calibrated_rows(1_000, seed=5)
    frame.loc[frame.index[:20], "p"] = np.nan
    # WHEN reconciled
    document = Reconciliation.of(estimated(frame), measured(frame), {}, evaluation_id="e").to_dict()
    # THEN it is skipped, saying how many rows the estimate covers
    assert document["overall"]["skip"].startswith(
        "the estimate covers 980 of 1,000 rows (98.00%; rows without a score"
    )


def test_a_metric_undefined_on_the_labels_is_reported_not_reconciled() -> None:
    # GIVEN labelled rows none of which is positive: realised recall and AUC are undefined
    frame = calibrated_rows(500, seed=6).assign(y=0)
    # WHEN reconciled
    document = Reconciliation.of(estimated(frame), measured(frame), {}, evaluation_id="e").to_dict()
    # THEN those metrics are under `undefined` with the reason (not compared with the 0 the
    # measured metrics write for recall); the others are compared
    assert document["undefined"]["overall"] == {
        "recall": "realised recall is undefined: recall needs actual positives; there are none",
        "auc": "realised auc is undefined: AUC needs both classes; only negatives present",
    }
    assert set(document["overall"]) == {"accuracy", "precision", "specificity", "f1"}
    assert document["overall"]["precision"]["realised"] == 0.0


def test_a_model_whose_performance_is_not_estimated_has_no_reconciliation() -> None:
    document = Reconciliation.of(
        EstimatedPerformance.skip("the task is regression"), None, {}, evaluation_id="e"
    ).to_dict()
    assert document == {"skip": "the performance was not estimated: the task is regression"}


# -- through the evaluation ---------------------------------------------------------------

DEFINITION = """
model: churn
schema:
  task: binary_classification
  prediction: yhat
  score: p
  label: y
  positive_class: 1
  features: {x: numeric}
  segments: [tier]
baseline: {path: b.csv}
estimation: {coverage_evaluations: 3}
"""


def evaluation(
    current: pd.DataFrame, *, history: list[ReconciledPoint] | None = None
) -> dict[str, Any]:
    definition = load_monitor_definition(DEFINITION)
    spec = profile_spec(definition)
    reference = build_reference(lambda: [calibrated_rows(4_000, seed=100)], spec)
    profile = profile_frames([current], spec, reference.bins)
    result = evaluate(
        definition, reference, profile, evaluation_id="now", reconciled_history=history or []
    )
    performance: dict[str, Any] = result.to_dict()["performance"]
    return performance


def test_each_segment_is_reconciled_on_its_own_coverage() -> None:
    # GIVEN a window whose gold rows are all labelled and whose bronze rows mostly are not
    frame = calibrated_rows(4_000, seed=7)
    frame["y"] = frame["y"].astype(float)
    bronze = frame.index[frame["tier"] == "bronze"]
    frame.loc[bronze[: len(bronze) // 2], "y"] = np.nan
    # WHEN evaluated
    performance = evaluation(frame)
    reconciled = performance["reconciled"]
    # THEN gold is reconciled against its own estimate, bronze is skipped with its coverage,
    # and so is the whole window
    gold = reconciled["segments"]["tier=gold"]
    assert set(gold) == set(ESTIMATED_METRICS)
    for name, figures in gold.items():
        made = performance["estimated"]["segments"]["tier=gold"][name]
        assert figures["estimated"] == made["value"]
        if name != "specificity":  # not a measured metric of the result
            assert figures["realised"] == performance["segments"]["tier=gold"][name]
    labelled = len(bronze) - len(bronze) // 2
    assert reconciled["segments"]["tier=bronze"] == {
        "skip": f"labels cover {labelled:,} of {len(bronze):,} rows "
        f"({int(labelled / len(bronze) * 10_000) / 100:.2f}%); the estimate is reconciled "
        "when they cover at least 99%"
    }
    assert "skip" in reconciled["overall"]
    # AND segments do not count towards the coverage: only whole windows do
    assert reconciled["coverage"]["pairs"] == 0


def test_the_coverage_counts_the_history_and_this_evaluation_each_pair_once() -> None:
    # GIVEN earlier evaluations' pairs, of which one is this evaluation's, stored before by
    # an attempt that failed later (at-least-once delivery)
    history = [
        ReconciledPoint("old-1", "accuracy", False),
        ReconciledPoint("old-2", "accuracy", True),
        ReconciledPoint("now", "accuracy", False),
        ReconciledPoint("old-2", "auc", False),
    ]
    # WHEN a fully labelled window is evaluated with that history, keeping 3 evaluations
    performance = evaluation(calibrated_rows(3_000, seed=8), history=history)
    # THEN this evaluation's own pairs replace the stored ones, and each metric counts its
    # latest 3 evaluations: accuracy old-1, old-2, now; auc old-2, now; the rest now only
    coverage = performance["reconciled"]["coverage"]
    now = performance["reconciled"]["overall"]
    inside_now = sum(figures["inside"] for figures in now.values())
    assert coverage["pairs"] == 3 + 2 + 4
    assert coverage["inside"] == 1 + inside_now
    assert coverage["evaluations"] == 3
    assert coverage["trailing"] == 3


def test_coverage_keeps_each_metrics_latest_evaluations_and_ignores_repeats() -> None:
    points = [ReconciledPoint(f"e{i}", "accuracy", i % 2 == 0) for i in range(10)]
    # the same evaluations delivered again change nothing
    assert EstimateCoverage.of(points + points, trailing=4) == EstimateCoverage.of(
        points, trailing=4
    )
    latest = EstimateCoverage.of(points, trailing=4)  # e6..e9: e6, e8 inside
    assert (latest.pairs, latest.inside, latest.share) == (4, 2, 0.5)
    assert EstimateCoverage.of([]).share is None
    with pytest.raises(ValueError, match="trailing >= 1"):
        EstimateCoverage.of(points, trailing=0)


# -- the estimate is the same before and after the labels --------------------------------


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(min_value=1, max_value=400),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    labelled_share=st.sampled_from([0.0, 0.3, 0.995, 1.0]),
)
def test_the_estimate_before_the_labels_is_the_estimate_after_them(
    rows: int, seed: int, labelled_share: float
) -> None:
    # GIVEN a window's rows evaluated before any label, then the same rows with labels
    frame = calibrated_rows(rows, seed=seed)
    unlabelled = frame.assign(y=np.nan)
    labelled = frame.assign(y=frame["y"].astype(float))
    cut = round(rows * (1 - labelled_share))
    labelled.loc[labelled.index[:cut], "y"] = np.nan
    before = evaluation(unlabelled)
    after = evaluation(labelled)
    # THEN the estimate is the same to the bit, overall and per segment, intervals included
    assert after["estimated"] == before["estimated"]
    # AND where the window was reconciled, the estimate it was reconciled on is that one
    reconciled = after["reconciled"]["overall"]
    if "skip" not in reconciled:
        for name, figures in reconciled.items():
            made_before = before["estimated"]["overall"][name]
            assert (figures["estimated"], figures["lower"], figures["upper"]) == (
                made_before["value"],
                made_before["lower"],
                made_before["upper"],
            )
    # AND before any label nothing is reconciled
    assert "skip" in before["reconciled"]["overall"]


# -- the stored figures ---------------------------------------------------------------------


def test_stored_figures_name_every_estimate_and_reconciled_figure() -> None:
    # GIVEN a fully labelled window reconciled
    frame = calibrated_rows(2_000, seed=9)
    estimate = estimated(frame)
    reconciliation = Reconciliation.of(estimate, measured(frame), {}, evaluation_id="e")
    # WHEN its figures are listed for the metrics store
    records = {
        (name, segment): value
        for name, segment, value in estimate_records(estimate, reconciliation)
    }
    # THEN each metric has its estimate, interval ends and reconciliation, overall, and the
    # coverage is there too
    for name in ESTIMATED_METRICS:
        scope = estimate.overall
        assert scope is not None
        assert records[(f"estimated.{name}", None)] == scope.estimate.metrics[name]
        assert records[(f"estimated.{name}.lower", None)] == scope.intervals[name].lower
        assert records[(f"estimated.{name}.upper", None)] == scope.intervals[name].upper
        figures = reconciliation.overall.metrics[name]  # type: ignore[union-attr]
        assert records[(f"reconciled.{name}.estimated", None)] == figures.estimated
        assert records[(f"reconciled.{name}.realised", None)] == figures.realised
        assert records[(f"reconciled.{name}.inside", None)] == float(figures.inside)
        # AND the estimate's sampling variance, for the estimator's error on reconciled
        # batches
        variance = records[(f"reconciled.{name}.sampling_variance", None)]
        assert variance == scope.intervals[name].sampling_variance > 0
    assert records[("estimate_coverage", None)] == reconciliation.coverage.share  # type: ignore[union-attr]
    assert len(records) == 6 * 7 + 1
    # AND an unlabelled window stores its estimates only
    unlabelled = Reconciliation.of(
        estimate, measured(frame.assign(y=np.nan)), {}, evaluation_id="e"
    )
    names = {name for name, _, _ in estimate_records(estimate, unlabelled)}
    assert names == {
        f"estimated.{name}{part}" for name in ESTIMATED_METRICS for part in ("", ".lower", ".upper")
    }
