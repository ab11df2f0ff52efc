"""The handlers themselves on moto: S3 events parsed (keys URL-decoded, test events ignored),
services built from the environment, side effects and EMF output real."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import pytest

from driftline.aws import handler as shared
from driftline.aws.handler import object_events
from driftline.aws.jobs import Services
from moto_support import handler_environment, load_handler

ROOT = Path(__file__).resolve().parents[3]
CHURN = ROOT / "examples" / "churn"


def load(function: str) -> ModuleType:
    return load_handler(function, prefix="handler_under_test")


def s3_event(key: str, etag: str = "abc") -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "eventTime": "2026-11-24T10:15:00.000Z",
                "s3": {"object": {"key": quote_plus(key), "eTag": etag}},
            }
        ]
    }


class Context:
    function_name = "test"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    aws_request_id = "request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def environment(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    values = handler_environment(services)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    shared.services.cache_clear()
    yield services
    shared.services.cache_clear()


def test_keys_are_url_decoded_and_test_events_ignored() -> None:
    assert list(object_events({"Event": "s3:TestEvent", "Bucket": "b"})) == []
    (item,) = object_events(s3_event("inference/churn/2026/11/24/10/my file+1.csv"))
    assert item.key == "inference/churn/2026/11/24/10/my file+1.csv"
    assert item.time.isoformat() == "2026-11-24T10:15:00+00:00"
    bridge = {
        "detail-type": "Object Created",
        "time": "2026-11-24T10:15:00Z",
        "detail": {"object": {"key": "labels/churn/2026/11/24/a.csv", "etag": "e"}},
    }
    assert [i.key for i in object_events(bridge)] == ["labels/churn/2026/11/24/a.csv"]


def test_handlers_end_to_end_with_real_side_effects(
    environment: Services, inbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    services = environment
    services.store.put("baselines/churn/reference.csv", (CHURN / "reference.csv").read_bytes())
    services.store.put("config/churn.yaml", (CHURN / "monitor.yaml").read_bytes())
    configured = load("configure").handler(s3_event("config/churn.yaml"), Context())
    assert configured["objects"][0]["status"] == "stored"
    assert services.table.reference_key("churn") is not None

    key = "inference/churn/2026/11/24/10/current batch.csv"
    services.store.put(key, (CHURN / "current.csv").read_bytes())
    capsys.readouterr()
    profiled = load("profile_batch").handler(s3_event(key), Context())
    assert profiled["objects"][0]["status"] == "profiled"
    stdout = capsys.readouterr().out
    emf = [json.loads(line) for line in stdout.splitlines() if '"_aws"' in line]
    assert any(doc.get("Rows") == 4000.0 and doc["model"] == "churn" for doc in emf)
    assert len(list(services.store.keys("profiles/churn/batches/2026/11/24/10/"))) == 1
    assert inbox(), "the batch's quality checks should have notified"

    capsys.readouterr()
    evaluated = load("evaluate").handler(
        {"model": "churn", "time": "2026-11-24T23:00:00Z"}, Context()
    )
    windows = evaluated["evaluations"][0]["windows"]
    assert [w["status"] for w in windows] == ["critical", "critical"]
    executions = services.retrain.client.list_executions(
        stateMachineArn=services.retrain.state_machine_arn
    )["executions"]
    assert len(executions) == 1

    # The EMF lines the dashboard plots: per window the status level and failed checks
    # beside the overall figures (nothing per segment: a segment's name is a feature value,
    # and EMF documents are log lines), and one count per alert sent and retraining started.
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    dimensions = [set(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) for doc in emf]
    overall = [
        doc for doc, names in zip(emf, dimensions, strict=True) if names == {"model", "window"}
    ]
    assert [(doc["Status"], doc["FailedChecks"] > 0) for doc in overall] == [(2.0, True)] * 2
    assert not [names for names in dimensions if "segment" in names]
    alerts = [doc for doc in emf if "Alerts" in doc]
    assert [(doc["model"], doc["kind"]) for doc in alerts] == [("churn", "firing")]
    started = [doc for doc in emf if "RetrainingsStarted" in doc]
    assert [(doc["action"], doc["RetrainingsStarted"]) for doc in started] == [("retrain", 1.0)]


def test_a_rejected_file_emits_an_error_metric(
    environment: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    services = environment
    services.store.put("config/churn.yaml", b"model: churn\nschema: [not a mapping\n")
    load("configure").handler(s3_event("config/churn.yaml"), Context())
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [doc["RejectedFiles"] for doc in emf] == [1.0]
    assert emf[0]["reason"] == "invalid_yaml"


def test_an_inference_log_with_none_of_the_monitored_columns_is_quarantined(
    environment: Services, inbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a configured model and a file of another shape (another model's export, say)
    services = environment
    services.store.put("baselines/churn/reference.csv", (CHURN / "reference.csv").read_bytes())
    services.store.put("config/churn.yaml", (CHURN / "monitor.yaml").read_bytes())
    load("configure").handler(s3_event("config/churn.yaml"), Context())
    inbox()
    key = "inference/churn/2026/11/24/10/other.csv"
    services.store.put(key, b"sku,price\nA-1,3.5\nB-2,4.0\n")

    # WHEN it is uploaded
    outcome = load("profile_batch").handler(s3_event(key), Context())

    # THEN it is refused with a reason naming what was expected and what was there, not
    # profiled as rows whose every feature is missing
    assert outcome["objects"][0]["status"] == "rejected"
    reason = services.store.get_json(f"quarantine/{key}.reason.json")
    assert reason["reason"] == "no_monitored_columns"
    assert reason["details"]["columns"] == "sku, price"
    assert "monthly_charges" in reason["details"]["expected"].split(", ")
    assert not list(services.store.keys("profiles/churn/batches/"))
    (message,) = inbox()
    assert "no_monitored_columns" in message["Subject"]


def test_segment_figures_reach_cloudwatch_only_when_the_definition_asks(
    environment: Services, inbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the churn definition with cloudwatch.segment_metrics on, and a batch
    services = environment
    definition = (CHURN / "monitor.yaml").read_text(encoding="utf-8")
    definition += "\ncloudwatch: {segment_metrics: true}\n"
    services.store.put("baselines/churn/reference.csv", (CHURN / "reference.csv").read_bytes())
    services.store.put("config/churn.yaml", definition.encode())
    load("configure").handler(s3_event("config/churn.yaml"), Context())
    key = "inference/churn/2026/11/24/10/current.csv"
    services.store.put(key, (CHURN / "current.csv").read_bytes())
    load("profile_batch").handler(s3_event(key), Context())
    capsys.readouterr()

    # WHEN the model is evaluated
    load("evaluate").handler({"model": "churn", "time": "2026-11-24T23:00:00Z"}, Context())

    # THEN each window's segments come with a segment dimension, one document per segment
    # value of the data, each figure equal to the one stored in the table
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    by_segment = [doc for doc in emf if "segment" in doc]
    header, *rows = (CHURN / "current.csv").read_text(encoding="utf-8").splitlines()
    column = header.split(",").index("plan")
    plans = {row.split(",")[column] for row in rows}
    windows = {doc["window"] for doc in emf if "Status" in doc}
    assert len(by_segment) == len(plans) * len(windows) > 0
    assert {doc["segment"] for doc in by_segment} == {f"plan={plan}" for plan in plans}
    for doc in by_segment:
        assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["model", "segment", "window"]]
        (stored,) = [
            point
            for point in services.table.metric(
                "churn", "accuracy", segment=doc["segment"], start="2026-11-24", end="2026-11-26"
            )
            if point.window == doc["window"]
        ]
        assert doc["accuracy"] == stored.value


def test_the_retrain_steps_log_keys_do_not_outlive_the_invocation(environment: Services) -> None:
    # GIVEN the retrain function, whose invocations log their step and execution
    from driftline.aws.handler import logger

    retrain = load("retrain")
    # WHEN a step runs (and is refused: an unknown step)
    with pytest.raises(Exception, match="step"):
        retrain.handler({"step": "no-such-step", "execution": "x-1"}, Context())
    # THEN the shared logger no longer carries them (a warm container's next invocation, or
    # another function on the local runtime, would log them otherwise)
    assert not {"step", "execution"} & set(logger.get_current_keys())
