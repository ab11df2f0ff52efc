"""`driftline demo`: the five scenarios reach their expected outcomes on the local runtime,
retraining included: the fraud and recommender challengers go through a canary on live
traffic and are promoted on the canary's statistics."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.aws.model_store import ModelRegistry
from driftline.aws.s3 import ObjectStore
from driftline.aws.store import MetricPoint
from driftline.cli import main
from driftline.config import load_monitor_definition
from driftline.demo import scenarios
from driftline.demo.serving import serve_canary
from driftline.local import LocalRuntime
from driftline.model_store import Lineage, ModelVersion
from driftline.training import TrainingSpec, dump_model, predict, train_model

pytestmark = pytest.mark.slow

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def _execution_block(out: str, prefix: str) -> str:
    """The lines the timeline prints for the execution whose name starts with ``prefix``."""
    match = re.search(rf"    EXECUTION {re.escape(prefix)}\S*: \w+\n((?:      .*\n)+)", out)
    assert match is not None, f"no execution {prefix}* in the timeline"
    return match.group(0)


def test_demo_reaches_every_expected_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    assert "5 of 5 scenarios reached their expected outcome" in out
    assert out.count("outcome: REACHED") == 5
    # The timeline names what arrived, what was said and what started.
    assert (
        "NOTIFY  [driftline] churn: CRITICAL - accuracy-floor failed (accuracy 0.84 < 0.85)" in out
    )
    assert "EXECUTION churn-retrain-" in out

    # Credit: the estimated subprime Gini pages on the unlabelled applications and starts a
    # retraining; the labels land weeks later, the measured check confirms, the estimate is
    # reconciled with them.
    reports = [
        json.loads(path.read_text()) for path in sorted((tmp_path / "credit").glob("*.json"))
    ]
    assert [{c["name"]: c["status"] for c in r["checks"]} for r in reports] == [
        {
            "subprime-gini-est": "fail",
            "subprime-gini": "skip",
            "prime-gini": "skip",
            "schema-columns": "pass",
            "scores-in-range": "pass",
        },
        {
            "subprime-gini-est": "fail",
            "subprime-gini": "fail",
            "prime-gini": "pass",
            "schema-columns": "pass",
            "scores-in-range": "pass",
        },
    ]
    credit = out[out.index("(credit) ===") : out.index("(fraud) ===")]
    estimated = credit.index("NOTIFY  [driftline] credit-scoring: CRITICAL - subprime-gini-est")
    started = credit.index("EXECUTION credit-scoring-retrain-credit-scoring-P30D-20261125T0000-")
    labels = credit.index("upload labels/credit-scoring/")
    measured = credit.index("NOTIFY  [driftline] credit-scoring: CRITICAL - subprime-gini failed")
    assert estimated < started < labels < measured
    assert "[ESTIMATED]" in credit[estimated:labels]
    assert "held    retrain: in cooldown" in credit[labels:]
    assert re.search(
        r"the estimate paged on 2026-11-25 00:00, before any label; the labels confirmed the "
        r"drop: realised 0\.\d{4}, inside the estimate's interval 0\.\d{4}-0\.\d{4}",
        credit,
    )

    # Fraud: the emergency retraining trains, passes its gates, runs a canary on live
    # traffic and is promoted by the canary's test, all printed with the numbers.
    fraud = _execution_block(out, "fraud-emergency_retrain-")
    assert ": SUCCEEDED" in fraud
    assert "Prepare -> Train -> Evaluate -> Register -> DeployCanary -> WaitForTraffic" in fraud
    assert fraud.rstrip().splitlines()[1].endswith("Promote -> NotifyPromoted -> Promoted")
    assert "decision: PROMOTE" in fraud
    rates = re.search(r"canary error_rate: challenger ([\d.]+) .* vs champion ([\d.]+)", fraud)
    assert rates is not None and float(rates.group(1)) < float(rates.group(2))
    assert re.search(r"two_proportion_z p = [\d.e+-]+", fraud)
    assert re.search(r"CANARY  fraud-emergency_retrain-\S+: live traffic: [\d,]+ requests", out)
    assert "NOTIFY  [driftline] fraud: v1 promoted to champion" in out

    # Recommender: the time-based retraining is blocked at the holdout gate (popularity
    # moved, tastes did not); the young cohort's targeted one is canaried and promoted.
    timed = _execution_block(out, "recommender-retrain-")
    assert "Prepare -> Train -> Evaluate -> NotifyBlocked -> Blocked" in timed
    assert "blocked by ['margin']" in timed
    targeted = _execution_block(out, "recommender-emergency_retrain-")
    assert "of cohort=young" in targeted
    assert "decision: PROMOTE" in targeted
    assert re.search(r"CANARY  recommender-emergency_retrain-\S+: .*\(cohort=young\)", out)

    # Executions of models without a retraining section stop at once, and say why.
    concept = _execution_block(out, "payments-risk-retrain-")
    assert "Prepare -> NotConfigured" in concept
    assert "has no retraining section" in concept


def test_one_scenario_and_a_missed_expectation_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A scenario whose expectation cannot be met must make the command fail, naming it.
    monkeypatch.setattr(
        scenarios.SCENARIOS["credit"], "verify", lambda outcome: ["planted failure"]
    )
    code = main(["demo", "--scenario", "credit", "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "NOT REACHED: planted failure" in out
    assert "0 of 1 scenarios reached their expected outcome; not reached: credit" in out


def _run(states: list[str], decision: str | None, status: str = "SUCCEEDED") -> dict[str, Any]:
    analysis = None if decision is None else {"decision": decision, "reason": "planted"}
    return {"status": status, "states": states, "output": {"analysis": analysis}}


CANARY_PATH = [
    "Prepare",
    "ChooseBackend",
    "Train",
    "Evaluate",
    "GatesPassed",
    "Register",
    "DeployMode",
    "DeployCanary",
    "WaitForTraffic",
    "AnalyseCanary",
    "CanaryDecision",
]


@pytest.mark.parametrize(
    ("run", "missing"),
    [
        (_run([*CANARY_PATH, "Promote", "NotifyPromoted", "Promoted"], "promote"), None),
        (_run([*CANARY_PATH, "Rollback", "NotifyRolledBack", "RolledBack"], "rollback"), "decide"),
        (_run(["Prepare", "ChooseBackend", "NotConfigured"], None), "go through Train"),
        (
            _run(["Prepare", "ChooseBackend", "Train", "NotifyFailure"], None, "FAILED"),
            "should succeed",
        ),
    ],
)
def test_a_scenario_expecting_a_promotion_is_not_reached_by_anything_else(
    run: dict[str, Any], missing: str | None
) -> None:
    unmet = scenarios.canary_unmet("x", run, expected="promote")
    if missing is None:
        assert unmet == []
    else:
        assert any(missing in problem for problem in unmet), unmet


def _credit_outcome(**changes: Any) -> scenarios.Outcome:
    """What the credit scenario should reach: an evaluation without labels whose estimated
    check failed and started a retraining, then one with every label whose measured check
    failed, reconciled and stored. ``changes`` spoil one part of it."""

    def report(day: str, coverage: float, statuses: dict[str, str]) -> dict[str, Any]:
        evaluation = f"credit-scoring-P30D-202611{day}T0000"
        reconciled = {scenarios.SUBPRIME: {"auc": {"inside": True}}} if coverage else {}
        return {
            "evaluation_id": evaluation,
            "window": {"end": f"2026-11-{day}T00:00:00+00:00"},
            "performance": {
                "labels": {"overall": {"coverage": coverage}},
                "reconciled": {"segments": reconciled},
            },
            "checks": [{"name": name, "status": status} for name, status in statuses.items()],
            "actions": [
                {"action": "retrain", "checks": [n for n in statuses if n.endswith("est")]}
            ],
        }

    early = report(
        "25",
        changes.get("early_coverage", 0.0),
        {
            "subprime-gini-est": changes.get("estimated", "fail"),
            "subprime-gini": "skip",
            "prime-gini": "skip",
        },
    )
    late = report(
        "28",
        1.0,
        {
            "subprime-gini-est": "fail",
            "subprime-gini": changes.get("measured", "fail"),
            "prime-gini": "pass",
        },
    )
    if changes.get("unreconciled"):
        late["performance"]["reconciled"]["segments"] = {}
    executions = (
        []
        if changes.get("no_execution")
        else [{"name": f"credit-scoring-retrain-{early['evaluation_id']}-abc"}]
    )
    point = MetricPoint("2026-11-28T00:00:00Z", "P30D", late["evaluation_id"], 1.0)
    batch = MetricPoint("2026-11-24T10:00:00Z", "batch", "credit-scoring-reconciled-ab", 1.0)
    kept = [] if changes.get("batch_not_stored") else [batch]
    stored = (
        {}
        if changes.get("not_stored")
        else {
            (record, scenarios.SUBPRIME): [*kept, point]
            for record in ("reconciled.auc.realised", "reconciled.auc.inside")
        }
    )
    return scenarios.Outcome(
        reports={r["evaluation_id"]: r for r in (late, early)},
        executions=executions,
        stored=stored,
    )


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({}, None),
        ({"early_coverage": 1.0}, "the first without labels"),
        ({"estimated": "pass"}, "subprime-gini-est should fail on the unlabelled"),
        ({"no_execution": True}, "should start from the estimate"),
        ({"measured": "pass"}, "subprime-gini should fail once the labels landed"),
        ({"unreconciled": True}, "reconciled with the labels"),
        ({"not_stored": True}, "should be stored"),
        ({"batch_not_stored": True}, "stored for the applications' batch"),
    ],
)
def test_the_credit_scenario_is_reached_only_when_the_estimate_pages_before_the_labels(
    changes: dict[str, Any], missing: str | None
) -> None:
    # GIVEN the credit scenario's outcome, or one with a part missing
    # WHEN it is verified
    unmet = scenarios.credit_verify(_credit_outcome(**changes))
    # THEN it is reached only when nothing is missing, and names what is
    if missing is None:
        assert unmet == []
    else:
        assert any(missing in problem for problem in unmet), unmet


# -- the demo's serving side (driftline.demo.serving) ------------------------------------


def test_canary_traffic_is_split_by_the_registry_and_answered_by_each_version() -> None:
    definition = load_monitor_definition(scenarios.FRAUD)
    spec = TrainingSpec(
        task="binary_classification",
        label="is_fraud",
        numeric=("amount",),
        categorical=("merchant_category", "region"),
    )
    now = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
    uploads: dict[str, bytes] = {}
    with LocalRuntime(TEMPLATE, stack="serving") as runtime:
        store = ObjectStore(runtime.client("s3"), runtime.bucket)
        models = ModelRegistry(runtime.client("dynamodb"), runtime.name_of("MonitorTable"), store)

        def serve(segments: list[str]) -> Any:
            return serve_canary(
                definition=definition,
                registry=models,
                upload=uploads.__setitem__,
                traffic=scenarios.fraud_live,
                now=now,
                seed=1,
                segments=segments,
                endpoint="ep",
            )

        # GIVEN no canary: nothing to route
        with pytest.raises(LookupError, match="no canary"):
            serve([])

        # GIVEN a challenger trained on attack traffic, with 20 % of the requests
        fitted = train_model(scenarios.fraud_live(now, 7), spec)
        key, digest = models.put_artifact("fraud", "serving-test", dump_model(fitted))
        models.register(
            ModelVersion(
                model="fraud",
                version=1,
                status="challenger",
                artifact_key=key,
                sha256=digest,
                lineage=Lineage(execution="serving-test"),
            )
        )
        models.start_canary("fraud", 1, 0.2, at=now.isoformat(), execution="serving-test")

        # WHEN a batch of live traffic is served, and one of the west region only
        served = serve([])
        west = serve(["region=west"])

    # THEN about a fifth went to the challenger, each arm logged under its variant folder
    share = served.rows["challenger"] / sum(served.rows.values())
    assert 0.17 < share < 0.23
    assert served.keys == {
        "champion": "inference/fraud/ep/champion/2026/12/02/07/live-1.csv",
        "challenger": "inference/fraud/ep/challenger/2026/12/02/07/live-1.csv",
    }
    challenger = pd.read_csv(io.BytesIO(uploads[served.keys["challenger"]]))
    champion = pd.read_csv(io.BytesIO(uploads[served.keys["champion"]]))
    # ... the challenger's rows carry its own predictions, the champion's the serving model's
    expected = predict(fitted, challenger, spec)
    assert np.array_equal(challenger["flagged"].to_numpy(), expected.prediction.astype(int))
    live = scenarios.fraud_live(now, 1).set_index("transaction_id")
    assert np.array_equal(
        champion["flagged"].to_numpy(), live.loc[champion["transaction_id"], "flagged"].to_numpy()
    )
    assert not np.array_equal(
        challenger["flagged"].to_numpy(),
        live.loc[challenger["transaction_id"], "flagged"].to_numpy(),
    )
    # ... and a cohort's batch holds that cohort only
    assert west.rows["challenger"] > 0
    for role in ("champion", "challenger"):
        assert set(pd.read_csv(io.BytesIO(uploads[west.keys[role]]))["region"]) == {"west"}
