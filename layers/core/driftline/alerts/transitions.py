"""How one evaluation moves the alert state of each of its checks: a check that newly fails
fires (or, under a persistence rule not yet met, is pending), one already firing is still
failing, a firing one that passes has recovered, and an evaluation already handled changes
nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from driftline.alerts.identifiers import alert_fingerprint
from driftline.alerts.persistence import Tally, record, tally, window_end, window_length
from driftline.alerts.reading import CheckedEvaluation
from driftline.alerts.states import AlertState, Outcome, remember
from driftline.checks import CheckResult
from driftline.config.checks import PersistSpec


@dataclass(frozen=True)
class AlertedCheck:
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
            **_estimate(check),
        }


def _estimate(check: CheckResult) -> dict[str, Any]:
    """An estimated check's ``estimate`` for the notification message (nothing otherwise)."""
    return {"estimate": check.estimate.to_dict()} if check.estimate is not None else {}


@dataclass(frozen=True)
class PendingCheck:
    """A failing check whose persistence rule is not met yet: nothing is sent or started."""

    check: CheckResult
    window: str
    tally: Tally

    def to_dict(self) -> dict[str, Any]:
        check = self.check
        return {
            "name": check.name,
            "window": self.window,
            **self.tally.to_dict(),
            "value": check.value,
            "threshold": check.threshold,
            "segment": check.segment,
            "action": check.action,
            "detail": check.detail,
            **_estimate(check),
        }

    def reason(self) -> str:
        """Why nothing was done, for the plan's ``suppressed``."""
        tally = self.tally
        line = (
            f"{self.check.name}: pending: {tally.failures} of {tally.needed} failures needed "
            f"in the last {tally.of} {self.window} evaluations"
        )
        if not tally.counted:
            line += f" (this one is older than the last {tally.of})"
        return line


@dataclass
class AlertDecisions:
    """How one evaluation moves the alert states of its checks."""

    states: dict[str, AlertState] = field(default_factory=dict)
    new_failures: list[AlertedCheck] = field(default_factory=list)
    still_failing: list[tuple[AlertedCheck, AlertState]] = field(default_factory=list)
    recovered: list[AlertedCheck] = field(default_factory=list)
    pending: list[PendingCheck] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def decide_alerts(
    evaluation: CheckedEvaluation,
    alert_states: Mapping[str, AlertState],
    stamp: str,
    rules: Mapping[str, PersistSpec] | None = None,
) -> AlertDecisions:
    """How ``evaluation`` moves the states of its checks (``stamp``: the time of the decision,
    as :func:`~driftline.alerts.states.iso_utc` writes it; ``rules``: check name → its
    persistence rule, for the checks that have one); a skipped check changes nothing."""
    decisions = AlertDecisions()
    model, evaluation_id = evaluation.model, evaluation.evaluation_id
    for check in evaluation.checks:
        if check.status == "skip":
            continue
        prior = alert_states.get(check.name)
        if prior is not None and evaluation_id in prior.recent_evaluations:
            decisions.duplicates.append(check.name)
            continue
        recent = remember(prior.recent_evaluations if prior else (), evaluation_id)
        history, pending = _persistence(evaluation, check, prior, (rules or {}).get(check.name))
        firing = prior is not None and prior.status == "firing"
        state: AlertState
        if check.status == "fail" and prior is not None and firing:
            decisions.still_failing.append(
                (AlertedCheck(check, prior.since, prior.fingerprint), prior)
            )
            state = replace(prior, recent_evaluations=recent, history=history)
        elif pending is not None:
            decisions.pending.append(pending)
            if prior is not None and prior.status == "pending":
                state = replace(prior, recent_evaluations=recent, history=history)
            else:
                fingerprint = alert_fingerprint(model, check.name, "pending", check.segment)
                notified = prior.last_notified if prior else None
                state = AlertState(
                    "pending", stamp, fingerprint, evaluation_id, notified, recent, history
                )
        elif check.status == "fail":
            fingerprint = alert_fingerprint(model, check.name, "firing", check.segment)
            decisions.new_failures.append(AlertedCheck(check, stamp, fingerprint, new=True))
            state = AlertState("firing", stamp, fingerprint, evaluation_id, stamp, recent, history)
        elif prior is not None and firing:
            decisions.recovered.append(AlertedCheck(check, prior.since, prior.fingerprint))
            fingerprint = alert_fingerprint(model, check.name, "ok", check.segment)
            state = AlertState("ok", stamp, fingerprint, evaluation_id, stamp, recent, history)
        elif prior is not None and prior.status == "pending":
            # Passing again before the rule was met: back to ok, silently.
            fingerprint = alert_fingerprint(model, check.name, "ok", check.segment)
            state = AlertState(
                "ok", stamp, fingerprint, evaluation_id, prior.last_notified, recent, history
            )
        elif prior is not None:
            state = replace(prior, recent_evaluations=recent, history=history)
        else:
            fingerprint = alert_fingerprint(model, check.name, "ok", check.segment)
            state = AlertState("ok", stamp, fingerprint, evaluation_id, None, recent, history)
        decisions.states[check.name] = state
    return decisions


def _persistence(
    evaluation: CheckedEvaluation,
    check: CheckResult,
    prior: AlertState | None,
    rule: PersistSpec | None,
) -> tuple[tuple[Outcome, ...], PendingCheck | None]:
    """The check's history with this evaluation recorded, and whether its failure is pending.
    Without a rule no history is kept: a rule added later starts afresh."""
    if rule is None:
        return (), None
    start, end = evaluation.window_of(check.name)
    window = window_length(start, end)
    failed = check.status == "fail"
    outcome = Outcome(window, window_end(end), evaluation.evaluation_id, failed)
    history = record(prior.history if prior else (), outcome)
    standing = tally(history, rule, window, evaluation.evaluation_id)
    return history, PendingCheck(check, window, standing) if failed and not standing.met else None
