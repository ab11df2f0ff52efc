"""Run the whole deployment on one machine: template.yaml provisioned in moto, the real
handlers invoked in-process, schedules driven by a clock the caller controls.

    with LocalRuntime(Path("template.yaml")) as runtime:
        runtime.upload("config/churn.yaml", definition_text)
        runtime.run_schedules(now)
        print(runtime.notifications())

Lambda functions are created in moto from the template (names, environment with every
intrinsic resolved to the moto resources), and moto's single invocation point,
``LambdaFunction._invoke_lambda``, is patched to import ``functions/<dir>/app.py`` and call
its handler with that function's environment. So S3 notifications (which moto delivers
synchronously on ``put_object``), ``lambda.invoke`` and Step Functions Lambda tasks reach the
same code a deployment runs. EventBridge schedules never fire in moto: :meth:`run_schedules`
invokes the evaluate function for every schedule the configure function created.

A handler that raises is a Lambda error, recorded (:meth:`failures`) and treated as on AWS:

* An S3 notification is an asynchronous invocation: a failed one is attempted again up to
  the function's ``EventInvokeConfig`` ``MaximumRetryAttempts`` (Lambda's default, 2, without
  one), at once rather than after Lambda's minute or two, and then the event goes to the
  ``OnFailure`` destination queue as Lambda's invocation record (``requestPayload``: the
  event, ``responsePayload``: the error, ``condition: RetriesExhausted``). Other invocations
  (``lambda:Invoke``, Step Functions tasks, :meth:`run_schedules`) are synchronous: the error
  goes back to the caller, with no retry.
* The template's CloudWatch alarms watch each invocation (the function's ``Errors``) and the
  destination queue's depth, and notify their topics as CloudWatch would, once per change of
  state (:mod:`driftline.local.alarms`): a function that keeps failing pages once, through
  its ``<Name>ErrorsAlarm``, and once more when its events reach the dead-letter queue,
  through the queue's alarm. An errors alarm is armed again by the next invocation of its
  function that succeeds; a queue alarm when the queue is found empty (before the next event
  is sent to it, or by :meth:`alarms`). So :meth:`notifications` shows a crash loop as a page,
  never silently.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import moto.awslambda.models as lambda_models
import moto.s3.notifications as s3_notifications
import moto.stepfunctions.models as sfn_models
from moto import mock_aws

from driftline.aws.handler import services as shared_services
from driftline.local.alarms import Alarm, AlarmBoard
from driftline.local.template import Resolver, load_template

ACCOUNT = "123456789012"
PARTITION = "aws"
#: Lambda's retries of a failed asynchronous invocation when the function sets none.
DEFAULT_RETRIES = 2


@dataclass
class Invocation:
    """One handler call the runtime made, with its outcome (``attempt`` > 1: a retry of a
    failed asynchronous invocation)."""

    function: str
    event: Any
    result: Any = None
    error: str | None = None
    attempt: int = 1


@dataclass
class _Function:
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
class _Provisioned:
    names: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)


class LocalRuntime:
    """The deployment of ``template`` in moto, usable as a context manager.

    Args:
        template: path to template.yaml (its folder is the project root for CodeUri).
        region: the AWS region to pretend.
        stack: the stack name (``AWS::StackName``).
        parameters: overrides of the template's parameter defaults.
    """

    def __init__(
        self,
        template: Path,
        *,
        region: str = "us-east-1",
        stack: str = "driftline-local",
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.template_path = template
        self.root = template.resolve().parent
        self.region = region
        self.stack = stack
        self.template = load_template(template)
        self.parameter_values = self._parameters(parameters or {})
        self.invocations: list[Invocation] = []
        #: Executions still running when :meth:`stop` gave up waiting for them.
        self.unfinished: list[str] = []
        self._import_lock = threading.Lock()
        self._functions: dict[str, _Function] = {}
        self._provisioned = _Provisioned()
        self._mock: Any = None
        self._saved_environ: dict[str, str] = {}
        self._original_invoke: Callable[..., Any] | None = None
        self._original_notify: Callable[..., Any] | None = None
        self._alarms = AlarmBoard([], self._publish, region=region, account=ACCOUNT)
        self._notification_queue = ""
        self._event_queue = ""
        self.resolve = Resolver(
            parameters=self.parameter_values,
            pseudo={
                "AWS::Region": region,
                "AWS::AccountId": ACCOUNT,
                "AWS::StackName": stack,
                "AWS::Partition": PARTITION,
                "AWS::URLSuffix": "amazonaws.com",
            },
            ref=self._ref,
            attribute=self._attribute,
            conditions=self.template.get("Conditions", {}),
        )

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start moto, patch the Lambda invocation point and provision the template."""
        self._saved_environ = dict(os.environ)
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self._original_invoke = lambda_models.LambdaFunction._invoke_lambda
        runtime = self

        def invoke(function: Any, event: Any = None) -> tuple[str, bool, str]:
            return runtime._invoke(function.function_name, event)

        lambda_models.LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign,assignment]
        self._original_notify = s3_notifications._invoke_awslambda

        def notify(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
            runtime._invoke_asynchronously(fn_arn.split(":function:", 1)[1], event_body)

        s3_notifications._invoke_awslambda = notify
        # moto deep-copies the state machine for each new execution, its past executions
        # with it; one that has run holds thread locks, so a second start would fail with
        # "cannot pickle '_thread.RLock' object". The copy needs neither.
        sfn_models.StateMachine.__deepcopy__ = _copy_state_machine  # type: ignore[attr-defined]
        self._provision()
        # Every variable a handler sets exists from now on, so an invocation only changes
        # values: another thread iterating os.environ (botocore does, creating a client) would
        # fail if a key came or went under it.
        for function in self._functions.values():
            for name, value in function.environment.items():
                os.environ.setdefault(name, value)
        os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", "")

    def stop(self, *, timeout: float = 120.0) -> list[str]:
        """Wait up to ``timeout`` seconds for running executions to end, then stop moto.

        Returns the names of the executions still running (also warned about): stopping moto
        under them would end them half-way, their later steps failing against nothing.
        """
        unfinished: list[str] = []
        if self._mock is not None:
            unfinished = [e["name"] for e in self.wait_for_executions(timeout=timeout)]
            if unfinished:
                warnings.warn(
                    f"stopping with executions still running after {timeout:g} s: "
                    + ", ".join(unfinished),
                    RuntimeWarning,
                    stacklevel=2,
                )
        self.unfinished = unfinished
        if self._original_invoke is not None:
            lambda_models.LambdaFunction._invoke_lambda = self._original_invoke  # type: ignore[method-assign]
            self._original_invoke = None
        if self._original_notify is not None:
            s3_notifications._invoke_awslambda = self._original_notify
            self._original_notify = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if getattr(sfn_models.StateMachine, "__deepcopy__", None) is _copy_state_machine:
            del sfn_models.StateMachine.__deepcopy__  # type: ignore[attr-defined]
        os.environ.clear()
        os.environ.update(self._saved_environ)
        return unfinished

    # -- what a user of the runtime does --------------------------------------------------

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    @property
    def bucket(self) -> str:
        return self.name_of(self._logical_of("AWS::S3::Bucket"))

    def name_of(self, logical_id: str) -> str:
        return self._provisioned.names[logical_id]

    def arn_of(self, logical_id: str) -> str:
        return self._provisioned.arns[logical_id]

    def upload(self, key: str, body: bytes | str) -> None:
        """Put an object in the monitoring bucket (its notification runs the handler)."""
        data = body.encode() if isinstance(body, str) else body
        self.client("s3").put_object(Bucket=self.bucket, Key=key, Body=data)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Invoke a function through moto's Lambda API (as a schedule or a user would)."""
        response = self.client("lambda").invoke(
            FunctionName=self.name_of(logical_id), Payload=json.dumps(event).encode()
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{logical_id} failed: {payload}")
        return payload

    def run_schedules(self, now: datetime) -> list[Any]:
        """Fire every EventBridge Scheduler schedule in driftline's group once, at ``now``."""
        scheduler = self.client("scheduler")
        group = self.name_of(self._logical_of("AWS::Scheduler::ScheduleGroup"))
        results = []
        for item in scheduler.list_schedules(GroupName=group).get("Schedules", []):
            detail = scheduler.get_schedule(Name=item["Name"], GroupName=group)
            target = detail["Target"]
            event = {**json.loads(target.get("Input") or "{}"), "time": now.isoformat()}
            function = target["Arn"].split(":function:")[-1]
            logical = next(f.logical_id for f in self._functions.values() if f.name == function)
            results.append(self.invoke(logical, event))
        return results

    def notifications(self) -> list[dict[str, Any]]:
        """SNS messages published since the last call (read from a subscribed SQS queue)."""
        return [json.loads(body) for body in self._drain(self._notification_queue)]

    def events(self) -> list[dict[str, Any]]:
        """Events put on driftline's EventBridge bus since the last call."""
        return [json.loads(body) for body in self._drain(self._event_queue)]

    def executions(self) -> list[dict[str, Any]]:
        """Executions of every state machine of the template."""
        sfn = self.client("stepfunctions")
        found = []
        for logical, resource in self._resources():
            if resource["Type"] in (
                "AWS::Serverless::StateMachine",
                "AWS::StepFunctions::StateMachine",
            ):
                found += sfn.list_executions(stateMachineArn=self.arn_of(logical))["executions"]
        return found

    def running(self) -> list[dict[str, Any]]:
        """The executions still running."""
        return [e for e in self.executions() if e["status"] == "RUNNING"]

    def wait_for_executions(
        self,
        *,
        timeout: float = 120.0,
        until: Callable[[dict[str, Any]], bool] | None = None,
        poll: float = 0.2,
    ) -> list[dict[str, Any]]:
        """Wait until no execution is running (or, with ``until``, until each running one
        satisfies it); returns those that still do not after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = [e for e in self.running() if until is None or not until(e)]
            if not waiting or time.monotonic() >= deadline:
                return waiting
            time.sleep(poll)

    def states(self, execution_arn: str) -> list[str]:
        """The states an execution has entered so far, in order."""
        sfn = self.client("stepfunctions")
        events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in events
            if "stateEnteredEventDetails" in event
        ]

    def failures(self) -> list[Invocation]:
        """Every invocation that raised (each attempt of a retried one)."""
        return [call for call in self.invocations if call.error is not None]

    def alarms(self) -> dict[str, str]:
        """Each CloudWatch alarm of the template and its state (``OK`` or ``ALARM``), the
        queues the alarms watch read afresh."""
        for alarm in self._alarms.alarms:
            if alarm.namespace == "AWS/SQS" and "QueueName" in alarm.dimensions:
                self._observe_queue(alarm.dimensions["QueueName"])
        return self._alarms.states()

    def dead_letters(self) -> list[dict[str, Any]]:
        """The invocation records sent to the functions' on-failure queues since the last
        call (read and removed, which empties the queues)."""
        queues = {f.on_failure for f in self._functions.values() if f.on_failure}
        return [
            json.loads(body) for arn in sorted(queues) for body in self._drain(self._queue_url(arn))
        ]

    # -- provisioning ---------------------------------------------------------------------

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
        self._functions[name] = _Function(
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

    # -- invoking handlers ----------------------------------------------------------------

    def _invoke(self, function_name: str, event: Any, *, attempt: int = 1) -> tuple[str, bool, str]:
        """Run a handler with its function's environment; its outcome is the function's
        ``Errors`` datapoint for the alarms.

        Step Functions tasks arrive on moto's execution threads while S3 notifications run
        on the caller's, as concurrent invocations would on AWS. The process has one
        ``os.environ``: every function's variables exist since :meth:`start`, and an
        invocation only sets their values, never adds or removes a key (another thread
        iterating the environment, as botocore does when it creates a client, would fail).
        """
        function = self._functions[function_name]
        payload = event if isinstance(event, dict) else json.loads(event or "{}")
        call = Invocation(function.logical_id, payload, attempt=attempt)
        self.invocations.append(call)
        module = self._module(function)
        os.environ.update({**function.environment, "AWS_LAMBDA_FUNCTION_NAME": function.name})
        try:
            shared_services.cache_clear()
            handler = getattr(module, function.handler.rsplit(".", 1)[1])
            call.result = handler(payload, _Context(function.name))
            outcome = json.dumps(call.result, default=str), False, ""
        except Exception as exc:  # a Lambda error is data here: recorded and returned
            call.error = "".join(traceback.format_exception(exc))
            document = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            outcome = json.dumps(document), True, call.error
        errors = float(outcome[1])
        self._alarms.observe("AWS/Lambda", "Errors", {"FunctionName": function.name}, errors)
        return outcome

    def _invoke_asynchronously(self, function_name: str, event: Any) -> None:
        """An asynchronous invocation (an S3 notification): attempted, retried up to the
        function's ``MaximumRetryAttempts`` while it fails, then sent to its ``OnFailure``
        queue as Lambda's invocation record."""
        function = self._functions[function_name]
        attempts = 1 + function.retries
        for attempt in range(1, attempts + 1):
            response, failed, _ = self._invoke(function_name, event, attempt=attempt)
            if not failed:
                return
        if function.on_failure is None:
            return
        payload = event if isinstance(event, dict) else json.loads(event or "{}")
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"{self.arn_of(function.logical_id)}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": payload,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": json.loads(response),
        }
        queue = function.on_failure.rsplit(":", 1)[1]
        self._observe_queue(queue)  # found empty: its alarm was back to OK
        self.client("sqs").send_message(
            QueueUrl=self._queue_url(function.on_failure), MessageBody=json.dumps(record)
        )
        self._observe_queue(queue)

    def _observe_queue(self, queue: str) -> None:
        """A datapoint of the queue's depth for the alarms that watch it."""
        dimensions = {"QueueName": queue}
        if not self._alarms.watching("AWS/SQS", "ApproximateNumberOfMessagesVisible", dimensions):
            return
        url = self.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        depth = float(attributes["ApproximateNumberOfMessages"])
        self._alarms.observe("AWS/SQS", "ApproximateNumberOfMessagesVisible", dimensions, depth)

    def _queue_url(self, arn: str) -> str:
        return str(self.client("sqs").get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"])

    def _publish(self, topic: str, subject: str, message: str) -> None:
        """An alarm's notification to a topic of the template."""
        self.client("sns").publish(TopicArn=topic, Subject=subject, Message=message)

    def _module(self, function: _Function) -> ModuleType:
        with self._import_lock:  # two threads' first invocations import it once
            return self._load(function)

    def _load(self, function: _Function) -> ModuleType:
        if function.module is None:
            path = function.code_dir / (function.handler.rsplit(".", 1)[0] + ".py")
            name = f"driftline_function_{function.logical_id}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            function.module = module
        return function.module


def _copy_state_machine(machine: Any, memo: dict[int, Any]) -> Any:
    """A deep copy of a moto state machine without its executions (and sharing its backend)."""
    clone = copy.copy(machine)
    memo[id(machine)] = clone
    for name, value in vars(machine).items():
        if name == "executions":
            setattr(clone, name, [])
        elif name != "backend":
            setattr(clone, name, copy.deepcopy(value, memo))
    return clone


@dataclass
class _Context:
    """The parts of a Lambda context the handlers (powertools) read."""

    function_name: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:{PARTITION}:lambda:us-east-1:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000
