"""Estimated metric checks (``estimated: true``) decided in an evaluation: on the estimate's
value as a measured check is on the measured one, a relative bound against the baseline's
measured metric of the same segment, ``skip`` with the reason when there is no estimate to
decide on, and the interval, rows estimated and label coverage in the result.

The data: a credit model whose scores are calibrated probabilities on the baseline (a row
scored ``s`` defaults with probability ``s``). A "degraded" window squeezes a tier's scores
into [0.4, 0.6]: the model separates its rows less, which the estimate sees without labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk

from driftline.config import MonitorDefinition, load_monitor_definition
from driftline.config.checks import ESTIMATED_MIN_ROWS
from driftline.estimation import ScoreCells, estimate_binary
from driftline.evaluation import evaluate, profile_spec
from driftline.profile.dataset import Reference, build_reference, profile_frames

DEFINITION = """
model: credit
schema:
  task: binary_classification
  prediction: approved
  score: default_probability
  label: defaulted
  features: {income: numeric}
  segments: [tier]
baseline: {path: baselines/credit/training.csv}
checks:
%s
"""


def definition(*checks: str) -> MonitorDefinition:
    listed = "\n".join(f"  - {check}" for check in checks) or "  []"
    return load_monitor_definition(DEFINITION % listed)


def rows(count: int, *, seed: int, squeeze: str | None = None) -> pd.DataFrame:
    """Calibrated scores; ``squeeze`` ("prime", "subprime" or "all") puts those rows' scores
    into [0.4, 0.6]."""
    rng = np.random.default_rng(seed)
    tier = rng.choice(["prime", "subprime"], count)
    score = rng.uniform(size=count)
    squeezed = np.ones(count, dtype=bool) if squeeze == "all" else tier == squeeze
    score[squeezed] = 0.4 + 0.2 * score[squeezed]
    return pd.DataFrame(
        {
            "income": rng.normal(size=count),
            "tier": tier,
            "default_probability": score,
            "approved": (score >= 0.5).astype(int),
            "defaulted": (rng.uniform(size=count) < score).astype(int),
        }
    )


BASELINE = rows(6_000, seed=1)


def reference(spec_definition: MonitorDefinition, baseline: pd.DataFrame = BASELINE) -> Reference:
    return build_reference(lambda: [baseline], profile_spec(spec_definition))


def decide(
    spec_definition: MonitorDefinition,
    current: pd.DataFrame,
    *,
    baseline: pd.DataFrame = BASELINE,
) -> dict[str, Any]:
    """The evaluation's result JSON of ``current`` (its label column dropped when all NaN)."""
    built = reference(spec_definition, baseline)
    profile = profile_frames([current], profile_spec(spec_definition), built.bins)
    return evaluate(spec_definition, built, profile, evaluation_id="e").to_dict()


def check_of(result: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [check for check in result["checks"] if check["name"] == name]
    return found


def unlabelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="defaulted")


def core_estimate(baseline: pd.DataFrame, current: pd.DataFrame, metric: str) -> float:
    """The estimation core's estimate of the current rows with the baseline's calibrator."""
    built = reference(definition(), baseline)
    assert built.calibration is not None and built.calibration.calibrator is not None
    cells = ScoreCells.from_arrays(current["default_probability"], current["approved"])
    metrics = estimate_binary(cells, built.calibration.calibrator).metrics
    return 2 * metrics["auc"] - 1 if metric == "gini" else metrics[metric]


