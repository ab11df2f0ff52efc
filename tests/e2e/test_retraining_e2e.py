"""The retraining state machine of template.yaml, executed by moto's Step Functions with the
real retrain function in-process (the local runtime), on data that went through the real
upload handlers.

Covered: a scheduled evaluation that fails its accuracy floor starts retraining and a
better challenger is promoted after its canary; a worse one is rolled back; a training
failure is caught, notified, and leaves the champion serving; a segment regression blocks
promotion at the holdout gate; starting twice with one name gives one execution.

The canary's traffic is logged in the current hour's folders (moto's executions run in real
time, and a canary counts the traffic from the hour it started).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.aws.model_store import ModelRegistry
from driftline.aws.retrain import RetrainStarter
from driftline.aws.s3 import ObjectStore
from driftline.local import LocalRuntime
from driftline.model_store import Lineage, ModelVersion, sha256_of

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
WINDOW_END = datetime(2026, 11, 20, tzinfo=UTC)
CONFIG = """\
model: credit
schema:
  id: request_id
  timestamp: event_time
  task: binary_classification
  prediction: predicted
  score: score
  label: defaulted
  positive_class: 1
  features: {income: numeric, utilisation: numeric, region: categorical}
  segments: [risk_segment]
baseline: {path: baselines/credit/reference.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
retraining:
  estimator: logistic_regression
  holdout_share: 0.25
  metric: auc
  margin: 0.01
  segment_tolerance: 0.02
  canary: {traffic: 0.2, min_rows: 200, max_rows: 2000, poll: PT1S, duration: PT5M}
"""


def request(name: str = "manual") -> dict[str, Any]:
    """The execution input the act step writes (driftline.alerts)."""
    return {
        "model": "credit",
        "action": "retrain",
        "evaluation_id": f"credit-{name}",
        "training_window": "P7D",
        "window_end": WINDOW_END.isoformat(),
        "deploy": None,
        "canary_traffic": None,
        "triggered_by": ["accuracy-floor"],
        "segments": [],
    }


def credit_rows(
    rng: np.random.Generator, n: int, start: datetime, prefix: str, *, segment_trap: bool = False
) -> pd.DataFrame:
    """Defaults explained by utilisation and income; the serving model's logged score uses
    them weakly. With ``segment_trap``, prime defaults are unrelated to the features and the
    serving model knows them (it sees what the features do not), so a retrained model gains
    in subprime but loses in prime."""
    income = rng.normal(50, 15, n)
    utilisation = rng.uniform(0, 1, n)
    segment = np.where(rng.uniform(size=n) < 0.3, "prime", "subprime")
    logit = 4 * (utilisation - 0.5) - 0.03 * (income - 50)
    probability = 1 / (1 + np.exp(-logit))
    if segment_trap:
        probability = np.where(segment == "prime", 0.5, probability)
    defaulted = (rng.uniform(size=n) < probability).astype(int)
    signal = 0.3 * logit + rng.normal(0, 1, n)
    if segment_trap:
        knows = np.where(defaulted == 1, 0.6, -0.6) + rng.normal(0, 1, n)
        signal = np.where(segment == "prime", knows, signal)
    score = 1 / (1 + np.exp(-signal))
    seconds = np.sort(rng.uniform(0, 3600, n))
    return pd.DataFrame(
        {
            "request_id": [f"{prefix}{i:05d}" for i in range(n)],
            "event_time": [(start + timedelta(seconds=float(s))).isoformat() for s in seconds],
            "income": income.round(2),
            "utilisation": utilisation.round(4),
            "region": rng.choice(["north", "south", "east"], n),
            "risk_segment": segment,
            "score": score.round(4),
            "predicted": (score > 0.5).astype(int),
            "defaulted": defaulted,
        }
    )


def csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False)


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(TEMPLATE) as deployed:
        yield deployed


def deploy_credit(
    runtime: LocalRuntime, *, segment_trap: bool = False, one_class: bool = False
) -> None:
    """Baseline, definition, and three days of predictions with their late labels."""
    rng = np.random.default_rng(11)
    runtime.upload("baselines/credit/reference.csv", csv(credit_rows(rng, 400, WINDOW_END, "b")))
    runtime.upload("config/credit.yaml", CONFIG)
    for days in (3, 2, 1):
        start = WINDOW_END - timedelta(days=days)
        rows = credit_rows(rng, 500, start, f"d{days}-", segment_trap=segment_trap)
        if one_class:
            rows["defaulted"] = 0
        runtime.upload(
            f"inference/credit/{start:%Y/%m/%d/%H}/batch.csv", csv(rows.drop(columns="defaulted"))
        )
        runtime.upload(
            f"labels/credit/{start:%Y/%m/%d}/labels.csv", csv(rows[["request_id", "defaulted"]])
        )


def upload_canary(
    runtime: LocalRuntime, *, champion_errors: float, challenger_errors: float
) -> None:
    """Each variant's live traffic, labels inline, in the current hour's folder (not within
    the last 30 s of an hour, so the canary starts in the same hour)."""
    now = datetime.now(UTC)
    if now.minute == 59 and now.second >= 30:
        time.sleep(61 - now.second)
        now = datetime.now(UTC)
    rng = np.random.default_rng(5)
    for variant, share in (("champion", champion_errors), ("challenger", challenger_errors)):
        rows = credit_rows(rng, 600, now, f"{variant}-")
        wrong = rng.uniform(size=600) < share
        rows["predicted"] = np.where(wrong, 1 - rows["defaulted"], rows["defaulted"])
        runtime.upload(
            f"inference/credit/credit-ep/{variant}/{now:%Y/%m/%d/%H}/live.csv", csv(rows)
        )


def finish(runtime: LocalRuntime, sfn: Any, arn: str, *, timeout: float = 180) -> dict[str, Any]:
    """Wait for an execution to end; its description and the states it went through."""
    deadline = time.monotonic() + timeout
    while True:
        description = sfn.describe_execution(executionArn=arn)
        if description["status"] != "RUNNING":
            break
        assert time.monotonic() < deadline, f"{arn} still running after {timeout} s"
        time.sleep(0.25)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    states = [
        event["stateEnteredEventDetails"]["name"]
        for event in events
        if "stateEnteredEventDetails" in event
    ]
    return {**description, "states": states}


def registry(runtime: LocalRuntime) -> ModelRegistry:
    store = ObjectStore(runtime.client("s3"), runtime.bucket)
    return ModelRegistry(runtime.client("dynamodb"), runtime.name_of("MonitorTable"), store)


def retrain_notifications(runtime: LocalRuntime) -> list[dict[str, Any]]:
    found = []
    for message in runtime.notifications():
        body = message["Message"]
        # The runtime's CloudWatch alarms page in their own format when a function fails.
        assert "--- machine-readable ---\n" in body, f"an alarm paged: {message['Subject']}"
        machine = json.loads(body.split("--- machine-readable ---\n", 1)[1])
        if machine["kind"].startswith("retraining."):
            found.append({"subject": message["Subject"], "body": body, "machine": machine})
    return found


def test_a_failed_accuracy_floor_retrains_and_a_better_challenger_is_promoted(
    runtime: LocalRuntime,
) -> None:
    # GIVEN a model whose labelled accuracy is below its 0.85 floor, and live canary traffic
    # in which the challenger errs less
    deploy_credit(runtime)
    upload_canary(runtime, champion_errors=0.2, challenger_errors=0.08)
    sfn = runtime.client("stepfunctions")

    # WHEN its scheduled evaluation runs (act starts the retraining state machine)
    runtime.run_schedules(WINDOW_END)
    (execution,) = runtime.executions()
    assert execution["name"].startswith("credit-retrain-")
    result = finish(runtime, sfn, execution["executionArn"])

    # THEN it trained, passed the gates, ran a canary and promoted the challenger
    assert result["status"] == "SUCCEEDED", result
    assert result["states"][:5] == ["Prepare", "ChooseBackend", "Train", "Evaluate", "GatesPassed"]
    assert result["states"][-6:] == [
        "WaitForTraffic",
        "AnalyseCanary",
        "CanaryDecision",
        "Promote",
        "NotifyPromoted",
        "Promoted",
    ]
    output = json.loads(result["output"])
    assert output["prepared"]["window"] == {
        "start": "2026-08-22T00:00:00Z",  # actions.retrain.training_window: P90D
        "end": "2026-11-20T00:00:00Z",
    }
    assert output["evaluation"]["challenger"] > output["evaluation"]["champion"]
    assert output["analysis"]["decision"] == "promote"
    assert output["analysis"]["test"]["name"] == "two_proportion_z"
    models = registry(runtime)
    assert models.traffic("credit").champion == 1
    champion = models.version("credit", 1)
    assert champion.status == "champion"
    assert champion.lineage is not None
    assert champion.lineage.triggered_by == ("accuracy-floor",)
    assert champion.lineage.execution == execution["name"]
    data = ObjectStore(runtime.client("s3"), runtime.bucket).get(champion.artifact_key).body
    assert sha256_of(data) == champion.sha256
    (note,) = retrain_notifications(runtime)
    assert note["subject"] == "[driftline] credit: v1 promoted to champion"
    assert note["machine"]["outcome"] == "promoted"
    assert runtime.failures() == []

    # AND the schedule firing again starts nothing new (one execution per evaluation)
    runtime.run_schedules(WINDOW_END)
    assert [e["name"] for e in runtime.executions()] == [execution["name"]]


def test_a_worse_challenger_is_rolled_back(runtime: LocalRuntime) -> None:
    deploy_credit(runtime)
    upload_canary(runtime, champion_errors=0.08, challenger_errors=0.2)
    sfn = runtime.client("stepfunctions")
    arn, started = RetrainStarter(sfn, runtime.arn_of("RetrainStateMachine")).start(
        "credit-retrain-worse", request("worse")
    )
    assert started

    result = finish(runtime, sfn, arn)

    assert result["status"] == "SUCCEEDED", result
    assert result["states"][-4:] == ["CanaryDecision", "Rollback", "NotifyRolledBack", "RolledBack"]
    models = registry(runtime)
    assert models.version("credit", 1).status == "rolled_back"
    assert models.traffic("credit").weights() == {"champion": 1.0}
    (note,) = retrain_notifications(runtime)
    assert note["subject"] == "[driftline] credit: v1 rolled back, champion kept"
    assert "the challenger is worse" in note["body"]


def test_a_training_failure_is_caught_notified_and_leaves_the_champion_serving(
    runtime: LocalRuntime,
) -> None:
    # GIVEN v1 serving as champion, and a training window whose labels are all one class
    deploy_credit(runtime, one_class=True)
    models = registry(runtime)
    key, digest = models.put_artifact("credit", "earlier", b"champion model bytes")
    models.register(
        ModelVersion(
            model="credit",
            version=1,
            status="challenger",
            artifact_key=key,
            sha256=digest,
            lineage=Lineage(execution="earlier"),
        )
    )
    models.promote("credit", 1, at="2026-11-01T00:00:00Z", reason="first model")
    sfn = runtime.client("stepfunctions")

    # WHEN retraining runs
    arn, _ = RetrainStarter(sfn, runtime.arn_of("RetrainStateMachine")).start(
        "credit-retrain-fails", request("fails")
    )
    result = finish(runtime, sfn, arn)

    # THEN the training error was caught and notified, and the execution failed visibly
    assert result["status"] == "FAILED"
    assert result["error"] == "RetrainingFailed"
    assert result["states"] == [
        "Prepare",
        "ChooseBackend",
        "Train",
        "NotifyFailure",
        "RetrainingFailed",
    ]
    (note,) = retrain_notifications(runtime)
    assert note["subject"] == "[driftline] credit: retraining FAILED at train"
    assert note["machine"]["error"]["type"] == "ValueError"
    assert "class" in note["machine"]["error"]["message"]
    assert models.run("credit", "credit-retrain-fails")["failed_step"] == "train"
    # ... and the champion is untouched
    assert models.traffic("credit").weights() == {"champion": 1.0}
    assert models.traffic("credit").champion == 1
    assert [v.status for v in models.versions("credit")] == ["champion"]


def test_a_segment_regression_blocks_promotion_at_the_holdout_gate(runtime: LocalRuntime) -> None:
    # GIVEN data where a retrained model gains in subprime but loses in prime
    deploy_credit(runtime, segment_trap=True)
    sfn = runtime.client("stepfunctions")

    arn, _ = RetrainStarter(sfn, runtime.arn_of("RetrainStateMachine")).start(
        "credit-retrain-segment", request("segment")
    )
    result = finish(runtime, sfn, arn)

    # THEN the segment gate blocked it: nothing registered, nothing deployed
    assert result["status"] == "SUCCEEDED", result
    assert result["states"][-3:] == ["GatesPassed", "NotifyBlocked", "Blocked"]
    evaluation = json.loads(result["output"])["evaluation"]
    assert evaluation["blocked_by"] == ["segments"]
    (segments,) = [gate for gate in evaluation["gates"] if gate["name"] == "segments"]
    assert "risk_segment=prime" in segments["detail"]
    assert segments["value"] > 0.02
    models = registry(runtime)
    assert models.versions("credit") == []
    assert models.traffic("credit").champion is None
    (note,) = retrain_notifications(runtime)
    assert note["subject"] == "[driftline] credit: challenger blocked by the segments gate"


def test_starting_twice_with_one_name_runs_one_execution(runtime: LocalRuntime) -> None:
    deploy_credit(runtime, segment_trap=True)  # ends at the gate: quick
    sfn = runtime.client("stepfunctions")
    starter = RetrainStarter(sfn, runtime.arn_of("RetrainStateMachine"))

    first = starter.start("credit-retrain-twice", request("twice"))
    second = starter.start("credit-retrain-twice", request("twice"))
    finish(runtime, sfn, first[0])
    third = starter.start("credit-retrain-twice", request("twice"))

    assert first[1] is True and second == (first[0], False) and third == (first[0], False)
    assert [e["name"] for e in runtime.executions()] == ["credit-retrain-twice"]
    assert len(retrain_notifications(runtime)) == 1
