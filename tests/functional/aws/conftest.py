"""moto-backed adapters for the functional tests (no network, no real AWS)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from driftline.aws.jobs import Services
from driftline.aws.notify import Notifier
from driftline.aws.retrain import RetrainStarter
from driftline.aws.s3 import ObjectStore
from driftline.aws.schedules import Schedules
from driftline.aws.store import Table

REGION = "us-east-1"
PLACEHOLDER_MACHINE = json.dumps(
    {"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}
)


@pytest.fixture
def aws() -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
    )
    with mock_aws():
        yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def services(aws: None) -> Services:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="driftline-test")
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="driftline",
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    events = boto3.client("events", region_name=REGION)
    events.create_event_bus(Name="driftline")
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name="retrain",
        definition=PLACEHOLDER_MACHINE,
        roleArn="arn:aws:iam::123456789012:role/states",
    )["stateMachineArn"]
    scheduler = boto3.client("scheduler", region_name=REGION)
    scheduler.create_schedule_group(Name="driftline")
    return Services(
        store=ObjectStore(s3, "driftline-test"),
        table=Table(dynamodb, "driftline"),
        notifier=Notifier(sns, events, topic, "driftline"),
        retrain=RetrainStarter(sfn, machine),
        schedules=Schedules(
            scheduler,
            "driftline",
            "arn:aws:lambda:us-east-1:123456789012:function:evaluate",
            "arn:aws:iam::123456789012:role/scheduler",
        ),
    )


@pytest.fixture
def inbox(services: Services) -> Any:
    """An SQS queue subscribed to the topic; call it to read the notifications so far."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=services.notifier.topic_arn, Protocol="sqs", Endpoint=arn
    )

    def read() -> list[dict[str, Any]]:
        found = []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    return read


@pytest.fixture
def atomic_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make each AWS API call atomic, as the real services are.

    moto's in-memory backends take no locks, so two threads can both pass one conditional
    write's check; DynamoDB evaluates a condition and writes atomically. One lock around each
    call restores that, while the read-modify-write *between* calls still interleaves across
    threads, which is what the concurrency tests exercise.
    """
    import threading

    from botocore.client import BaseClient

    lock = threading.Lock()
    original = BaseClient._make_api_call

    def atomic(self: Any, operation: str, params: Any) -> Any:
        with lock:
            return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", atomic)
