"""The handlers invoked in-process, as Lambda would invoke them: with their function's
environment; an asynchronous invocation (an S3 notification) retried while it fails, then
sent to its on-failure queue as Lambda's invocation record; each outcome a datapoint for the
alarms.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from driftline.aws.handler import services as shared_services
from driftline.local.stack import ACCOUNT, PARTITION, LocalStack, StackFunction


@dataclass
class Invocation:
    """One handler call the runtime made, with its outcome (``attempt`` > 1: a retry of a
    failed asynchronous invocation)."""

    function: str
    event: Any
    result: Any = None
    error: str | None = None
    attempt: int = 1


class Invoking(LocalStack):
    """The stack's functions run in-process; the state is set by
    :class:`~driftline.local.LocalRuntime`."""

    invocations: list[Invocation]
    _import_lock: threading.Lock

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

    def _module(self, function: StackFunction) -> ModuleType:
        with self._import_lock:  # two threads' first invocations import it once
            return self._load(function)

    def _load(self, function: StackFunction) -> ModuleType:
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
