"""What the act step does about an evaluation: notify, remind, resolve, retrain, or wait.

An evaluation says which checks failed; acting on it needs memory. Per model, driftline keeps
one :class:`AlertState` per check (is it firing, since when, when was someone last told) and
one :class:`ActionState` per retraining action (when did the last execution start).
:func:`plan_actions` takes an evaluation, that memory and the current time and returns an
:class:`ActionPlan`: the notifications to publish, the retraining executions to start, the
states to write back, and why anything was held back. It does no I/O and reads no clock, so
the same inputs always give the same plan; the act function's adapters carry it out.

The rules (docs/alerts.md):

- a check that newly fails fires; every new failure of one evaluation goes into **one**
  ``firing`` notification, which also lists the checks still failing;
- a check still failing is quiet until ``actions.notify.cooldown`` has passed since someone was
  last told, then one ``reminder`` lists every failing check; a retraining started by the
  evaluation is always announced, so it makes a reminder due as well;
- a firing check that passes again goes into one ``resolved`` notification;
- a skipped check changes nothing;
- ``retrain`` and ``emergency_retrain`` start at most one execution per cooldown window
  each; ``emergency_retrain`` ignores the ``retrain`` cooldown, and when one evaluation asks
  for both only ``emergency_retrain`` starts; a ``retrain`` waits out its cooldown after
  either kind of start;
- every state remembers the last :data:`RECENT_EVALUATIONS` evaluations it has handled, so a
  redelivered evaluation changes nothing and sends nothing.

>>> from datetime import datetime, timedelta, timezone
>>> from driftline.config import load_monitor_definition
>>> definition = load_monitor_definition('''
... model: churn
... schema: {task: binary_classification, prediction: p, label: y, features: {tenure: numeric}}
... baseline: {path: baselines/churn/reference.csv}
... checks: [{name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}]
... ''')
>>> result = {"model": "churn", "evaluation_id": "e1", "status": "critical", "checks": [
...     {"name": "accuracy-floor", "status": "fail", "value": 0.8217, "threshold": 0.85,
...      "baseline": 0.8674, "segment": None, "action": "retrain",
...      "detail": "accuracy is 0.8217, below the minimum 0.85"}]}
>>> now = datetime(2024, 6, 1, 3, 0, tzinfo=timezone.utc)
>>> plan = plan_actions(definition, result, {}, {}, now)
>>> [(n.kind, n.subject) for n in plan.notifications]
[('firing', '[driftline] churn: CRITICAL - accuracy-floor failed (accuracy 0.8217 < 0.85)')]
>>> plan.retrain_starts[0].execution_name
'churn-retrain-e1-9b1d3bbba97c'
>>> plan.alert_states["accuracy-floor"].status, plan.action_states["retrain"].last_started
('firing', '2024-06-01T03:00:00Z')

The same evaluation delivered again, an hour later, with the states the first run wrote:

>>> again = plan_actions(
...     definition, result, plan.alert_states, plan.action_states, now + timedelta(hours=1)
... )
>>> again.empty, again.suppressed
(True, ['evaluation e1 already handled: accuracy-floor, retrain'])
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from driftline.checks import CheckResult, effective_checks, overall_status
from driftline.config import CheckSpec, MonitorDefinition, parse_duration
from driftline.errors import InvalidInputError
from driftline.evaluation import ACTION_ORDER, EvaluationResult
from driftline.formatting import short_number
from driftline.ids import digest

AlertStatus = Literal["ok", "firing"]
NotificationKind = Literal["firing", "reminder", "resolved"]
RetrainAction = Literal["emergency_retrain", "retrain"]

#: How many handled evaluation ids each state remembers (a redelivery of any of them is a
#: no-op). Duplicate deliveries of S3 and EventBridge events arrive within minutes, long
#: before twenty newer evaluations of the same model.
RECENT_EVALUATIONS = 20
#: SNS accepts subjects of fewer than 100 characters, on one line.
SUBJECT_LIMIT = 99
#: Step Functions execution names: at most 80 characters; these stay within [A-Za-z0-9_-].
EXECUTION_NAME_LIMIT = 80
#: SNS FIFO message deduplication ids: at most 128 characters.
DEDUP_KEY_LIMIT = 128
#: Worst error slices shown in a notification (the report has them all).
WORST_SLICES_SHOWN = 3
#: Format of the notification message and of the saved states.
MESSAGE_VERSION = 1
STATE_VERSION = 1

_RETRAIN_ACTIONS: tuple[RetrainAction, ...] = ("emergency_retrain", "retrain")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_DEDUP_SAFE = re.compile(r"^[A-Za-z0-9._:-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class AlertState:
    """What driftline remembers about one check of one model.

    Attributes:
        status: ``firing`` from the evaluation where the check failed until the one where it
            passes again, ``ok`` otherwise.
        since: when the status started (ISO 8601, UTC).
        fingerprint: :func:`alert_fingerprint` of the model, check, status and segment.
        evaluation_id: the evaluation that set the status.
        last_notified: when a notification last covered the check (firing, reminder or
            resolved), or None.
        recent_evaluations: the last :data:`RECENT_EVALUATIONS` evaluations that decided the
            check, oldest first.
    """

    status: AlertStatus
    since: str
    fingerprint: str
    evaluation_id: str
    last_notified: str | None = None
    recent_evaluations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (also a valid DynamoDB item body)."""
        return {
            "version": STATE_VERSION,
            "status": self.status,
            "since": self.since,
            "fingerprint": self.fingerprint,
            "evaluation_id": self.evaluation_id,
            "last_notified": self.last_notified,
            "recent_evaluations": list(self.recent_evaluations),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertState:
        """Rebuild a state saved by :meth:`to_dict`.

        Raises:
            ValueError: a key is missing, the status is unknown or a time is not ISO 8601
                with a time zone.
        """
        _expect_version("alert state", data)
        status = _text("alert state", data, "status")
        if status not in get_args(AlertStatus):
            raise ValueError(f"alert state: expected status ok or firing, got {status!r}")
        since = _time_text("alert state", data, "since")
        notified = data.get("last_notified")
        return cls(
            status="firing" if status == "firing" else "ok",
            since=since,
            fingerprint=_text("alert state", data, "fingerprint"),
            evaluation_id=_text("alert state", data, "evaluation_id"),
            last_notified=None
            if notified is None
            else _time_text("alert state", data, "last_notified"),
            recent_evaluations=_texts("alert state", data, "recent_evaluations"),
        )


@dataclass(frozen=True)
class ActionState:
    """What driftline remembers about one retraining action of one model.

    Attributes:
        last_started: when its last execution started (ISO 8601, UTC), or None.
        last_execution: the name of that execution, or None.
        recent_evaluations: the last :data:`RECENT_EVALUATIONS` evaluations that asked for
            the action, oldest first (started or not).
    """

    last_started: str | None = None
    last_execution: str | None = None
    recent_evaluations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (also a valid DynamoDB item body)."""
        return {
            "version": STATE_VERSION,
            "last_started": self.last_started,
            "last_execution": self.last_execution,
            "recent_evaluations": list(self.recent_evaluations),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActionState:
        """Rebuild a state saved by :meth:`to_dict`.

        Raises:
            ValueError: the version is unknown or a value has the wrong type.
        """
        _expect_version("action state", data)
        started = data.get("last_started")
        execution = data.get("last_execution")
        return cls(
            last_started=None
            if started is None
            else _time_text("action state", data, "last_started"),
            last_execution=None
            if execution is None
            else _text("action state", data, "last_execution"),
            recent_evaluations=_texts("action state", data, "recent_evaluations"),
        )


@dataclass(frozen=True)
class Notification:
    """One message for the on-call topic (SNS) and the driftline event bus.

    Attributes:
        kind: ``firing`` (checks that newly fail), ``reminder`` (checks still failing) or
            ``resolved`` (checks that pass again).
        checks: the checks the notification is about.
        subject: one ASCII line of fewer than 100 characters (an e-mail subject).
        body: plain text for a person: the model, the status, each failing or recovered
            check with its one-line detail, the worst error slices, what was done
            automatically, the evaluation and where its report is.
        message: the same as a JSON-able dict for machines (the EventBridge ``detail``).
        dedup_key: :func:`dedup_key` of the model, evaluation and kind.
    """

    kind: NotificationKind
    checks: tuple[str, ...]
    subject: str
    body: str
    message: dict[str, Any]
    dedup_key: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "checks": list(self.checks),
            "subject": self.subject,
            "body": self.body,
            "message": self.message,
            "dedup_key": self.dedup_key,
        }


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


def windowed_name(check: str, window: str) -> str:
    """The name a check's alert goes by in a window after the first of ``windows:``, so that
    each window's failure fires, reminds and resolves on its own.

    >>> windowed_name("accuracy-floor", "P7D")
    'accuracy-floor@P7D'
    """
    return f"{check}@{window}"


def combine_windows(
    evaluation_id: str, first: str, documents: Sequence[tuple[str, Mapping[str, Any]]]
) -> dict[str, Any]:
    """One result to act on for one evaluation run of several windows.

    The first window's checks keep their names; a later window's go by
    :func:`windowed_name` and say their window in their detail. The status is the worst,
    the actions are every window's, and the evaluation id is the run's, so the run sends one
    grouped notification (and starts each retraining once) however many windows fail.

    Args:
        evaluation_id: the run's id (the first window's evaluation id).
        first: the first window of ``windows:`` (its checks keep their names).
        documents: ``(window, result JSON)`` of each window evaluated (with data), in
            ``windows:`` order; not empty.

    >>> first = {"model": "m", "evaluation_id": "m-P1D-x", "status": "ok", "checks": [
    ...     {"name": "acc", "status": "pass", "action": "retrain", "detail": "ok"}],
    ...     "actions": [], "window": {"start": "a", "end": "b"}}
    >>> later = {"model": "m", "evaluation_id": "m-P7D-x", "status": "critical", "checks": [
    ...     {"name": "acc", "status": "fail", "action": "retrain", "detail": "0.8 < 0.85"}],
    ...     "actions": [{"action": "retrain", "checks": ["acc"]}]}
    >>> combined = combine_windows("m-P1D-x", "P1D", [("P1D", first), ("P7D", later)])
    >>> [(c["name"], c["status"], c["detail"]) for c in combined["checks"]]
    [('acc', 'pass', 'ok'), ('acc@P7D', 'fail', 'P7D window: 0.8 < 0.85')]
    >>> combined["status"], combined["actions"]
    ('critical', [{'action': 'retrain', 'checks': ['acc@P7D']}])
    """
    base = dict(documents[0][1])
    checks: list[dict[str, Any]] = []
    wanted: dict[str, list[str]] = {}
    worst = "ok"
    order = ("ok", "warning", "critical")
    for window, document in documents:
        for check in document.get("checks", []):
            item = dict(check)
            if window != first:
                item["name"] = windowed_name(str(check["name"]), window)
                item["detail"] = f"{window} window: {check.get('detail') or ''}".rstrip()
            checks.append(item)
            if item.get("status") == "fail":
                wanted.setdefault(str(item["action"]), []).append(item["name"])
        status = str(document.get("status", "ok"))
        if status in order and order.index(status) > order.index(worst):
            worst = status
    base.update(
        evaluation_id=evaluation_id,
        checks=checks,
        status=worst,
        actions=[{"action": a, "checks": wanted[a]} for a in ACTION_ORDER if a in wanted],
    )
    return base


def alert_fingerprint(model: str, check: str, status: str, segment: str | None) -> str:
    """A stable 16-hex-digit hash of a model's check, its alert status and its segment.

    The firing fingerprint is the same in the firing, reminder and resolved messages of one
    alert, so paging tools can use it to group them (PagerDuty's and Opsgenie's dedup key).

    >>> alert_fingerprint("churn", "accuracy-floor", "firing", None)
    '022d0675d381490a'
    """
    return digest(model, check, status, segment or "", framing="json", length=16)


def execution_name(model: str, action: str, evaluation_id: str) -> str:
    """A Step Functions execution name for one action of one evaluation of a model.

    The readable part (model, action, evaluation id, with every run of characters outside
    ``[A-Za-z0-9_-]`` turned into ``-``) is cut to fit 80 characters, and a hash of the three
    exact values keeps names distinct when cutting or replacing made them alike.

    >>> execution_name("churn", "retrain", "5c1f0e9a7d3b2a41")
    'churn-retrain-5c1f0e9a7d3b2a41-ac4c9b7f9a2e'
    >>> len(execution_name("m" * 64, "emergency_retrain", "x" * 200))
    80
    """
    hashed = digest(model, action, evaluation_id, framing="json", length=12)
    readable = _NAME_UNSAFE.sub("-", f"{model}-{action}-{evaluation_id}").strip("-")
    return f"{readable[: EXECUTION_NAME_LIMIT - len(hashed) - 1].rstrip('-')}-{hashed}"


def dedup_key(model: str, evaluation_id: str, kind: str) -> str:
    """The deduplication id of one kind of notification about one evaluation.

    Usable as an SNS FIFO ``MessageDeduplicationId`` (at most 128 characters of letters,
    digits and punctuation): ``model:evaluation_id:kind`` when that fits, otherwise with a
    hash standing for the evaluation id.

    >>> dedup_key("churn", "5c1f0e9a7d3b2a41", "firing")
    'churn:5c1f0e9a7d3b2a41:firing'
    """
    plain = f"{model}:{evaluation_id}:{kind}"
    if len(plain) <= DEDUP_KEY_LIMIT and _DEDUP_SAFE.match(plain):
        return plain
    safe_model = _NAME_UNSAFE.sub("-", model)[:64]
    return f"{safe_model}:{digest(model, evaluation_id, framing='json', length=32)}:{kind}"


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
    evaluation = _read_result(
        result.to_dict() if isinstance(result, EvaluationResult) else result, definition.model
    )
    stamp = _iso(now)
    alerts = _decide_alerts(evaluation, alert_states, stamp)
    outcomes, starts, new_action_states = _plan_retraining(
        definition, evaluation, action_states, now
    )
    suppressed: list[str] = []
    duplicates = [*alerts.duplicates, *(o.action for o in outcomes if o.duplicate)]
    if duplicates:
        suppressed.append(
            f"evaluation {evaluation.evaluation_id} already handled: {', '.join(duplicates)}"
        )
    suppressed.extend(f"{o.action}: {o.reason}" for o in outcomes if o.reason and not o.duplicate)

    problem: NotificationKind | None = None
    if alerts.new_failures:
        problem = "firing"
    elif alerts.still_failing:
        cooldown = parse_duration(definition.actions.notify.cooldown)
        next_reminder = min(
            _parse_time(prior.last_notified) + cooldown if prior.last_notified else now
            for _alerted, prior in alerts.still_failing
        )
        if now >= next_reminder or starts:
            problem = "reminder"
        else:
            names = ", ".join(alerted.check.name for alerted, _prior in alerts.still_failing)
            suppressed.append(
                f"notify: {names} still failing and already notified; "
                f"next reminder from {_iso(next_reminder)}"
            )
    states = dict(alerts.states)
    if problem is not None:
        for alerted, _prior in alerts.still_failing:
            states[alerted.check.name] = replace(states[alerted.check.name], last_notified=stamp)

    context = _Context(
        definition.model,
        evaluation,
        {
            **{check.name: check for check in effective_checks(definition)},
            **{
                windowed_name(check.name, window): check
                for check in effective_checks(definition)
                for window in definition.windows[1:]
            },
        },
        stamp,
        _by_severity(
            [*alerts.new_failures, *(alerted for alerted, _prior in alerts.still_failing)]
        ),
        alerts.recovered,
        outcomes,
        report or f"reports/{evaluation.model}/{evaluation.evaluation_id}.html",
    )
    notifications: list[Notification] = []
    if problem == "firing":
        notifications.append(context.notification("firing", _by_severity(alerts.new_failures)))
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


# --- alert states --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Alerted:
    """A failing or recovered check with the alert it belongs to."""

    check: CheckResult
    since: str
    fingerprint: str
    new: bool = False

    def to_dict(self) -> dict[str, Any]:
        check = self.check
        return {
            "name": check.name,
            "fingerprint": self.fingerprint,
            "new": self.new,
            "failing_since": self.since,
            "value": check.value,
            "threshold": check.threshold,
            "baseline": check.baseline,
            "segment": check.segment,
            "action": check.action,
            "detail": check.detail,
        }


@dataclass
class _AlertDecisions:
    """How one evaluation moves the alert states of its checks."""

    states: dict[str, AlertState] = field(default_factory=dict)
    new_failures: list[_Alerted] = field(default_factory=list)
    still_failing: list[tuple[_Alerted, AlertState]] = field(default_factory=list)
    recovered: list[_Alerted] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def _decide_alerts(
    evaluation: _Evaluation, alert_states: Mapping[str, AlertState], stamp: str
) -> _AlertDecisions:
    decisions = _AlertDecisions()
    model, evaluation_id = evaluation.model, evaluation.evaluation_id
    for check in evaluation.checks:
        if check.status == "skip":
            continue
        prior = alert_states.get(check.name)
        if prior is not None and evaluation_id in prior.recent_evaluations:
            decisions.duplicates.append(check.name)
            continue
        recent = _remember(prior.recent_evaluations if prior else (), evaluation_id)
        firing = prior is not None and prior.status == "firing"
        state: AlertState
        if check.status == "fail" and prior is not None and firing:
            decisions.still_failing.append((_Alerted(check, prior.since, prior.fingerprint), prior))
            state = replace(prior, recent_evaluations=recent)
        elif check.status == "fail":
            fingerprint = alert_fingerprint(model, check.name, "firing", check.segment)
            decisions.new_failures.append(_Alerted(check, stamp, fingerprint, new=True))
            state = AlertState("firing", stamp, fingerprint, evaluation_id, stamp, recent)
        elif prior is not None and firing:
            decisions.recovered.append(_Alerted(check, prior.since, prior.fingerprint))
            fingerprint = alert_fingerprint(model, check.name, "ok", check.segment)
            state = AlertState("ok", stamp, fingerprint, evaluation_id, stamp, recent)
        elif prior is not None:
            state = replace(prior, recent_evaluations=recent)
        else:
            fingerprint = alert_fingerprint(model, check.name, "ok", check.segment)
            state = AlertState("ok", stamp, fingerprint, evaluation_id, None, recent)
        decisions.states[check.name] = state
    return decisions


# --- the evaluation as the planner reads it ------------------------------------------------


@dataclass(frozen=True)
class _Evaluation:
    model: str
    evaluation_id: str
    status: str
    window_start: str | None
    window_end: str | None
    checks: tuple[CheckResult, ...]
    worst_slices: tuple[dict[str, Any], ...]


def _read_result(document: Mapping[str, Any], model: str) -> _Evaluation:
    def bad(message: str) -> InvalidInputError:
        return InvalidInputError(f"evaluation result: {message}", reason="invalid_result")

    if not isinstance(document, Mapping):
        raise bad(f"expected a mapping, got {type(document).__name__}")
    for key in ("model", "evaluation_id", "checks"):
        if key not in document:
            raise bad(f"{key}: required key is missing")
    if document["model"] != model:
        raise bad(f"model: the result is for {document['model']!r}, the definition for {model!r}")
    evaluation_id = document["evaluation_id"]
    if not isinstance(evaluation_id, str) or not evaluation_id:
        raise bad(f"evaluation_id: expected a non-empty string, got {evaluation_id!r}")
    raw_checks = document["checks"]
    if not isinstance(raw_checks, Sequence) or isinstance(raw_checks, str):
        raise bad(f"checks: expected a list, got {type(raw_checks).__name__}")
    checks: list[CheckResult] = []
    for index, item in enumerate(raw_checks):
        where = f"checks[{index}]"
        if not isinstance(item, Mapping):
            raise bad(f"{where}: expected a mapping, got {type(item).__name__}")
        name, status, action = item.get("name"), item.get("status"), item.get("action")
        if not isinstance(name, str) or not name:
            raise bad(f"{where}.name: expected a non-empty string, got {name!r}")
        if status not in ("pass", "fail", "skip"):
            raise bad(f"{where}.status: expected pass, fail or skip, got {status!r}")
        if action not in ACTION_ORDER:
            raise bad(f"{where}.action: expected one of {', '.join(ACTION_ORDER)}, got {action!r}")
        segment = item.get("segment")
        checks.append(
            CheckResult(
                name,
                status,
                _number(item.get("value")),
                _number(item.get("threshold")),
                _number(item.get("baseline")),
                None if segment is None else str(segment),
                action,
                str(item.get("detail") or ""),
            )
        )
    status = document.get("status")
    if status not in ("ok", "warning", "critical"):
        status = overall_status(checks)
    window = document.get("window")
    window = window if isinstance(window, Mapping) else {}
    slices = document.get("worst_slices")
    slices = slices if isinstance(slices, Sequence) and not isinstance(slices, str) else []
    return _Evaluation(
        model=model,
        evaluation_id=evaluation_id,
        status=str(status),
        window_start=_optional_text(window.get("start")),
        window_end=_optional_text(window.get("end")),
        checks=tuple(checks),
        worst_slices=tuple(
            _slice(item) for item in slices[:WORST_SLICES_SHOWN] if isinstance(item, Mapping)
        ),
    )


def _slice(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "slice": str(item.get("slice", "")),
        "rows": int(item.get("rows", 0)),
        "metric": str(item.get("metric", "")),
        "value": _number(item.get("value")),
        "overall": _number(item.get("overall")),
        "gap": _number(item.get("gap")),
        "z": _number(item.get("z")),
    }


# --- retraining ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
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


def _plan_retraining(
    definition: MonitorDefinition,
    evaluation: _Evaluation,
    action_states: Mapping[str, ActionState],
    now: datetime,
) -> tuple[list[_Outcome], list[RetrainStart], dict[str, ActionState]]:
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

    outcomes: list[_Outcome] = []
    starts: list[RetrainStart] = []
    written: dict[str, ActionState] = {}
    for action in _RETRAIN_ACTIONS:
        if action not in asked:
            continue
        names = tuple(check.name for check in asked[action])
        prior = action_states.get(action, ActionState())
        if evaluation.evaluation_id in prior.recent_evaluations:
            handled = f"evaluation {evaluation.evaluation_id} already handled"
            outcomes.append(_Outcome(action, names, False, None, handled, duplicate=True))
            continue
        recent = _remember(prior.recent_evaluations, evaluation.evaluation_id)
        reason: str | None = None
        if action == "retrain" and "emergency_retrain" in asked:
            reason = "superseded by emergency_retrain, which this evaluation also asks for"
        else:
            last = _last_start(action_states, counted[action])
            if last is not None and now < last[0] + cooldowns[action]:
                reason = (
                    f"in cooldown until {_iso(last[0] + cooldowns[action])} "
                    f"(last execution {last[1]})"
                )
        if reason is not None:
            outcomes.append(_Outcome(action, names, False, None, reason))
            written[action] = replace(prior, recent_evaluations=recent)
            continue
        name = execution_name(evaluation.model, action, evaluation.evaluation_id)
        starts.append(
            RetrainStart(action, name, _execution_input(definition, evaluation, action, asked))
        )
        outcomes.append(_Outcome(action, names, True, name))
        written[action] = ActionState(_iso(now), name, recent)
    return outcomes, starts, written


def _last_start(
    states: Mapping[str, ActionState], actions: Sequence[str]
) -> tuple[datetime, str] | None:
    found = [
        (_parse_time(state.last_started), state.last_execution or "unknown")
        for action in actions
        if (state := states.get(action)) is not None and state.last_started is not None
    ]
    return max(found) if found else None


def _execution_input(
    definition: MonitorDefinition,
    evaluation: _Evaluation,
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


# --- notifications -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What every notification of one plan shares."""

    model: str
    evaluation: _Evaluation
    specs: Mapping[str, CheckSpec]
    stamp: str
    failing: list[_Alerted]
    recovered: list[_Alerted]
    outcomes: list[_Outcome]
    report: str

    def notification(self, kind: NotificationKind, about: list[_Alerted]) -> Notification:
        key = dedup_key(self.model, self.evaluation.evaluation_id, kind)
        names = tuple(alerted.check.name for alerted in about)
        message = {
            "version": MESSAGE_VERSION,
            "source": "driftline",
            "kind": kind,
            "dedup_key": key,
            "model": self.model,
            "evaluation_id": self.evaluation.evaluation_id,
            "status": self.evaluation.status,
            "window": {"start": self.evaluation.window_start, "end": self.evaluation.window_end},
            "notified_at": self.stamp,
            "about": list(names),
            "checks": {
                "failed": [alerted.to_dict() for alerted in self.failing],
                "resolved": [alerted.to_dict() for alerted in self.recovered],
            },
            "worst_slices": [dict(item) for item in self.evaluation.worst_slices],
            "actions": [outcome.to_dict() for outcome in self.outcomes],
            "report": self.report,
        }
        return Notification(kind, names, self._subject(kind, about), self._body(kind), message, key)

    def _subject(self, kind: NotificationKind, about: list[_Alerted]) -> str:
        label = "RESOLVED" if kind == "resolved" else self.evaluation.status.upper()
        names = [alerted.check.name for alerted in about]
        candidates: list[str] = []
        fallback = ""
        # the whole model name first, then a cut one; if nothing fits, the first form cut
        for model in (self.model, f"{self.model[:20]}..."):
            head = f"[driftline] {model}: {label} - "
            if len(about) == 1:
                check = about[0].check
                verb = {"firing": "failed", "reminder": "still failing", "resolved": "passes again"}
                plain = f"{head}{check.name} {verb[kind]}"
                figures = _figures(check, self.specs.get(check.name))
                candidates += [*(f"{plain} ({figure})" for figure in figures), plain]
                fallback = fallback or plain
                continue
            verb = {"firing": "failed", "reminder": "still failing", "resolved": "pass again"}
            counted = f"{head}{len(about)} checks {verb[kind]}"
            for shown in range(len(names), 0, -1):
                rest = len(names) - shown
                listed = ", ".join(names[:shown]) + (f" +{rest} more" if rest else "")
                candidates.append(f"{counted}: {listed}")
            candidates.append(counted)
            fallback = fallback or counted
        return _fit_subject(candidates, fallback)

    def _body(self, kind: NotificationKind) -> str:
        evaluation = self.evaluation
        failing, recovered = self.failing, self.recovered
        if kind == "resolved":
            verb = "passes" if len(recovered) == 1 else "pass"
            headline = f"{self.model}: {_count(recovered)} {verb} again"
            if failing:
                headline += f"; {_count(failing)} still failing ({evaluation.status.upper()})"
        elif kind == "reminder":
            oldest = min(alerted.since for alerted in failing)
            headline = (
                f"{self.model} is still {evaluation.status.upper()}: {_count(failing)} failing, "
                f"the oldest since {oldest}"
            )
        else:
            fresh = sum(alerted.new for alerted in failing)
            headline = (
                f"{self.model} is {evaluation.status.upper()}: {_count(failing)} failing "
                f"({fresh} new)"
            )
        lines = [headline, _evaluation_line(evaluation), ""]
        sections = [("Failing", failing), ("Passing again", recovered)]
        if kind == "resolved":
            sections.reverse()
        for title, items in sections:
            if not items:
                continue
            lines.append(f"{title}:")
            for alerted in items:
                check = alerted.check
                mark = " [NEW]" if alerted.new else ""
                lines.append(f"  * {check.name}{mark}: {_one_line(check.detail)}")
                if title == "Failing":
                    lines.append(f"    action {check.action}; failing since {alerted.since}")
                else:
                    lines.append(f"    had been failing since {alerted.since}")
            lines.append("")
        if evaluation.worst_slices and failing:
            first = evaluation.worst_slices[0]
            lines.append(
                f"Where it fails most ({first['metric']}; "
                f"overall {short_number(first['overall'])}):"
            )
            for item in evaluation.worst_slices:
                lines.append(
                    f"  * {_one_line(item['slice'])}: {short_number(item['value'])} "
                    f"on {item['rows']} rows "
                    f"(gap {short_number(item['gap'])}, z {short_number(item['z'])})"
                )
            lines.append("")
        lines.append("Done automatically:")
        if not self.outcomes:
            lines.append("  * nothing besides this notification")
        for outcome in self.outcomes:
            triggered = ", ".join(outcome.checks)
            if outcome.started:
                lines.append(
                    f"  * {outcome.action} started: execution {outcome.execution_name} "
                    f"(asked by {triggered})"
                )
            else:
                lines.append(f"  * {outcome.action} not started: {outcome.reason}")
        lines.append("")
        lines.append(f"Report: {self.report}")
        return "\n".join(lines) + "\n"


