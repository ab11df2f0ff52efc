"""The deployment's resource names, read from the function's environment (template.yaml)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Settings:
    bucket: str
    table: str
    topic_arn: str
    event_bus: str
    state_machine_arn: str
    schedule_group: str
    scheduler_role_arn: str
    evaluate_arn: str
    #: The functions held inputs are handed back to (the baseline functions only).
    profile_batch_arn: str = ""
    ingest_labels_arn: str = ""

    @classmethod
    def from_environment(cls, environ: Any = None) -> Settings:
        """Read ``DRIFTLINE_*`` variables.

        Raises:
            KeyError: a variable is missing (names it): the deployment is broken.
        """
        env = os.environ if environ is None else environ
        return cls(
            bucket=env["DRIFTLINE_BUCKET"],
            table=env["DRIFTLINE_TABLE"],
            topic_arn=env["DRIFTLINE_TOPIC_ARN"],
            event_bus=env["DRIFTLINE_EVENT_BUS"],
            state_machine_arn=env["DRIFTLINE_STATE_MACHINE_ARN"],
            schedule_group=env.get("DRIFTLINE_SCHEDULE_GROUP", ""),
            scheduler_role_arn=env.get("DRIFTLINE_SCHEDULER_ROLE_ARN", ""),
            evaluate_arn=env.get("DRIFTLINE_EVALUATE_ARN", ""),
            profile_batch_arn=env.get("DRIFTLINE_PROFILE_BATCH_ARN", ""),
            ingest_labels_arn=env.get("DRIFTLINE_INGEST_LABELS_ARN", ""),
        )
