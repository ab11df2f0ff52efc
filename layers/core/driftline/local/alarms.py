"""The template's CloudWatch alarms on the local runtime: each one watches the datapoints the
runtime observes and notifies its topics as CloudWatch would, once per change of state.

moto keeps no metrics and fires no alarm, so the runtime reports the two metrics driftline's
alarms watch as it sees them: a function's ``AWS/Lambda`` ``Errors`` (1 when an invocation
raised, 0 when it returned) and a queue's ``AWS/SQS`` ``ApproximateNumberOfMessagesVisible``
(its depth, read when the runtime sends to it). An alarm whose metric, namespace and
dimensions match takes each datapoint as one evaluation period: ``ALARM`` when the value
breaches its threshold, ``OK`` otherwise. On a change of state it publishes CloudWatch's
alarm notification (``AlarmName``, ``NewStateValue``, ``NewStateReason``, ``Trigger``, ...)
to its ``AlarmActions`` (to ``ALARM``) or ``OKActions`` (to ``OK``); an alarm already in
``ALARM`` sends nothing more, so a crash loop pages once.

What differs from CloudWatch, on purpose: there is no clock of periods, so an errors alarm
returns to ``OK`` at the next successful invocation of its function (on AWS, after a period
with no error), and a queue alarm when the queue is found empty; alarms start ``OK`` (on AWS
``INSUFFICIENT_DATA``, then ``OK`` once a period without data passes under
``TreatMissingData: notBreaching``). Only alarms on one metric are modelled (no metric math).
The notification never carries an error's message, which could quote data: it names the
alarm, the metric and its dimensions (the function or queue), as CloudWatch's does.

>>> alarm = Alarm.from_properties("ProfileBatchErrorsAlarm", "stack-ProfileBatchErrorsAlarm", {
...     "Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 300,
...     "EvaluationPeriods": 1, "Threshold": 1,
...     "ComparisonOperator": "GreaterThanOrEqualToThreshold",
...     "Dimensions": [{"Name": "FunctionName", "Value": "profile-batch"}],
...     "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:alerts"]})
>>> sent = []
>>> board = AlarmBoard([alarm], lambda topic, subject, message: sent.append(subject),
...                    region="us-east-1", account="123456789012")
>>> errors = [1.0, 1.0, 0.0, 1.0]  # fails, fails again, succeeds, fails
>>> [board.observe("AWS/Lambda", "Errors", {"FunctionName": "profile-batch"}, value) != []
...  for value in errors]
[True, False, True, True]
>>> len(sent), sent[0]
(2, 'ALARM: "stack-ProfileBatchErrorsAlarm" in us-east-1')
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: ``publish(topic ARN, subject, message)``: how an alarm notifies a topic.
Publish = Callable[[str, str, str], None]

_COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
#: SNS refuses a subject of 100 characters or more; CloudWatch shortens long ones too.
_MAX_SUBJECT = 99


@dataclass
class Alarm:
    """One ``AWS::CloudWatch::Alarm`` on one metric, with its current state."""

    logical_id: str
    name: str
    description: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    statistic: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    treat_missing_data: str
    alarm_actions: tuple[str, ...]
    ok_actions: tuple[str, ...]
    state: str = "OK"

    @classmethod
    def from_properties(cls, logical_id: str, name: str, properties: Mapping[str, Any]) -> Alarm:
        """The alarm of a resource's properties, intrinsic functions already resolved.

        Raises:
            ValueError: the alarm is not on one metric (metric math) or its comparison is
                not one of CloudWatch's four static ones.
        """
        if "MetricName" not in properties:
            raise ValueError(f"{logical_id}: only alarms on one metric are modelled")
        comparison = str(properties["ComparisonOperator"])
        if comparison not in _COMPARISONS:
            raise ValueError(f"{logical_id}: comparison {comparison} is not modelled")
        return cls(
            logical_id=logical_id,
            name=str(properties.get("AlarmName") or name),
            description=str(properties.get("AlarmDescription", "")),
            namespace=str(properties["Namespace"]),
            metric=str(properties["MetricName"]),
            dimensions={str(d["Name"]): str(d["Value"]) for d in properties.get("Dimensions", [])},
            statistic=str(properties.get("Statistic", "Average")),
            period=int(properties.get("Period", 60)),
            evaluation_periods=int(properties.get("EvaluationPeriods", 1)),
            threshold=float(properties["Threshold"]),
            comparison=comparison,
            treat_missing_data=str(properties.get("TreatMissingData", "missing")),
            alarm_actions=tuple(str(a) for a in properties.get("AlarmActions", [])),
            ok_actions=tuple(str(a) for a in properties.get("OKActions", [])),
        )

    def watches(self, namespace: str, metric: str, dimensions: Mapping[str, str]) -> bool:
        """Whether a datapoint of this metric and these dimensions is this alarm's."""
        return (namespace, metric, dict(dimensions)) == (
            self.namespace,
            self.metric,
            self.dimensions,
        )

    def breaches(self, value: float) -> bool:
        """Whether ``value`` is on the alarm's side of the threshold."""
        return _COMPARISONS[self.comparison][1](value, self.threshold)


