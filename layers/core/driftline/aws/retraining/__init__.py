"""The retraining steps the state machine runs (:mod:`driftline.aws.retraining.steps` for
now; the package's rooms follow)."""

from __future__ import annotations

from driftline.aws.retraining.steps import STEPS, RetrainingServices, StepEvent, run_step

__all__ = ["STEPS", "RetrainingServices", "StepEvent", "run_step"]
