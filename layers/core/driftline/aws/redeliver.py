"""Hand a held input back to the function that processes it, as its S3 event would.

When a model's baseline is profiled, the inference logs and label files that arrived before
it (held, :func:`driftline.aws.jobs.release_held`) are processed by their own functions,
with their own roles, timeouts, retries and on-failure destination: the baseline function
invokes them asynchronously with the same S3 record the upload would have sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Redeliverer:
    """Invokes the profiling or label function for one held object (asynchronously).

    Args:
        client: a boto3 Lambda client.
        bucket: the monitoring bucket.
        functions: ``inference`` / ``labels`` → the ARN (or name) of the function for them.
    """

    client: Any
    bucket: str
    functions: dict[str, str]

    def __call__(self, kind: str, key: str, etag: str, at: datetime) -> None:
        """Send ``key`` (held since ``at``) to the function for ``kind``.

        Raises:
            KeyError: no function is configured for ``kind``.
        """
        record = {
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "eventTime": at.isoformat(),
            "s3": {"bucket": {"name": self.bucket}, "object": {"key": key, "eTag": etag}},
        }
        self.client.invoke(
            FunctionName=self.functions[kind],
            InvocationType="Event",
            Payload=json.dumps({"Records": [record]}).encode(),
        )
