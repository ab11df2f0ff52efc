"""The retraining state machine's steps (infrastructure/statemachines/retrain.asl.json).

One function for every step, dispatching on ``event["step"]``: the steps run one after
another, so a warm container serves the next; scikit-learn is imported only by the steps
that train or predict (driftline.training).
"""

from __future__ import annotations

from typing import Any

import boto3

from driftline.aws import retraining
from driftline.aws.handler import RETRIES, logger, services


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # The step's keys are this invocation's: removed after it, so that neither the next
    # invocation of a warm container nor (locally) another function logs them.
    logger.append_keys(step=event.get("step"), execution=event.get("execution"))
    try:
        steps = retraining.RetrainingServices.from_services(
            services(), lambda name: boto3.client(name, config=RETRIES)
        )
        return retraining.run_step(steps, event)
    finally:
        logger.remove_keys(["step", "execution"])
