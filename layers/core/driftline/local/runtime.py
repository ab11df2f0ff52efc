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

import copy
import json
import os
import threading
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import moto.awslambda.models as lambda_models
import moto.s3.notifications as s3_notifications
import moto.stepfunctions.models as sfn_models
from moto import mock_aws

from driftline.local.alarms import AlarmBoard
from driftline.local.invoking import Invocation, Invoking
from driftline.local.stack import ACCOUNT, PARTITION, Provisioned, StackFunction
from driftline.local.template import Resolver, load_template


class LocalRuntime(Invoking):
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
        self._functions: dict[str, StackFunction] = {}
        self._provisioned = Provisioned()
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
