"""The churn and credit scenarios through ``driftline evaluate`` on generated files.

- churn: retrain when accuracy < 0.85 (0.84 fails with action retrain, 0.86 passes), also
  when only 30 % of the rows have received their label;
- credit: retrain when the *subprime* segment's Gini falls more than 5 % relative to its own
  baseline (6 % fails, 4 % passes) while prime is healthy;
- concept drift: the worst-slice list names the deliberately broken slice first.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from driftline.cli import main

CHURN = """
model: churn
schema:
  id: customer_id
  task: binary_classification
  prediction: churn_predicted
  label: churned
  positive_class: 1
  features: {tenure: numeric, plan: categorical}
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
"""

CREDIT = """
model: credit-scoring
schema:
  id: request_id
  task: binary_classification
  prediction: predicted_default
  score: default_probability
  label: defaulted
  positive_class: 1
  features: {income: numeric}
  segments: [risk_segment]
baseline: {path: baselines/credit-scoring/training.csv}
checks:
  - {name: subprime-gini, metric: gini, segment: {risk_segment: subprime},
     max_relative_drop: 0.05, action: retrain}
  - {name: prime-gini, metric: gini, segment: {risk_segment: prime},
     max_relative_drop: 0.05, action: retrain}
"""


def evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, dict]:
    code = main(["evaluate", *(str(a) for a in args)])
    out = capsys.readouterr().out
    return code, json.loads(out)


def churn_frame(rows: int, *, accuracy: float, labelled: float, seed: int) -> pd.DataFrame:
    """Rows whose labelled part is right on exactly ``accuracy`` of its rows."""
    rng = np.random.default_rng(seed)
    predicted = rng.integers(0, 2, rows)
    labelled_rows = round(rows * labelled)
    order = rng.permutation(rows)
    labelled_index, unlabelled_index = order[:labelled_rows], order[labelled_rows:]
    wrong = rng.choice(labelled_index, round(labelled_rows * (1 - accuracy)), replace=False)
    truth = predicted.astype(float)
    truth[wrong] = 1 - truth[wrong]
    truth[unlabelled_index] = np.nan
    return pd.DataFrame(
        {
            "customer_id": np.arange(rows) + seed * 1_000_000,
            "tenure": rng.gamma(2.0, 12.0, rows),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
            "churn_predicted": predicted,
            "churned": truth,
        }
    )


def write_churn(tmp_path: Path, *, accuracy: float, labelled: float) -> list[str]:
    config = tmp_path / "churn.yaml"
    config.write_text(CHURN, encoding="utf-8")
    reference = churn_frame(4000, accuracy=0.9, labelled=1.0, seed=1)
    current = churn_frame(5000, accuracy=accuracy, labelled=labelled, seed=2)
    reference.to_csv(tmp_path / "reference.csv", index=False)
    # Inference logs carry no label; the labels arrive later in their own file.
    current.drop(columns="churned").to_csv(tmp_path / "current.csv", index=False)
    labels = current.loc[current["churned"].notna(), ["customer_id", "churned"]]
    labels.sample(frac=1.0, random_state=3).to_csv(tmp_path / "labels.csv", index=False)
    return [
        "--config",
        config,
        "--reference",
        tmp_path / "reference.csv",
        "--current",
        tmp_path / "current.csv",
        "--labels",
        tmp_path / "labels.csv",
    ]


@pytest.mark.parametrize("labelled", [1.0, 0.3])
@pytest.mark.parametrize(("accuracy", "status"), [(0.84, "fail"), (0.86, "pass")])
def test_churn_accuracy_floor_decides_on_the_labelled_rows(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    accuracy: float,
    status: str,
    labelled: float,
) -> None:
    code, result = evaluate(
        tmp_path, capsys, *write_churn(tmp_path, accuracy=accuracy, labelled=labelled)
    )
    check, schema_columns = result["checks"]
    assert (schema_columns["name"], schema_columns["status"]) == ("schema-columns", "pass")
    assert check["status"] == status, check
    assert check["value"] == pytest.approx(accuracy, abs=1e-12)
    assert check["action"] == "retrain"
    labels = result["performance"]["labels"]
    assert labels["overall"]["labelled"] == round(5000 * labelled)
    assert labels["overall"]["coverage"] == pytest.approx(labelled)
    assert labels["join"]["joined"] == round(5000 * labelled)
    assert labels["join"]["unmatched_labels"] == 0
    assert result["performance"]["baseline"]["overall"]["accuracy"] == pytest.approx(0.9)
    if status == "fail":
        assert code == 1
        assert result["status"] == "critical"
        assert result["actions"] == [{"action": "retrain", "checks": ["accuracy-floor"]}]
    else:
        assert code == 0
        assert result["status"] == "ok"
        assert result["actions"] == []


def test_too_few_labels_skip_rather_than_decide(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = write_churn(tmp_path, accuracy=0.5, labelled=0.004)  # 20 labelled rows
    code, result = evaluate(tmp_path, capsys, *args)
    check, _schema_columns = result["checks"]
    assert check["status"] == "skip"
    assert "20 labelled rows of 5000, fewer than min_labelled_rows 30" in check["detail"]
    assert code == 0


def scores_with_gini(y: np.ndarray, noise: np.ndarray, gini: float) -> np.ndarray:
    """Scores ``sigmoid(s * (2y - 1) + noise)`` with ``s`` bisected to the target Gini."""
    low, high = 0.0, 20.0
    for _ in range(60):
        middle = (low + high) / 2
        if 2 * roc_auc_score(y, middle * (2 * y - 1) + noise) - 1 < gini:
            low = middle
        else:
            high = middle
    return 1 / (1 + np.exp(-(high * (2 * y - 1) + noise)))


def credit_frame(rows: int, ginis: dict[str, float], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    segment = rng.choice(list(ginis), rows, p=[0.4, 0.6])
    y = (rng.random(rows) < np.where(segment == "subprime", 0.25, 0.08)).astype(int)
    noise = rng.normal(0.0, 1.0, rows)
    score = np.empty(rows)
    for name, gini in ginis.items():
        rows_of = segment == name
        score[rows_of] = scores_with_gini(y[rows_of], noise[rows_of], gini)
    return pd.DataFrame(
        {
            "request_id": [f"r{seed}-{i}" for i in range(rows)],
            "income": rng.lognormal(10.5, 0.4, rows),
            "risk_segment": segment,
            "default_probability": score,
            "predicted_default": (score > 0.5).astype(int),
            "defaulted": y,
        }
    )


@pytest.mark.parametrize(("relative_drop", "status"), [(0.06, "fail"), (0.04, "pass")])
def test_subprime_gini_against_its_own_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], relative_drop: float, status: str
) -> None:
    config = tmp_path / "credit.yaml"
    config.write_text(CREDIT, encoding="utf-8")
    baseline_gini = {"subprime": 0.50, "prime": 0.70}
    current_gini = {"subprime": 0.50 * (1 - relative_drop), "prime": 0.70}
    credit_frame(20_000, baseline_gini, seed=5).to_csv(tmp_path / "training.csv", index=False)
    credit_frame(20_000, current_gini, seed=6).to_csv(tmp_path / "current.csv", index=False)
    code, result = evaluate(
        tmp_path,
        capsys,
        "--config",
        config,
        "--reference",
        tmp_path / "training.csv",
        "--current",
        tmp_path / "current.csv",
    )
    checks = {check["name"]: check for check in result["checks"]}
    subprime, prime = checks["subprime-gini"], checks["prime-gini"]
    assert subprime["segment"] == "risk_segment=subprime"
    assert subprime["baseline"] == pytest.approx(0.50, abs=2e-3)
    assert subprime["value"] == pytest.approx(0.50 * (1 - relative_drop), abs=2e-3)
    assert subprime["status"] == status, subprime
    assert prime["status"] == "pass", prime
    assert prime["baseline"] == pytest.approx(0.70, abs=2e-3)
    overall = result["performance"]["segments"]
    assert overall["risk_segment=prime"]["gini"] == pytest.approx(0.70, abs=2e-3)
    assert code == (1 if status == "fail" else 0)
    if status == "fail":
        assert "below its baseline" in subprime["detail"]
        assert result["actions"] == [{"action": "retrain", "checks": ["subprime-gini"]}]


CONCEPT = """
model: fraud
schema:
  id: id
  timestamp: event_time
  task: binary_classification
  prediction: flagged
  label: fraud
  positive_class: 1
  features: {amount: numeric, region: categorical}
  segments: [channel]
