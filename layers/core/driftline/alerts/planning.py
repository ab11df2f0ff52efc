"""The plan of what acting does about one evaluation (:func:`plan_actions`): the
notifications to publish, the retraining executions to start, the states to write back, and
why anything was held back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from driftline.alerts.notifications import (
    Notification,
    NotificationContext,
    NotificationKind,
    by_severity,
)
from driftline.alerts.reading import read_result
from driftline.alerts.retrain_starts import RetrainStart, plan_retraining
from driftline.alerts.states import ActionState, AlertState, iso_utc, parse_time
from driftline.alerts.transitions import decide_alerts
from driftline.alerts.windows import windowed_name
from driftline.checks import effective_checks
from driftline.config.definition import MonitorDefinition
from driftline.config.durations import parse_duration
from driftline.evaluation import EvaluationResult


@dataclass(frozen=True)
class ActionPlan:
    """Everything the act step should do about one evaluation.

    Attributes:
        notifications: to publish, problems (firing or reminder) before resolutions.
        alert_states: check name → the state to write back (only states that changed).
        retrain_starts: executions to start (at most one).
        action_states: action name → the state to write back (only states that changed).
        suppressed: why something was not done (``"retrain: in cooldown until ..."``).
    """

    notifications: list[Notification]
    alert_states: dict[str, AlertState]
    retrain_starts: list[RetrainStart]
    action_states: dict[str, ActionState]
    suppressed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to publish, start or write (``suppressed`` may still explain why)."""
        return not (
            self.notifications or self.alert_states or self.retrain_starts or self.action_states
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the whole plan (for logs)."""
        return {
            "notifications": [item.to_dict() for item in self.notifications],
            "alert_states": {name: state.to_dict() for name, state in self.alert_states.items()},
            "retrain_starts": [
                {"action": s.action, "execution_name": s.execution_name, "input": s.input}
                for s in self.retrain_starts
            ],
            "action_states": {name: state.to_dict() for name, state in self.action_states.items()},
            "suppressed": list(self.suppressed),
        }


def plan_actions(
    definition: MonitorDefinition,
    result: EvaluationResult | Mapping[str, Any],
    alert_states: Mapping[str, AlertState],
    action_states: Mapping[str, ActionState],
    now: datetime,
    *,
    report: str | None = None,
) -> ActionPlan:
    """Decide what to do about one evaluation, given what earlier evaluations left behind.

    Args:
        definition: the model's monitor definition (check kinds and ``actions`` cooldowns).
        result: the evaluation, as an :class:`~driftline.evaluation.EvaluationResult` or as
            its result JSON (docs/result.md).
        alert_states: check name → its state, as the last plan wrote it (absent: never
            decided).
        action_states: ``retrain`` / ``emergency_retrain`` → its state (absent: never asked).
        now: the time of the decision, time-zone aware.
        report: where a person can read the evaluation's report (a URL); default its key,
            ``reports/<model>/<evaluation_id>.html``.

    Returns:
        The plan. Its states should be written conditionally on the versions read; when
        another invocation wrote first, plan again on the fresh states, which then show
        the work already done (docs/alerts.md discusses the order of writing and sending).

    Raises:
        ValueError: ``now`` has no time zone, or a cooldown is not an ISO 8601 duration.
        InvalidInputError: the result is malformed or belongs to another model.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"expected a time-zone-aware datetime for now, got {now.isoformat()}")
    evaluation = read_result(
        result.to_dict() if isinstance(result, EvaluationResult) else result, definition.model
    )
    stamp = iso_utc(now)
    specs = {
        **{check.name: check for check in effective_checks(definition)},
        **{
            windowed_name(check.name, window): check
            for check in effective_checks(definition)
            for window in definition.windows[1:]
        },
    }
    rules = {name: spec.persist for name, spec in specs.items() if spec.persist is not None}
    alerts = decide_alerts(evaluation, alert_states, stamp, rules)
    # A check with a rule asks for its action only when this evaluation finds its alert
    # firing: a pending one waits for the rule, and a redelivered one was decided before.
    firing = {alerted.check.name for alerted in alerts.new_failures} | {
        alerted.check.name for alerted, _prior in alerts.still_failing
    }
    asking = tuple(
        check
        for check in evaluation.checks
        if check.status != "fail" or check.name not in rules or check.name in firing
    )
    outcomes, starts, new_action_states = plan_retraining(
        definition, replace(evaluation, checks=asking), action_states, now
    )
    suppressed: list[str] = []
    duplicates = [*alerts.duplicates, *(o.action for o in outcomes if o.duplicate)]
    if duplicates:
        suppressed.append(
            f"evaluation {evaluation.evaluation_id} already handled: {', '.join(duplicates)}"
        )
    suppressed.extend(f"{o.action}: {o.reason}" for o in outcomes if o.reason and not o.duplicate)
    suppressed.extend(item.reason() for item in alerts.pending)

    problem: NotificationKind | None = None
    if alerts.new_failures:
        problem = "firing"
    elif alerts.still_failing:
        cooldown = parse_duration(definition.actions.notify.cooldown)
        next_reminder = min(
            parse_time(prior.last_notified) + cooldown if prior.last_notified else now
            for _alerted, prior in alerts.still_failing
        )
        if now >= next_reminder or starts:
            problem = "reminder"
        else:
            names = ", ".join(alerted.check.name for alerted, _prior in alerts.still_failing)
            suppressed.append(
                f"notify: {names} still failing and already notified; "
                f"next reminder from {iso_utc(next_reminder)}"
            )
    states = dict(alerts.states)
    if problem is not None:
        for alerted, _prior in alerts.still_failing:
            states[alerted.check.name] = replace(states[alerted.check.name], last_notified=stamp)

    context = NotificationContext(
        definition.model,
        evaluation,
        specs,
        stamp,
        by_severity([*alerts.new_failures, *(alerted for alerted, _prior in alerts.still_failing)]),
        alerts.recovered,
        outcomes,
        report or f"reports/{evaluation.model}/{evaluation.evaluation_id}.html",
        alerts.pending,
    )
    notifications: list[Notification] = []
    if problem == "firing":
        notifications.append(context.notification("firing", by_severity(alerts.new_failures)))
    elif problem == "reminder":
        notifications.append(context.notification("reminder", context.failing))
    if alerts.recovered:
        notifications.append(context.notification("resolved", alerts.recovered))
    return ActionPlan(
        notifications=notifications,
        alert_states={
            name: state for name, state in states.items() if state != alert_states.get(name)
        },
        retrain_starts=starts,
        action_states=new_action_states,
        suppressed=suppressed,
    )
