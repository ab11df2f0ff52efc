"""The monitoring bucket: read inputs, write profiles and reports once, quarantine bad files."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from driftline.errors import InvalidInputError
from driftline.io.source import file_too_large

QUARANTINE = "quarantine/"


class ObjectTooLargeError(InvalidInputError):
    """An object larger than the caller reads into memory (reason ``file_too_large``).

    Attributes:
        etag: the object's ETag, to quarantine it under.
    """

    reason = "file_too_large"

    def __init__(self, key: str, *, etag: str, size: int, limit: int) -> None:
        error = file_too_large(key, limit, stored=size)
        super().__init__(str(error), **error.details)
        self.etag = etag


@dataclass(frozen=True)
class StoredObject:
    """An object's bytes with the ETag they were read at."""

    key: str
    body: bytes
    etag: str


class ObjectStore:
    """One S3 bucket.

    Args:
        client: a boto3 S3 client.
        bucket: the bucket name.
    """

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def get(self, key: str, *, max_bytes: int | None = None) -> StoredObject:
        """Read a whole object.

        Args:
            key: the object's key.
            max_bytes: the largest object to read; a larger one is not read at all.

        Raises:
            KeyError: no such object.
            ObjectTooLargeError: the object is larger than ``max_bytes``.
        """
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise
        etag = response["ETag"].strip('"')
        size = int(response.get("ContentLength", 0))
        if max_bytes is not None and size > max_bytes:
            response["Body"].close()
            raise ObjectTooLargeError(key, etag=etag, size=size, limit=max_bytes)
        return StoredObject(key, response["Body"].read(), etag)

    def get_json(self, key: str) -> Any:
        """Read a JSON object (gzip-compressed or plain)."""
        body = self.get(key).body
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        return json.loads(body)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def put(self, key: str, body: bytes, *, content_type: str = "application/json") -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def put_json(self, key: str, document: Any, *, compress: bool = True) -> None:
        """Write a JSON document (gzip-compressed unless ``compress`` is False)."""
        body = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
        if compress:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=gzip.compress(body, mtime=0),
                ContentType="application/json",
                ContentEncoding="gzip",
            )
        else:
            self.put(key, body)

    def put_json_once(self, key: str, document: Any) -> bool:
        """Write a JSON document only if ``key`` does not exist yet (S3 conditional write).

        Returns:
            True if this call wrote it, False if it was already there (a duplicate delivery
            or a concurrent invocation won): the first write stands.
        """
        body = gzip.compress(
            json.dumps(document, separators=(",", ":"), allow_nan=False).encode(), mtime=0
        )
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ContentEncoding="gzip",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                return False
            raise
        return True

    def presigned_url(self, key: str, *, expires: int = 7 * 24 * 3600) -> str:
        """A time-limited GET link to an object (for the report link in notifications).

        Signed with the function's own credentials, so it is valid at most as long as they
        are; the bucket stays private.
        """
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
        )
        return url

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix``, in key order."""
        return (key for key, _ in self.listing(prefix))

    def listing(self, prefix: str) -> Iterator[tuple[str, str]]:
        """``(key, ETag)`` of every object under ``prefix``, in key order."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                yield item["Key"], str(item.get("ETag", "")).strip('"')

    def quarantine(self, key: str) -> str:
        """Copy ``key`` to ``quarantine/<key>`` (the original stays: nothing is deleted).

        Returns:
            The quarantine key; :meth:`put_reason` writes the reason beside it.
        """
        target = QUARANTINE + key
        try:
            self.client.copy_object(
                Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key}
            )
        except ClientError as exc:
            if _code(exc) not in ("NoSuchKey", "404"):
                raise
        return target

    def put_reason(self, key: str, reason: dict[str, Any]) -> None:
        """Write the machine-readable ``quarantine/<key>.reason.json``."""
        body = json.dumps(reason, indent=2, sort_keys=True).encode()
        self.put(QUARANTINE + key + ".reason.json", body)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
