"""How one evaluation moves the alert state of each of its checks: a check that newly fails
fires, one already firing is still failing, a firing one that passes has recovered, and an
evaluation already handled changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from driftline.alerts.identifiers import alert_fingerprint
from driftline.alerts.reading import CheckedEvaluation
from driftline.alerts.states import AlertState, remember
from driftline.checks import CheckResult


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
        }


@dataclass
class AlertDecisions:
    """How one evaluation moves the alert states of its checks."""

    states: dict[str, AlertState] = field(default_factory=dict)
    new_failures: list[AlertedCheck] = field(default_factory=list)
    still_failing: list[tuple[AlertedCheck, AlertState]] = field(default_factory=list)
    recovered: list[AlertedCheck] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def decide_alerts(
    evaluation: CheckedEvaluation, alert_states: Mapping[str, AlertState], stamp: str
) -> AlertDecisions:
    """How ``evaluation`` moves the states of its checks (``stamp``: the time of the decision,
    as :func:`~driftline.alerts.states.iso_utc` writes it); a skipped check changes nothing."""
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
        firing = prior is not None and prior.status == "firing"
        state: AlertState
        if check.status == "fail" and prior is not None and firing:
            decisions.still_failing.append(
                (AlertedCheck(check, prior.since, prior.fingerprint), prior)
            )
            state = replace(prior, recent_evaluations=recent)
        elif check.status == "fail":
            fingerprint = alert_fingerprint(model, check.name, "firing", check.segment)
            decisions.new_failures.append(AlertedCheck(check, stamp, fingerprint, new=True))
            state = AlertState("firing", stamp, fingerprint, evaluation_id, stamp, recent)
        elif prior is not None and firing:
            decisions.recovered.append(AlertedCheck(check, prior.since, prior.fingerprint))
            fingerprint = alert_fingerprint(model, check.name, "ok", check.segment)
            state = AlertState("ok", stamp, fingerprint, evaluation_id, stamp, recent)
        elif prior is not None:
            state = replace(prior, recent_evaluations=recent)
        else:
            fingerprint = alert_fingerprint(model, check.name, "ok", check.segment)
            state = AlertState("ok", stamp, fingerprint, evaluation_id, None, recent)
        decisions.states[check.name] = state
    return decisions