baseline: {path: baselines/fraud/reference.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.95, action: emergency_retrain}
"""


def concept_frame(rows: int, *, broken: bool, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east", "west"], rows)
    hours = rng.integers(0, 24, rows)
    start = pd.Timestamp("2026-11-20T00:00:00Z")
    event_time = start + pd.to_timedelta(rng.integers(0, 5, rows), unit="D")
    event_time += pd.to_timedelta(hours, unit="h") + pd.to_timedelta(
        rng.integers(0, 3600, rows), unit="s"
    )
    night = (hours >= 22) | (hours < 4)
    error_rate = np.where(broken & (region == "west") & night, 0.6, 0.04)
    flagged = rng.integers(0, 2, rows)
    wrong = rng.random(rows) < error_rate
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "event_time": event_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "amount": rng.lognormal(4.0, 1.0, rows),
            "region": region,
            "channel": rng.choice(["web", "app"], rows),
            "flagged": flagged,
            "fraud": np.where(wrong, 1 - flagged, flagged),
        }
    )


def test_worst_slice_names_the_broken_region_at_night_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "fraud.yaml"
    config.write_text(CONCEPT, encoding="utf-8")
    concept_frame(10_000, broken=False, seed=8).to_csv(tmp_path / "reference.csv", index=False)
    concept_frame(20_000, broken=True, seed=9).to_csv(tmp_path / "current.csv", index=False)
    code, result = evaluate(
        tmp_path,
        capsys,
        "--config",
        config,
        "--reference",
        tmp_path / "reference.csv",
        "--current",
        tmp_path / "current.csv",
    )
    assert code == 1
    assert result["checks"][0]["status"] == "fail"
    worst = result["worst_slices"]
    first = worst[0]
    # Night here is 22:00-04:00, which straddles the 00-06 quarter the slices use: the
    # quarter holding most of it, in the broken region, must still come first.
    assert first["slice"] == "daypart=00-06 & region=west", worst[:3]
    assert any(
        item["slice"].startswith("hour=") and "region=west" in item["slice"] for item in worst
    )
    # 4 of the quarter's 6 hours are broken: (4 * 0.6 + 2 * 0.04) / 6 = 0.41.
    assert first["value"] == pytest.approx(0.41, abs=0.05)
    assert first["gap"] > 0.3
    assert all(item["rows"] >= 30 and item["gap"] > 0 for item in worst)
    assert len(worst) == 10


FAIRNESS = """
model: approvals
schema:
  id: id
  task: binary_classification
  prediction: approved
  label: repaid
  positive_class: 1
  sensitive: group
  features: {income: numeric}
