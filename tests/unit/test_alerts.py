"""The act step's decisions: notify once, remind after the cooldown, resolve, retrain safely.

Each test plays evaluations through :func:`plan_actions` the way the act function will: the
states a plan writes are the states the next plan reads.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.alerts import (
    EXECUTION_NAME_LIMIT,
    RECENT_EVALUATIONS,
    ActionPlan,
    ActionState,
    AlertState,
    alert_fingerprint,
    dedup_key,
    execution_name,
    plan_actions,
)
from driftline.checks import CheckResult
from driftline.config import MonitorDefinition, load_monitor_definition
from driftline.drift import DriftReport
from driftline.errors import InvalidInputError
from driftline.evaluation import EvaluationResult, Window

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 6, 1, 3, 0, tzinfo=UTC)
EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")

CREDIT = """
model: credit-scoring
schema:
  task: binary_classification
  prediction: predicted_default
  score: default_probability
  label: defaulted
  features: {income: numeric, region: categorical}
  segments: [risk_segment]
baseline: {path: baselines/credit-scoring/training.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
  - {name: subprime-gini, metric: gini, segment: {risk_segment: subprime},
     max_relative_drop: 0.05, action: retrain}
  - {name: error-adwin, detector: adwin, signal: error, action: emergency_retrain}
  - {name: input-drift, drift: dataset, action: notify}
actions:
  notify: {cooldown: PT6H}
  retrain: {cooldown: P1D, training_window: P90D}
  emergency_retrain: {cooldown: PT1H, training_window: P2D, deploy: canary,
                      canary_traffic: 0.1}
"""


@pytest.fixture(scope="module")
def credit() -> MonitorDefinition:
    return load_monitor_definition(CREDIT)


def check(name: str, status: str) -> dict[str, Any]:
    """One check of a result, with the figures the real checks would report."""
    figures: dict[str, tuple[float | None, float | None, float | None, str | None, str, str]] = {
        "accuracy-floor": (0.8217, 0.85, 0.8674, None, "retrain", "accuracy is 0.8217"),
        "subprime-gini": (0.52, 0.57, 0.6, "risk_segment=subprime", "retrain", "gini is 0.52"),
        "error-adwin": (0.31, None, None, None, "emergency_retrain", "ADWIN found a change"),
        "input-drift": (0.75, 0.5, None, None, "notify", "3 of 4 features drifted"),
    }
    value, threshold, baseline, segment, action, detail = figures[name]
    if status == "pass" and value is not None and threshold is not None:
        value = threshold + 0.01 if name != "input-drift" else 0.25
        detail = f"{name} within bounds"
    if status == "skip":
        value, threshold, detail = None, None, "no rows of the segment"
    return {
        "name": name,
        "status": status,
        "value": value,
        "threshold": threshold,
        "baseline": baseline,
        "segment": segment,
        "action": action,
        "detail": detail,
    }


def result(evaluation_id: str, **statuses: str) -> dict[str, Any]:
    """A result JSON whose checks have the given statuses (``accuracy_floor="fail"``)."""
    checks = [check(name.replace("_", "-"), status) for name, status in statuses.items()]
    status = "ok"
    if any(c["status"] == "fail" for c in checks):
        status = "warning"
    if any(c["status"] == "fail" and c["action"] != "notify" for c in checks):
        status = "critical"
    return {
        "version": 1,
        "model": "credit-scoring",
        "evaluation_id": evaluation_id,
        "window": {"start": "2024-05-31T00:00:00Z", "end": "2024-06-01T00:00:00Z"},
        "checks": checks,
        "worst_slices": [],
        "status": status,
    }


@dataclass
class Memory:
    """The store: what the plans wrote, read back by the next plan."""

    alerts: dict[str, AlertState] = field(default_factory=dict)
    actions: dict[str, ActionState] = field(default_factory=dict)

    def plan(
        self, definition: MonitorDefinition, document: Mapping[str, Any], now: datetime
    ) -> ActionPlan:
        planned = plan_actions(definition, document, self.alerts, self.actions, now)
        self.alerts.update(planned.alert_states)
        self.actions.update(planned.action_states)
        return planned


def kinds(plan: ActionPlan) -> list[tuple[str, tuple[str, ...]]]:
    return [(item.kind, item.checks) for item in plan.notifications]


# --- notifications -------------------------------------------------------------------------


def test_first_failure_notifies_once_with_figures_in_the_subject(
    credit: MonitorDefinition,
) -> None:
    # GIVEN no memory WHEN accuracy fails for the first time
    plan = Memory().plan(credit, result("e1", accuracy_floor="fail", input_drift="pass"), T0)
    # THEN one firing notification, about that check, says what failed and by how much
    assert kinds(plan) == [("firing", ("accuracy-floor",))]
    notification = plan.notifications[0]
    assert notification.subject == (
        "[driftline] credit-scoring: CRITICAL - accuracy-floor failed (accuracy 0.8217 < 0.85)"
    )
    assert notification.dedup_key == "credit-scoring:e1:firing"
    assert "accuracy-floor [NEW]: accuracy is 0.8217" in notification.body
    assert "Evaluation e1, window 2024-05-31T00:00:00Z to 2024-06-01T00:00:00Z" in (
        notification.body
    )
    assert "Report: reports/credit-scoring/e1.html" in notification.body
    # AND the alert is remembered as firing since now, notified now
    state = plan.alert_states["accuracy-floor"]
    assert (state.status, state.since, state.last_notified, state.evaluation_id) == (
        "firing",
        "2024-06-01T03:00:00Z",
        "2024-06-01T03:00:00Z",
        "e1",
    )
    assert state.fingerprint == alert_fingerprint(
        "credit-scoring", "accuracy-floor", "firing", None
    )
    assert plan.alert_states["input-drift"].status == "ok"


def test_message_is_json_with_the_checks_figures_and_the_actions(
    credit: MonitorDefinition,
) -> None:
    plan = Memory().plan(credit, result("e1", accuracy_floor="fail"), T0)
    message = json.loads(json.dumps(plan.notifications[0].message))
    assert message["kind"] == "firing"
    assert message["model"] == "credit-scoring"
    assert message["evaluation_id"] == "e1"
    assert message["status"] == "critical"
    assert message["dedup_key"] == "credit-scoring:e1:firing"
    assert message["about"] == ["accuracy-floor"]
    assert message["checks"]["failed"] == [
        {
            "name": "accuracy-floor",
            "fingerprint": alert_fingerprint("credit-scoring", "accuracy-floor", "firing", None),
            "new": True,
            "failing_since": "2024-06-01T03:00:00Z",
            "value": 0.8217,
            "threshold": 0.85,
            "baseline": 0.8674,
            "segment": None,
            "action": "retrain",
            "detail": "accuracy is 0.8217",
        }
    ]
    assert message["checks"]["resolved"] == []
    assert message["actions"] == [
        {
            "action": "retrain",
            "checks": ["accuracy-floor"],
            "outcome": "started",
            "execution_name": execution_name("credit-scoring", "retrain", "e1"),
            "reason": None,
        }
    ]
    assert message["report"] == "reports/credit-scoring/e1.html"


def test_failure_repeated_within_the_notify_cooldown_is_silent(
    credit: MonitorDefinition,
) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", input_drift="fail"), T0)
    # WHEN the same check fails again 5 h 59 min later (cooldown PT6H)
    plan = memory.plan(
        credit, result("e2", input_drift="fail"), T0 + timedelta(hours=5, minutes=59)
    )
    # THEN nothing is sent, and the plan says when the reminder will be due
    assert plan.notifications == []
    assert plan.suppressed == [
        "notify: input-drift still failing and already notified; "
        "next reminder from 2024-06-01T09:00:00Z"
    ]
    # AND the alert still counts from the first failure
    assert memory.alerts["input-drift"].since == "2024-06-01T03:00:00Z"
    assert memory.alerts["input-drift"].last_notified == "2024-06-01T03:00:00Z"
    assert memory.alerts["input-drift"].recent_evaluations == ("e1", "e2")


def test_failure_still_there_after_the_cooldown_sends_one_reminder(
    credit: MonitorDefinition,
) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", input_drift="fail"), T0)
    # WHEN the check still fails once the 6 h cooldown has passed
    plan = memory.plan(credit, result("e2", input_drift="fail"), T0 + timedelta(hours=6))
    # THEN one reminder goes out and restarts the cooldown
    assert kinds(plan) == [("reminder", ("input-drift",))]
    assert plan.notifications[0].subject == (
        "[driftline] credit-scoring: WARNING - input-drift still failing (drifted share 0.75 > 0.5)"
    )
    assert plan.notifications[0].dedup_key == "credit-scoring:e2:reminder"
    assert "still WARNING: 1 check failing, the oldest since 2024-06-01T03:00:00Z" in (
        plan.notifications[0].body
    )
    assert memory.alerts["input-drift"].last_notified == "2024-06-01T09:00:00Z"
    assert memory.alerts["input-drift"].since == "2024-06-01T03:00:00Z"
    # AND an hour later it is quiet again
    later = memory.plan(credit, result("e3", input_drift="fail"), T0 + timedelta(hours=7))
    assert later.notifications == []


def test_recovery_sends_resolved_with_the_firing_fingerprint(credit: MonitorDefinition) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", subprime_gini="fail"), T0)
    fingerprint = memory.alerts["subprime-gini"].fingerprint
    # WHEN the check passes again
    plan = memory.plan(credit, result("e2", subprime_gini="pass"), T0 + timedelta(hours=2))
    # THEN one resolved notification names it, with the fingerprint of the alert it closes
    assert kinds(plan) == [("resolved", ("subprime-gini",))]
    notification = plan.notifications[0]
    assert notification.subject == (
        "[driftline] credit-scoring: RESOLVED - subprime-gini passes again "
        "(gini 0.58 > 0.57 in subprime)"
    )
    assert notification.message["checks"]["resolved"][0]["fingerprint"] == fingerprint
    assert notification.message["checks"]["resolved"][0]["failing_since"] == (
        "2024-06-01T03:00:00Z"
    )
    assert "Passing again:\n  * subprime-gini: subprime-gini within bounds" in notification.body
    assert memory.alerts["subprime-gini"].status == "ok"
    assert memory.alerts["subprime-gini"].since == "2024-06-01T05:00:00Z"
    assert plan.retrain_starts == []


def test_new_failures_of_one_evaluation_share_one_notification(credit: MonitorDefinition) -> None:
    plan = Memory().plan(
        credit, result("e1", input_drift="fail", accuracy_floor="fail", subprime_gini="fail"), T0
    )
    # THEN one notification, the checks asking for retraining first
    assert kinds(plan) == [("firing", ("accuracy-floor", "subprime-gini", "input-drift"))]
    assert plan.notifications[0].subject == (
        "[driftline] credit-scoring: CRITICAL - 3 checks failed: "
        "accuracy-floor, subprime-gini, input-drift"
    )
    # AND one retraining, asked by both retrain checks
    assert [start.input["triggered_by"] for start in plan.retrain_starts] == [
        ["accuracy-floor", "subprime-gini"]
    ]


def test_failures_and_recoveries_of_one_evaluation_give_one_of_each(
    credit: MonitorDefinition,
) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", input_drift="fail", accuracy_floor="pass"), T0)
    plan = memory.plan(
        credit,
        result("e2", input_drift="pass", accuracy_floor="fail", subprime_gini="fail"),
        T0 + timedelta(hours=1),
    )
    assert kinds(plan) == [
        ("firing", ("accuracy-floor", "subprime-gini")),
        ("resolved", ("input-drift",)),
    ]
    assert [item.dedup_key for item in plan.notifications] == [
        "credit-scoring:e2:firing",
        "credit-scoring:e2:resolved",
    ]


def test_a_new_failure_lists_the_old_ones_and_restarts_their_reminder(
    credit: MonitorDefinition,
) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", input_drift="fail"), T0)
    plan = memory.plan(
        credit, result("e2", input_drift="fail", accuracy_floor="fail"), T0 + timedelta(hours=2)
    )
    # THEN the firing notification is about the new failure and lists the old one too
    assert kinds(plan) == [("firing", ("accuracy-floor",))]
    failed = plan.notifications[0].message["checks"]["failed"]
    assert [(item["name"], item["new"]) for item in failed] == [
        ("accuracy-floor", True),
        ("input-drift", False),
    ]
    assert memory.alerts["input-drift"].last_notified == "2024-06-01T05:00:00Z"
    assert memory.alerts["input-drift"].since == "2024-06-01T03:00:00Z"


def test_skipped_check_changes_nothing(credit: MonitorDefinition) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", subprime_gini="fail"), T0)
    before = dict(memory.alerts)
    # WHEN the segment has no rows (skip), even long after the cooldowns
    plan = memory.plan(credit, result("e2", subprime_gini="skip"), T0 + timedelta(days=3))
    # THEN no notification, no retraining, no state written
    assert plan.empty
    assert plan.suppressed == []
    assert memory.alerts == before
    # AND a later pass still resolves the alert the skip left alone
    after = memory.plan(credit, result("e3", subprime_gini="pass"), T0 + timedelta(days=4))
    assert kinds(after) == [("resolved", ("subprime-gini",))]


# --- duplicates ----------------------------------------------------------------------------


@pytest.mark.parametrize("delay", [timedelta(0), timedelta(minutes=5), timedelta(days=3)])
def test_duplicate_evaluation_with_updated_states_plans_nothing(
    credit: MonitorDefinition, delay: timedelta
) -> None:
    memory = Memory()
    document = result("e1", accuracy_floor="fail", error_adwin="fail", input_drift="pass")
    first = memory.plan(credit, document, T0)
    assert len(first.notifications) == 1 and len(first.retrain_starts) == 1
    # WHEN the same evaluation is delivered again (even after every cooldown)
    again = memory.plan(credit, document, T0 + delay)
    # THEN nothing is sent, started or written
    assert again.notifications == []
    assert again.retrain_starts == []
    assert again.alert_states == {}
    assert again.action_states == {}
    assert again.empty
    assert again.suppressed == [
        "evaluation e1 already handled: accuracy-floor, error-adwin, input-drift, "
        "emergency_retrain, retrain"
    ]


def test_replayed_older_evaluation_does_not_reopen_a_resolved_alert(
    credit: MonitorDefinition,
) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", subprime_gini="fail"), T0)
    memory.plan(credit, result("e2", subprime_gini="pass"), T0 + timedelta(hours=1))
    # WHEN e1 is delivered again after e2 resolved the alert
    late = memory.plan(credit, result("e1", subprime_gini="fail"), T0 + timedelta(days=2))
    # THEN it is recognised and changes nothing
    assert late.empty
    assert memory.alerts["subprime-gini"].status == "ok"


def test_states_remember_a_bounded_number_of_evaluations(credit: MonitorDefinition) -> None:
    memory = Memory()
    for index in range(RECENT_EVALUATIONS + 5):
        memory.plan(credit, result(f"e{index}", input_drift="pass"), T0 + timedelta(hours=index))
    remembered = memory.alerts["input-drift"].recent_evaluations
    assert len(remembered) == RECENT_EVALUATIONS
    assert remembered[0] == "e5" and remembered[-1] == f"e{RECENT_EVALUATIONS + 4}"


# --- retraining ----------------------------------------------------------------------------


def test_retrain_starts_at_most_once_per_cooldown(credit: MonitorDefinition) -> None:
    memory = Memory()
    first = memory.plan(credit, result("e1", accuracy_floor="fail"), T0)
    assert [(s.action, s.execution_name) for s in first.retrain_starts] == [
        ("retrain", execution_name("credit-scoring", "retrain", "e1"))
    ]
    assert memory.actions["retrain"] == ActionState(
        "2024-06-01T03:00:00Z", execution_name("credit-scoring", "retrain", "e1"), ("e1",)
    )
    # WHEN it still fails 23 h later (cooldown P1D)
    within = memory.plan(credit, result("e2", accuracy_floor="fail"), T0 + timedelta(hours=23))
    # THEN nothing starts, and the plan says until when
    assert within.retrain_starts == []
    assert within.suppressed[0] == (
        "retrain: in cooldown until 2024-06-02T03:00:00Z (last execution "
        f"{execution_name('credit-scoring', 'retrain', 'e1')})"
    )
    assert memory.actions["retrain"].last_started == "2024-06-01T03:00:00Z"
    # AND once the day has passed, a new execution with a new name starts
    after = memory.plan(credit, result("e3", accuracy_floor="fail"), T0 + timedelta(days=1))
    assert [s.execution_name for s in after.retrain_starts] == [
        execution_name("credit-scoring", "retrain", "e3")
    ]
    assert memory.actions["retrain"].last_started == "2024-06-02T03:00:00Z"


def test_retraining_input_carries_the_window_and_the_deployment(
    credit: MonitorDefinition,
) -> None:
    plan = Memory().plan(credit, result("e1", error_adwin="fail", subprime_gini="fail"), T0)
    assert [start.action for start in plan.retrain_starts] == ["emergency_retrain"]
    assert plan.retrain_starts[0].input == {
        "model": "credit-scoring",
        "action": "emergency_retrain",
        "evaluation_id": "e1",
        "training_window": "P2D",
        "window_end": "2024-06-01T00:00:00Z",
        "deploy": "canary",
        "canary_traffic": 0.1,
        "triggered_by": ["error-adwin"],
        "segments": [],
    }
    retrain = Memory().plan(credit, result("e2", subprime_gini="fail"), T0).retrain_starts[0]
    assert retrain.input == {
        "model": "credit-scoring",
        "action": "retrain",
        "evaluation_id": "e2",
        "training_window": "P90D",
        "window_end": "2024-06-01T00:00:00Z",
        "deploy": None,
        "canary_traffic": None,
        "triggered_by": ["subprime-gini"],
        "segments": ["risk_segment=subprime"],
    }


def test_emergency_retrain_is_started_instead_of_retrain(credit: MonitorDefinition) -> None:
    memory = Memory()
    plan = memory.plan(credit, result("e1", accuracy_floor="fail", error_adwin="fail"), T0)
    assert [start.action for start in plan.retrain_starts] == ["emergency_retrain"]
    assert plan.suppressed == [
        "retrain: superseded by emergency_retrain, which this evaluation also asks for"
    ]
    assert "retrain not started: superseded by emergency_retrain" in plan.notifications[0].body
    assert memory.actions["retrain"].last_started is None
    assert memory.actions["emergency_retrain"].last_started == "2024-06-01T03:00:00Z"


def test_emergency_retrain_ignores_the_retrain_cooldown(credit: MonitorDefinition) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", accuracy_floor="fail"), T0)
    # WHEN the error detector fires 2 h after a normal retraining started (cooldown P1D)
    plan = memory.plan(credit, result("e2", error_adwin="fail"), T0 + timedelta(hours=2))
    assert [start.action for start in plan.retrain_starts] == ["emergency_retrain"]
    # AND its own cooldown (PT1H) holds the next one back, then lets it through
    held = memory.plan(
        credit, result("e3", error_adwin="fail"), T0 + timedelta(hours=2, minutes=30)
    )
    assert held.retrain_starts == []
    assert held.suppressed[0].startswith(
        "emergency_retrain: in cooldown until 2024-06-01T06:00:00Z"
    )
    again = memory.plan(credit, result("e4", error_adwin="fail"), T0 + timedelta(hours=3))
    assert [start.action for start in again.retrain_starts] == ["emergency_retrain"]


def test_retrain_waits_out_its_cooldown_after_an_emergency_start(
    credit: MonitorDefinition,
) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", error_adwin="fail"), T0)
    plan = memory.plan(credit, result("e2", accuracy_floor="fail"), T0 + timedelta(hours=3))
    assert plan.retrain_starts == []
    emergency = execution_name("credit-scoring", "emergency_retrain", "e1")
    assert plan.suppressed == [
        f"retrain: in cooldown until 2024-06-02T03:00:00Z (last execution {emergency})"
    ]


def test_retraining_started_within_the_notify_cooldown_is_announced(
    credit: MonitorDefinition,
) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", error_adwin="fail"), T0)
    # WHEN the emergency cooldown (PT1H) allows a second start but notify's (PT6H) has not run
    plan = memory.plan(credit, result("e2", error_adwin="fail"), T0 + timedelta(hours=1))
    # THEN a reminder tells the on-call person what was started
    assert kinds(plan) == [("reminder", ("error-adwin",))]
    name = execution_name("credit-scoring", "emergency_retrain", "e2")
    assert f"emergency_retrain started: execution {name} (asked by error-adwin)" in (
        plan.notifications[0].body
    )


# --- names, keys and subjects --------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "action", "evaluation_id"),
    [
        ("churn", "retrain", "5c1f0e9a7d3b2a41"),
        ("m" * 64, "emergency_retrain", "0123456789abcdef"),
        ("credit-scoring", "retrain", "window/2024-06-01T00:00:00Z P7D é" + "x" * 300),
        ("a", "retrain", "---"),
    ],
)
def test_execution_names_are_deterministic_and_valid(
    model: str, action: str, evaluation_id: str
) -> None:
    name = execution_name(model, action, evaluation_id)
    assert EXECUTION_NAME.match(name), name
    assert len(name) <= EXECUTION_NAME_LIMIT
    assert name == execution_name(model, action, evaluation_id)
    assert name != execution_name(model, action, evaluation_id + "-2")
    assert name.startswith(model[:20])


def test_execution_names_differ_when_cutting_makes_them_alike() -> None:
    long_id = "e" * 100
    first = execution_name("churn", "retrain", long_id + "1")
    second = execution_name("churn", "retrain", long_id + "2")
    assert first[:67] == second[:67]
    assert first != second
    # characters replaced by '-' do not make two evaluations one
    assert execution_name("churn", "retrain", "a/b") != execution_name("churn", "retrain", "a:b")


def test_dedup_keys_are_deterministic_per_model_evaluation_and_kind() -> None:
    assert dedup_key("churn", "e1", "firing") == "churn:e1:firing"
    assert dedup_key("churn", "e1", "firing") != dedup_key("churn", "e1", "resolved")
    assert dedup_key("churn", "e1", "firing") != dedup_key("credit", "e1", "firing")
    awkward = dedup_key("churn", "évaluation " + "x" * 200, "reminder")
    assert len(awkward) <= 128
    assert re.match(r"^churn:[0-9a-f]{32}:reminder$", awkward)
    assert awkward == dedup_key("churn", "évaluation " + "x" * 200, "reminder")


def definition_with(
    model: str, checks: Iterable[str], segment: str | None = None
) -> MonitorDefinition:
    lines = [f"  - {{name: {name}, metric: accuracy, min: 0.85}}" for name in checks]
    if segment is not None:
        lines.append(f"  - {{name: segmented, metric: accuracy, segment: {segment}, min: 0.85}}")
    return load_monitor_definition(
        f"""
model: {model}
schema: {{task: binary_classification, prediction: p, label: y, features: {{x: numeric}},
          segments: [région]}}
baseline: {{path: b.csv}}
checks:
"""
        + "\n".join(lines)
    )


def failing(name: str, segment: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "status": "fail",
        "value": 0.8,
        "threshold": 0.85,
        "baseline": None,
        "segment": segment,
        "action": "notify",
        "detail": f"accuracy is 0.8{f' in {segment}' if segment else ''}",
    }


@pytest.mark.parametrize(
    "checks",
    [
        ["s" * 64],
        [f"check-{index:02d}-" + "n" * 50 for index in range(12)],
        ["segmented"],
    ],
)
def test_subject_fits_sns_even_for_the_longest_names(checks: list[str]) -> None:
    model = "m" * 64
    segment = "région=Île-de-France ☃\nsecond line"
    definition = definition_with(model, [c for c in checks if c != "segmented"], "{région: x}")
    document = {
        "model": model,
        "evaluation_id": "e1",
        "checks": [failing(name, segment if name == "segmented" else None) for name in checks],
    }
    subject = plan_actions(definition, document, {}, {}, T0).notifications[0].subject
    # SNS: fewer than 100 characters, one line; ASCII so every e-mail client shows it
    assert len(subject) < 100, subject
    assert subject.isascii() and subject.isprintable(), subject
    assert subject.startswith("[driftline] mmmmmmmmmmmmmmmmmmmm")
    assert "WARNING - " in subject


def test_subject_keeps_the_figure_or_as_many_names_as_fit() -> None:
    credit = load_monitor_definition(CREDIT)
    short = plan_actions(credit, result("e1", subprime_gini="fail"), {}, {}, T0)
    assert short.notifications[0].subject == (
        "[driftline] credit-scoring: CRITICAL - subprime-gini failed (gini 0.52 < 0.57 in subprime)"
    )
    names = [f"check-{index:02d}-" + "n" * 16 for index in range(12)]
    document = {
        "model": "churn-model",
        "evaluation_id": "e1",
        "checks": [failing(name) for name in names],
    }
    plan = plan_actions(definition_with("churn-model", names), document, {}, {}, T0)
    assert plan.notifications[0].subject == (
        f"[driftline] churn-model: WARNING - 12 checks failed: {names[0]} +11 more"
    )
    # a segment value outside ASCII is spelled without its accents
    segmented = definition_with("churn-model", [], "{région: Île}")
    document = {
        "model": "churn-model",
        "evaluation_id": "e1",
        "checks": [failing("segmented", "région=Île")],
    }
    subject = plan_actions(segmented, document, {}, {}, T0).notifications[0].subject
    assert subject == (
        "[driftline] churn-model: WARNING - segmented failed (accuracy 0.8 < 0.85 in region=Ile)"
    )


def _numbers(value: Any) -> Iterable[float]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)


@pytest.fixture(scope="module")
def churn_example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The shipped churn example, evaluated by ``driftline evaluate``."""
    from driftline.cli import main

    output = tmp_path_factory.mktemp("churn") / "result.json"
    example = ROOT / "examples" / "churn"
    code = main(
        [
            "evaluate",
            "--config",
            str(example / "monitor.yaml"),
            "--reference",
            str(example / "reference.csv"),
            "--current",
            str(example / "current.csv"),
            "--output",
            str(output),
        ]
    )
    assert code == 1
    document: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return document


def test_notification_reports_only_the_checks_and_slices_figures(
    churn_example: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    definition = load_monitor_definition((ROOT / "examples/churn/monitor.yaml").read_text())
    plan = plan_actions(definition, churn_example, {}, {}, T0)
    assert len(plan.notifications) == 1
    notification = plan.notifications[0]
    message = notification.message
    # every number in the message is a check's figure or a worst slice's figure
    allowed = {
        float(check[key])
        for check in churn_example["checks"]
        for key in ("value", "threshold", "baseline")
        if check[key] is not None
    }
    slices = churn_example["worst_slices"][:3]
    allowed |= {float(item[key]) for item in slices for key in ("rows", "value", "overall", "gap")}
    allowed |= {float(item["z"]) for item in slices}
    allowed.add(1.0)  # the message format version
    assert set(_numbers(message)) <= allowed
    assert len(message["worst_slices"]) == 3
    # no category values, drift statistics or metrics the checks do not report
    text = notification.body + json.dumps(message)
    assert "online-only" in json.dumps(churn_example["data_quality"])
    assert "online-only" not in text
    auc = churn_example["performance"]["overall"]["auc"]
    assert f"{auc:.4g}" not in text and str(auc) not in text
    region = churn_example["drift"]["features"]["region"]["statistic"]
    assert str(region) not in text and f"{region:.4g}" not in text
    # but the on-call person does see the worst slice and the retraining
    assert f"  * {slices[0]['slice']}: " in notification.body
    assert "retrain started: execution churn-retrain-" in notification.body
    assert notification.subject == (
        "[driftline] churn: CRITICAL - 6 checks failed: accuracy-floor, input-drift, "
        "charges-drift +3 more"
    )


# --- inputs, states and purity -------------------------------------------------------------


def test_states_round_trip_through_json() -> None:
    alert = AlertState(
        "firing", "2024-06-01T03:00:00Z", "0123456789abcdef", "e1", "2024-06-01T03:00:00Z", ("e1",)
    )
    action = ActionState("2024-06-01T03:00:00Z", "churn-retrain-e1-0123456789ab", ("e1", "e2"))
    assert AlertState.from_dict(json.loads(json.dumps(alert.to_dict()))) == alert
    assert ActionState.from_dict(json.loads(json.dumps(action.to_dict()))) == action
    assert ActionState.from_dict(ActionState().to_dict()) == ActionState()
    assert alert.to_dict() == {
        "version": 1,
        "status": "firing",
        "since": "2024-06-01T03:00:00Z",
        "fingerprint": "0123456789abcdef",
        "evaluation_id": "e1",
        "last_notified": "2024-06-01T03:00:00Z",
        "recent_evaluations": ["e1"],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "silenced"}, "expected status ok, pending or firing, got 'silenced'"),
        ({"since": "yesterday"}, "since: expected an ISO 8601 time with a time zone"),
        ({"since": "2024-06-01T03:00:00"}, "since: expected an ISO 8601 time with a time zone"),
        ({"version": 2}, "expected version 1, got 2"),
        ({"recent_evaluations": "e1"}, "recent_evaluations: expected a list of strings"),
    ],
)
def test_alert_state_from_dict_names_what_is_wrong(change: dict[str, Any], message: str) -> None:
    saved = AlertState("ok", "2024-06-01T03:00:00Z", "f", "e1").to_dict()
    with pytest.raises(ValueError, match=re.escape(message)):
        AlertState.from_dict({**saved, **change})


