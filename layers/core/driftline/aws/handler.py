"""What every handler shares: the services built once per container, S3 event records with
their keys URL-decoded, and structured logging (powertools Logger, JSON lines, no feature
values: only keys, counts and reasons are logged)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from driftline.aws.jobs import Services, now_utc
from driftline.aws.notify import Notifier
from driftline.aws.redeliver import Redeliverer
from driftline.aws.retrain import RetrainStarter
from driftline.aws.s3 import ObjectStore
from driftline.aws.schedules import Schedules
from driftline.aws.settings import Settings
from driftline.aws.store import Table

logger = Logger(service="driftline")

#: Throttling and 5xx are retried with backoff by botocore (safe: every write is idempotent
#: or conditional); what still fails fails the invocation, so Lambda retries it and then
#: hands the event to the on-failure destination.
RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 6}, connect_timeout=5, read_timeout=30
)


def _client(service: str) -> Any:
    return boto3.client(service, config=RETRIES)


def _log(message: str, **fields: Any) -> None:
    logger.info(message, extra=fields)


@cache
def services() -> Services:
    """The adapters and input limits for this container, from ``DRIFTLINE_*`` (built on
    first use)."""
    settings = Settings.from_environment()
    schedules = None
    if settings.schedule_group and settings.evaluate_arn:
        schedules = Schedules(
            _client("scheduler"),
            settings.schedule_group,
            settings.evaluate_arn,
            settings.scheduler_role_arn,
        )
    redeliver = None
    if settings.profile_batch_arn and settings.ingest_labels_arn:
        redeliver = Redeliverer(
            _client("lambda"),
            settings.bucket,
            {"inference": settings.profile_batch_arn, "labels": settings.ingest_labels_arn},
        )
    return Services(
        store=ObjectStore(_client("s3"), settings.bucket),
        table=Table(_client("dynamodb"), settings.table),
        notifier=Notifier(
            _client("sns"), _client("events"), settings.topic_arn, settings.event_bus
        ),
        retrain=RetrainStarter(_client("stepfunctions"), settings.state_machine_arn),
        schedules=schedules,
        redeliver=redeliver,
        log=_log,
        limits=settings.limits,
    )


@dataclass(frozen=True)
class ObjectEvent:
    """One S3 ``ObjectCreated`` record."""

    key: str
    etag: str
    time: datetime


def object_events(event: Mapping[str, Any]) -> Iterator[ObjectEvent]:
    """The object records of an S3 notification (keys URL-decoded; test events skipped).

    Also accepts an EventBridge "Object Created" event from S3.
    """
    if event.get("Event") == "s3:TestEvent":
        return
    if event.get("detail-type") == "Object Created":
        detail = event["detail"]
        yield ObjectEvent(
            detail["object"]["key"],
            str(detail["object"].get("etag", "")),
            _time(event.get("time")),
        )
        return
    for record in event.get("Records", ()):
        if not str(record.get("eventName", "ObjectCreated")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        yield ObjectEvent(
            urllib.parse.unquote_plus(s3["object"]["key"]),
            str(s3["object"].get("eTag", "")),
            _time(record.get("eventTime")),
        )


def _time(text: str | None) -> datetime:
    """An event's time; S3 and EventBridge send UTC, with or without the ``Z`` (moto sends
    none), so a time without an offset is UTC.

    >>> _time("2026-12-02T06:37:32.986816").isoformat()
    '2026-12-02T06:37:32.986816+00:00'
    >>> _time("2026-12-02T06:37:32Z").isoformat()
    '2026-12-02T06:37:32+00:00'
    """
    if not text:
        return now_utc()
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def on_objects(
    event: Mapping[str, Any], job: Callable[[Services, ObjectEvent], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``job`` for every object of an S3 notification and log each outcome."""
    outcomes = []
    for item in object_events(event):
        logger.append_keys(key=item.key)
        try:
            outcome = job(services(), item)
            logger.info("done", extra={"outcome": json.dumps(outcome, default=str)[:2000]})
        finally:
            logger.remove_keys(["key"])
        outcomes.append({"key": item.key, **outcome})
    return {"objects": outcomes}
