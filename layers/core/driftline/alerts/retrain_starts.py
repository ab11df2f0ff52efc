"""Which retraining executions an evaluation starts, and why the others wait: at most one per
cooldown window for each action, and ``emergency_retrain`` before ``retrain``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from driftline.alerts.identifiers import execution_name
from driftline.alerts.reading import CheckedEvaluation
from driftline.alerts.states import ActionState, iso_utc, parse_time, remember
from driftline.checks import CheckResult
from driftline.config.definition import MonitorDefinition
from driftline.config.durations import parse_duration

RetrainAction = Literal["emergency_retrain", "retrain"]

_RETRAIN_ACTIONS: tuple[RetrainAction, ...] = ("emergency_retrain", "retrain")


@dataclass(frozen=True)
class RetrainStart:
    """One retraining execution to start.

    Attributes:
        action: ``retrain`` or ``emergency_retrain``.
        execution_name: :func:`execution_name` of the model, action and evaluation, so
            starting it twice is refused by Step Functions instead of training twice.
        input: the execution input: ``model``, ``action``, ``evaluation_id``,
            ``training_window`` (an ISO 8601 duration ending at ``window_end``, the end of
            the evaluated window, or at the execution's start when that is null),
            ``deploy`` and ``canary_traffic`` (null for ``retrain``: the state machine's
            defaults), ``triggered_by`` (the failed checks) and ``segments`` (theirs).
    """

    action: RetrainAction
    execution_name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class ActionOutcome:
    """What became of one action an evaluation asked for."""

    action: str
    checks: tuple[str, ...]
    started: bool
    execution_name: str | None = None
    reason: str | None = None
    duplicate: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "checks": list(self.checks),
            "outcome": "started" if self.started else "not started",
            "execution_name": self.execution_name,
            "reason": self.reason,
        }


def plan_retraining(
    definition: MonitorDefinition,
    evaluation: CheckedEvaluation,
    action_states: Mapping[str, ActionState],
    now: datetime,
) -> tuple[list[ActionOutcome], list[RetrainStart], dict[str, ActionState]]:
    """What becomes of each retraining action the evaluation's failed checks ask for.

    Returns:
        The outcome of each action asked for, the executions to start (at most one), and
        the action states to write back.
    """
    actions = definition.actions
    asked: dict[str, list[CheckResult]] = {}
    for check in evaluation.checks:
        if check.status == "fail" and check.action in _RETRAIN_ACTIONS:
            asked.setdefault(check.action, []).append(check)
    cooldowns = {
        "retrain": parse_duration(actions.retrain.cooldown),
        "emergency_retrain": parse_duration(actions.emergency_retrain.cooldown),
    }
    # A retrain waits after either kind of start; an emergency only after an emergency.
    counted = {"retrain": _RETRAIN_ACTIONS, "emergency_retrain": ("emergency_retrain",)}

    outcomes: list[ActionOutcome] = []
    starts: list[RetrainStart] = []
    written: dict[str, ActionState] = {}
    for action in _RETRAIN_ACTIONS:
        if action not in asked:
            continue
        names = tuple(check.name for check in asked[action])
        prior = action_states.get(action, ActionState())
        if evaluation.evaluation_id in prior.recent_evaluations:
            handled = f"evaluation {evaluation.evaluation_id} already handled"
            outcomes.append(ActionOutcome(action, names, False, None, handled, duplicate=True))
            continue
        recent = remember(prior.recent_evaluations, evaluation.evaluation_id)
        reason: str | None = None
        if action == "retrain" and "emergency_retrain" in asked:
            reason = "superseded by emergency_retrain, which this evaluation also asks for"
        else:
            last = _last_start(action_states, counted[action])
            if last is not None and now < last[0] + cooldowns[action]:
                reason = (
                    f"in cooldown until {iso_utc(last[0] + cooldowns[action])} "
                    f"(last execution {last[1]})"
                )
        if reason is not None:
            outcomes.append(ActionOutcome(action, names, False, None, reason))
            written[action] = replace(prior, recent_evaluations=recent)
            continue
        name = execution_name(evaluation.model, action, evaluation.evaluation_id)
        starts.append(
            RetrainStart(action, name, _execution_input(definition, evaluation, action, asked))
        )
        outcomes.append(ActionOutcome(action, names, True, name))
        written[action] = ActionState(iso_utc(now), name, recent)
    return outcomes, starts, written


def _last_start(
    states: Mapping[str, ActionState], actions: Sequence[str]
) -> tuple[datetime, str] | None:
    found = [
        (parse_time(state.last_started), state.last_execution or "unknown")
        for action in actions
        if (state := states.get(action)) is not None and state.last_started is not None
    ]
    return max(found) if found else None


def _execution_input(
    definition: MonitorDefinition,
    evaluation: CheckedEvaluation,
    action: RetrainAction,
    asked: Mapping[str, list[CheckResult]],
) -> dict[str, Any]:
    checks = asked[action]
    emergency = definition.actions.emergency_retrain
    spec = emergency if action == "emergency_retrain" else definition.actions.retrain
    return {
        "model": evaluation.model,
        "action": action,
        "evaluation_id": evaluation.evaluation_id,
        "training_window": spec.training_window,
        "window_end": evaluation.window_end,
        "deploy": emergency.deploy if action == "emergency_retrain" else None,
        "canary_traffic": emergency.canary_traffic if action == "emergency_retrain" else None,
        "triggered_by": [check.name for check in checks],
        "segments": sorted({check.segment for check in checks if check.segment is not None}),
    }