def test_same_inputs_give_the_same_plan(credit: MonitorDefinition) -> None:
    memory = Memory()
    memory.plan(credit, result("e1", input_drift="fail", error_adwin="fail"), T0)
    document = result("e2", input_drift="pass", error_adwin="fail", accuracy_floor="fail")
    later = T0 + timedelta(hours=7)
    first = plan_actions(credit, document, memory.alerts, memory.actions, later)
    second = plan_actions(credit, document, dict(memory.alerts), dict(memory.actions), later)
    assert first == second
    assert json.dumps(first.to_dict(), sort_keys=True) == json.dumps(
        second.to_dict(), sort_keys=True
    )
    # the time zone of now does not matter, only the instant
    eastern = later.astimezone(timezone(timedelta(hours=-4)))
    assert plan_actions(credit, document, memory.alerts, memory.actions, eastern) == first


def test_accepts_an_evaluation_result_object(credit: MonitorDefinition) -> None:
    evaluation = EvaluationResult(
        model="credit-scoring",
        evaluation_id="e1",
        window=Window("2024-05-31T00:00:00Z", "2024-06-01T00:00:00Z"),
        reference_rows=100,
        current_rows=80,
        drift=DriftReport(features={}, dataset_drift_share=0.5),
        data_quality={},
        checks=[
            CheckResult(
                "accuracy-floor", "fail", 0.8217, 0.85, 0.8674, None, "retrain", "accuracy low"
            )
        ],
    )
    plan = plan_actions(credit, evaluation, {}, {}, T0)
    assert kinds(plan) == [("firing", ("accuracy-floor",))]
    assert plan == plan_actions(credit, evaluation.to_dict(), {}, {}, T0)