baseline: {path: baselines/approvals/reference.csv}
checks:
  - {name: four-fifths, metric: disparate_impact, min: 0.8, action: notify}
  - {name: equal-opportunity, metric: equal_opportunity_difference, max: 0.1, action: notify}
"""


def approvals(rows: int, *, rate_b: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], rows)
    approved = (rng.random(rows) < np.where(group == "a", 0.5, rate_b)).astype(int)
    repaid = np.where(rng.random(rows) < 0.8, approved, 1 - approved)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "income": rng.lognormal(10, 0.3, rows),
            "group": group,
            "approved": approved,
            "repaid": repaid,
        }
    )


def test_fairness_metrics_are_checks_with_group_rates_in_the_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "approvals.yaml"
    config.write_text(FAIRNESS, encoding="utf-8")
    approvals(4000, rate_b=0.5, seed=1).to_csv(tmp_path / "reference.csv", index=False)
    current = approvals(6000, rate_b=0.3, seed=2)
    current.to_csv(tmp_path / "current.csv", index=False)
    code, result = evaluate(
        tmp_path,
        capsys,
        "--config",
        config,
        "--reference",
        tmp_path / "reference.csv",
        "--current",
        tmp_path / "current.csv",
    )
    rates = current.groupby("group")["approved"].mean()
    fairness = result["performance"]["fairness"]
    assert fairness["positive_rate"] == pytest.approx(rates.to_dict())
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["four-fifths"]["value"] == pytest.approx(rates.min() / rates.max())
    assert checks["four-fifths"]["status"] == "fail"
    positives = current[current["repaid"] == 1]
    tpr = positives.groupby("group")["approved"].mean()
    assert checks["equal-opportunity"]["value"] == pytest.approx(tpr.max() - tpr.min())
    assert checks["equal-opportunity"]["status"] == "fail"
    assert code == 1
