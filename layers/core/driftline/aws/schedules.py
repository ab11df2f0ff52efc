"""One EventBridge Scheduler schedule per model, targeting the evaluate function."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError


class Schedules:
    """EventBridge Scheduler schedules in driftline's group.

    Args:
        client: a boto3 EventBridge Scheduler client.
        group: the schedule group.
        target_arn: the evaluate function.
        role_arn: the role the scheduler assumes to invoke it.
    """

    def __init__(self, client: Any, group: str, target_arn: str, role_arn: str) -> None:
        self.client = client
        self.group = group
        self.target_arn = target_arn
        self.role_arn = role_arn

    @staticmethod
    def name(model: str) -> str:
        return f"driftline-{model}"

    def put(self, model: str, expression: str) -> None:
        """Create or update the model's schedule (idempotent)."""
        arguments = {
            "Name": self.name(model),
            "GroupName": self.group,
            "ScheduleExpression": expression,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": self.target_arn,
                "RoleArn": self.role_arn,
                "Input": json.dumps({"model": model}),
            },
        }
        try:
            self.client.create_schedule(**arguments)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConflictException":
                raise
            self.client.update_schedule(**arguments)

    def expressions(self) -> dict[str, str]:
        """Model → schedule expression of every driftline schedule in the group."""
        found: dict[str, str] = {}
        paginator = self.client.get_paginator("list_schedules")
        for page in paginator.paginate(GroupName=self.group):
            for item in page.get("Schedules", ()):
                detail = self.client.get_schedule(Name=item["Name"], GroupName=self.group)
                model = json.loads(detail["Target"].get("Input", "{}")).get("model")
                if model:
                    found[model] = detail["ScheduleExpression"]
        return found
