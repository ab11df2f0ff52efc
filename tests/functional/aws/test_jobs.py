"""The jobs behind each function, on moto: stored profiles, items, notifications, executions,
and idempotency under duplicate and concurrent delivery."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.aws import jobs
from driftline.aws.jobs import Services
from driftline.estimation import ESTIMATED_METRICS, ScoreCells, build_calibrator, estimate_binary

DEFINITION = """
model: churn
schema:
  id: customer_id
  timestamp: event_time
  task: binary_classification
  prediction: churn_predicted
  score: churn_score
  label: churned
  positive_class: 1
  features: {tenure: numeric, plan: categorical}
  segments: [plan]
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: tenure-missing, quality: missing_share, feature: tenure, max: 0.05, action: notify}
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
  - {name: error-ddm, detector: ddm, signal: error, action: emergency_retrain}
schedule: rate(1 day)
windows: [P1D]
"""
NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)


def frame(
    rows: int, *, seed: int, accuracy: float, missing: float = 0.0, start: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    predicted = rng.integers(0, 2, rows)
    wrong = rng.random(rows) > accuracy
    tenure = rng.gamma(2.0, 12.0, rows)
    tenure[rng.random(rows) < missing] = np.nan
    return pd.DataFrame(
        {
            "customer_id": np.arange(start, start + rows),
            "event_time": pd.Timestamp("2026-11-24T10:00:00Z")
            + pd.to_timedelta(rng.integers(0, 3600, rows), unit="s"),
            "tenure": tenure,
            "plan": rng.choice(["basic", "pro"], rows),
            "churn_score": rng.random(rows),
            "churn_predicted": predicted,
            "churned": np.where(wrong, 1 - predicted, predicted),
        }
    )


def csv(data: pd.DataFrame) -> bytes:
    return data.to_csv(index=False).encode()


def deploy(services: Services) -> None:
    services.store.put("baselines/churn/reference.csv", csv(frame(3000, seed=1, accuracy=0.9)))
    services.store.put("config/churn.yaml", DEFINITION.encode())
    outcome = jobs.configure(services, "config/churn.yaml")
    assert outcome["status"] == "stored"
    assert outcome["baseline"]["status"] == "built"


def upload_batch(services: Services, key: str, data: pd.DataFrame) -> dict[str, Any]:
    services.store.put(key, csv(data))
    return jobs.profile_batch(services, key, received=NOW)


def test_configure_stores_schedules_and_builds_the_baseline(services: Services) -> None:
    deploy(services)
    assert services.table.models() == ["churn"]
    assert services.table.definition("churn") is not None
    reference = jobs.load_reference(services, "churn")
    assert reference is not None and reference.profile.rows == 3000
    # Baseline metrics, overall and per segment, are stored with the baseline profile.
    assert reference.profile.performance is not None
    assert reference.profile.segments["plan=basic"].performance is not None
    assert services.schedules is not None
    assert services.schedules.expressions() == {"churn": "rate(1 day)"}


def test_invalid_definition_is_quarantined_and_reported(services: Services, inbox: Any) -> None:
    services.store.put(
        "config/churn.yaml", DEFINITION.replace("metric: accuracy", "metric: acuracy").encode()
    )
    outcome = jobs.configure(services, "config/churn.yaml")
    assert outcome["status"] == "rejected"
    reason = json.loads(services.store.get("quarantine/config/churn.yaml.reason.json").body)
    assert reason["reason"] == "invalid_config"
    assert "checks[1].metric: unknown metric 'acuracy'" in reason["error"]
    (message,) = inbox()
    assert "invalid" in message["Subject"] or "rejected" in message["Subject"]
    assert services.table.definition("churn") is None


def test_batch_profile_is_stored_once_and_quality_checks_notify(
    services: Services, inbox: Any
) -> None:
    deploy(services)
    key = "inference/churn/2026/11/24/10/batch-1.csv"
    bad = frame(1000, seed=2, accuracy=0.9, missing=0.2)
    first = upload_batch(services, key, bad)
    assert first["status"] == "profiled" and first["rows"] == 1000
    stored = list(services.store.keys("profiles/churn/batches/2026/11/24/10/"))
    assert len(stored) == 1
    assert list(services.store.keys("profiles/churn/rows/2026/11/24/"))
    messages = inbox()
    assert len(messages) == 1
    assert "tenure-missing" in messages[0]["Message"]
    # The same event delivered again: nothing new stored, nobody told twice.
    again = jobs.profile_batch(services, key, received=NOW)
    assert again["status"] == "duplicate"
    assert list(services.store.keys("profiles/churn/batches/")) == stored
    assert inbox() == []


def test_unreadable_batch_is_quarantined_with_a_reason(services: Services, inbox: Any) -> None:
    deploy(services)
    key = "inference/churn/2026/11/24/10/broken.csv"
    services.store.put(key, b"\xff\xfe\x00garbage")
    outcome = jobs.profile_batch(services, key, received=NOW)
    assert outcome["status"] == "rejected"
    reason = json.loads(services.store.get(f"quarantine/{key}.reason.json").body)
    assert reason["key"] == key and reason["reason"]
    assert not list(services.store.keys("profiles/churn/batches/"))
    assert len(inbox()) == 1


def test_labels_join_profile_and_evaluation_decides_accuracy(
    services: Services, inbox: Any
) -> None:
    deploy(services)
    data = frame(2000, seed=3, accuracy=0.8)
    upload_batch(services, "inference/churn/2026/11/24/10/b.csv", data.drop(columns="churned"))
    inbox()
    labels = data[["customer_id", "churned"]].iloc[:1200]
    services.store.put("labels/churn/2026/11/24/l.csv", csv(labels))
    outcome = jobs.ingest_labels(services, "labels/churn/2026/11/24/l.csv", received=NOW)
    assert outcome["joined"] == 1200 and outcome["unmatched_labels"] == 0
    result = jobs.evaluate_model(services, "churn", now=NOW)
    (window,) = result["windows"]
    report = services.store.get_json(f"reports/churn/{window['evaluation_id']}.json")
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["accuracy-floor"]["status"] == "fail"
    expected = float((data["churned"] == data["churn_predicted"]).iloc[:1200].mean())
    assert checks["accuracy-floor"]["value"] == pytest.approx(expected)
    assert report["performance"]["labels"]["overall"]["labelled"] == 1200
    assert report["performance"]["labels"]["overall"]["rows"] == 2000
    points = services.table.metric("churn", "accuracy", start="2026-11-24", end="2026-11-26")
    assert [p.value for p in points] == [pytest.approx(expected)]
    executions = services.retrain.client.list_executions(
        stateMachineArn=services.retrain.state_machine_arn
    )["executions"]
    assert len(executions) >= 1
    # Evaluating the same window again changes nothing and starts nothing new.
    jobs.evaluate_model(services, "churn", now=NOW)
    again = services.retrain.client.list_executions(
        stateMachineArn=services.retrain.state_machine_arn
    )["executions"]
    assert len(again) == len(executions)


def test_sixteen_concurrent_label_batches_lose_no_detector_update(
    services: Services, atomic_calls: None
) -> None:
    deploy(services)
    data = frame(1600, seed=4, accuracy=0.9)
    upload_batch(services, "inference/churn/2026/11/24/10/b.csv", data.drop(columns="churned"))
    keys = []
    for index in range(16):
        key = f"labels/churn/2026/11/24/part-{index:02d}.csv"
        services.store.put(
            key, csv(data[["customer_id", "churned"]].iloc[index * 100 : (index + 1) * 100])
        )
        keys.append(key)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: jobs.ingest_labels(services, key, received=NOW), keys))
    state = services.table.state("churn", "DETECTOR", "error-ddm")
    assert state.document["detector"]["state"]["n"] == 1600
    assert len(state.document["applied"]) == 16
    # A duplicate delivery of one of them changes nothing.
    jobs.ingest_labels(services, keys[3], received=NOW)
    assert (
        services.table.state("churn", "DETECTOR", "error-ddm").document["detector"]["state"]["n"]
        == 1600
    )


def _accuracy_after(services: Services, order: str) -> dict[str, Any]:
    data = frame(2000, seed=7, accuracy=0.8)
    batches = [data.iloc[:1000], data.iloc[1000:]]
    label_files = [data[["customer_id", "churned"]].iloc[i * 700 : (i + 1) * 700] for i in range(3)]
    steps: list[tuple[str, Any]] = []
    for index, batch in enumerate(batches):
        key = f"inference/churn/2026/11/24/1{index}/b{index}.csv"
        steps.append(("batch", (key, batch.drop(columns="churned"))))
    for index, labels in enumerate(label_files):
        steps.append(("labels", (f"labels/churn/2026/11/24/l{index}.csv", labels)))
    if order == "labels-first":
        steps = steps[2:] + steps[:2]
    elif order == "interleaved":
        steps = [steps[2], steps[0], steps[3], steps[1], steps[4]]
    for kind, (key, content) in steps:
        services.store.put(key, csv(content))
        if kind == "batch":
            jobs.profile_batch(services, key, received=NOW)
        else:
            jobs.ingest_labels(services, key, received=NOW)
    result = jobs.evaluate_model(services, "churn", now=NOW)
    report = services.store.get_json(f"reports/churn/{result['windows'][0]['evaluation_id']}.json")
    detector = services.table.state("churn", "DETECTOR", "error-ddm").document
    return {
        "accuracy": report["performance"]["overall"]["accuracy"],
        "labelled": report["performance"]["labels"]["overall"]["labelled"],
        "segments": report["performance"]["segments"],
        "detector_rows": detector["detector"]["state"]["n"],
    }


@pytest.mark.parametrize("order", ["labels-first", "interleaved"])
def test_labels_racing_predictions_give_the_sequential_figures(
    services: Services, order: str
) -> None:
    deploy(services)
    raced = _accuracy_after(services, order)
    expected_rows = 2000
    assert raced["labelled"] == expected_rows
    assert raced["detector_rows"] == expected_rows
    data = frame(2000, seed=7, accuracy=0.8)
    assert raced["accuracy"] == pytest.approx(
        float((data["churned"] == data["churn_predicted"]).mean())
    )


def test_sequential_and_labels_first_agree_exactly(services: Services) -> None:
    deploy(services)
    first = _accuracy_after(services, "labels-first")
    assert first["segments"]["plan=basic"]["accuracy"] > 0
    # Same data, the usual order, in a fresh model namespace of the same deployment.
    for key in list(services.store.keys("profiles/churn/")) + list(services.store.keys("reports/")):
        services.store.client.delete_object(Bucket=services.store.bucket, Key=key)
    for name in ("error-ddm",):
        services.table.client.delete_item(
            TableName=services.table.name,
            Key={"PK": {"S": "MODEL#churn"}, "SK": {"S": f"DETECTOR#{name}"}},
        )
    for key in list(services.store.keys("labels/")) + list(services.store.keys("inference/")):
        services.store.client.delete_object(Bucket=services.store.bucket, Key=key)
    deploy(services)
    sequential = _accuracy_after(services, "sequential")
    assert sequential == first


def test_scheduled_evaluation_stores_the_estimate_of_unlabelled_batches(services: Services) -> None:
    # GIVEN a labelled baseline and two batches of inference logs without labels
    deploy(services)
    batches = [
        frame(1500, seed=30, accuracy=0.85),
        frame(900, seed=31, accuracy=0.85, start=1500),
    ]
    for index, batch in enumerate(batches):
        key = f"inference/churn/2026/11/24/1{index}/b{index}.csv"
        upload_batch(services, key, batch.drop(columns="churned"))

    # WHEN the scheduled evaluation runs
    result = jobs.evaluate_model(services, "churn", now=NOW)

    # THEN the stored result holds the estimate of the window's rows, overall and per plan:
    # the core's estimate with the calibrator fitted on the baseline's labelled rows
    (window,) = result["windows"]
    report = services.store.get_json(f"reports/churn/{window['evaluation_id']}.json")
    estimated = report["performance"]["estimated"]
    baseline = pd.read_csv(io.BytesIO(services.store.get("baselines/churn/reference.csv").body))
    calibrator, decision = build_calibrator(baseline["churn_score"], baseline["churned"])
    rows = pd.concat(batches, ignore_index=True)
    scopes = {"overall": rows} | {
        f"plan={plan}": rows[rows["plan"] == plan] for plan in ("basic", "pro")
    }
    for scope, data in scopes.items():
        expected = estimate_binary(
            ScoreCells.from_arrays(data["churn_score"], data["churn_predicted"]), calibrator
        )
        section = estimated["overall"] if scope == "overall" else estimated["segments"][scope]
        assert {name: figures["value"] for name, figures in section.items()} == {
            name: pytest.approx(value, rel=1e-12) for name, value in expected.metrics.items()
        } | {"gini": pytest.approx(2 * expected.metrics["auc"] - 1, rel=1e-12)}
        assert set(expected.metrics) == set(ESTIMATED_METRICS)
        for name, figures in section.items():
            low = -1.0 if name == "gini" else 0.0
            assert figures["method"] == "cbpe"
            assert low <= figures["lower"] <= figures["value"] <= figures["upper"] <= 1.0
    # AND the intervals cover the model error measured on the baseline's 3,000 rows too
    assert set(estimated["interval"]["covers"].values()) == {"sampling_and_model_error"}
    assert estimated["interval"]["model_error"]["rows"] == 3000
    assert estimated["rows"]["overall"] == 2400
    assert estimated["calibration"]["rows"] == 3000
    assert estimated["calibration"]["raw_error"] == decision.raw_error
    # AND the measured performance has no labelled row yet
    assert report["performance"]["labels"]["overall"] == {
        "rows": 2400,
        "labelled": 0,
        "coverage": 0.0,
    }
    # AND what it was computed from is stored: the calibrator with the baseline, the score
    # cells with each batch's profile
    reference = jobs.load_reference(services, "churn")
    assert reference is not None and reference.calibration is not None
    assert reference.calibration.calibrator == calibrator
    (stored,) = services.store.keys("profiles/churn/batches/2026/11/24/10/")
    profile = services.store.get_json(stored)["profile"]
    assert profile["version"] == 4
    assert ScoreCells.from_dict(profile["score_cells"]).n == 1500
