"""Fault injection at every AWS call of a batch's life, on moto: the retry ends where a run
without faults ends.

The life: an inference batch is profiled, a label file arrives (joined to it), a second
batch arrives (joined to the waiting labels), the schedule evaluates (metrics, report,
notification, retraining start). A run without faults records the AWS API calls each step
makes (about a hundred). Then, for each chosen call, a fresh deployment runs the same life
with that one call failing once, as Lambda would see it:

- ``5xx``: the service answers 500 (InternalError), after botocore's own retries;
- ``throttled``: DynamoDB ``ProvisionedThroughputExceededException`` / ``ThrottlingException``;
- ``timeout``: a read timeout *after the request was applied* (the write happened, the
  answer was lost), the case that breaks a handler that is not idempotent.

A step that fails is invoked again (Lambda's retry of an asynchronous event), at most three
times. What must hold: every step ends; nothing is half-written (no outbox left behind);
the stored profiles, rows, reports and metric items, the detector's rows, the notifications
and the executions equal the fault-free run's. One exception, by necessity: a publish (SNS)
whose answer is lost may have gone out, and SNS takes no idempotency key, so the retry sends
it again: at least once, one duplicate, never lost. (The EventBridge event goes first, so a
failed event never pages twice; a repeated event carries the same ``dedup_key``.)

Bugs this found, fixed in driftline/aws/jobs (acting.py, batches.py): an outbox claim (a
conditional delete) applied with its answer lost dropped the notification or the retraining
start for good; a batch profile written with its answer lost made the retry a duplicate that
skipped the batch's quality checks, so their notification was lost.

By default every 10th call is hit (the kinds in turn, about 10 runs); ``DRIFTLINE_FAULTS=all``
hits every call with every kind (about 300 runs, minutes) and prints the count::

    DRIFTLINE_FAULTS=all python -m pytest -q -s tests/functional/aws/test_fault_matrix.py
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws

from driftline.aws import jobs
from driftline.aws.jobs import Services
from moto_support import REGION, moto_services

from .test_jobs import DEFINITION as JOBS_DEFINITION
from .test_jobs import csv, frame

NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
# psi on the numeric feature: a binned method, whose figures read no quantile sample (chosen
# when sketches compacted at random; profiles are deterministic now, docs/profiles.md)
DEFINITION = JOBS_DEFINITION.replace("windows: [P1D]", "windows: [P1D]\ndrift: {method: psi}")
KINDS = ("5xx", "throttled", "timeout")
ALL = os.environ.get("DRIFTLINE_FAULTS", "").strip().lower() == "all"
STRIDE = 10
PASS_MACHINE = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Pass", "End": True}}})
#: A send whose answer, once lost, cannot tell whether it happened: SNS has no idempotency
#: key, so the retry sends again (one duplicate allowed, never a loss).
AMBIGUOUS_SENDS = ("Publish",)
WRITES = ("Put", "Update", "Delete", "Transact", "BatchWrite", "Publish", "Start", "Copy")


@contextmanager
def deployment() -> Iterator[Services]:
    saved = dict(os.environ)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION
    )
    try:
        with mock_aws():
            services = moto_services("driftline-test")
            sqs = boto3.client("sqs", region_name=REGION)
            url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            boto3.client("sns", region_name=REGION).subscribe(
                TopicArn=services.notifier.topic_arn,
                Protocol="sqs",
                Endpoint=arn["Attributes"]["QueueArn"],
            )
            services.store.put(
                "baselines/churn/reference.csv", csv(frame(1500, seed=1, accuracy=0.9))
            )
            services.store.put("config/churn.yaml", DEFINITION.encode())
            assert jobs.configure(services, "config/churn.yaml")["status"] == "stored"
            data = frame(400, seed=7, accuracy=0.7)
            # the second batch misses tenure: its quality check notifies as it is profiled
            data.loc[data.index[200::3], "tenure"] = float("nan")
            inputs = {
                B0: data.iloc[:200].drop(columns="churned"),
                L0: data[["customer_id", "churned"]],
                B1: data.iloc[200:].drop(columns="churned"),
            }
            for key, content in inputs.items():
                services.store.put(key, csv(content))
            services.inbox_url = url  # type: ignore[attr-defined]
            yield services
    finally:
        os.environ.clear()
        os.environ.update(saved)


B0 = "inference/churn/2026/11/24/10/b0.csv"
L0 = "labels/churn/2026/11/24/l0.csv"
B1 = "inference/churn/2026/11/24/11/b1.csv"
STEPS: list[tuple[str, Callable[[Services], Any]]] = [
    ("profile b0", lambda s: jobs.profile_batch(s, B0, received=NOW)),
    ("labels l0", lambda s: jobs.ingest_labels(s, L0, received=NOW)),
    ("profile b1", lambda s: jobs.profile_batch(s, B1, received=NOW)),
    ("evaluate", lambda s: jobs.evaluate_model(s, "churn", now=NOW)),
]


class Injector:
    """Counts the AWS calls of the steps and fails the ``target``-th once, as ``kind``."""

    def __init__(self, target: int | None = None, kind: str = "5xx") -> None:
        self.target = target
        self.kind = kind
        self.calls: list[str] = []
        self.fired: str | None = None
        self.counting = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        original = BaseClient._make_api_call
        injector = self

        def call(client: Any, operation: str, params: Any) -> Any:
            if not injector.counting:
                return original(client, operation, params)
            index = len(injector.calls)
            injector.calls.append(operation)
            if index != injector.target:
                return original(client, operation, params)
            injector.fired = operation
            if injector.kind == "timeout":
                if operation.startswith(WRITES):
                    original(client, operation, params)  # applied; the answer is lost
                raise ReadTimeoutError(endpoint_url=f"https://{operation}.local")
            code = "InternalError"
            if injector.kind == "throttled":
                code = (
                    "ProvisionedThroughputExceededException"
                    if client.meta.service_model.service_name == "dynamodb"
                    else "ThrottlingException"
                )
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

        BaseClient._make_api_call = call  # type: ignore[method-assign]
        try:
            yield
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]


def observe(services: Services) -> dict[str, Any]:
    """What the life left behind that must not depend on faults."""
    store, table = services.store, services.table
    items = []
    for page in table.client.get_paginator("scan").paginate(TableName=table.name):
        items += page["Items"]
    metrics = {
        i["PK"]["S"] + "|" + i["SK"]["S"]: i["value"]["N"]
        for i in items
        if i["PK"]["S"].startswith("METRIC#")
    }
    detector = table.state("churn", "DETECTOR", "error-ddm").document
    sqs = boto3.client("sqs", region_name=REGION)
    subjects = []
    while messages := sqs.receive_message(
        QueueUrl=services.inbox_url,
        MaxNumberOfMessages=10,  # type: ignore[attr-defined]
    ).get("Messages", []):
        for message in messages:
            subjects.append(json.loads(message["Body"])["Subject"])
            sqs.delete_message(
                QueueUrl=services.inbox_url,  # type: ignore[attr-defined]
                ReceiptHandle=message["ReceiptHandle"],
            )
    executions = services.retrain.client.list_executions(
        stateMachineArn=services.retrain.state_machine_arn
    )["executions"]
    rows = {
        key: len(pd.read_csv(io.BytesIO(store.get(key).body), compression="gzip"))
        for key in store.keys("profiles/churn/rows/")
    }
    return {
        "keys": sorted(store.keys("")),
        "rows": rows,
        "metrics": metrics,
        "detector_rows": detector.get("detector", {}).get("state", {}).get("n"),
        "applied": sorted(detector.get("applied", [])),
        "subjects": sorted(subjects),
        "executions": sorted(e["name"] for e in executions),
        "outbox": table.states("churn", "OUTBOX"),
    }


def live(injector: Injector) -> tuple[dict[str, Any], list[str]]:
    """Run the life on a fresh deployment; returns what it left and each step's failures."""
    failures: list[str] = []
    with deployment() as services, injector.installed():
        for name, step in STEPS:
            for attempt in range(3):
                injector.counting = True
                try:
                    step(services)
                    break
                except (ClientError, ReadTimeoutError) as exc:
                    failures.append(f"{name} attempt {attempt + 1}: {type(exc).__name__}")
                finally:
                    injector.counting = False
            else:
                failures.append(f"{name} never succeeded")
        return observe(services), failures


