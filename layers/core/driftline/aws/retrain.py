"""Start the retraining state machine, once per deterministic execution name."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError


class RetrainStarter:
    """Step Functions starter.

    Args:
        client: a boto3 Step Functions client.
        state_machine_arn: the retraining state machine.
    """

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self.client = client
        self.state_machine_arn = state_machine_arn

    def start(self, name: str, document: dict[str, Any]) -> tuple[str, bool]:
        """Start execution ``name`` with ``document`` as input.

        Returns:
            ``(execution_arn, started)``: ``started`` is False when an execution of that name
            already exists (a duplicate delivery). The name is looked up first, and Step
            Functions itself refuses a second execution of one name (a concurrent start).
        """
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        try:
            self.client.describe_execution(executionArn=arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise
        else:
            return arn, False
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=name,
                input=json.dumps(document, sort_keys=True, default=str),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
            return arn, False
        return str(response["executionArn"]), True
