"""The ``actions`` section: how long each action a check may ask for waits between two of
its runs (the cooldowns), and how a retraining it starts is set up."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from driftline.config.durations import Duration
from driftline.config.strict import StrictSection

ActionName = Literal["notify", "retrain", "emergency_retrain"]


class NotifyActionSpec(StrictSection):
    cooldown: Duration = "PT6H"


class RetrainActionSpec(StrictSection):
    cooldown: Duration = "P1D"
    training_window: Duration = "P90D"


class EmergencyRetrainActionSpec(StrictSection):
    cooldown: Duration = "PT1H"
    training_window: Duration = "P2D"
    deploy: Literal["canary", "direct"] = "canary"
    canary_traffic: float = Field(0.1, gt=0, lt=1)


class ActionsSpec(StrictSection):
    notify: NotifyActionSpec = Field(default_factory=NotifyActionSpec)
    retrain: RetrainActionSpec = Field(default_factory=RetrainActionSpec)
    emergency_retrain: EmergencyRetrainActionSpec = Field(
        default_factory=EmergencyRetrainActionSpec
    )
