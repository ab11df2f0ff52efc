"""The deployment's resource names and input limits, read from the function's environment
(template.yaml)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from driftline.aws.limits import (
    MAX_BASELINE_BYTES,
    MAX_BASELINE_ROWS,
    MAX_FILE_BYTES,
    MAX_FILE_ROWS,
    FileLimits,
    InputLimits,
)


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
    limits: InputLimits = field(default_factory=InputLimits)

    @classmethod
    def from_environment(cls, environ: Any = None) -> Settings:
        """Read ``DRIFTLINE_*`` variables.

        The input limits (``DRIFTLINE_MAX_FILE_BYTES``, ``DRIFTLINE_MAX_FILE_ROWS``,
        ``DRIFTLINE_MAX_BASELINE_BYTES``, ``DRIFTLINE_MAX_BASELINE_ROWS``) default to
        :mod:`driftline.aws.limits`'s when absent.

        Raises:
            KeyError: a variable is missing (names it): the deployment is broken.
            ValueError: a limit is not a whole number >= 1 (names the variable).

        >>> env = {"DRIFTLINE_BUCKET": "b", "DRIFTLINE_TABLE": "t", "DRIFTLINE_TOPIC_ARN": "a",
        ...        "DRIFTLINE_EVENT_BUS": "e", "DRIFTLINE_STATE_MACHINE_ARN": "m",
        ...        "DRIFTLINE_MAX_FILE_ROWS": "500000"}
        >>> Settings.from_environment(env).limits.files.max_rows
        500000
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
            limits=InputLimits(
                files=FileLimits(
                    _limit(env, "DRIFTLINE_MAX_FILE_BYTES", MAX_FILE_BYTES),
                    _limit(env, "DRIFTLINE_MAX_FILE_ROWS", MAX_FILE_ROWS),
                ),
                baselines=FileLimits(
                    _limit(env, "DRIFTLINE_MAX_BASELINE_BYTES", MAX_BASELINE_BYTES),
                    _limit(env, "DRIFTLINE_MAX_BASELINE_ROWS", MAX_BASELINE_ROWS),
                ),
            ),
        )


def _limit(env: Mapping[str, str], name: str, default: int) -> int:
    """A limit from the environment, ``default`` when absent.

    >>> _limit({"N": "12"}, "N", 5), _limit({}, "N", 5)
    (12, 5)
    >>> _limit({"N": "0"}, "N", 5)
    Traceback (most recent call last):
    ...
    ValueError: N: expected a whole number >= 1, got '0'
    """
    text = env.get(name)
    if text is None or text == "":
        return default
    value = int(text) if text.strip().isdigit() else 0
    if value < 1:
        raise ValueError(f"{name}: expected a whole number >= 1, got {text!r}")
    return value