@pytest.mark.parametrize(("squeeze", "status"), [(None, "pass"), ("all", "fail")])
def test_an_estimated_check_decides_on_the_estimate_of_an_unlabelled_window(
    squeeze: str | None, status: str
) -> None:
    # GIVEN an AUC floor of 0.75 decided on the estimate, and a window without labels
    current = rows(3_000, seed=2, squeeze=squeeze)
    spec = definition("{name: auc-est, metric: auc, estimated: true, min: 0.75, action: retrain}")

    # WHEN evaluated
    result = decide(spec, unlabelled(current))

    # THEN the check's value is the core's estimate on those rows, and it decides the check
    check = check_of(result, "auc-est")
    expected = core_estimate(BASELINE, current, "auc")
    assert check["value"] == pytest.approx(expected, rel=1e-9)
    assert check["status"] == status == ("fail" if expected < 0.75 else "pass")
    assert check["threshold"] == 0.75
    # AND the value and interval are those the result reports under performance.estimated
    reported = result["performance"]["estimated"]["overall"]["auc"]
    assert check["value"] == reported["value"]
    assert check["estimate"] == {
        "method": "cbpe",
        "lower": reported["lower"],
        "upper": reported["upper"],
        "covers": "sampling_and_model_error",
        "rows": 3_000,
        "labels": {"rows": 3_000, "labelled": 0, "coverage": 0.0},
    }
    # AND the detail says it is estimated, with the interval, the rows and the coverage
    detail = check["detail"]
    assert detail.startswith(f"estimated auc is {check['value']:.4g}, ")
    assert (
        f"(estimated from the scores: 95% interval {reported['lower']:.4g}-"
        f"{reported['upper']:.4g}, 3,000 rows estimated; label coverage 0 of 3,000 rows (0.0%))"
    ) in detail
    # AND a failure asks for its action, as a measured check's would
    asked = [entry["action"] for entry in result["actions"]]
    assert asked == (["retrain"] if status == "fail" else [])


def test_a_relative_drop_per_segment_compares_with_the_baseline_measured_in_that_segment() -> None:
    # GIVEN Gini checks per tier, at most 10 % below each tier's baseline, and a window whose
    # subprime scores are squeezed (prime's are as on the baseline)
    spec = definition(
        "{name: gini-subprime, metric: gini, estimated: true, segment: {tier: subprime}, "
        "max_relative_drop: 0.1}",
        "{name: gini-prime, metric: gini, estimated: true, segment: {tier: prime}, "
        "max_relative_drop: 0.1}",
    )
    current = rows(4_000, seed=3, squeeze="subprime")

    # WHEN evaluated without labels
    result = decide(spec, unlabelled(current))

    # THEN each check's baseline is its tier's Gini measured on the baseline's labels, and its
    # threshold 90 % of that
    for tier, status in (("subprime", "fail"), ("prime", "pass")):
        check = check_of(result, f"gini-{tier}")
        rows_of = BASELINE[BASELINE["tier"] == tier]
        measured = 2 * sk.roc_auc_score(rows_of["defaulted"], rows_of["default_probability"]) - 1
        # (the profile's AUC is read off score histograms: within its documented bound)
        assert check["baseline"] == pytest.approx(measured, abs=1e-3)
        assert check["threshold"] == pytest.approx(0.9 * check["baseline"], rel=1e-12)
        estimate = core_estimate(BASELINE, current[current["tier"] == tier], "gini")
        assert check["value"] == pytest.approx(estimate, rel=1e-9)
        assert check["segment"] == f"tier={tier}"
        assert check["status"] == status == ("fail" if estimate < check["threshold"] else "pass")
        assert check["estimate"]["rows"] == int((current["tier"] == tier).sum())
        assert f"estimated gini in tier={tier} is " in check["detail"]
    assert "below its baseline" in check_of(result, "gini-subprime")["detail"]


def test_specificity_is_decided_against_the_baselines_measured_specificity() -> None:
    # GIVEN a relative check on specificity, a metric only the estimate has
    spec = definition(
        "{name: spec-est, metric: specificity, estimated: true, max_relative_drop: 0.1}"
    )

    # WHEN a window whose scores are all squeezed is evaluated
    result = decide(spec, unlabelled(rows(3_000, seed=4, squeeze="all")))

    # THEN its baseline is TN / (TN + FP) of the baseline's labels
    negatives = BASELINE[BASELINE["defaulted"] == 0]
    measured = float((negatives["approved"] == 0).mean())
    check = check_of(result, "spec-est")
    assert check["baseline"] == pytest.approx(measured, rel=1e-12)
    assert check["status"] == "fail" and check["value"] < 0.9 * measured


