"""baselines/<model>/<file> uploaded: profile the reference (with its metrics) and point to it."""

from __future__ import annotations

from typing import Any

from driftline.aws import jobs
from driftline.aws.handler import logger, on_objects


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return on_objects(event, lambda services, item: jobs.build_baseline(services, item.key))
