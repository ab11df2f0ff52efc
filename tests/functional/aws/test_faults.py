"""Faults in the middle of acting: a failed send is retried, never lost, never doubled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from driftline.aws import jobs
from driftline.aws.jobs import Services
from driftline.config import load_monitor_definition

DEFINITION = load_monitor_definition(
    """
model: churn
schema:
  task: binary_classification
  prediction: p
  label: y
  features: {x: numeric}
baseline: {path: baselines/churn/b.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
"""
)
NOW = datetime(2026, 11, 24, 23, tzinfo=UTC)
RESULT = {
    "version": 1,
    "model": "churn",
    "evaluation_id": "churn-P1D-20261124T2300",
    "window": {"start": "2026-11-23T23:00:00+00:00", "end": "2026-11-24T23:00:00+00:00"},
    "checks": [
        {
            "name": "accuracy-floor",
            "status": "fail",
            "value": 0.8,
            "threshold": 0.85,
            "baseline": 0.9,
            "segment": None,
            "action": "retrain",
            "detail": "accuracy is 0.8, below the minimum 0.85",
        }
    ],
    "actions": [{"action": "retrain", "checks": ["accuracy-floor"]}],
    "worst_slices": [],
    "status": "critical",
}


def flaky(real: Any, failures: int) -> Any:
    calls = {"n": 0}

    def call(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "5xx"}}, "Publish")
        return real(**kwargs)

    return call


def executions(services: Services) -> list[dict[str, Any]]:
    return services.retrain.client.list_executions(
        stateMachineArn=services.retrain.state_machine_arn
    )["executions"]


def test_a_failed_notification_is_sent_on_the_retry_exactly_once(
    services: Services, inbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sns = services.notifier.sns
    monkeypatch.setattr(sns, "publish", flaky(sns.publish, failures=1))
    with pytest.raises(ClientError):
        jobs.act(services, DEFINITION, RESULT, now=NOW)
    assert inbox() == []
    # The pending notification waits in the outbox; the retried invocation delivers it.
    assert list(services.table.states("churn", "OUTBOX"))
    jobs.act(services, DEFINITION, RESULT, now=NOW)
    assert len(inbox()) == 1
    assert services.table.states("churn", "OUTBOX") == {}
    assert len(executions(services)) == 1
    # A third delivery of the same evaluation: nothing more.
    jobs.act(services, DEFINITION, RESULT, now=NOW)
    assert inbox() == [] and len(executions(services)) == 1


def test_a_failed_execution_start_is_retried_and_started_once(
    services: Services, inbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sfn = services.retrain.client
    monkeypatch.setattr(sfn, "start_execution", flaky(sfn.start_execution, failures=1))
    with pytest.raises(ClientError):
        jobs.act(services, DEFINITION, RESULT, now=NOW)
    assert executions(services) == []
    jobs.act(services, DEFINITION, RESULT, now=NOW)
    assert len(executions(services)) == 1
    assert len(inbox()) == 1


def test_a_failed_state_write_sends_nothing(
    services: Services, inbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = services.table.client
    monkeypatch.setattr(
        client, "transact_write_items", flaky(client.transact_write_items, failures=1)
    )
    with pytest.raises(ClientError):
        jobs.act(services, DEFINITION, RESULT, now=NOW)
    # Nothing was planned durably, so nothing went out; the retry does it all once.
    assert inbox() == [] and executions(services) == []
    jobs.act(services, DEFINITION, RESULT, now=NOW)
    assert len(inbox()) == 1 and len(executions(services)) == 1