def test_the_label_coverage_of_a_partly_labelled_window_is_quoted() -> None:
    # GIVEN a window of 2,000 rows of which 500 have their label yet
    current = rows(2_000, seed=5)
    current["defaulted"] = current["defaulted"].astype(float)
    current.loc[500:, "defaulted"] = np.nan
    spec = definition("{name: acc-est, metric: accuracy, estimated: true, min: 0.5}")

    # WHEN evaluated
    check = check_of(decide(spec, current), "acc-est")

    # THEN every scored row is estimated, and the coverage is the labelled share
    assert check["estimate"]["rows"] == 2_000
    assert check["estimate"]["labels"] == {"rows": 2_000, "labelled": 500, "coverage": 0.25}
    assert "2,000 rows estimated; label coverage 500 of 2,000 rows (25.0%)" in check["detail"]


def test_too_few_rows_estimated_is_skip_with_the_count_and_the_floor() -> None:
    # GIVEN a window of 60 scored rows, under the default floor of 100 rows estimated
    current = unlabelled(rows(60, seed=6))
    assert ESTIMATED_MIN_ROWS == 100
    default = definition("{name: auc-est, metric: auc, estimated: true, min: 0.5}")
    lowered = definition("{name: auc-est, metric: auc, estimated: true, min: 0.5, min_rows: 50}")

    # WHEN evaluated with the default floor and with min_rows 50
    skipped = check_of(decide(default, current), "auc-est")
    decided = check_of(decide(lowered, current), "auc-est")

    # THEN the first is skip with why, the second decided
    assert skipped["status"] == "skip" and skipped["value"] is None
    assert skipped["detail"] == (
        "too few rows to decide estimated auc: 60 rows estimated, min_rows is 100"
    )
    assert decided["status"] in ("pass", "fail") and decided["estimate"]["rows"] == 60


def test_an_undefined_estimate_is_skip_with_its_reason() -> None:
    # GIVEN a window in which no row is predicted positive: precision has no denominator
    current = unlabelled(rows(500, seed=7))
    current["approved"] = 0
    spec = definition("{name: precision-est, metric: precision, estimated: true, min: 0.5}")

    # WHEN evaluated
    check = check_of(decide(spec, current), "precision-est")

    # THEN it is skip with the estimate's reason
    assert check["status"] == "skip" and "estimate" not in check
    assert check["detail"] == "estimated precision is undefined: no row is predicted positive"


def test_a_window_that_is_not_estimated_is_skip_with_the_estimates_reason() -> None:
    # GIVEN a baseline without a label: nothing to calibrate on
    baseline = BASELINE.assign(defaulted=np.nan)
    spec = definition("{name: auc-est, metric: auc, estimated: true, min: 0.5}")

    # WHEN a window is evaluated against it
    result = decide(spec, unlabelled(rows(1_000, seed=8)), baseline=baseline)

    # THEN the check is skip, and its reason is the one performance.estimated gives
    check = check_of(result, "auc-est")
    reason = result["performance"]["estimated"]["skip"]
    assert check["status"] == "skip"
    assert check["detail"] == f"estimated auc: the window is not estimated: {reason}"
    assert "labelled row with a score" in reason


def test_a_segment_absent_from_the_window_is_skip() -> None:
    spec = definition(
        "{name: gini-sub, metric: gini, estimated: true, segment: {tier: subprime}, min: 0.2}"
    )
    current = unlabelled(rows(1_000, seed=9))
    current = current[current["tier"] == "prime"]
    check = check_of(decide(spec, current), "gini-sub")
    assert check["status"] == "skip"
    assert check["detail"] == "no rows of segment tier=subprime in the current data"


def test_a_relative_check_without_a_measured_baseline_is_skip_but_keeps_the_estimate() -> None:
    # GIVEN a baseline whose labels are all of one class in a tier: its AUC is undefined
    baseline = BASELINE.copy()
    baseline.loc[baseline["tier"] == "prime", "defaulted"] = 0
    spec = definition(
        "{name: gini-prime, metric: gini, estimated: true, segment: {tier: prime}, "
        "max_relative_drop: 0.1}"
    )

    # WHEN evaluated
    check = check_of(
        decide(spec, unlabelled(rows(2_000, seed=10)), baseline=baseline), "gini-prime"
    )

    # THEN there is nothing to compare with: skip, the estimate and its evidence still shown
    assert check["status"] == "skip"
    assert "relative check skipped: no baseline value" in check["detail"]
    assert check["detail"].startswith("estimated gini in tier=prime ")
    assert check["estimate"]["rows"] > 0
