"""Notifications: an SNS message for people (subject + body + machine JSON attribute) and
an EventBridge event for machines."""

from __future__ import annotations

import json
from typing import Any


class Notifier:
    """SNS topic + EventBridge bus.

    Args:
        sns: a boto3 SNS client.
        events: a boto3 EventBridge client.
        topic_arn: the on-call topic.
        bus: the driftline event bus name.
    """

    def __init__(self, sns: Any, events: Any, topic_arn: str, bus: str) -> None:
        self.sns = sns
        self.events = events
        self.topic_arn = topic_arn
        self.bus = bus

    def send(self, *, subject: str, body: str, message: dict[str, Any], detail_type: str) -> None:
        """Publish to the topic and put one event on the bus.

        The SNS message is the human body followed by the machine JSON; the JSON also rides
        in the ``driftline`` message attribute for subscribers that filter.
        """
        document = json.dumps(message, sort_keys=True, default=str)
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=subject[:100],
            Message=f"{body}\n\n--- machine-readable ---\n{document}",
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": detail_type},
                "model": {"DataType": "String", "StringValue": str(message.get("model", ""))},
            },
        )
        self.events.put_events(
            Entries=[
                {
                    "Source": "driftline",
                    "DetailType": detail_type,
                    "Detail": document,
                    "EventBusName": self.bus,
                }
            ]
        )