class AlarmBoard:
    """The template's alarms: each datapoint observed moves the alarms that watch it.

    Args:
        alarms: the alarms.
        publish: sends one notification to one topic.
        region, account: where the alarms live (their ARN, the notification's fields).
        clock: the time of a change of state (default: now, UTC).
    """

    def __init__(
        self,
        alarms: Sequence[Alarm],
        publish: Publish,
        *,
        region: str,
        account: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.alarms = list(alarms)
        self._publish = publish
        self._region = region
        self._account = account
        self._clock = clock
        # Step Functions tasks invoke functions on moto's threads: one change at a time.
        self._lock = threading.Lock()

    def watching(self, namespace: str, metric: str, dimensions: Mapping[str, str]) -> list[Alarm]:
        """The alarms that watch this metric with these dimensions."""
        return [a for a in self.alarms if a.watches(namespace, metric, dimensions)]

    def observe(
        self, namespace: str, metric: str, dimensions: Mapping[str, str], value: float
    ) -> list[Alarm]:
        """Evaluate the watching alarms on one datapoint; returns those whose state changed
        (each has notified its topics)."""
        changed = []
        with self._lock:
            for alarm in self.watching(namespace, metric, dimensions):
                new = "ALARM" if alarm.breaches(value) else "OK"
                if new == alarm.state:
                    continue
                old, alarm.state = alarm.state, new
                changed.append((alarm, old))
        for alarm, old in changed:
            self._notify(alarm, old, value)
        return [alarm for alarm, _ in changed]

    def states(self) -> dict[str, str]:
        """Each alarm's name and state."""
        return {alarm.name: alarm.state for alarm in self.alarms}

    def _notify(self, alarm: Alarm, old: str, value: float) -> None:
        topics = alarm.alarm_actions if alarm.state == "ALARM" else alarm.ok_actions
        if not topics:
            return
        subject, message = notification(
            alarm, old, value, at=self._clock(), region=self._region, account=self._account
        )
        for topic in topics:
            self._publish(topic, subject, message)


def notification(
    alarm: Alarm, old: str, value: float, *, at: datetime, region: str, account: str
) -> tuple[str, str]:
    """The subject and message CloudWatch publishes when ``alarm`` changes from ``old`` to
    its current state on a datapoint of ``value`` at ``at``."""
    words = _COMPARISONS[alarm.comparison][0]
    crossed = alarm.state == "ALARM"
    reason = (
        f"Threshold Crossed: 1 out of the last 1 datapoints [{value:g} ({at:%d/%m/%y %H:%M:%S})] "
        f"was {'' if crossed else 'not '}{words} the threshold ({alarm.threshold:g}) "
        f"(minimum 1 datapoint for {old} -> {alarm.state} transition)."
    )
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "NewStateValue": alarm.state,
        "NewStateReason": reason,
        "StateChangeTime": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
        "Region": region,
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm.name}",
        "OldStateValue": old,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": alarm.metric,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": alarm.statistic.upper(),
            "Unit": None,
            "Dimensions": [{"value": v, "name": k} for k, v in alarm.dimensions.items()],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data,
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    subject = f'{alarm.state}: "{alarm.name}" in {region}'
    return subject[:_MAX_SUBJECT], json.dumps(message)
