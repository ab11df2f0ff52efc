"""The five scenarios of the mission, as uploads and schedule ticks with planted drift, and
the outcome each must reach."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from driftline.demo import data
from driftline.demo.serving import LiveTraffic

Step = tuple[str, Any, Any]  # ("upload", key, frame | text) or ("schedule", datetime, None)


@dataclass
class Outcome:
    """What a scenario produced, read back from the deployment."""

    notifications: list[dict[str, Any]] = field(default_factory=list)
    executions: list[dict[str, Any]] = field(default_factory=list)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    detections: dict[str, list[str]] = field(default_factory=dict)
    #: execution name -> {"status", "states", "output"} of every retraining execution
    retraining: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: executions the demo gave up waiting for
    unfinished: list[str] = field(default_factory=list)

    def subjects(self) -> list[str]:
        return [str(n.get("Subject", "")) for n in self.notifications]

    def checks(self, status: str) -> set[str]:
        found: set[str] = set()
        for report in self.reports.values():
            found |= {c["name"] for c in report["checks"] if c["status"] == status}
        return found


@dataclass
class Scenario:
    """A scenario: its uploads and schedule ticks, and what it must reach.

    ``steps(anchor)`` gets the hour the demo started (UTC): scenarios whose retraining runs
    a canary date their data in the hours before it, because the state machine runs on the
    real clock (a canary counts the traffic logged from the hour it started). ``live``
    generates the requests a canary serves (:mod:`driftline.demo.serving`); ``config`` is the
    monitor definition it uploads.
    """

    name: str
    title: str
    expected: str
    steps: Callable[[datetime], list[Step]]
    verify: Callable[[Outcome], list[str]]  # unmet expectations (empty: reached)
    config: str = ""
    live: LiveTraffic | None = None
    endpoint: str = ""


def _day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# -- 1. churn -----------------------------------------------------------------------------

CHURN = """
model: churn
schema:
  id: customer_id
  timestamp: event_time
  task: binary_classification
  prediction: churn_predicted
  score: churn_score
  label: churned
  positive_class: 1
  features:
    tenure_months: numeric
    monthly_charges: numeric
    plan: categorical
    region: categorical
  segments: [plan]