def _evaluation_line(evaluation: _Evaluation) -> str:
    line = f"Evaluation {evaluation.evaluation_id}"
    if evaluation.window_start or evaluation.window_end:
        line += (
            f", window {evaluation.window_start or 'unknown'} to "
            f"{evaluation.window_end or 'unknown'}"
        )
    return line


def _count(items: Sequence[object]) -> str:
    return f"{len(items)} check" + ("" if len(items) == 1 else "s")


def _by_severity(items: list[_Alerted]) -> list[_Alerted]:
    """Checks asking for the most severe action first, in the result's order otherwise."""
    return sorted(items, key=lambda alerted: ACTION_ORDER.index(alerted.check.action))


def _measure(spec: CheckSpec | None) -> str:
    if spec is None:
        return "value"
    if spec.metric:
        return spec.metric
    if spec.quality:
        return f"{spec.quality} of {spec.feature}" if spec.feature else spec.quality
    if spec.drift == "dataset":
        return "drifted share"
    if spec.drift:
        return f"{spec.drift} drift"
    return f"{spec.detector} on {spec.signal}"


def _figures(check: CheckResult, spec: CheckSpec | None) -> list[str]:
    """``accuracy 0.8217 < 0.85 in plan=basic``, then shorter forms; none without figures."""
    value, threshold = check.value, check.threshold
    if value is None or threshold is None:
        return []
    relation = "<" if value < threshold else ">" if value > threshold else "="
    figure = f"{_measure(spec)} {short_number(value)} {relation} {short_number(threshold)}"
    if not check.segment:
        return [figure]
    values = ",".join(part.partition("=")[2] or part for part in check.segment.split(","))
    return [f"{figure} in {check.segment}", f"{figure} in {values}", figure]


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text)


