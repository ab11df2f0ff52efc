"""The model registry on AWS: versions and the traffic split in the driftline table,
artifacts in the monitoring bucket with their SHA-256.

=========================  ===================================  ===========================
PK                         SK                                   holds
=========================  ===================================  ===========================
``MODEL#<model>``          ``VERSION#<000001>``                 a :class:`ModelVersion`
                                                                (``document``) + ``status``
``MODEL#<model>``          ``REGISTERED#<execution>``           the version an execution
                                                                registered (idempotency)
``MODEL#<model>``          ``TRAFFIC``                          the :class:`TrafficSplit`
                                                                (champion pointer), with a
                                                                ``revision`` for locking
``MODEL#<model>``          ``RUN#<execution>``                  how a retraining ended, why
=========================  ===================================  ===========================

Artifacts live under ``models/<model>/<execution>/<file>``; :meth:`ModelRegistry.read_artifact`
returns their bytes only after checking the SHA-256 recorded at registration, and
:meth:`ModelRegistry.load_model` unpickles only verified bytes.

Every change is a conditional write (or a transaction of them) on what was read, so a
retried step or two racing executions cannot promote twice or lose a status change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from driftline.aws.s3 import ObjectStore
from driftline.model_store import (
    ModelVersion,
    RegistryError,
    TrafficSplit,
    sha256_of,
    verify_artifact,
)

#: Attempts at a registration or split change before giving up (each re-reads).
ATTEMPTS = 10


class ModelRegistry:
    """Versions, the traffic split and artifacts of every model.

    Args:
        client: a boto3 DynamoDB client (low-level).
        table: the driftline table's name.
        store: the monitoring bucket.
    """

    def __init__(self, client: Any, table: str, store: ObjectStore) -> None:
        self.client = client
        self.table = table
        self.store = store

    # -- artifacts ------------------------------------------------------------------------

    def put_artifact(
        self, model: str, execution: str, data: bytes, *, name: str = "model.joblib"
    ) -> tuple[str, str]:
        """Store an artifact; returns ``(key, sha256)``."""
        key = f"models/{model}/{execution}/{name}"
        self.store.put(key, data, content_type="application/octet-stream")
        return key, sha256_of(data)

    def read_artifact(self, key: str, sha256: str) -> bytes:
        """An artifact's bytes, verified.

        Raises:
            driftline.model_store.ArtifactIntegrityError: the bytes are not the ones recorded.
            KeyError: no such object.
        """
        data = self.store.get(key).body
        verify_artifact(data, sha256, key=key)
        return data

    def load_model(self, version: ModelVersion) -> Any:
        """A registered (joblib) model, unpickled only after its hash is verified."""
        from driftline.training.estimators import load_model  # noqa: PLC0415 (scikit-learn: only here)

        data = self.read_artifact(version.artifact_key, version.sha256)
        return load_model(data, version.sha256, key=version.artifact_key)

    # -- versions -------------------------------------------------------------------------

    def register(self, candidate: ModelVersion) -> ModelVersion:
        """Register ``candidate`` (its ``version`` is ignored) as the next version.

        Idempotent per execution (``candidate.lineage.execution``): registering again
        returns the version registered the first time.

        Raises:
            RegistryError: the candidate has no lineage, or too many concurrent writers.
        """
        if candidate.lineage is None:
            raise RegistryError("a version needs its lineage (the execution that trained it)")
        execution = candidate.lineage.execution
        model = candidate.model
        for _ in range(ATTEMPTS):
            existing = self.registered(model, execution)
            if existing is not None:
                return existing
            number = self._latest_number(model) + 1
            record = replace(candidate, version=number, status="challenger")
            try:
                self.client.transact_write_items(
                    TransactItems=[
                        {"Put": self._version_put(record, condition="attribute_not_exists(PK)")},
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": {
                                    "PK": {"S": _pk(model)},
                                    "SK": {"S": f"REGISTERED#{execution}"},
                                    "version": {"N": str(number)},
                                },
                                "ConditionExpression": "attribute_not_exists(PK)",
                            }
                        },
                    ]
                )
            except ClientError as exc:
                if _code(exc) != "TransactionCanceledException":
                    raise
                continue  # a concurrent registration took the number, or this execution's
            return record
        raise RegistryError(f"{model}: {ATTEMPTS} conflicting registrations")

    def version(self, model: str, number: int) -> ModelVersion:
        """One version.

        Raises:
            RegistryError: no such version.
        """
        item = self._get(model, _version_sk(number))
        if item is None:
            raise RegistryError(f"{model} v{number} is not registered", reason="unknown_version")
        return ModelVersion.from_dict(json.loads(item["document"]["S"]))

    def versions(self, model: str) -> list[ModelVersion]:
        """Every version of a model, oldest first."""
        return [
            ModelVersion.from_dict(json.loads(item["document"]["S"]))
            for item in self._query(model, "VERSION#")
        ]

    def champion(self, model: str) -> ModelVersion | None:
        """The version serving as champion (None: the model that served before driftline)."""
        split = self.traffic(model)
        return None if split.champion is None else self.version(model, split.champion)

    # -- traffic --------------------------------------------------------------------------

    def traffic(self, model: str) -> TrafficSplit:
        """The current split (everything to the pre-driftline model when never set)."""
        return self._traffic(model)[0]

    def start_canary(
        self, model: str, version: int, weight: float, *, at: str, execution: str
    ) -> TrafficSplit:
        """Route ``weight`` of the requests to challenger ``version``.

        Idempotent: the same canary again changes nothing.

        Raises:
            RegistryError: another challenger is in a canary, or the version is not a
                challenger.
        """
        record = self.version(model, version)
        if record.status != "challenger":
            raise RegistryError(
                f"{model} {record.label} is {record.status}, not a challenger",
                reason="not_a_challenger",
            )
        for _ in range(ATTEMPTS):
            split, revision = self._traffic(model)
            if split.challenger == version and split.challenger_weight == weight:
                return split
            wanted = split.with_canary(version, weight, at=at, execution=execution)
            try:
                self.client.put_item(**self._traffic_put(wanted, revision))
            except ClientError as exc:
                if _code(exc) != "ConditionalCheckFailedException":
                    raise
                continue
            return wanted
        raise RegistryError(f"{model}: {ATTEMPTS} conflicting traffic changes")

    def promote(self, model: str, version: int, *, at: str, reason: str) -> TrafficSplit:
        """Make ``version`` the champion serving everything; the old champion retires.

        One transaction: the split, the new champion's status and the old one's. Promoting
        the champion again changes nothing.

        Raises:
            driftline.model_store.InvalidTransitionError: the version is not a challenger.
        """
        for _ in range(ATTEMPTS):
            split, revision = self._traffic(model)
            record = self.version(model, version)
            if record.status == "champion" and split.champion == version:
                return split
            promoted = record.transition("champion", at=at, reason=reason)
            wanted = TrafficSplit(model, champion=version, updated_at=at, execution=split.execution)
            items = [
                {"Put": self._traffic_put(wanted, revision)},
                {"Put": self._version_put(promoted, expected=record.status)},
            ]
            if split.champion is not None and split.champion != version:
                old = self.version(model, split.champion)
                if old.status == "champion":
                    retired = old.transition("retired", at=at, reason=f"replaced by v{version}")
                    items.append({"Put": self._version_put(retired, expected="champion")})
            try:
                self.client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if _code(exc) != "TransactionCanceledException":
                    raise
                continue
            return wanted
        raise RegistryError(f"{model}: {ATTEMPTS} conflicting promotions")

    def rollback(self, model: str, version: int | None, *, at: str, reason: str) -> TrafficSplit:
        """Send every request back to the champion; ``version`` (if registered) is marked
        rolled back. Idempotent."""
        for _ in range(ATTEMPTS):
            split, revision = self._traffic(model)
            items: list[dict[str, Any]] = []
            if version is not None and split.challenger == version:
                items.append({"Put": self._traffic_put(split.rolled_back(at=at), revision)})
            if version is not None:
                record = self.version(model, version)
                if record.status == "challenger":
                    moved = record.transition("rolled_back", at=at, reason=reason)
                    items.append({"Put": self._version_put(moved, expected="challenger")})
            if not items:
                return split
            try:
                self.client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if _code(exc) != "TransactionCanceledException":
                    raise
                continue
            return self.traffic(model)
        raise RegistryError(f"{model}: {ATTEMPTS} conflicting rollbacks")

    # -- runs -----------------------------------------------------------------------------

    def record_run(self, model: str, execution: str, document: Mapping[str, Any]) -> None:
        """Keep how a retraining execution ended and why (overwrites)."""
        self.client.put_item(
            TableName=self.table,
            Item={
                "PK": {"S": _pk(model)},
                "SK": {"S": f"RUN#{execution}"},
                "document": {"S": json.dumps(document, sort_keys=True, default=str)},
            },
        )

    def run(self, model: str, execution: str) -> dict[str, Any] | None:
        item = self._get(model, f"RUN#{execution}")
        return None if item is None else dict(json.loads(item["document"]["S"]))

    # -- helpers --------------------------------------------------------------------------

    def registered(self, model: str, execution: str) -> ModelVersion | None:
        """The version ``execution`` registered, if it did."""
        item = self._get(model, f"REGISTERED#{execution}")
        return None if item is None else self.version(model, int(item["version"]["N"]))

    def _latest_number(self, model: str) -> int:
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": _pk(model)}, ":prefix": {"S": "VERSION#"}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = response.get("Items", [])
        return int(items[0]["SK"]["S"].split("#", 1)[1]) if items else 0

    def _traffic(self, model: str) -> tuple[TrafficSplit, int]:
        item = self._get(model, "TRAFFIC")
        if item is None:
            return TrafficSplit(model), 0
        return TrafficSplit.from_dict(json.loads(item["document"]["S"])), int(item["revision"]["N"])

    def _traffic_put(self, split: TrafficSplit, revision: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "PK": {"S": _pk(split.model)},
            "SK": {"S": "TRAFFIC"},
            "document": {"S": json.dumps(split.to_dict(), sort_keys=True)},
            "revision": {"N": str(revision + 1)},
            "challenger_weight": {"N": repr(float(split.challenger_weight))},
        }
        for role in ("champion", "challenger"):
            number = getattr(split, role)
            if number is not None:
                item[role] = {"N": str(number)}
        put: dict[str, Any] = {"TableName": self.table, "Item": item}
        if revision == 0:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put["ConditionExpression"] = "revision = :revision"
            put["ExpressionAttributeValues"] = {":revision": {"N": str(revision)}}
        return put

    def _version_put(
        self, record: ModelVersion, *, condition: str | None = None, expected: str | None = None
    ) -> dict[str, Any]:
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                "PK": {"S": _pk(record.model)},
                "SK": {"S": _version_sk(record.version)},
                "document": {"S": json.dumps(record.to_dict(), sort_keys=True)},
                "status": {"S": record.status},
                "sha256": {"S": record.sha256},
                "artifact_key": {"S": record.artifact_key},
            },
        }
        if condition is not None:
            put["ConditionExpression"] = condition
        elif expected is not None:
            put["ConditionExpression"] = "#status = :expected"
            put["ExpressionAttributeNames"] = {"#status": "status"}
            put["ExpressionAttributeValues"] = {":expected": {"S": expected}}
        return put

    def _get(self, model: str, sk: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table,
            Key={"PK": {"S": _pk(model)}, "SK": {"S": sk}},
            ConsistentRead=True,
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _query(self, model: str, prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": _pk(model)}, ":prefix": {"S": prefix}},
            ConsistentRead=True,
        ):
            items.extend(page.get("Items", ()))
        return items


def _pk(model: str) -> str:
    return f"MODEL#{model}"


def _version_sk(number: int) -> str:
    return f"VERSION#{number:06d}"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