def test_rejects_a_naive_time(credit: MonitorDefinition) -> None:
    with pytest.raises(ValueError, match="time-zone-aware"):
        plan_actions(credit, result("e1"), {}, {}, datetime(2024, 6, 1, 3, 0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": "churn"}, "the result is for 'churn', the definition for 'credit-scoring'"),
        ({"evaluation_id": ""}, "evaluation_id: expected a non-empty string"),
        ({"checks": [{"name": "a", "status": "broken", "action": "notify"}]}, "checks[0].status"),
        ({"checks": [{"name": "a", "status": "fail", "action": "page"}]}, "checks[0].action"),
    ],
)
def test_rejects_a_malformed_result(
    credit: MonitorDefinition, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        plan_actions(credit, {**result("e1"), **change}, {}, {}, T0)


def test_alerts_module_imports_no_boto3() -> None:
    code = (
        "import sys, driftline.alerts\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "layers" / "core"), "PATH": ""},
    )
    assert completed.stdout.strip() == "[]"


# --- properties ----------------------------------------------------------------------------

STEP = st.tuples(
    st.sampled_from(["pass", "fail", "skip"]),  # accuracy-floor (retrain)
    st.sampled_from(["pass", "fail", "skip"]),  # input-drift (notify)
    st.integers(min_value=0, max_value=30 * 60),  # minutes since the previous evaluation
    st.integers(min_value=0, max_value=8),  # > 0: redeliver an evaluation that many back
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(STEP, min_size=1, max_size=25))
def test_firing_notifications_equal_ok_to_fail_transitions(
    steps: list[tuple[str, str, int, int]],
) -> None:
    definition = load_monitor_definition(CREDIT)
    memory = Memory()
    now = T0
    delivered: list[dict[str, Any]] = []
    fired = {"accuracy-floor": 0, "input-drift": 0}
    resolved = {"accuracy-floor": 0, "input-drift": 0}
    starts: list[datetime] = []
    # the alert status as the evaluations (each counted once) imply it
    status = {"accuracy-floor": "ok", "input-drift": "ok"}
    expected_fired = {"accuracy-floor": 0, "input-drift": 0}
    expected_resolved = {"accuracy-floor": 0, "input-drift": 0}
    for accuracy, drift, minutes, back in steps:
        now += timedelta(minutes=minutes)
        if back and len(delivered) >= back:
            document = delivered[-back]  # a duplicate delivery
        else:
            document = result(f"e{len(delivered)}", accuracy_floor=accuracy, input_drift=drift)
            delivered.append(document)
            for item in document["checks"]:
                name = item["name"]
                if item["status"] == "fail" and status[name] == "ok":
                    expected_fired[name] += 1
                    status[name] = "firing"
                elif item["status"] == "pass" and status[name] == "firing":
                    expected_resolved[name] += 1
                    status[name] = "ok"
        plan = memory.plan(definition, document, now)
        assert len([n for n in plan.notifications if n.kind == "firing"]) <= 1
        assert len([n for n in plan.notifications if n.kind == "resolved"]) <= 1
        for notification in plan.notifications:
            counter = {"firing": fired, "resolved": resolved}.get(notification.kind)
            for name in notification.checks if counter is not None else ():
                counter[name] += 1
        starts.extend(now for start in plan.retrain_starts if start.action == "retrain")
    assert fired == expected_fired
    assert resolved == expected_resolved
    assert {name: state.status for name, state in memory.alerts.items()} == {
        name: value for name, value in status.items() if name in memory.alerts
    }
    # retraining never starts twice within its cooldown (P1D)
    assert all(b - a >= timedelta(days=1) for a, b in itertools.pairwise(starts))


# --- the documented example ----------------------------------------------------------------

EXAMPLE = """
model: churn
schema:
  task: binary_classification
  prediction: churn_predicted
  label: churned
  features: {tenure_months: numeric, monthly_charges: numeric, plan: categorical,
             region: categorical}
  segments: [plan]
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: input-drift, drift: dataset, action: notify}
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
"""


def example_result(evaluation_id: str, *, drifted: bool) -> dict[str, Any]:
    drift = (
        (
            0.5,
            "fail",
            "2 of 4 features drifted (50%; dataset drift at 50%): monthly_charges, region",
        )
        if drifted
        else (0.25, "pass", "1 of 4 features drifted (25%; dataset drift at 50%): monthly_charges")
    )
    return {
        "model": "churn",
        "evaluation_id": evaluation_id,
        "window": {"start": "2024-05-01T00:00:00Z", "end": "2024-06-01T00:00:00Z"},
        "checks": [
            {
                "name": "input-drift",
                "status": drift[1],
                "value": drift[0],
                "threshold": 0.5,
                "baseline": None,
                "segment": None,
                "action": "notify",
                "detail": drift[2],
            },
            {
                "name": "accuracy-floor",
                "status": "fail",
                "value": 0.82175,
                "threshold": 0.85,
                "baseline": 0.8674,
                "segment": None,
                "action": "retrain",
                "detail": "accuracy is 0.8217, below the minimum 0.85 "
                "(95% CI 0.8096-0.8333, 4,000 labelled rows of 4,000)",
            },
        ],
        "worst_slices": [
            {
                "slice": "plan=basic & monthly_charges=[89.31, 123.1)",
                "rows": 578,
                "metric": "error_rate",
                "value": 0.2976,
                "overall": 0.1783,
                "gap": 0.1193,
                "z": 8.104,
            },
            {
                "slice": "plan=basic & tenure_months=[0.3, 6.6)",
                "rows": 193,
                "metric": "error_rate",
                "value": 0.3886,
                "overall": 0.1783,
                "gap": 0.2104,
                "z": 7.827,
            },
        ],
        "status": "critical",
    }


def test_documented_example_is_what_the_planner_produces() -> None:
    docs = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    definition = load_monitor_definition(EXAMPLE)
    memory = Memory()
    first = memory.plan(definition, example_result("5c1f0e9a7d3b2a41", drifted=True), T0)
    notification = first.notifications[0]
    assert f"```\n{notification.subject}\n```" in docs
    assert f"```\n{notification.body}```" in docs
    documented = docs.split("Message (the EventBridge")[1].split("```json\n")[1].split("```")[0]
    assert json.loads(documented) == notification.message
    assert f'"execution_name": "{first.retrain_starts[0].execution_name}"' in docs
    later = memory.plan(
        definition,
        example_result("9d2e4b7a0c1f3e58", drifted=False),
        T0 + timedelta(hours=8),
    )
    subjects = "\n".join(item.subject for item in later.notifications)
    assert f"```\n{subjects}\n```" in docs
    assert [item.kind for item in later.notifications] == ["reminder", "resolved"]
    again = memory.plan(definition, example_result("5c1f0e9a7d3b2a41", drifted=True), T0)
    assert f"`{again.suppressed[0]}`" in docs
