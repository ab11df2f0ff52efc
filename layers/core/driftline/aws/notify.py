"""Notifications: an SNS message for people (subject + body + machine JSON attribute) and
an EventBridge event for machines."""

from __future__ import annotations

import json
from typing import Any

#: SNS subjects are shorter than 100 characters, printable ASCII, one line.
MAX_SUBJECT_CHARS = 99


def one_line_subject(subject: str) -> str:
    """``subject`` as SNS accepts it: control characters (a newline from a key) as spaces,
    non-ASCII as ``?``, cut to :data:`MAX_SUBJECT_CHARS` with an ellipsis.

    >>> one_line_subject("[driftline] two\\nlines: rejected")
    '[driftline] two lines: rejected'
    >>> len(one_line_subject("x" * 300))
    99
    """
    text = "".join(
        " " if ord(c) < 32 or ord(c) == 127 else c if ord(c) < 128 else "?" for c in subject
    )
    if len(text) > MAX_SUBJECT_CHARS:
        text = text[: MAX_SUBJECT_CHARS - 3] + "..."
    return text


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
        """Put one event on the bus, then publish to the topic.

        The SNS message is the human body followed by the machine JSON; the JSON also rides
        in the ``driftline`` message attribute for subscribers that filter.
        """
        document = json.dumps(message, sort_keys=True, default=str)
        # The event first: if the page then fails, the retry puts the event again (machines
        # dedupe on dedup_key), but a person is never paged twice for a failed event.
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
        attributes = {"kind": {"DataType": "String", "StringValue": detail_type}}
        model = str(message.get("model") or "")
        if model:  # SNS refuses an empty String attribute
            attributes["model"] = {"DataType": "String", "StringValue": model}
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=one_line_subject(subject),
            Message=f"{body}\n\n--- machine-readable ---\n{document}",
            MessageAttributes=attributes,
        )
