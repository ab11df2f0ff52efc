"""Scheduled (EventBridge Scheduler, ``{"model": ...}``) or on-demand evaluation of a model.

The event may carry ``time`` (ISO 8601) to evaluate as of that moment (backfills, the local
runtime's clock); otherwise the invocation time is used. ``{"models": "all"}`` evaluates
every configured model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from driftline.aws import jobs
from driftline.aws.handler import logger, services


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = (
        datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
        if event.get("time")
        else jobs.now_utc()
    )
    shared = services()
    models = shared.table.models() if event.get("models") == "all" else [event["model"]]
    results = [jobs.evaluate_model(shared, model, now=now) for model in models]
    for result in results:
        logger.info(
            "evaluated", extra={"model": result.get("model"), "windows": result.get("windows")}
        )
    return {"evaluations": results}
