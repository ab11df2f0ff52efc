"""The adapters over a fresh set of moto resources, for the functional and security tests.

Call :func:`moto_services` inside an active ``mock_aws()``; it creates the bucket, the table
(the template's key schema), the topic, the event bus, a placeholder retraining state machine
and the schedule group, and returns the :class:`Services` the handlers would build.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import boto3

from driftline.aws.jobs import Services
from driftline.aws.notify import Notifier
from driftline.aws.retrain import RetrainStarter
from driftline.aws.s3 import ObjectStore
from driftline.aws.schedules import Schedules
from driftline.aws.store import Table

REPO = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE = "driftline"
BUS = "driftline"
SCHEDULE_GROUP = "driftline"
EVALUATE_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:evaluate"
SCHEDULER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/scheduler"
PLACEHOLDER_MACHINE = json.dumps(
    {"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}
)


def moto_services(bucket: str) -> Services:
    """Create the resources on moto and return the adapters over them."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=TABLE,
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
    events.create_event_bus(Name=BUS)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name="retrain",
        definition=PLACEHOLDER_MACHINE,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/states",
    )["stateMachineArn"]
    scheduler = boto3.client("scheduler", region_name=REGION)
    scheduler.create_schedule_group(Name=SCHEDULE_GROUP)
    return Services(
        store=ObjectStore(s3, bucket),
        table=Table(dynamodb, TABLE),
        notifier=Notifier(sns, events, topic, BUS),
        retrain=RetrainStarter(sfn, machine),
        schedules=Schedules(scheduler, SCHEDULE_GROUP, EVALUATE_ARN, SCHEDULER_ROLE_ARN),
    )


def handler_environment(services: Services) -> dict[str, str]:
    """The DRIFTLINE_* variables that point the handlers at ``services``."""
    return {
        "DRIFTLINE_BUCKET": services.store.bucket,
        "DRIFTLINE_TABLE": services.table.name,
        "DRIFTLINE_TOPIC_ARN": services.notifier.topic_arn,
        "DRIFTLINE_EVENT_BUS": services.notifier.bus,
        "DRIFTLINE_STATE_MACHINE_ARN": services.retrain.state_machine_arn,
        "DRIFTLINE_SCHEDULE_GROUP": SCHEDULE_GROUP,
        "DRIFTLINE_SCHEDULER_ROLE_ARN": SCHEDULER_ROLE_ARN,
        "DRIFTLINE_EVALUATE_ARN": EVALUATE_ARN,
    }


def subscribe_inbox(services: Services) -> Callable[[], list[dict[str, Any]]]:
    """An SQS queue subscribed to the alert topic; call the result to read (and remove) the
    notifications so far, each the SNS envelope as SQS received it."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=services.notifier.topic_arn, Protocol="sqs", Endpoint=arn
    )

    return lambda: drain(sqs, url)


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Read and remove every message of an SQS queue, each body parsed as JSON."""
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


class LambdaContext:
    """The Lambda context a handler is called with (powertools logs its fields)."""

    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    aws_request_id = "request"

    def __init__(self, name: str) -> None:
        self.function_name = name
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def s3_event(key: str) -> dict[str, Any]:
    """An S3 notification of one uploaded object, as Lambda receives it."""
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "eventTime": "2026-11-24T10:15:00.000Z",
                "s3": {"object": {"key": quote_plus(key), "eTag": "etag"}},
            }
        ]
    }


def load_handler(function: str, *, prefix: str) -> ModuleType:
    """``functions/<function>/app.py`` imported afresh as module ``<prefix>_<function>``."""
    name = f"{prefix}_{function}"
    path = REPO / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def emitted_metrics(printed: str) -> dict[str, float]:
    """The metrics of the EMF lines printed for a model and window (no segment): what
    CloudWatch would graph from an evaluation's log output."""
    values: dict[str, float] = {}
    for line in printed.splitlines():
        if '"_aws"' in line:
            document = json.loads(line)
            if "segment" not in document and "window" in document:
                for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                    values[metric["Name"]] = document[metric["Name"]]
    return values
