"""The driftline table (DynamoDB, single-table design): definitions, reference pointers,
detector, alert and action states with optimistic locking, and the metrics store.

=========================================  ============================================
PK                                         SK
=========================================  ============================================
``MODEL#<model>``                          ``CONFIG`` · ``REFERENCE`` ·
                                           ``DETECTOR#<check>`` · ``ALERT#<check>`` ·
                                           ``ACTION#<action>``
``MODELS``                                 ``<model>`` (the list of configured models)
``METRIC#<model>#<metric>#<segment>``      ``<ISO time>#<window>#<evaluation id>``
=========================================  ============================================

A metric of one model and segment over a time range is one Query (key condition on the
sort key). States carry a ``version``; :meth:`Table.put_state` writes only if the version
is still the one read, so two concurrent invocations never lose an update.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

OVERALL = "_overall"


class ConflictError(Exception):
    """A conditional write lost: the item changed since it was read."""


@dataclass(frozen=True)
class Versioned:
    """A state document with the version it was read at (0: the item does not exist)."""

    document: dict[str, Any]
    version: int


@dataclass(frozen=True)
class MetricPoint:
    time: str
    window: str
    evaluation_id: str
    value: float


class Table:
    """The driftline table.

    Args:
        client: a boto3 DynamoDB client (the low-level one: typed attribute values).
        name: the table name.
    """

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    # -- definitions and references -------------------------------------------------------

    def put_definition(self, model: str, definition: Mapping[str, Any], *, source: str) -> None:
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": {
                            "PK": {"S": f"MODEL#{model}"},
                            "SK": {"S": "CONFIG"},
                            "definition": {"S": json.dumps(definition, sort_keys=True)},
                            "source": {"S": source},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": {"PK": {"S": "MODELS"}, "SK": {"S": model}},
                    }
                },
            ]
        )

    def definition(self, model: str) -> dict[str, Any] | None:
        item = self._get(f"MODEL#{model}", "CONFIG")
        return json.loads(item["definition"]["S"]) if item else None

    def models(self) -> list[str]:
        return [item["SK"]["S"] for item in self._query("MODELS")]

    def put_reference(self, model: str, *, key: str, source: str, etag: str) -> None:
        self.client.put_item(
            TableName=self.name,
            Item={
                "PK": {"S": f"MODEL#{model}"},
                "SK": {"S": "REFERENCE"},
                "key": {"S": key},
                "source": {"S": source},
                "etag": {"S": etag},
            },
        )

    def reference_key(self, model: str) -> str | None:
        item = self._get(f"MODEL#{model}", "REFERENCE")
        return item["key"]["S"] if item else None

    # -- versioned states -----------------------------------------------------------------

    def state(self, model: str, kind: str, name: str) -> Versioned:
        """A state document (``kind``: DETECTOR, ALERT or ACTION), or an empty one at 0."""
        item = self._get(f"MODEL#{model}", f"{kind}#{name}", consistent=True)
        if not item:
            return Versioned({}, 0)
        return Versioned(json.loads(item["state"]["S"]), int(item["version"]["N"]))

    def put_state(
        self, model: str, kind: str, name: str, document: Mapping[str, Any], *, version: int
    ) -> int:
        """Write a state if it is still at ``version``; returns the new version.

        Raises:
            ConflictError: another writer got there first; read again and redo.
        """
        try:
            self.client.put_item(**self._conditional_put(model, kind, name, document, version))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConflictError(
                    f"{model} {kind}#{name} changed since version {version}"
                ) from exc
            raise
        return version + 1

    def put_states(
        self, model: str, writes: Sequence[tuple[str, str, Mapping[str, Any], int]]
    ) -> None:
        """Write several states all-or-nothing, each only if still at its version read.

        ``writes`` holds ``(kind, name, document, version)``; at most 100 (DynamoDB's limit).

        Raises:
            ConflictError: one of them changed; nothing was written.
        """
        if not writes:
            return
        items = [
            {"Put": self._conditional_put(model, kind, name, document, version)}
            for kind, name, document, version in writes
        ]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise ConflictError(f"{model}: states changed since read") from exc
            raise

    def claim_state(self, model: str, kind: str, name: str, *, version: int) -> bool:
        """Delete a state if it is still at ``version``: True if this call removed it."""
        try:
            self.client.delete_item(
                TableName=self.name,
                Key={"PK": {"S": f"MODEL#{model}"}, "SK": {"S": f"{kind}#{name}"}},
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={":expected": {"N": str(version)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _conditional_put(
        self, model: str, kind: str, name: str, document: Mapping[str, Any], version: int
    ) -> dict[str, Any]:
        """A Put of a state at ``version + 1``, conditional on it being at ``version``."""
        put: dict[str, Any] = {
            "TableName": self.name,
            "Item": {
                "PK": {"S": f"MODEL#{model}"},
                "SK": {"S": f"{kind}#{name}"},
                "state": {"S": json.dumps(document, sort_keys=True, default=str)},
                "version": {"N": str(version + 1)},
            },
            "ConditionExpression": (
                "attribute_not_exists(PK)" if version == 0 else "version = :expected"
            ),
        }
        if version:
            put["ExpressionAttributeValues"] = {":expected": {"N": str(version)}}
        return put

    def states(self, model: str, kind: str) -> dict[str, Versioned]:
        """Every state of one kind for a model (one Query)."""
        found: dict[str, Versioned] = {}
        for item in self._query(f"MODEL#{model}", prefix=f"{kind}#", consistent=True):
            name = item["SK"]["S"].split("#", 1)[1]
            found[name] = Versioned(json.loads(item["state"]["S"]), int(item["version"]["N"]))
        return found

    # -- metrics --------------------------------------------------------------------------

    def put_metrics(
        self,
        model: str,
        *,
        time: str,
        window: str,
        evaluation_id: str,
        figures: Iterable[tuple[str, str | None, float]],
    ) -> int:
        """Store ``(metric, segment, value)`` figures of one evaluation; idempotent (same keys).

        Returns:
            How many figures were written (non-finite values are skipped).
        """
        requests = []
        for metric, segment, value in figures:
            if not math.isfinite(value):
                continue
            requests.append(
                {
                    "PutRequest": {
                        "Item": {
                            "PK": {"S": f"METRIC#{model}#{metric}#{segment or OVERALL}"},
                            "SK": {"S": f"{time}#{window}#{evaluation_id}"},
                            "value": {"N": _number(value)},
                            "window": {"S": window},
                            "evaluation_id": {"S": evaluation_id},
                        }
                    }
                }
            )
        self._write_batches(requests)
        return len(requests)

    def metric(
        self, model: str, metric: str, *, segment: str | None = None, start: str, end: str
    ) -> list[MetricPoint]:
        """One metric of one model and segment with ``start <= time < end``, in one Query."""
        points = []
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.name,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :start AND :end",
            ExpressionAttributeValues={
                ":pk": {"S": f"METRIC#{model}#{metric}#{segment or OVERALL}"},
                ":start": {"S": start},
                ":end": {"S": end},
            },
        ):
            for item in page.get("Items", ()):
                time, window, evaluation_id = item["SK"]["S"].split("#", 2)
                if time >= end:
                    continue
                points.append(MetricPoint(time, window, evaluation_id, float(item["value"]["N"])))
        return points

    def latest_metric(
        self,
        model: str,
        metric: str,
        *,
        segment: str | None = None,
        until: str,
        limit: int,
        window: str | None = None,
    ) -> list[MetricPoint]:
        """The latest ``limit`` points of one metric of one model and segment whose sort key
        is at most ``until`` (``<time>`` or ``<time>#~`` for every point of that time),
        oldest first, in one Query read backwards; with ``window``, only the points of that
        window (filtered by the Query, paged until ``limit`` are found or none is left)."""
        query: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "PK = :pk AND SK <= :until",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"METRIC#{model}#{metric}#{segment or OVERALL}"},
                ":until": {"S": until},
            },
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if window is not None:
            query["FilterExpression"] = "#window = :window"
            query["ExpressionAttributeNames"] = {"#window": "window"}
            query["ExpressionAttributeValues"][":window"] = {"S": window}
        items: list[dict[str, Any]] = []
        while True:
            response = self.client.query(**query)
            items += response.get("Items", ())
            start = response.get("LastEvaluatedKey")
            if window is None or len(items) >= limit or not start:
                break
            query["ExclusiveStartKey"] = start
        points = []
        for item in reversed(items[:limit]):
            time, window_of, evaluation_id = item["SK"]["S"].split("#", 2)
            points.append(MetricPoint(time, window_of, evaluation_id, float(item["value"]["N"])))
        return points

    def delete_metrics(
        self,
        model: str,
        *,
        time: str,
        window: str,
        evaluation_id: str,
        figures: Iterable[tuple[str, str | None]],
    ) -> None:
        """Delete ``(metric, segment)`` figures of one evaluation (those absent are no
        error): what a newer computation under the same id no longer holds."""
        requests = [
            {
                "DeleteRequest": {
                    "Key": {
                        "PK": {"S": f"METRIC#{model}#{metric}#{segment or OVERALL}"},
                        "SK": {"S": f"{time}#{window}#{evaluation_id}"},
                    }
                }
            }
            for metric, segment in figures
        ]
        self._write_batches(requests)

    # -- helpers --------------------------------------------------------------------------

    def _write_batches(self, requests: Sequence[dict[str, Any]]) -> None:
        """BatchWriteItem 25 requests at a time, the unprocessed ones sent again."""
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.name: list(requests[start : start + 25])}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    def _get(self, pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.name, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=consistent
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _query(
        self, pk: str, *, prefix: str | None = None, consistent: bool = False
    ) -> Iterable[dict[str, Any]]:
        condition = "PK = :pk" + (" AND begins_with(SK, :prefix)" if prefix else "")
        values: dict[str, Any] = {":pk": {"S": pk}}
        if prefix:
            values[":prefix"] = {"S": prefix}
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.name,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ConsistentRead=consistent,
        ):
            yield from page.get("Items", ())


def _number(value: float) -> str:
    return str(Decimal(repr(float(value))))
