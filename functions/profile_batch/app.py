"""inference/<model>/.../<file> uploaded: profile it, keep its rows, run quality checks."""

from __future__ import annotations

from typing import Any

from driftline.aws import jobs
from driftline.aws.handler import logger, on_objects


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return on_objects(
        event, lambda services, item: jobs.profile_batch(services, item.key, received=item.time)
    )
