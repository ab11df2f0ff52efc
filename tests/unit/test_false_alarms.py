"""The false-page arithmetic (docs/alerts.md): the rule's probability against scipy's binomial
tail, the pages and retraining starts against a seeded simulation of the alert rules, and the
simulation against the planner itself on the same outcomes."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from scipy.stats import binom

from driftline.alerts import ActionState, AlertState, plan_actions
from driftline.alerts.false_alarms import (
    false_pages_per_month,
    retrain_starts_per_month,
    rule_met_probability,
)
from driftline.config import PersistSpec, load_monitor_definition

RULES = [None, (1, 1), (2, 2), (3, 4), (2, 3), (1, 5), (5, 5), (12, 24)]


def spec(rule: tuple[int, int] | None) -> PersistSpec | None:
    return None if rule is None else PersistSpec(windows=rule[0], of=rule[1])


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("alpha", [0.0, 0.001, 0.01, 0.05, 0.3, 1.0])
def test_the_rule_probability_is_alpha_times_a_binomial_tail(
    alpha: float, rule: tuple[int, int] | None
) -> None:
    # THEN P = alpha * P(Binomial(M - 1, alpha) >= K - 1), as scipy computes the tail
    k, m = rule or (1, 1)
    expected = alpha * binom.sf(k - 2, m - 1, alpha)
    assert rule_met_probability(alpha, spec(rule)) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@dataclass
class Counts:
    pages: int = 0
    reminders: int = 0
    starts: int = 0


def simulate(failed: np.ndarray, rule: tuple[int, int] | None, remind: int, block: int) -> Counts:
    """The alert rules, played directly: fire when the rule is met and the alert is not
    firing, remind every ``remind`` evaluations of a run, start at most once per ``block``."""
    k, m = rule or (1, 1)
    latest: deque[bool] = deque(maxlen=m)
    counts = Counts()
    firing, notified, started = False, -(10**9), -(10**9)
    for t, fail in enumerate(failed.tolist()):
        latest.append(fail)
        if not fail:
            firing = False
            continue
        if firing and t - notified >= remind:
            counts.reminders += 1
            notified = t
        elif not firing and sum(latest) >= k:
            firing, notified = True, t
            counts.pages += 1
        if firing and t - started >= block:
            counts.starts += 1
            started = t
    return counts


@pytest.mark.parametrize("rule", [None, (2, 2), (3, 4)])
def test_pages_a_month_match_a_seeded_simulation(rule: tuple[int, int] | None) -> None:
    # GIVEN 400,000 hourly evaluations failing independently with probability 0.2
    alpha, n = 0.2, 400_000
    failed = np.random.default_rng(7).random(n) < alpha

    # WHEN the alert rules are played over them (notify cooldown PT6H)
    counts = simulate(failed, rule, remind=6, block=24)

    # THEN the problem notifications a month are the formula's, within 5 standard deviations
    months = n / (30 * 24)
    expected = false_pages_per_month(alpha, 24, spec(rule), cooldown="PT6H") * months
    assert abs(counts.pages + counts.reminders - expected) < 5 * np.sqrt(expected)


@pytest.mark.parametrize(("rule", "alpha"), [(None, 0.05), ((2, 2), 0.05), ((2, 2), 0.2)])
def test_retraining_starts_a_month_are_near_the_renewal_approximation(
    rule: tuple[int, int] | None, alpha: float
) -> None:
    # GIVEN a million hourly evaluations, retrain cooldown P1D
    n = 1_000_000
    failed = np.random.default_rng(11).random(n) < alpha

    # WHEN played
    counts = simulate(failed, rule, remind=6, block=24)

    # THEN the starts stay under the bound without cooldown and near the approximation
    months = n / (30 * 24)
    approximation = retrain_starts_per_month(alpha, 24, spec(rule), cooldown="P1D") * months
    bound = 30 * 24 * rule_met_probability(alpha, spec(rule)) * months
    assert counts.starts <= bound
    assert counts.starts == pytest.approx(approximation, rel=0.12)


def test_with_a_cooldown_no_longer_than_the_spacing_every_ask_starts() -> None:
    # GIVEN daily evaluations and a one-day cooldown WHEN played THEN the starts are N * P
    alpha, n = 0.3, 200_000
    failed = np.random.default_rng(3).random(n) < alpha
    counts = simulate(failed, (2, 3), remind=1, block=1)
    expected = retrain_starts_per_month(alpha, 1, spec((2, 3)), cooldown="P1D") * n / 30
    assert expected == pytest.approx(n * rule_met_probability(alpha, spec((2, 3))))
    assert abs(counts.starts - expected) < 5 * np.sqrt(expected)


DEFINITION = """
model: churn
schema: {task: binary_classification, prediction: p, label: y, features: {tenure: numeric}}
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: acc, metric: accuracy, min: 0.85, action: %s, persist: {windows: 2, of: 3}}
"""


@pytest.mark.parametrize("action", ["notify", "retrain"])
def test_the_planner_pages_and_retrains_exactly_as_the_simulation(action: str) -> None:
    # GIVEN 1,500 hourly evaluations of one check with persist {2 of 3}, alpha 0.6 (so that
    # runs of failures outlast the notify cooldown and send reminders too)
    definition = load_monitor_definition(DEFINITION % action)
    failed = np.random.default_rng(5).random(1500) < 0.6
    start = datetime(2024, 6, 1, tzinfo=UTC)
    alerts: dict[str, AlertState] = {}
    actions: dict[str, ActionState] = {}
    seen = Counts()

    # WHEN the planner acts on each, reading back what it wrote
    for t, fail in enumerate(failed.tolist()):
        end = start + timedelta(hours=t + 1)
        document: dict[str, Any] = {
            "model": "churn",
            "evaluation_id": f"e{t}",
            "window": {"start": (end - timedelta(hours=1)).isoformat(), "end": end.isoformat()},
            "checks": [{"name": "acc", "status": "fail" if fail else "pass", "action": action}],
        }
        plan = plan_actions(definition, document, alerts, actions, end)
        alerts.update(plan.alert_states)
        actions.update(plan.action_states)
        kinds = [item.kind for item in plan.notifications]
        seen.pages += kinds.count("firing")
        seen.reminders += kinds.count("reminder")
        seen.starts += len(plan.retrain_starts)

    # THEN it sent and started what the direct play of the rules does
    expected = simulate(failed, (2, 3), remind=6, block=24)
    assert seen.pages == expected.pages > 0
    if action == "notify":
        assert (seen.reminders, seen.starts) == (expected.reminders, 0)
        assert expected.reminders > 0
    else:
        assert seen.starts == expected.starts > 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"alpha": 1.5, "evaluations_per_day": 24}, "alpha in"),
        ({"alpha": 1.0, "evaluations_per_day": 24}, "always fails"),
        ({"alpha": 0.01, "evaluations_per_day": 0}, "evaluations_per_day > 0"),
        ({"alpha": 0.01, "evaluations_per_day": 24, "cooldown": timedelta(0)}, "positive"),
    ],
)
def test_false_pages_per_month_refuses_what_is_not_a_rate(
    arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        false_pages_per_month(**arguments)
