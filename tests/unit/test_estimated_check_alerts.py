"""Estimated checks in the act step: a failing estimated check pages as any metric check
does, and its notification says it is estimated, with the interval, the rows estimated and
the label coverage; a persistence rule holds it back as it holds back a measured check.

Each test evaluates real windows (a calibrated credit model, whose window degrades when its
scores are squeezed into [0.4, 0.6]) and plays the results through :func:`plan_actions`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.alerts import ActionState, AlertState, plan_actions
from driftline.alerts.reading import read_result
from driftline.config import MonitorDefinition, load_monitor_definition
from driftline.evaluation import Window, evaluate, profile_spec
from driftline.profile.dataset import Reference, build_reference, profile_frames

T0 = datetime(2024, 6, 1, 3, 0, tzinfo=UTC)

CREDIT = """
model: credit
schema:
  task: binary_classification
  prediction: approved
  score: default_probability
  label: defaulted
  features: {income: numeric}
baseline: {path: baselines/credit/training.csv}
checks:
  - {name: auc-est, metric: auc, estimated: true, min: 0.75, action: retrain%s}
  - {name: accuracy-floor, metric: accuracy, min: 0.6}
"""


def rows(count: int, *, seed: int, squeezed: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.uniform(size=count)
    if squeezed:
        score = 0.4 + 0.2 * score
    return pd.DataFrame(
        {
            "income": rng.normal(size=count),
            "default_probability": score,
            "approved": (score >= 0.5).astype(int),
            "defaulted": (rng.uniform(size=count) < score).astype(int),
        }
    )


@pytest.fixture(scope="module")
def setup() -> tuple[MonitorDefinition, MonitorDefinition, Reference]:
    plain = load_monitor_definition(CREDIT % "")
    persistent = load_monitor_definition(CREDIT % ", persist: {windows: 2, of: 2}")
    return plain, persistent, build_reference(lambda: [rows(6_000, seed=1)], profile_spec(plain))


def window(
    definition: MonitorDefinition, reference: Reference, day: int, *, squeezed: bool
) -> dict[str, Any]:
    """The result of an unlabelled day ending at midnight of June ``day``, 2024."""
    current = rows(3_000, seed=day, squeezed=squeezed).drop(columns="defaulted")
    end = datetime(2024, 6, day, tzinfo=UTC)
    return evaluate(
        definition,
        reference,
        profile_frames([current], profile_spec(definition), reference.bins),
        evaluation_id=f"e{day}",
        window=Window((end - timedelta(days=1)).isoformat(), end.isoformat()),
    ).to_dict()


def test_a_failing_estimated_check_pages_saying_it_is_estimated_with_its_interval(
    setup: tuple[MonitorDefinition, MonitorDefinition, Reference],
) -> None:
    # GIVEN an unlabelled window whose scores are squeezed: the estimated AUC falls under 0.75
    definition, _, reference = setup
    result = window(definition, reference, 2, squeezed=True)
    (check,) = [c for c in result["checks"] if c["name"] == "auc-est"]
    assert check["status"] == "fail"
    estimate = check["estimate"]

    # WHEN the act step plans on it
    plan = plan_actions(definition, result, {}, {}, T0)

    # THEN it fires once and starts the check's retraining, as a measured check would
    (firing,) = plan.notifications
    assert (firing.kind, firing.checks) == ("firing", ("auc-est",))
    assert [start.action for start in plan.retrain_starts] == ["retrain"]
    # AND the subject names the estimated figure
    value = f"{check['value']:.4g}"
    assert (
        firing.subject
        == f"[driftline] credit: CRITICAL - auc-est failed (estimated auc {value} < 0.75)"
    )
    # AND the body marks the check estimated and quotes the interval, rows and coverage
    interval = f"95% interval {estimate['lower']:.4g}-{estimate['upper']:.4g}"
    line = next(text for text in firing.body.splitlines() if text.startswith("  * auc-est"))
    assert line.startswith(f"  * auc-est [NEW] [ESTIMATED]: estimated auc is {value}, below")
    assert interval in line
    assert "3,000 rows estimated; label coverage 0 of 3,000 rows (0.0%)" in line
    # AND the machine message carries the estimate as the result does
    (failed,) = firing.message["checks"]["failed"]
    assert failed["estimate"] == estimate
    # AND no other line carries the mark (the measured check, without labels, is skip)
    assert "[ESTIMATED]" not in firing.body.replace(line, "")


def test_a_result_read_back_keeps_the_estimate_of_its_checks(
    setup: tuple[MonitorDefinition, MonitorDefinition, Reference],
) -> None:
    definition, _, reference = setup
    result = window(definition, reference, 3, squeezed=False)
    checks = {check.name: check for check in read_result(result, "credit").checks}
    (written,) = [c for c in result["checks"] if c["name"] == "auc-est"]
    assert checks["auc-est"].estimate is not None
    assert checks["auc-est"].estimate.to_dict() == written["estimate"]
    assert checks["accuracy-floor"].estimate is None


def test_a_persistence_rule_holds_an_estimated_check_back_until_it_is_met(
    setup: tuple[MonitorDefinition, MonitorDefinition, Reference],
) -> None:
    # GIVEN the estimated check fires on 2 failures of its last 2 daily evaluations
    _, definition, reference = setup
    alerts: dict[str, AlertState] = {}
    actions: dict[str, ActionState] = {}

    def plan(day: int, hours: int) -> Any:
        planned = plan_actions(
            definition,
            window(definition, reference, day, squeezed=True),
            alerts,
            actions,
            T0 + timedelta(hours=hours),
        )
        alerts.update(planned.alert_states)
        actions.update(planned.action_states)
        return planned

    # WHEN it fails once
    first = plan(2, 0)
    # THEN nothing is sent or started: it is pending
    assert first.notifications == [] and first.retrain_starts == []
    assert first.suppressed == [
        "auc-est: pending: 1 of 2 failures needed in the last 2 P1D evaluations"
    ]
    # WHEN it fails the next day too
    second = plan(3, 24)
    # THEN it fires, marked estimated, and its retraining starts
    assert [(item.kind, item.checks) for item in second.notifications] == [("firing", ("auc-est",))]
    assert "auc-est [NEW] [ESTIMATED]: estimated auc is " in second.notifications[0].body
    assert [start.action for start in second.retrain_starts] == ["retrain"]