baseline: {path: baselines/churn/2026-10.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
  - {name: input-drift, drift: dataset, action: notify}
schedule: rate(30 days)
windows: [P30D]
actions:
  retrain: {cooldown: P7D, training_window: P90D}
cloudwatch: {segment_metrics: true}   # plan names may appear in logs: per-plan graphs
"""


def churn_steps(anchor: datetime) -> list[Step]:
    october = data.churn(6000, accuracy=0.9, seed=1, start=_day("2026-10-01T00:00:00Z"))
    november = data.churn(5000, accuracy=0.84, seed=2, start=_day("2026-11-01T00:00:00Z"))
    return [
        ("upload", "baselines/churn/2026-10.csv", october),
        ("upload", "config/churn.yaml", CHURN),
        (
            "upload",
            "inference/churn/2026/11/01/00/predictions.csv",
            november.drop(columns="churned"),
        ),
        ("upload", "labels/churn/2026/11/29/outcomes.csv", november[["customer_id", "churned"]]),
        ("schedule", datetime(2026, 11, 30, 0, tzinfo=UTC), None),
    ]


def churn_verify(outcome: Outcome) -> list[str]:
    unmet = []
    if "accuracy-floor" not in outcome.checks("fail"):
        unmet.append("accuracy-floor should fail (accuracy 0.84 < 0.85)")
    if not any("accuracy-floor" in s for s in outcome.subjects()):
        unmet.append("a notification should name accuracy-floor")
    if not any(e["name"].startswith("churn-retrain-") for e in outcome.executions):
        unmet.append("a retrain execution should start")
    return unmet


# -- 2. credit ----------------------------------------------------------------------------

CREDIT = """
model: credit-scoring
schema:
  id: request_id
  timestamp: event_time
  task: binary_classification
  prediction: predicted_default
  score: default_probability
  label: defaulted
  positive_class: 1
  features: {income: numeric, utilisation: numeric}
  segments: [risk_segment]
baseline: {path: baselines/credit-scoring/training.csv}
checks:
  - {name: subprime-gini, metric: gini, segment: {risk_segment: subprime},
     max_relative_drop: 0.05, action: retrain}
  - {name: prime-gini, metric: gini, segment: {risk_segment: prime},
     max_relative_drop: 0.05, action: retrain}
schedule: rate(1 day)
windows: [P1D]
"""


def credit_steps(anchor: datetime) -> list[Step]:
    training = data.credit(
        20_000, ginis={"subprime": 0.5, "prime": 0.7}, seed=5, start=_day("2026-10-01T00:00:00Z")
    )
    today = data.credit(
        20_000,
        ginis={"subprime": 0.5 * 0.94, "prime": 0.7},
        seed=6,
        start=_day("2026-11-24T00:00:00Z"),
    )
    return [
        ("upload", "baselines/credit-scoring/training.csv", training),
        ("upload", "config/credit-scoring.yaml", CREDIT),
        ("upload", "inference/credit-scoring/2026/11/24/00/applications.csv", today),
        ("schedule", datetime(2026, 11, 25, 0, tzinfo=UTC), None),
    ]


def credit_verify(outcome: Outcome) -> list[str]:
    unmet = []
    if "subprime-gini" not in outcome.checks("fail"):
        unmet.append("subprime-gini should fail (6 % below its own baseline)")
    if "prime-gini" not in outcome.checks("pass"):
        unmet.append("prime-gini should pass (prime is healthy)")
    if not any(e["name"].startswith("credit-scoring-retrain-") for e in outcome.executions):
        unmet.append("a retrain execution should start")
    return unmet


# -- 3. fraud -----------------------------------------------------------------------------

FRAUD = """
model: fraud
schema:
  id: transaction_id
  timestamp: event_time
  task: binary_classification
  prediction: flagged
  score: fraud_score
  label: is_fraud
  positive_class: 1
  features: {amount: numeric, merchant_category: categorical, region: categorical}
baseline: {path: baselines/fraud/training.csv}
checks:
  - {name: error-adwin, detector: adwin, signal: error, params: {delta: 0.002},
     action: emergency_retrain}
  - {name: accuracy-floor, metric: accuracy, min: 0.9, action: notify}
schedule: rate(1 hour)
windows: [PT6H]
actions:
  emergency_retrain: {cooldown: PT6H, training_window: P2D, deploy: canary, canary_traffic: 0.1}
retraining:
  backend: lambda
  estimator: gradient_boosting
  params: {max_iter: 100, max_depth: 3}
  seed: 7
  max_training_rows: 600      # the newest rows only: an emergency learns the attack
  holdout_share: 0.25
  margin: 0.02
  canary: {metric: error_rate, min_rows: 200, max_rows: 2000, duration: PT10M,
           poll: PT2S, emergency_poll: PT2S}
"""
HOURS = 12
ATTACK_HOUR = 9
#: Card testing: small payments in this category, fraud on ATTACK_SHARE of them, none flagged.
ATTACK_CATEGORY = "online"
ATTACK_SHARE = 0.9


def fraud_steps(anchor: datetime) -> list[Step]:
    start = pd.Timestamp(anchor) - pd.Timedelta(hours=HOURS)
    steps: list[Step] = [
        (
            "upload",
            "baselines/fraud/training.csv",
            data.transactions(
                8000, seed=9, start=start - pd.Timedelta(days=7), hours=72, error=0.02
            ),
        ),
        ("upload", "config/fraud.yaml", FRAUD),
    ]
    hours = data.transactions(
        HOURS * 600,
        seed=10,
        start=start,
        hours=HOURS,
        error=0.02,
        attack_from=ATTACK_HOUR,
        attack_error=ATTACK_SHARE,
        attack_category=ATTACK_CATEGORY,
    )
    moments = pd.to_datetime(hours["event_time"], utc=True)
    for hour in range(HOURS):
        rows = hours[
            (moments >= start + pd.Timedelta(hours=hour))
            & (moments < start + pd.Timedelta(hours=hour + 1))
        ]
        stamp = start + pd.Timedelta(hours=hour)
        steps.append(
            (
                "upload",
                f"inference/fraud/fraud-endpoint/champion/{stamp:%Y/%m/%d/%H}/capture.csv",
                rows.drop(columns="is_fraud"),
            )
        )
        # Chargebacks come back within the hour in this simulation.
        steps.append(
            (
                "upload",
                f"labels/fraud/{stamp:%Y/%m/%d}/chargebacks-{hour:02d}.csv",
                rows[["transaction_id", "is_fraud"]],
            )
        )
    steps.append(("schedule", anchor, None))
    return steps


def fraud_live(now: datetime, seed: int) -> pd.DataFrame:
    """Live transactions while the attack goes on (truth inline)."""
    start = pd.Timestamp(now) - pd.Timedelta(minutes=15)
    return data.transactions(
        3000,
        seed=100 + seed,
        start=start,
        hours=0.25,
        error=0.02,
        attack_error=ATTACK_SHARE,
        attack_category=ATTACK_CATEGORY,
    )


def fraud_verify(outcome: Outcome) -> list[str]:
    unmet = []
    fired = outcome.detections.get("error-adwin", [])
    if not fired:
        unmet.append("ADWIN on the error rate should fire")
    elif not any(
        f.startswith("labels/fraud/") and 0 <= int(f[-6:-4]) - ATTACK_HOUR <= 3 for f in fired
    ):
        unmet.append(
            f"ADWIN should fire within 3 hours of the attack (hour {ATTACK_HOUR}); fired on {fired}"
        )
    if fired and any(int(f[-6:-4]) < ATTACK_HOUR for f in fired):
        unmet.append(f"ADWIN fired before the attack: {fired}")
    emergency = {
        name: run for name, run in outcome.retraining.items() if "emergency_retrain" in name
    }
    if not emergency:
        unmet.append("an emergency retrain execution should start")
    for name, run in emergency.items():
        unmet += canary_unmet(name, run, expected="promote")
    return unmet


def canary_unmet(name: str, run: dict[str, Any], *, expected: str) -> list[str]:
    """What a retraining execution that should end in a canary ``expected`` decision lacks."""
    states = run.get("states", [])
    output = run.get("output") or {}
    analysis = output.get("analysis") or {}
    unmet = []
    if run.get("status") != "SUCCEEDED":
        unmet.append(f"{name} should succeed; it is {run.get('status')} after {states[-3:]}")
    for step in ("Train", "Evaluate", "Register", "DeployCanary", "AnalyseCanary"):
        if step not in states:
            unmet.append(f"{name} should go through {step}; went through {states}")
            break
    if analysis.get("decision") != expected:
        unmet.append(
            f"{name}: the canary should decide {expected}, decided {analysis.get('decision')}"
            f" ({analysis.get('reason')})"
        )
    final = {"promote": "Promoted", "rollback": "RolledBack"}[expected]
    if not states or states[-1] != final:
        unmet.append(f"{name} should end in {final}; ended in {states[-1:] or 'nothing'}")
    return unmet


# -- 4. recommender -----------------------------------------------------------------------

RECOMMENDER = """
model: recommender
schema:
  id: impression_id
  timestamp: event_time
  task: binary_classification     # the click model: will this user click this item?
  prediction: predicted_click
  score: click_score
  label: clicked
  positive_class: 1
  features: {cohort: categorical, item_category: categorical, item_price: numeric}
  segments: [cohort]
baseline: {path: baselines/recommender/training.csv}
checks:
  - {name: category-popularity, drift: item_category, action: retrain}
  - {name: young-ctr-sprt, detector: sprt, signal: clicked, segment: {cohort: young},
     params: {p0: 0.10, p1: 0.06, alpha: 0.01, beta: 0.05}, action: emergency_retrain}
schedule: rate(1 day)
windows: [P1D]
drift:
  features: {item_category: {method: psi, threshold: 0.2}}
actions:
  emergency_retrain: {cooldown: PT6H, training_window: P2D, deploy: canary, canary_traffic: 0.2}
retraining:
  backend: lambda
  estimator: gradient_boosting
  params: {max_iter: 100, max_depth: 3}
  seed: 3
  scope: segments                 # a cohort's check retrains on that cohort's rows
  max_training_rows: 6000
  holdout_share: 0.25
  metric: accuracy
  margin: 0.02
  canary: {traffic: 0.2, metric: error_rate, min_rows: 150, max_rows: 3000, duration: PT10M,
           poll: PT2S, emergency_poll: PT2S}
"""
#: From the day of the demo the young cohort no longer clicks on games.
YOUNG_TASTE_DRIFT: dict[str, dict[str, float]] = {"young": {}}


def recommender_steps(anchor: datetime) -> list[Step]:
    start = pd.Timestamp(anchor) - pd.Timedelta(days=1)
    yesterday = start - pd.Timedelta(days=1)
    training = data.interactions(
        30_000, seed=21, start=start - pd.Timedelta(days=14), hours=24 * 14
    )
    before = data.interactions(10_000, seed=23, start=yesterday, hours=24)
    today = data.interactions(
        20_000,
        seed=22,
        start=start,
        hours=24,
        category_shift=0.6,
        tastes=YOUNG_TASTE_DRIFT,
    )
    endpoint = "inference/recommender/rec-endpoint/champion"
    return [
        ("upload", "baselines/recommender/training.csv", training),
        ("upload", "config/recommender.yaml", RECOMMENDER),
        (
            "upload",
            f"{endpoint}/{yesterday:%Y/%m/%d/%H}/impressions.csv",
            before.drop(columns="clicked"),
        ),
        (
            "upload",
            f"labels/recommender/{yesterday:%Y/%m/%d}/clicks.csv",
            before[["impression_id", "clicked"]],
        ),
        (
            "upload",
            f"{endpoint}/{start:%Y/%m/%d/%H}/impressions.csv",
            today.drop(columns="clicked"),
        ),
        # The day's evaluation sees item popularity drift before today's clicks are counted:
        # time-based retraining on the labelled logs so far (yesterday's).
        ("schedule", anchor, None),
        # Today's clicks: the SPRT on the young cohort's CTR fires, a targeted retraining
        # follows (an emergency retraining does not wait for the time-based one's cooldown).
        (
            "upload",
            f"labels/recommender/{start:%Y/%m/%d}/clicks.csv",
            today[["impression_id", "clicked"]],
        ),
    ]


def recommender_live(now: datetime, seed: int) -> pd.DataFrame:
    """Live impressions after both drifts (truth inline)."""
    start = pd.Timestamp(now) - pd.Timedelta(minutes=15)
    return data.interactions(
        3000,
        seed=200 + seed,
        start=start,
        hours=0.25,
        category_shift=0.6,
        tastes=YOUNG_TASTE_DRIFT,
    )


def recommender_verify(outcome: Outcome) -> list[str]:
    unmet = []
    if "category-popularity" not in outcome.checks("fail"):
        unmet.append("PSI on item categories should fail")
    if not outcome.detections.get("young-ctr-sprt"):
        unmet.append("the SPRT on the young cohort's CTR should fire")
    targeted = {n: r for n, r in outcome.retraining.items() if "emergency_retrain" in n}
    timed = {n: r for n, r in outcome.retraining.items() if n.startswith("recommender-retrain-")}
    if not targeted:
        unmet.append("a targeted (cohort) retrain should start")
    for name, run in targeted.items():
        segments = ((run.get("output") or {}).get("prepared") or {}).get("segments")
        if segments != ["cohort=young"]:
            unmet.append(f"{name} should train on the young cohort only; trained on {segments}")
        unmet += canary_unmet(name, run, expected="promote")
    if not timed:
        unmet.append("a time-based retrain should start")
    for name, run in timed.items():
        # Popularity moved, tastes (yesterday) did not: retraining on them cannot beat the
        # model, and the holdout gate keeps it from deploying a challenger no better.
        evaluation = (run.get("output") or {}).get("evaluation") or {}
        ended = run.get("states", [])[-1:]
        if ended != ["Blocked"] or evaluation.get("blocked_by") != ["margin"]:
            unmet.append(
                f"{name} should be blocked by the margin gate; ended in {ended}, blocked by "
                f"{evaluation.get('blocked_by')}"
            )
    return unmet


# -- 5. concept drift with stable inputs ---------------------------------------------------

CONCEPT = """
model: payments-risk
schema:
  id: transaction_id
  timestamp: event_time
  task: binary_classification
  prediction: flagged
  score: fraud_score
  label: is_fraud
  positive_class: 1
  features: {amount: numeric, merchant_category: categorical, region: categorical}
baseline: {path: baselines/payments-risk/training.csv}
checks:
  - {name: input-drift, drift: dataset, action: notify}
  - {name: accuracy-floor, metric: accuracy, min: 0.95, action: retrain}
  - {name: label-drift, drift: label, action: notify}
  - {name: error-adwin, detector: adwin, signal: error, action: retrain}
schedule: rate(1 day)
windows: [P1D]
"""


def concept_steps(anchor: datetime) -> list[Step]:
    start = _day("2026-11-24T00:00:00Z")
    return [
        (
            "upload",
            "baselines/payments-risk/training.csv",
            data.transactions(
                12_000, seed=31, start=start - pd.Timedelta(days=7), hours=24 * 7, error=0.03
            ),
        ),
        ("upload", "config/payments-risk.yaml", CONCEPT),
        (
            "upload",
            "inference/payments-risk/2026/11/24/00/transactions.csv",
            (
                today := data.transactions(
                    20_000,
                    seed=32,
                    start=start,
                    hours=24,
                    error=0.03,
                    attack_error=0.6,
                    night_region="west",
                )
            ).drop(columns="is_fraud"),
        ),
        (
            "upload",
            "labels/payments-risk/2026/11/24/outcomes.csv",
            today[["transaction_id", "is_fraud"]],
        ),
        ("schedule", datetime(2026, 11, 25, 0, tzinfo=UTC), None),
    ]


def concept_verify(outcome: Outcome) -> list[str]:
    unmet = []
    if "input-drift" not in outcome.checks("pass"):
        unmet.append("input drift should stay quiet (inputs are stable)")
    if "accuracy-floor" not in outcome.checks("fail"):
        unmet.append("accuracy should fall below 0.95")
    slices = [s["slice"] for r in outcome.reports.values() for s in r.get("worst_slices", [])]
    if not slices or "region=west" not in slices[0]:
        unmet.append(f"the worst slice should be in region west at night; got {slices[:2]}")
    if not outcome.detections.get("error-adwin"):
        unmet.append("ADWIN on the error rate should fire")
    if not any(e["name"].startswith("payments-risk-retrain-") for e in outcome.executions):
        unmet.append("a retrain on recent labelled data should start")
    return unmet


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "churn",
            "Churn model, monthly data",
            "accuracy 0.84 < 0.85 -> retrain",
            churn_steps,
            churn_verify,
        ),
        Scenario(
            "credit",
            "Credit scoring per segment",
            "subprime Gini -6 % vs its own baseline -> retrain; prime healthy",
            credit_steps,
            credit_verify,
        ),
        Scenario(
            "fraud",
            "Fraud under adversarial attack",
            "ADWIN on errors within hours -> emergency retrain on the newest rows -> canary "
            "(10 %) -> promoted",
            fraud_steps,
            fraud_verify,
            config=FRAUD,
            live=fraud_live,
            endpoint="fraud-endpoint",
        ),
        Scenario(
            "recommender",
            "Recommender drift, two kinds",
            "PSI on item categories -> time-based retrain, blocked at the holdout gate (not "
            "better); CTR SPRT on one cohort -> targeted retrain -> champion-challenger canary "
            "-> promoted",
            recommender_steps,
            recommender_verify,
            config=RECOMMENDER,
            live=recommender_live,
            endpoint="rec-endpoint",
        ),
        Scenario(
            "concept",
            "Concept drift with stable inputs",
            "inputs quiet, accuracy falls, worst slice west at night, ADWIN -> retrain",
            concept_steps,
            concept_verify,
        ),
    )
}
