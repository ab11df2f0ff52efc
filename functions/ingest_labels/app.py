"""labels/<model>/YYYY/MM/DD/<file> uploaded: join, profile performance, update detectors."""

from __future__ import annotations

from typing import Any

from driftline.aws import jobs
from driftline.aws.handler import logger, on_objects


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return on_objects(
        event, lambda services, item: jobs.ingest_labels(services, item.key, received=item.time)
    )
