"""A handler that keeps failing, on the local runtime: each S3 event is retried as the
template's EventInvokeConfig says and then kept in the dead-letter queue, the function's
errors alarm pages once while the failures go on (and the dead-letter queue's alarm once),
and a successful invocation arms the alarm again. No crash loop is silent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from driftline.aws import jobs
from driftline.local import LocalRuntime
from driftline.local.template import load_template

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
CHURN = ROOT / "examples" / "churn"
PLANTED = "planted failure 7c41"


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(TEMPLATE, stack="crashloop") as deployed:
        yield deployed


def alarm_pages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The CloudWatch alarm notifications among the topic's messages (their Message is the
    alarm's JSON document; driftline's own messages are text)."""
    pages = []
    for message in messages:
        try:
            document = json.loads(message["Message"])
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict) and "AlarmName" in document:
            pages.append({"Subject": message["Subject"], **document})
    return pages


def key_of(event: dict[str, Any]) -> str:
    """The object key of an S3 notification (URL-encoded in the event)."""
    return unquote_plus(event["Records"][0]["s3"]["object"]["key"])


def fail_every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: Any, **__: Any) -> dict[str, Any]:
        raise RuntimeError(PLANTED)

    monkeypatch.setattr(jobs, "profile_batch", fail)


def test_a_crash_loop_pages_once_retries_each_event_and_keeps_it_in_the_dead_letter_queue(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN profile_batch failing on every event, and the template's retry setting
    fail_every_batch(monkeypatch)
    config = load_template(TEMPLATE)["Resources"]["ProfileBatchFunction"]["Properties"]
    attempts = 1 + config["EventInvokeConfig"]["MaximumRetryAttempts"]
    assert attempts == 3
    keys = [f"inference/churn/2026/11/24/10/batch-{n}.csv" for n in range(3)]

    # WHEN three batches are uploaded
    for key in keys:
        runtime.upload(key, b"request_id,tenure\nr1,3\n")

    # THEN each event was attempted and retried as configured, every attempt failing
    calls = [c for c in runtime.invocations if c.function == "ProfileBatchFunction"]
    assert [c.attempt for c in calls] == [1, 2, 3] * 3
    assert [key_of(c.event) for c in calls[::attempts]] == keys
    assert len(runtime.failures()) == 9 and all(PLANTED in c.error for c in calls)  # type: ignore[operator]
    # ... on-call was paged once by the function's errors alarm, naming the function, and
    # once by the dead-letter queue's alarm, and told nothing else
    messages = runtime.notifications()
    pages = alarm_pages(messages)
    assert len(messages) == len(pages) == 2
    errors, dead_letters = pages
    assert errors["AlarmName"] == "crashloop-ProfileBatchErrorsAlarm"
    assert errors["Subject"] == 'ALARM: "crashloop-ProfileBatchErrorsAlarm" in us-east-1'
    assert (errors["OldStateValue"], errors["NewStateValue"]) == ("OK", "ALARM")
    assert errors["NewStateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints")
    function = runtime.name_of("ProfileBatchFunction")
    assert errors["Trigger"]["Namespace"] == "AWS/Lambda"
    assert errors["Trigger"]["MetricName"] == "Errors"
    assert errors["Trigger"]["Dimensions"] == [{"value": function, "name": "FunctionName"}]
    assert errors["AlarmActions"] == [runtime.arn_of("AlertTopic")]
    assert dead_letters["AlarmName"] == "crashloop-DeadLetterQueueAlarm"
    queue = runtime.name_of("DeadLetterQueue")
    assert dead_letters["Trigger"]["Dimensions"] == [{"value": queue, "name": "QueueName"}]
    # ... neither page carries the error's message (an error may quote data)
    assert not any(PLANTED in json.dumps(message) for message in messages)
    # ... and every event is in the dead-letter queue, with its error, after its attempts
    records = runtime.dead_letters()
    assert [key_of(r["requestPayload"]) for r in records] == keys
    for record in records:
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == attempts
        assert record["requestContext"]["functionArn"].startswith(
            runtime.arn_of("ProfileBatchFunction")
        )
        assert record["responsePayload"] == {"errorType": "RuntimeError", "errorMessage": PLANTED}
    assert runtime.alarms()["crashloop-ProfileBatchErrorsAlarm"] == "ALARM"
    # (the queue was emptied just now: its alarm is back to OK)
    assert runtime.alarms()["crashloop-DeadLetterQueueAlarm"] == "OK"


def test_a_success_arms_the_alarm_again_so_the_next_failure_pages_again(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a deployed model and profile_batch failing: one page so far
    runtime.upload("baselines/churn/reference.csv", (CHURN / "reference.csv").read_bytes())
    runtime.upload("config/churn.yaml", (CHURN / "monitor.yaml").read_bytes())
    runtime.notifications()
    fail_every_batch(monkeypatch)
    runtime.upload("inference/churn/2026/11/24/10/first.csv", b"request_id,tenure\nr1,3\n")
    assert [p["AlarmName"] for p in alarm_pages(runtime.notifications())] == [
        "crashloop-ProfileBatchErrorsAlarm",
        "crashloop-DeadLetterQueueAlarm",
    ]

    # WHEN the fault is gone and a batch is profiled
    monkeypatch.undo()
    runtime.upload(
        "inference/churn/2026/11/24/11/current.csv", (CHURN / "current.csv").read_bytes()
    )
    # THEN it succeeded, and the alarm went back to OK without a page (no OKActions)
    assert runtime.invocations[-1].error is None
    assert runtime.invocations[-1].result["objects"][0]["status"] == "profiled"
    assert runtime.alarms()["crashloop-ProfileBatchErrorsAlarm"] == "OK"
    assert alarm_pages(runtime.notifications()) == []

    # WHEN the function fails again THEN it pages again, once (and the dead-letter queue,
    # still holding the first event, stays in ALARM without a second page)
    fail_every_batch(monkeypatch)
    runtime.upload("inference/churn/2026/11/24/12/again.csv", b"request_id,tenure\nr1,3\n")
    assert [p["AlarmName"] for p in alarm_pages(runtime.notifications())] == [
        "crashloop-ProfileBatchErrorsAlarm"
    ]
    assert len(runtime.dead_letters()) == 2


def test_a_synchronous_invocation_that_fails_pages_and_is_not_retried(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN evaluate failing
    def fail(*_: Any, **__: Any) -> dict[str, Any]:
        raise RuntimeError(PLANTED)

    monkeypatch.setattr(jobs, "evaluate_model", fail)
    # WHEN it is invoked twice, as a schedule or a user would (synchronously)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="EvaluateFunction failed"):
            runtime.invoke("EvaluateFunction", {"model": "churn"})
    # THEN the caller got the error, each call ran once, nothing went to the dead-letter
    # queue, and the evaluate function's alarm paged once
    assert [c.attempt for c in runtime.invocations] == [1, 1]
    assert runtime.dead_letters() == []
    pages = alarm_pages(runtime.notifications())
    assert [p["AlarmName"] for p in pages] == ["crashloop-EvaluateErrorsAlarm"]