def _one_line_ascii(text: str) -> str:
    """Accents dropped (``Île`` → ``Ile``), other non-ASCII characters left out."""
    return _one_line(unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii"))


def _fit_subject(candidates: list[str], fallback: str) -> str:
    """The first candidate that fits as one ASCII line, or ``fallback`` cut short."""
    for candidate in candidates:
        line = _one_line_ascii(candidate)
        if len(line) <= SUBJECT_LIMIT:
            return line
    return _one_line_ascii(fallback)[: SUBJECT_LIMIT - 3] + "..."


# --- small helpers -------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _remember(recent: Sequence[str], evaluation_id: str) -> tuple[str, ...]:
    return (*recent, evaluation_id)[-RECENT_EVALUATIONS:]


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _expect_version(what: str, data: Mapping[str, Any]) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected {what} to be a mapping, got {type(data).__name__}")
    if data.get("version") != STATE_VERSION:
        raise ValueError(f"{what}: expected version {STATE_VERSION}, got {data.get('version')!r}")


def _text(what: str, data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what}: {key}: expected a non-empty string, got {value!r}")
    return value


def _time_text(what: str, data: Mapping[str, Any], key: str) -> str:
    value = _text(what, data, key)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"{what}: {key}: expected an ISO 8601 time with a time zone, got {value!r}"
        )
    return value


def _texts(what: str, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"{what}: {key}: expected a list of strings, got {value!r}")
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{what}: {key}: expected a list of strings, got {value!r}")
    return items
