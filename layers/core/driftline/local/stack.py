"""template.yaml provisioned in moto: every resource the template declares (bucket, tables,
topics, queues, bus, schedule group, roles, functions, state machines) created under its
name, with its ARN, the intrinsics resolved to them, the bucket's notifications wired to
its functions, and queues listening on the topic and the bus (what
:class:`~driftline.local.LocalRuntime` is built on).
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from driftline.local.alarms import Alarm, AlarmBoard
from driftline.local.template import Resolver

ACCOUNT = "123456789012"
PARTITION = "aws"
#: Lambda's retries of a failed asynchronous invocation when the function sets none.
DEFAULT_RETRIES = 2


@dataclass
class StackFunction:
    """A function of the template as provisioned: its code, handler and environment, its
    module once imported, and what happens to a failed asynchronous invocation."""

    logical_id: str
    name: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    module: ModuleType | None = None
    #: ``EventInvokeConfig``: retries of a failed asynchronous invocation, and the ARN of the
    #: queue its event then goes to (None: the event is dropped, as Lambda drops it).
    retries: int = DEFAULT_RETRIES
    on_failure: str | None = None


@dataclass
class Provisioned:
    """The name and ARN of each provisioned resource, by logical id."""

    names: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)


class LocalStack:
    """The template's resources in moto, by logical id; the state is set by
    :class:`~driftline.local.LocalRuntime`."""

    root: Path
    region: str
    stack: str
    template: dict[str, Any]
    resolve: Resolver
    _functions: dict[str, StackFunction]
    _provisioned: Provisioned
    _alarms: AlarmBoard
    _notification_queue: str
    _event_queue: str

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    @property
    def bucket(self) -> str:
        return self.name_of(self._logical_of("AWS::S3::Bucket"))

    def name_of(self, logical_id: str) -> str:
        return self._provisioned.names[logical_id]

    def arn_of(self, logical_id: str) -> str:
        return self._provisioned.arns[logical_id]

    def _parameters(self, overrides: dict[str, str]) -> dict[str, Any]:
        values = {
            name: spec.get("Default", "")
            for name, spec in self.template.get("Parameters", {}).items()
        }
        values.update(overrides)
        return values

    def _resources(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical, resource in self.template["Resources"].items():
            condition = resource.get("Condition")
            if condition and not self.resolve.condition(condition):
                continue
            yield logical, resource

    def _logical_of(self, kind: str) -> str:
        matches = [logical for logical, r in self._resources() if r["Type"] == kind]
        if len(matches) != 1:
            raise LookupError(f"expected one {kind} in the template, found {matches}")
        return matches[0]

    def _default_name(self, logical: str) -> str:
        return f"{self.stack}-{logical}".lower()[:63]

    def _provision(self) -> None:
        order = (
            "AWS::S3::Bucket",
            "AWS::DynamoDB::Table",
            "AWS::SNS::Topic",
            "AWS::SQS::Queue",
            "AWS::Events::EventBus",
            "AWS::Scheduler::ScheduleGroup",
            "AWS::IAM::Role",
            "AWS::Serverless::Function",
            "AWS::Serverless::StateMachine",
            "AWS::StepFunctions::StateMachine",
        )
        # Names first, so every reference resolves whatever the order of creation.
        for logical, resource in self._resources():
            self._name(logical, resource)
        for kind in order:
            for logical, resource in self._resources():
                if resource["Type"] == kind:
                    getattr(self, "_create_" + kind.split("::")[-1].lower())(logical, resource)
        self._wire_bucket_notifications()
        self._listen()
        self._alarms = AlarmBoard(
            [
                Alarm.from_properties(
                    logical, f"{self.stack}-{logical}", self.resolve(r["Properties"])
                )
                for logical, r in self._resources()
                if r["Type"] == "AWS::CloudWatch::Alarm"
            ],
            self._publish,
            region=self.region,
            account=ACCOUNT,
        )

    def _name(self, logical: str, resource: dict[str, Any]) -> None:
        kind = resource["Type"]
        props = resource.get("Properties", {})
        key = {
            "AWS::S3::Bucket": "BucketName",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::SNS::Topic": "TopicName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::Events::EventBus": "Name",
            "AWS::Scheduler::ScheduleGroup": "Name",
            "AWS::IAM::Role": "RoleName",
            "AWS::Serverless::Function": "FunctionName",
            "AWS::Serverless::StateMachine": "Name",
            "AWS::StepFunctions::StateMachine": "StateMachineName",
        }.get(kind)
        if key is None:
            return
        names = self._provisioned.names
        names[logical] = (
            str(self.resolve(props[key])) if key in props else self._default_name(logical)
        )
        if kind == "AWS::S3::Bucket":
            names[logical] = names[logical].lower()
        name = names[logical]
        prefix = f"arn:{PARTITION}:"
        region, account = self.region, ACCOUNT
        self._provisioned.arns[logical] = {
            "AWS::S3::Bucket": f"{prefix}s3:::{name}",
            "AWS::DynamoDB::Table": f"{prefix}dynamodb:{self.region}:{ACCOUNT}:table/{name}",
            "AWS::SNS::Topic": f"{prefix}sns:{self.region}:{ACCOUNT}:{name}",
            "AWS::SQS::Queue": f"{prefix}sqs:{self.region}:{ACCOUNT}:{name}",
            "AWS::Events::EventBus": f"{prefix}events:{self.region}:{ACCOUNT}:event-bus/{name}",
            "AWS::Scheduler::ScheduleGroup": (
                f"{prefix}scheduler:{region}:{account}:schedule-group/{name}"
            ),
            "AWS::IAM::Role": f"{prefix}iam::{ACCOUNT}:role/{name}",
            "AWS::Serverless::Function": f"{prefix}lambda:{self.region}:{ACCOUNT}:function:{name}",
            "AWS::Serverless::StateMachine": (
                f"{prefix}states:{region}:{account}:stateMachine:{name}"
            ),
            "AWS::StepFunctions::StateMachine": (
                f"{prefix}states:{region}:{account}:stateMachine:{name}"
            ),
        }[kind]

    def _ref(self, logical: str) -> str:
        resource = self.template["Resources"].get(logical)
        if resource is None:
            raise KeyError(f"Ref to unknown resource or parameter {logical!r}")
        if resource["Type"] in (
            "AWS::SNS::Topic",
            "AWS::Serverless::StateMachine",
            "AWS::StepFunctions::StateMachine",
        ):
            return self._provisioned.arns.get(logical, f"arn:unprovisioned:{logical}")
        if resource["Type"] == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{self._provisioned.names.get(logical)}"
        return self._provisioned.names.get(logical, f"unprovisioned-{logical}")

    def _attribute(self, logical: str, attribute: str) -> str:
        if attribute == "Arn":
            return self._provisioned.arns.get(logical, f"arn:unprovisioned:{logical}")
        if attribute in ("Name", "QueueName", "TopicName"):
            return self._provisioned.names.get(logical, f"unprovisioned-{logical}")
        return f"{logical}.{attribute}"

    def _create_bucket(self, logical: str, resource: dict[str, Any]) -> None:
        self.client("s3").create_bucket(Bucket=self.name_of(logical))

    def _create_table(self, logical: str, resource: dict[str, Any]) -> None:
        props = self.resolve(resource["Properties"])
        arguments = {
            key: props[key]
            for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes")
            if key in props
        }
        self.client("dynamodb").create_table(
            TableName=self.name_of(logical), BillingMode="PAY_PER_REQUEST", **arguments
        )

    def _create_topic(self, logical: str, resource: dict[str, Any]) -> None:
        self.client("sns").create_topic(Name=self.name_of(logical))

    def _create_queue(self, logical: str, resource: dict[str, Any]) -> None:
        self.client("sqs").create_queue(QueueName=self.name_of(logical))

    def _create_eventbus(self, logical: str, resource: dict[str, Any]) -> None:
        self.client("events").create_event_bus(Name=self.name_of(logical))

    def _create_schedulegroup(self, logical: str, resource: dict[str, Any]) -> None:
        self.client("scheduler").create_schedule_group(Name=self.name_of(logical))

    def _create_role(self, logical: str, resource: dict[str, Any]) -> None:
        self.client("iam").create_role(
            RoleName=self.name_of(logical), AssumeRolePolicyDocument=json.dumps({})
        )

    def _create_function(self, logical: str, resource: dict[str, Any]) -> None:
        globals_ = self.template.get("Globals", {}).get("Function", {})
        props = {**globals_, **resource.get("Properties", {})}
        environment = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
        }
        resolved_env = {k: str(v) for k, v in self.resolve(environment).items() if v is not None}
        code_dir = self.root / str(self.resolve(props["CodeUri"]))
        handler = str(self.resolve(props.get("Handler", "app.handler")))
        name = self.name_of(logical)
        role = f"arn:{PARTITION}:iam::{ACCOUNT}:role/{self.stack}-lambda"
        with contextlib.suppress(Exception):
            self.client("iam").create_role(
                RoleName=f"{self.stack}-lambda", AssumeRolePolicyDocument=json.dumps({})
            )
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("app.py", "def handler(event, context):\n    return None\n")
        self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": archive.getvalue()},
            Environment={"Variables": resolved_env},
        )
        invoke_config = self.resolve(props.get("EventInvokeConfig", {}))
        on_failure = invoke_config.get("DestinationConfig", {}).get("OnFailure", {})
        if on_failure and on_failure.get("Type", "SQS") != "SQS":
            raise ValueError(f"{logical}: only an SQS on-failure destination is modelled")
        self._functions[name] = StackFunction(
            logical,
            name,
            code_dir,
            handler,
            resolved_env,
            retries=int(invoke_config.get("MaximumRetryAttempts", DEFAULT_RETRIES)),
            on_failure=on_failure.get("Destination"),
        )

    def _create_statemachine(self, logical: str, resource: dict[str, Any]) -> None:
        props = resource.get("Properties", {})
        substitutions = self.resolve(props.get("DefinitionSubstitutions", {}))
        if "Definition" in props:
            definition = json.dumps(self.resolve(props["Definition"]))
        elif "DefinitionString" in props:
            definition = str(self.resolve(props["DefinitionString"]))
        elif "DefinitionUri" in props:
            definition = (self.root / str(self.resolve(props["DefinitionUri"]))).read_text()
        else:
            raise ValueError(f"{logical}: no state machine definition")
        for name, value in substitutions.items():
            definition = definition.replace("${" + name + "}", str(value))
        self.client("stepfunctions").create_state_machine(
            name=self.name_of(logical),
            definition=definition,
            roleArn=f"arn:{PARTITION}:iam::{ACCOUNT}:role/{self.stack}-states",
        )

    def _wire_bucket_notifications(self) -> None:
        configurations = []
        bucket = self._logical_of("AWS::S3::Bucket")
        for logical, resource in self._resources():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            for event in resource.get("Properties", {}).get("Events", {}).values():
                if event.get("Type") != "S3":
                    continue
                props = event["Properties"]
                if props.get("Bucket", {}).get("Ref") != bucket:
                    continue
                events = props["Events"] if isinstance(props["Events"], list) else [props["Events"]]
                entry: dict[str, Any] = {
                    "LambdaFunctionArn": self.arn_of(logical),
                    "Events": events,
                }
                if "Filter" in props:
                    # CloudFormation spells it S3Key.Rules; the S3 API Key.FilterRules.
                    rules = self.resolve(props["Filter"]).get("S3Key", {}).get("Rules", [])
                    entry["Filter"] = {"Key": {"FilterRules": rules}}
                configurations.append(entry)
        self.client("s3").put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={"LambdaFunctionConfigurations": configurations},
        )

    def _listen(self) -> None:
        """Subscribe queues to the topic and the bus, so tests read what was sent."""
        sqs = self.client("sqs")
        topic = self._logical_of("AWS::SNS::Topic")
        self._notification_queue = sqs.create_queue(QueueName=f"{self.stack}-notifications")[
            "QueueUrl"
        ]
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=self._notification_queue, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.client("sns").subscribe(
            TopicArn=self.arn_of(topic),
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "false"},
        )
        bus = self.name_of(self._logical_of("AWS::Events::EventBus"))
        self._event_queue = sqs.create_queue(QueueName=f"{self.stack}-events")["QueueUrl"]
        events_arn = sqs.get_queue_attributes(
            QueueUrl=self._event_queue, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        events = self.client("events")
        events.put_rule(
            Name=f"{self.stack}-listen",
            EventBusName=bus,
            EventPattern=json.dumps({"source": ["driftline"]}),
        )
        events.put_targets(
            Rule=f"{self.stack}-listen",
            EventBusName=bus,
            Targets=[{"Id": "listen", "Arn": events_arn}],
        )

    def _drain(self, queue_url: str) -> list[str]:
        sqs = self.client("sqs")
        bodies: list[str] = []
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _queue_url(self, arn: str) -> str:
        return str(self.client("sqs").get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"])

    def _publish(self, topic: str, subject: str, message: str) -> None:
        """An alarm's notification to a topic of the template."""
        self.client("sns").publish(TopicArn=topic, Subject=subject, Message=message)
