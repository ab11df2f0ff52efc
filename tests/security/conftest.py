"""Fixtures of the security review: the template (as written and as the SAM transform turns it
into CloudFormation, offline) and a moto deployment of the adapters with the handlers'
environment, for the tests that run the real jobs and handlers."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from driftline.aws import handler as shared
from driftline.aws.jobs import Services
from driftline.aws.notify import Notifier
from driftline.aws.retrain import RetrainStarter
from driftline.aws.s3 import ObjectStore
from driftline.aws.schedules import Schedules
from driftline.aws.store import Table

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture(scope="session")
def written() -> dict[str, Any]:
    """template.yaml as written (intrinsic functions in their long form)."""
    samtranslator = pytest.importorskip("samtranslator.yaml_helper", reason="aws-sam-translator")
    document: dict[str, Any] = samtranslator.yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="session")
def transformed(written: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation the SAM transform makes of template.yaml, without AWS."""
    from samtranslator.translator.transform import transform

    document = copy.deepcopy(written)
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://driftline-artifacts/{properties[key].strip('/')}"

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            raise AssertionError("the template must not need AWS managed policy look-ups")

    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):
        result: dict[str, Any] = transform(document, {}, _NoManagedPolicies())
    return result


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The adapters on moto, and the handlers' DRIFTLINE_* environment pointing at them."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="driftline-security")
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
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/states",
        )["stateMachineArn"]
        scheduler = boto3.client("scheduler", region_name=REGION)
        scheduler.create_schedule_group(Name="driftline")
        evaluate_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:evaluate"
        role_arn = f"arn:aws:iam::{ACCOUNT}:role/scheduler"
        environment = {
            "DRIFTLINE_BUCKET": "driftline-security",
            "DRIFTLINE_TABLE": "driftline",
            "DRIFTLINE_TOPIC_ARN": topic,
            "DRIFTLINE_EVENT_BUS": "driftline",
            "DRIFTLINE_STATE_MACHINE_ARN": machine,
            "DRIFTLINE_SCHEDULE_GROUP": "driftline",
            "DRIFTLINE_SCHEDULER_ROLE_ARN": role_arn,
            "DRIFTLINE_EVALUATE_ARN": evaluate_arn,
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        shared.services.cache_clear()
        yield Services(
            store=ObjectStore(s3, "driftline-security"),
            table=Table(dynamodb, "driftline"),
            notifier=Notifier(sns, events, topic, "driftline"),
            retrain=RetrainStarter(sfn, machine),
            schedules=Schedules(scheduler, "driftline", evaluate_arn, role_arn),
        )
        shared.services.cache_clear()


@pytest.fixture
def inbox(stack: Services) -> Any:
    """An SQS queue subscribed to the alert topic; call it for the messages so far."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=stack.notifier.topic_arn, Protocol="sqs", Endpoint=arn
    )

    def read() -> list[dict[str, Any]]:
        found = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    return read
