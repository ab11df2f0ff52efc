"""Estimated checks end to end: `driftline evaluate` on files, then the act step's alert.

A churn model's baseline is labelled; its true probability of churning is the score squared,
so the raw score is miscalibrated and the estimate is right only through the baseline's
calibrator. The current window has no labels. Degraded, the model's scores are squeezed into
[0.3, 0.7] (it separates churners less): the labels held back measure an AUC near 0.67
against the baseline's 0.88, and the estimated AUC floor of 0.8 must fail on the scores
alone, saying it is an estimate, with its interval, in the result, the text summary, the
report and the alert.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk

from driftline.alerts import plan_actions
from driftline.cli import main
from driftline.config import load_monitor_definition

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
  - {name: auc-est, metric: auc, estimated: true, min: 0.8, action: retrain}
  - {name: basic-gini-est, metric: gini, estimated: true, segment: {plan: basic},
     max_relative_drop: 0.1}
"""


def rows(count: int, *, seed: int, low: float = 0.0, high: float = 1.0) -> pd.DataFrame:
    """Scores uniform on [low, high]; a row churns with probability score squared."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(low, high, count)
    return pd.DataFrame(
        {
            "customer_id": np.arange(count),
            "tenure": rng.gamma(2.0, 12.0, count).round(1),
            "plan": rng.choice(["basic", "plus", "pro"], count, p=[0.5, 0.3, 0.2]),
            "churn_score": score,
            "churn_predicted": (score >= 0.5).astype(int),
            "churned": (rng.uniform(size=count) < score**2).astype(int),
        }
    )


def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], current: pd.DataFrame
) -> tuple[int, dict[str, Any], str, str]:
    """`driftline evaluate` on the unlabelled ``current``: exit code, result JSON, text
    summary and HTML report."""
    config, reference, data = tmp_path / "churn.yaml", tmp_path / "ref.csv", tmp_path / "cur.csv"
    output, report = tmp_path / "result.json", tmp_path / "report.html"
    config.write_text(DEFINITION, encoding="utf-8")
    rows(20_000, seed=1).to_csv(reference, index=False)
    current.drop(columns="churned").to_csv(data, index=False)
    code = main(
        [
            "evaluate",
            "--config",
            str(config),
            "--reference",
            str(reference),
            "--current",
            str(data),
            "--output",
            str(output),
            "--report",
            str(report),
            "--format",
            "text",
        ]
    )
    summary = capsys.readouterr().out
    result = json.loads(output.read_text(encoding="utf-8"))
    return code, result, summary, report.read_text(encoding="utf-8")


def check_of(result: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [check for check in result["checks"] if check["name"] == name]
    return found


def test_an_unlabelled_window_with_degraded_scores_fails_its_estimated_check_and_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a window of 5,000 rows whose scores are squeezed, its labels held back
    current = rows(5_000, seed=2, low=0.3, high=0.7)
    realised = sk.roc_auc_score(current["churned"], current["churn_score"])
    assert realised < 0.7  # what the labels, once in, will measure

    # WHEN `driftline evaluate` runs on the scores alone
    code, result, summary, page = run(tmp_path, capsys, current)

    # THEN the estimated AUC check fails on the estimate, near what the labels will say,
    # and the evaluation is critical (exit 1) and asks for the check's retraining
    check = check_of(result, "auc-est")
    estimate = check["estimate"]
    assert check["status"] == "fail" and code == 1
    assert result["status"] == "critical"
    assert result["actions"] == [
        {"action": "retrain", "checks": ["auc-est"]},
        {"action": "notify", "checks": ["basic-gini-est"]},
    ]
    assert check["value"] == result["performance"]["estimated"]["overall"]["auc"]["value"]
    assert check["value"] == pytest.approx(realised, abs=0.03)
    assert estimate["lower"] < check["value"] < estimate["upper"] < 0.8
    assert estimate["rows"] == 5_000
    assert estimate["labels"] == {"rows": 5_000, "labelled": 0, "coverage": 0.0}
    # AND the measured performance has nothing to say yet
    assert result["performance"]["labels"]["overall"]["labelled"] == 0
    # AND the basic plan's Gini fails against the Gini its baseline rows measure
    basic = check_of(result, "basic-gini-est")
    assert basic["status"] == "fail" and basic["segment"] == "plan=basic"
    assert basic["threshold"] == pytest.approx(0.9 * basic["baseline"])
    assert basic["baseline"] > 0.7 > basic["value"]
    # AND the detail says it is estimated, with the interval, rows and label coverage
    interval = f"95% interval {estimate['lower']:.4g}-{estimate['upper']:.4g}"
    detail = (
        f"estimated auc is {check['value']:.4g}, below the minimum 0.8 (estimated from the "
        f"scores: {interval}, 5,000 rows estimated; label coverage 0 of 5,000 rows (0.0%))"
    )
    assert check["detail"] == detail
    # AND so do the text summary and the HTML report
    assert f"  FAIL auc-est: {detail} -> retrain" in summary.splitlines()
    assert "95% interval" in page and "5,000 rows estimated" in page and ">estimated<" in page

    # WHEN the act step plans on the stored result
    definition = load_monitor_definition(DEFINITION)
    plan = plan_actions(definition, result, {}, {}, datetime(2024, 6, 1, 3, tzinfo=UTC))

    # THEN one notification pages about both checks, each marked estimated with its interval
    (firing,) = plan.notifications
    assert firing.kind == "firing" and set(firing.checks) == {"auc-est", "basic-gini-est"}
    assert f"  * auc-est [NEW] [ESTIMATED]: {detail}" in firing.body.splitlines()
    assert "  * basic-gini-est [NEW] [ESTIMATED]: estimated gini in plan=basic is " in firing.body
    assert [start.action for start in plan.retrain_starts] == ["retrain"]


def test_an_unlabelled_window_like_the_baseline_passes_its_estimated_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a window drawn as the baseline was, its labels held back
    current = rows(5_000, seed=3)

    # WHEN evaluated on the scores alone
    code, result, summary, _ = run(tmp_path, capsys, current)

    # THEN both estimated checks pass, said to be estimated, and nothing is asked for
    for name in ("auc-est", "basic-gini-est"):
        check = check_of(result, name)
        assert check["status"] == "pass", check["detail"]
        assert check["detail"].startswith("estimated ")
    assert code == 0 and result["actions"] == []
    realised = sk.roc_auc_score(current["churned"], current["churn_score"])
    assert check_of(result, "auc-est")["value"] == pytest.approx(realised, abs=0.03)
    assert "PASS auc-est: estimated auc is " in summary