@pytest.fixture(scope="module")
def fault_free() -> tuple[dict[str, Any], list[str]]:
    injector = Injector()
    outcome, failures = live(injector)
    assert failures == []
    return outcome, injector.calls


def test_the_fault_free_life_is_what_the_matrix_compares_against(
    fault_free: tuple[dict[str, Any], list[str]],
) -> None:
    outcome, calls = fault_free
    assert len(calls) > 60
    assert outcome["detector_rows"] == 400
    # the second batch's quality check, then the evaluation (accuracy, and tenure over the day)
    assert len(outcome["subjects"]) == 2 and outcome["executions"]
    assert "tenure-missing" in outcome["subjects"][1] or "tenure-missing" in outcome["subjects"][0]
    assert outcome["metrics"] and outcome["outbox"] == {}


def test_a_fault_at_any_call_is_retried_to_the_fault_free_result(
    fault_free: tuple[dict[str, Any], list[str]],
) -> None:
    expected, calls = fault_free
    if ALL:
        points = [(index, kind) for index in range(len(calls)) for kind in KINDS]
    else:
        points = [
            (index, KINDS[n % len(KINDS)]) for n, index in enumerate(range(0, len(calls), STRIDE))
        ]
    problems = []
    surfaced = duplicated = 0
    for index, kind in points:
        injector = Injector(index, kind)
        outcome, failures = live(injector)
        surfaced += bool(failures)
        if any("never succeeded" in failure for failure in failures):
            problems.append((index, calls[index], kind, failures))
            continue
        differing = {name for name in expected if outcome[name] != expected[name]}
        if kind == "timeout" and calls[index] in AMBIGUOUS_SENDS and "subjects" in differing:
            # sent, answer lost: sent again on the retry (at least once, never lost)
            once = sorted(set(outcome["subjects"])) == sorted(set(expected["subjects"]))
            if once and len(outcome["subjects"]) == len(expected["subjects"]) + 1:
                differing.discard("subjects")
                duplicated += 1
        if differing:
            problems.append((index, calls[index], kind, sorted(differing)))
    print(
        f"\nfaults injected: {len(points)} (calls: {len(calls)}); surfaced as a failed "
        f"invocation and retried: {surfaced}; a message sent twice (a send whose answer was "
        f"lost): {duplicated}; problems: {len(problems)}"
    )
    assert problems == []
