"""A check's persistence rule in the act step: a failure that has not met ``persist: {windows:
K, of: M}`` is pending (nothing sent, nothing started); the K-th failure of the last M fires;
a redelivery counts once, a skip not at all, and a late evaluation takes its place by window
end. Each test plays evaluations through :func:`plan_actions` the way the act function does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from driftline.alerts import ActionPlan, ActionState, AlertState, combine_windows, plan_actions
from driftline.alerts.persistence import record, tally, window_length
from driftline.alerts.states import Outcome
from driftline.config import MonitorDefinition, PersistSpec, load_monitor_definition

T0 = datetime(2024, 6, 1, 3, 0, tzinfo=UTC)

CHURN = """
model: churn
schema: {task: binary_classification, prediction: p, label: y, features: {tenure: numeric}}
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain,
     persist: {windows: 2, of: 3}}
  - {name: tenure-missing, quality: missing_share, feature: tenure, max: 0.1,
     persist: {windows: 2, of: 2}}
  - {name: input-drift, drift: dataset}
windows: [P1D, P7D]
"""


@pytest.fixture(scope="module")
def churn() -> MonitorDefinition:
    return load_monitor_definition(CHURN)


def check(name: str, status: str) -> dict[str, Any]:
    action = "retrain" if name == "accuracy-floor" else "notify"
    return {
        "name": name,
        "status": status,
        "value": 0.8 if status == "fail" else 0.9 if status == "pass" else None,
        "threshold": 0.85,
        "baseline": None,
        "segment": None,
        "action": action,
        "detail": f"{name} {status}",
    }


def result(evaluation_id: str, day: int, *, hours: int = 24, **statuses: str) -> dict[str, Any]:
    """A result of a window of ``hours`` ending at midnight of June ``day``, 2024."""
    end = datetime(2024, 6, day, tzinfo=UTC)
    start = end - timedelta(hours=hours)
    return {
        "model": "churn",
        "evaluation_id": evaluation_id,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "checks": [check(name.replace("_", "-"), status) for name, status in statuses.items()],
    }


@dataclass
class Memory:
    """The store: what the plans wrote, read back by the next plan."""

    alerts: dict[str, AlertState] = field(default_factory=dict)
    actions: dict[str, ActionState] = field(default_factory=dict)

    def plan(
        self, definition: MonitorDefinition, document: dict[str, Any], hours: float = 0
    ) -> ActionPlan:
        planned = plan_actions(
            definition, document, self.alerts, self.actions, T0 + timedelta(hours=hours)
        )
        self.alerts.update(planned.alert_states)
        self.actions.update(planned.action_states)
        return planned


def kinds(plan: ActionPlan) -> list[tuple[str, tuple[str, ...]]]:
    return [(item.kind, item.checks) for item in plan.notifications]


def test_a_first_failure_under_a_rule_is_pending_and_sends_and_starts_nothing(
    churn: MonitorDefinition,
) -> None:
    # GIVEN accuracy-floor fires on 2 failures of the last 3 daily evaluations
    memory = Memory()

    # WHEN it fails once
    plan = memory.plan(churn, result("e1", 1, accuracy_floor="fail"))

    # THEN nothing is sent or started, and the plan says what is missing
    assert plan.notifications == [] and plan.retrain_starts == []
    assert plan.suppressed == [
        "accuracy-floor: pending: 1 of 2 failures needed in the last 3 P1D evaluations"
    ]
    # AND the state says pending, with the outcome kept
    state = memory.alerts["accuracy-floor"]
    assert (state.status, state.last_notified) == ("pending", None)
    assert state.history == (Outcome("P1D", "2024-06-01T00:00:00Z", "e1", True),)


def test_the_kth_failure_of_the_last_m_fires_and_starts_the_action(
    churn: MonitorDefinition,
) -> None:
    # GIVEN a failure, then a pass (pending, then quietly ok)
    memory = Memory()
    memory.plan(churn, result("e1", 1, accuracy_floor="fail"))
    quiet = memory.plan(churn, result("e2", 2, accuracy_floor="pass"), hours=24)
    assert quiet.notifications == [] and memory.alerts["accuracy-floor"].status == "ok"

    # WHEN it fails again within the last 3 evaluations
    plan = memory.plan(churn, result("e3", 3, accuracy_floor="fail"), hours=48)

    # THEN it fires once and its retraining starts
    assert kinds(plan) == [("firing", ("accuracy-floor",))]
    assert [start.action for start in plan.retrain_starts] == ["retrain"]
    assert memory.alerts["accuracy-floor"].status == "firing"

    # AND once fired the usual rules apply: still failing is quiet, a pass resolves
    still = memory.plan(churn, result("e4", 4, accuracy_floor="fail"), hours=49)
    assert still.notifications == []
    resolved = memory.plan(churn, result("e5", 5, accuracy_floor="pass"), hours=50)
    assert kinds(resolved) == [("resolved", ("accuracy-floor",))]


def test_failures_further_apart_than_the_rule_never_fire(churn: MonitorDefinition) -> None:
    # GIVEN fail, pass, pass, fail: never 2 failures among 3 consecutive evaluations
    memory = Memory()
    plans = [
        memory.plan(churn, result(f"e{day}", day, accuracy_floor=status), hours=24 * day)
        for day, status in enumerate(["fail", "pass", "pass", "fail"], start=1)
    ]

    # THEN nothing is ever sent nor started, and the last failure is pending again
    assert all(plan.notifications == [] and plan.retrain_starts == [] for plan in plans)
    assert plans[-1].suppressed == [
        "accuracy-floor: pending: 1 of 2 failures needed in the last 3 P1D evaluations"
    ]


def test_a_redelivered_evaluation_counts_once(churn: MonitorDefinition) -> None:
    # GIVEN one failure, pending
    memory = Memory()
    document = result("e1", 1, accuracy_floor="fail")
    memory.plan(churn, document)

    # WHEN the same evaluation is delivered again
    again = memory.plan(churn, document, hours=1)

    # THEN it changes nothing (counted twice, it would have met 2 of 3 and fired)
    assert again.empty
    assert again.suppressed == ["evaluation e1 already handled: accuracy-floor"]
    assert len(memory.alerts["accuracy-floor"].history) == 1

    # AND once a second failure has fired it, the first delivered again still does nothing
    fired = memory.plan(churn, result("e2", 2, accuracy_floor="fail"), hours=24)
    assert kinds(fired) == [("firing", ("accuracy-floor",))] and fired.retrain_starts
    assert memory.plan(churn, document, hours=25).empty


def test_the_history_dedupes_an_evaluation_even_past_the_recent_ids() -> None:
    # GIVEN an outcome already recorded WHEN the same evaluation is recorded again
    first = record((), Outcome("P1D", "2024-06-01T00:00:00Z", "e1", True))
    again = record(first, Outcome("P1D", "2024-06-01T00:00:00Z", "e1", True))

    # THEN it is there once
    assert again == first
    assert tally(again, PersistSpec(windows=2, of=3), "P1D", "e1").failures == 1


def test_a_skipped_evaluation_is_not_counted(churn: MonitorDefinition) -> None:
    # GIVEN tenure-missing fires on 2 failures of the last 2
    memory = Memory()
    memory.plan(churn, result("e1", 1, tenure_missing="fail"))

    # WHEN a skip comes between two failures
    skipped = memory.plan(churn, result("e2", 2, tenure_missing="skip"), hours=24)
    plan = memory.plan(churn, result("e3", 3, tenure_missing="fail"), hours=48)

    # THEN the skip neither breaks the run nor is kept: the second failure fires
    assert skipped.empty
    assert kinds(plan) == [("firing", ("tenure-missing",))]
    assert [o.evaluation_id for o in memory.alerts["tenure-missing"].history] == ["e1", "e3"]


def test_a_late_evaluation_takes_its_place_by_window_end(churn: MonitorDefinition) -> None:
    # GIVEN 2 of 2: the evaluation of June 2 passed, June 3 failed (pending)
    memory = Memory()
    memory.plan(churn, result("e2", 2, tenure_missing="pass"))
    memory.plan(churn, result("e3", 3, tenure_missing="fail"), hours=1)

    # WHEN the failed evaluation of June 1 arrives last
    plan = memory.plan(churn, result("e1", 1, tenure_missing="fail"), hours=2)

    # THEN by window end the last two are June 2 (pass) and 3 (fail): nothing fires
    # (by arrival, June 3 and June 1 would have made two failures)
    assert plan.notifications == []
    assert plan.suppressed == [
        "tenure-missing: pending: 1 of 2 failures needed in the last 2 P1D evaluations "
        "(this one is older than the last 2)"
    ]
    assert [o.evaluation_id for o in memory.alerts["tenure-missing"].history] == [
        "e1",
        "e2",
        "e3",
    ]


def test_a_late_failure_completing_the_rule_fires(churn: MonitorDefinition) -> None:
    # GIVEN 2 of 3: June 3 failed (pending)
    memory = Memory()
    memory.plan(churn, result("e3", 3, accuracy_floor="fail"))

    # WHEN June 2's failed evaluation arrives late
    plan = memory.plan(churn, result("e2", 2, accuracy_floor="fail"), hours=1)

    # THEN June 2 and 3 are two failures of the last three: it fires
    assert kinds(plan) == [("firing", ("accuracy-floor",))]


def test_hourly_batches_and_daily_windows_count_apart(churn: MonitorDefinition) -> None:
    # GIVEN tenure-missing (2 of 2) failing in an hourly batch's evaluation
    memory = Memory()
    memory.plan(churn, result("batch-1", 1, hours=1, tenure_missing="fail"))

    # WHEN it fails in the daily window too
    plan = memory.plan(churn, result("e1", 1, tenure_missing="fail"), hours=1)

    # THEN each window length has one failure of two needed: still pending
    assert plan.notifications == []
    assert plan.suppressed == [
        "tenure-missing: pending: 1 of 2 failures needed in the last 2 P1D evaluations"
    ]
    windows = [o.window for o in memory.alerts["tenure-missing"].history]
    assert sorted(windows) == ["P1D", "PT1H"]


def test_a_later_windows_check_counts_its_own_window_in_a_combined_run(
    churn: MonitorDefinition,
) -> None:
    # GIVEN runs of P1D and P7D where only the P7D accuracy fails, twice
    memory = Memory()
    plans = []
    for day in (8, 9):
        daily = result(f"d{day}", day, accuracy_floor="pass")
        weekly = result(f"w{day}", day, hours=24 * 7, accuracy_floor="fail")
        combined = combine_windows(f"d{day}", "P1D", [("P1D", daily), ("P7D", weekly)])
        plans.append(memory.plan(churn, combined, hours=24 * day))

    # THEN the first is pending as a P7D evaluation, the second fires
    assert plans[0].suppressed == [
        "accuracy-floor@P7D: pending: 1 of 2 failures needed in the last 3 P7D evaluations"
    ]
    assert kinds(plans[1]) == [("firing", ("accuracy-floor@P7D",))]


def test_a_pending_check_is_listed_when_another_check_pages(churn: MonitorDefinition) -> None:
    # GIVEN accuracy-floor pending while input-drift (no rule) fails
    plan = Memory().plan(churn, result("e1", 1, accuracy_floor="fail", input_drift="fail"))

    # THEN input-drift pages at once; the message and the body show the pending check
    assert kinds(plan) == [("firing", ("input-drift",))]
    message = plan.notifications[0].message
    assert [item["name"] for item in message["checks"]["failed"]] == ["input-drift"]
    assert message["checks"]["pending"] == [
        {
            "name": "accuracy-floor",
            "window": "P1D",
            "failures": 1,
            "needed": 2,
            "of": 3,
            "value": 0.8,
            "threshold": 0.85,
            "segment": None,
            "action": "retrain",
            "detail": "accuracy-floor fail",
        }
    ]
    assert "  * accuracy-floor: failed 1 of the last 3 P1D evaluations, 2 needed" in (
        plan.notifications[0].body
    )
    # AND the pending check's retraining does not start
    assert plan.retrain_starts == []


def test_a_state_with_history_round_trips_through_json() -> None:
    state = AlertState(
        "pending",
        "2024-06-01T03:00:00Z",
        "0123456789abcdef",
        "e1",
        None,
        ("e1",),
        (Outcome("P1D", "2024-06-01T00:00:00Z", "e1", True), Outcome("unknown", None, "e0", False)),
    )
    document = json.loads(json.dumps(state.to_dict()))
    assert AlertState.from_dict(document) == state
    assert document["history"][0] == {
        "window": "P1D",
        "end": "2024-06-01T00:00:00Z",
        "evaluation_id": "e1",
        "failed": True,
    }


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ("e1", "history: expected a list"),
        (["e1"], "history[0]: expected a mapping"),
        ([{"window": "P1D", "end": None, "evaluation_id": "e1", "failed": 1}], "failed: expected"),
        ([{"window": "P1D", "end": "today", "evaluation_id": "e1", "failed": True}], "end"),
        ([{"window": "", "end": None, "evaluation_id": "e1", "failed": True}], "window"),
    ],
)
def test_a_malformed_history_is_refused_naming_the_key(history: Any, message: str) -> None:
    saved = {**AlertState("ok", "2024-06-01T03:00:00Z", "f", "e1").to_dict(), "history": history}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        AlertState.from_dict(saved)


@pytest.mark.parametrize(
    ("start", "end", "length"),
    [
        ("2024-06-01T00:00:00+00:00", "2024-06-02T00:00:00+00:00", "P1D"),
        ("2024-06-01T00:00:00Z", "2024-06-01T06:00:00Z", "PT6H"),
        ("2024-06-01T00:00:00Z", "2024-06-01T00:30:00Z", "PT30M"),
        ("2024-06-01T00:00:00Z", "2024-06-01T00:00:10Z", "PT10S"),
        ("2024-06-02T00:00:00Z", "2024-06-01T00:00:00Z", "unknown"),
        ("not a time", "2024-06-01T00:00:00Z", "unknown"),
    ],
)
def test_window_length_names_the_window_in_its_largest_whole_unit(
    start: str, end: str, length: str
) -> None:
    assert window_length(start, end) == length


def test_without_a_rule_no_history_is_kept(churn: MonitorDefinition) -> None:
    # GIVEN input-drift has no rule WHEN it fails THEN it fires at once and keeps no history
    memory = Memory()
    plan = memory.plan(churn, result("e1", 1, input_drift="fail"))
    assert kinds(plan) == [("firing", ("input-drift",))]
    assert memory.alerts["input-drift"].history == ()
    assert "history" not in memory.alerts["input-drift"].to_dict()
