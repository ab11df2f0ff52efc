"""The retraining steps, the registry and the traffic adapters against moto, and the state
machine definition by inspection (its sagemaker and external branches cannot run locally).

The steps are called directly with the event the state machine would pass, so each side
effect is asserted where it lands: the S3 objects, the DynamoDB items, the SNS message, the
endpoint's variant weights and the Lambda alias's routing.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import pickle
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import numpy as np
import pandas as pd
import pytest
from botocore.validate import ParamValidator

from driftline.aws import jobs, retraining
from driftline.aws.jobs import Services
from driftline.aws.model_store import ModelRegistry
from driftline.aws.retraining import RetrainingServices
from driftline.aws.traffic import LambdaAliasTraffic, SageMakerEndpointTraffic
from driftline.errors import InvalidInputError
from driftline.model_store import (
    ArtifactIntegrityError,
    InvalidTransitionError,
    Lineage,
    ModelVersion,
    RegistryError,
    sha256_of,
)

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[3]
ASL = json.loads((ROOT / "infrastructure/statemachines/retrain.asl.json").read_text())
WINDOW_END = datetime(2026, 11, 20, tzinfo=UTC)
NOW = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)
EXECUTION = "credit-retrain-1"

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
  canary: {traffic: 0.2, min_rows: 200, max_rows: 2000, poll: PT1M, emergency_poll: PT5S,
           duration: PT2H}
"""
REQUEST = {
    "model": "credit",
    "action": "retrain",
    "evaluation_id": "credit-P1D-20261120T0000",
    "training_window": "P7D",
    "window_end": WINDOW_END.isoformat(),
    "deploy": None,
    "canary_traffic": None,
    "triggered_by": ["accuracy-floor"],
    "segments": [],
}


def credit_rows(rng: np.random.Generator, n: int, start: datetime, prefix: str) -> pd.DataFrame:
    """Defaults that utilisation and income explain; the serving model's logged score
    barely uses them (the champion to beat)."""
    income = rng.normal(50, 15, n)
    utilisation = rng.uniform(0, 1, n)
    logit = 4 * (utilisation - 0.5) - 0.03 * (income - 50)
    defaulted = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    score = 1 / (1 + np.exp(-(0.3 * logit + rng.normal(0, 1, n))))
    seconds = np.sort(rng.uniform(0, 3600, n))
    return pd.DataFrame(
        {
            "request_id": [f"{prefix}{i:05d}" for i in range(n)],
            "event_time": [(start + timedelta(seconds=float(s))).isoformat() for s in seconds],
            "income": income.round(2),
            "utilisation": utilisation.round(4),
            "region": rng.choice(["north", "south", "east"], n),
            "risk_segment": np.where(rng.uniform(size=n) < 0.4, "prime", "subprime"),
            "score": score.round(4),
            "predicted": (score > 0.5).astype(int),
            "defaulted": defaulted,
        }
    )


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


@pytest.fixture
def steps(services: Services) -> RetrainingServices:
    return RetrainingServices.from_services(
        services, lambda name: boto3.client(name, region_name=REGION)
    )


@pytest.fixture
def credit(services: Services) -> Services:
    """The credit model configured, with three days of labelled traffic before WINDOW_END
    (predictions and labels in separate files, joined by id)."""
    rng = np.random.default_rng(1)
    services.store.put("baselines/credit/reference.csv", csv(credit_rows(rng, 400, NOW, "b")))
    services.store.put("config/credit.yaml", CONFIG.encode())
    assert jobs.configure(services, "config/credit.yaml")["status"] == "stored"
    for days in (3, 2, 1):
        start = WINDOW_END - timedelta(days=days)
        rows = credit_rows(rng, 400, start, f"d{days}-")
        key = f"inference/credit/{start:%Y/%m/%d/%H}/batch.csv"
        services.store.put(key, csv(rows.drop(columns=["defaulted"])))
        jobs.profile_batch(services, key, received=start)
        label_key = f"labels/credit/{start:%Y/%m/%d}/labels.csv"
        services.store.put(label_key, csv(rows[["request_id", "defaulted"]]))
        jobs.ingest_labels(services, label_key, received=start)
    return services


def run(
    steps: RetrainingServices,
    step: str,
    state: dict[str, Any],
    *,
    now: datetime = NOW,
    outcome: str | None = None,
    execution: str = EXECUTION,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "step": step,
        "execution": execution,
        "now": now.isoformat(),
        "state": copy.deepcopy(state),
    }
    if outcome is not None:
        event["outcome"] = outcome
    return retraining.run_step(steps, event)


def through(steps: RetrainingServices, *names: str, state: dict[str, Any]) -> dict[str, Any]:
    """Run steps in order, storing each result where the state machine does."""
    where = {
        "prepare": "prepared",
        "train": "trained",
        "collect": "trained",
        "evaluate": "evaluation",
        "register": "registered",
        "deploy_canary": "canary",
        "analyse_canary": "analysis",
        "promote": "promoted",
        "rollback": "rolled_back",
    }
    for name in names:
        state[where[name]] = run(steps, name, state)
    return state


def upload_canary(
    services: Services, *, champion_errors: float, challenger_errors: float, at: datetime = NOW
) -> None:
    """Each variant's live traffic with the labels inline (as a fraud model's chargebacks)."""
    rng = np.random.default_rng(7)
    for variant, share in (("champion", champion_errors), ("challenger", challenger_errors)):
        rows = credit_rows(rng, 600, at, f"{variant}-")
        wrong = rng.uniform(size=600) < share
        rows["predicted"] = np.where(wrong, 1 - rows["defaulted"], rows["defaulted"])
        key = f"inference/credit/credit-ep/{variant}/{at:%Y/%m/%d/%H}/live.csv"
        services.store.put(key, csv(rows))
        jobs.profile_batch(services, key, received=at)


# -- prepare, train, evaluate ---------------------------------------------------------------


def test_prepare_joins_late_labels_and_holds_out_the_newest_rows(
    credit: Services, steps: RetrainingServices
) -> None:
    prepared = run(steps, "prepare", REQUEST)

    assert prepared["rows"] == {"batches": 3, "labelled": 1200, "train": 900, "holdout": 300}
    assert prepared["window"] == {"start": "2026-11-13T00:00:00Z", "end": "2026-11-20T00:00:00Z"}
    assert prepared["backend"] == "lambda" and prepared["deploy"] == "canary"
    assert prepared["canary"] == {
        "traffic": 0.2,
        "poll_seconds": 60,
        "duration_seconds": 7200,
        "metric": "error_rate",
    }
    train = pd.read_csv(io.BytesIO(gzip.decompress(credit.store.get(prepared["train_key"]).body)))
    holdout = pd.read_csv(
        io.BytesIO(gzip.decompress(credit.store.get(prepared["holdout_key"]).body))
    )
    assert train["defaulted"].notna().all() and holdout["defaulted"].notna().all()
    assert train["event_time"].max() < holdout["event_time"].min()
    assert set(holdout["request_id"].str[:3]) == {"d1-"}  # the most recent day


def test_without_a_retraining_section_nothing_is_trained(
    credit: Services, steps: RetrainingServices
) -> None:
    # GIVEN a definition that asks for retraining but does not say how
    text = CONFIG.partition("retraining:")[0]
    credit.store.put("config/credit.yaml", text.encode())
    jobs.configure(credit, "config/credit.yaml")

    # WHEN the state machine prepares THEN it stops there, and the run record says why
    prepared = run(steps, "prepare", REQUEST)
    assert prepared == {
        "configured": False,
        "model": "credit",
        "reason": "config/credit.yaml has no retraining section: nothing is trained or "
        "deployed (docs/retraining.md)",
    }
    assert steps.registry.run("credit", EXECUTION)["outcome"] == "not_configured"
    assert ASL["States"]["ChooseBackend"]["Choices"][0] == {
        "Variable": "$.prepared.configured",
        "BooleanEquals": False,
        "Next": "NotConfigured",
    }
    assert ASL["States"]["NotConfigured"]["Type"] == "Succeed"
    assert not credit.store.exists(f"retraining/credit/{EXECUTION}/train/data.csv.gz")


def test_an_emergency_shortens_the_canary_waits_but_keeps_the_gates(
    credit: Services, steps: RetrainingServices
) -> None:
    request = {**REQUEST, "action": "emergency_retrain", "deploy": "canary", "canary_traffic": 0.05}
    prepared = run(steps, "prepare", request)
    assert prepared["emergency"] is True
    assert prepared["canary"]["poll_seconds"] == 5
    assert prepared["canary"]["traffic"] == 0.05
    # the gates are states on every path from training to registration (see the ASL tests)


def test_prepare_without_enough_labelled_rows_fails_clearly(
    credit: Services, steps: RetrainingServices
) -> None:
    request = {**REQUEST, "window_end": "2026-11-18T00:00:00+00:00", "training_window": "PT1H"}
    with pytest.raises(Exception, match="no inference batches of credit between"):
        run(steps, "prepare", request)


def test_train_stores_the_artifact_with_its_sha256(
    credit: Services, steps: RetrainingServices
) -> None:
    state = through(steps, "prepare", "train", state=dict(REQUEST))
    trained = state["trained"]
    assert trained["artifact_key"] == f"models/credit/{EXECUTION}/model.joblib"
    assert trained["sha256"] == sha256_of(credit.store.get(trained["artifact_key"]).body)
    assert (trained["estimator"], trained["rows"]) == ("logistic_regression", 900)


def test_evaluate_judges_the_challenger_on_the_holdout_and_writes_the_report(
    credit: Services, steps: RetrainingServices
) -> None:
    state = through(steps, "prepare", "train", "evaluate", state=dict(REQUEST))
    evaluation = state["evaluation"]
    report = credit.store.get_json(evaluation["report_key"])

    assert evaluation["passed"] is True
    assert evaluation["metric"] == "auc"
    assert evaluation["champion_source"] == "logged predictions of the serving model"
    assert evaluation["challenger"] > evaluation["champion"] + 0.05
    assert [gate["name"] for gate in evaluation["gates"]] == ["margin", "segments"]
    assert set(report["segments"]) == {"risk_segment=prime", "risk_segment=subprime"}
    assert report["challenger"] == evaluation["challenger"]


def test_a_tampered_challenger_artifact_is_refused_at_evaluation(
    credit: Services, steps: RetrainingServices
) -> None:
    state = through(steps, "prepare", "train", state=dict(REQUEST))
    credit.store.put(state["trained"]["artifact_key"], pickle.dumps({"not": "the model"}))
    with pytest.raises(ArtifactIntegrityError, match="refusing to load models/credit/"):
        run(steps, "evaluate", state)


# -- register, canary, promote, rollback, notify --------------------------------------------


def test_a_better_canary_is_promoted_and_the_registry_says_so(
    credit: Services, steps: RetrainingServices, inbox: Callable[[], list[dict[str, Any]]]
) -> None:
    # GIVEN a registered challenger routed 20 % of the traffic
    state = through(steps, "prepare", "train", "evaluate", "register", state=dict(REQUEST))
    state = through(steps, "deploy_canary", state=state)
    assert state["registered"] == {"version": 1, "label": "v1", "status": "challenger"}
    assert steps.registry.traffic("credit").weights() == {"champion": 0.8, "challenger": 0.2}

    # WHEN the challenger's live traffic errs less than the champion's
    upload_canary(credit, champion_errors=0.2, challenger_errors=0.08)
    state = through(steps, "analyse_canary", "promote", state=state)
    assert run(steps, "notify", state, outcome="promoted") == {"sent": True, "outcome": "promoted"}

    # THEN the analysis promoted it with the numbers, and the registry records v1 champion
    analysis = state["analysis"]
    assert analysis["decision"] == "promote" and analysis["looks"] == 1
    assert analysis["champion"]["labelled"] == analysis["challenger"]["labelled"] == 600
    assert analysis["test"]["name"] == "two_proportion_z"
    assert steps.registry.traffic("credit").champion == 1
    version = steps.registry.version("credit", 1)
    assert version.status == "champion"
    assert version.history[0]["reason"].startswith("sequential test stopped early")
    assert version.lineage is not None
    assert version.lineage.triggered_by == ("accuracy-floor",)
    assert version.lineage.evaluation_id == "credit-P1D-20261120T0000"
    assert (version.lineage.training_rows, version.lineage.holdout_rows) == (900, 300)
    (message,) = inbox()
    assert message["Subject"] == "[driftline] credit: v1 promoted to champion"
    machine = json.loads(message["Message"].split("--- machine-readable ---\n", 1)[1])
    assert machine["kind"] == "retraining.promoted" and machine["champion"] == 1
    assert steps.registry.run("credit", EXECUTION)["outcome"] == "promoted"

    # AND notifying again (a retried task) sends nothing twice
    assert run(steps, "notify", state, outcome="promoted")["sent"] is False
    assert inbox() == []


def test_a_worse_canary_is_rolled_back_and_the_champion_keeps_serving(
    credit: Services, steps: RetrainingServices
) -> None:
    state = through(
        steps, "prepare", "train", "evaluate", "register", "deploy_canary", state=dict(REQUEST)
    )
    upload_canary(credit, champion_errors=0.08, challenger_errors=0.2)
    state = through(steps, "analyse_canary", state=state)
    assert state["analysis"]["decision"] == "rollback"
    state = through(steps, "rollback", state=state)

    assert state["rolled_back"]["rolled_back"] == 1
    assert steps.registry.traffic("credit").weights() == {"champion": 1.0}
    assert steps.registry.traffic("credit").champion is None
    assert steps.registry.version("credit", 1).status == "rolled_back"


def test_the_canary_waits_for_traffic_then_times_out(
    credit: Services, steps: RetrainingServices
) -> None:
    state = through(
        steps, "prepare", "train", "evaluate", "register", "deploy_canary", state=dict(REQUEST)
    )
    first = run(steps, "analyse_canary", state)
    assert first["decision"] == "continue"
    assert first["reason"] == "waiting for traffic: 0 of 200 labelled rows per arm"
    state["analysis"] = first
    later = run(steps, "analyse_canary", state, now=NOW + timedelta(hours=2))
    assert later["decision"] == "rollback" and later["looks"] == 2
    assert "time box" in later["reason"]


def test_a_failure_is_notified_with_the_step_and_the_error(
    credit: Services, steps: RetrainingServices, inbox: Callable[[], list[dict[str, Any]]]
) -> None:
    # GIVEN the state the Catch of the train task leaves (the Lambda error's JSON cause)
    state = through(steps, "prepare", state=dict(REQUEST))
    state["error"] = {
        "Error": "ValueError",
        "Cause": json.dumps({"errorType": "ValueError", "errorMessage": "only one class: 0"}),
    }

    run(steps, "notify", state, outcome="failed")

    (message,) = inbox()
    assert message["Subject"] == "[driftline] credit: retraining FAILED at train"
    machine = json.loads(message["Message"].split("--- machine-readable ---\n", 1)[1])
    assert machine["failed_step"] == "train"
    assert machine["error"] == {"type": "ValueError", "message": "only one class: 0"}
    assert "Failed at step train: ValueError: only one class: 0" in message["Message"]
    assert steps.registry.run("credit", EXECUTION)["failed_step"] == "train"


def test_rollback_after_a_failed_registration_finds_the_version_it_wrote(
    credit: Services, steps: RetrainingServices
) -> None:
    state = through(steps, "prepare", "train", "evaluate", state=dict(REQUEST))
    run(steps, "register", state)  # wrote, but the task "failed": no $.registered
    state["error"] = {"Error": "States.Timeout", "Cause": "timed out"}
    result = run(steps, "rollback", state)
    assert result["rolled_back"] == 1
    assert result["reason"] == "failed: States.Timeout: timed out"
    assert steps.registry.version("credit", 1).status == "rolled_back"


def test_unknown_steps_and_malformed_events_are_refused(steps: RetrainingServices) -> None:
    with pytest.raises(InvalidInputError, match="unknown retraining step 'fit'"):
        run(steps, "fit", {"model": "credit"})
    with pytest.raises(InvalidInputError, match="state: required key is missing"):
        retraining.run_step(steps, {"step": "prepare", "execution": "x", "now": "2026-01-01"})


# -- the registry on DynamoDB and S3 --------------------------------------------------------


def _candidate(execution: str, key: str, data: bytes) -> ModelVersion:
    return ModelVersion(
        model="fraud",
        version=1,
        status="challenger",
        artifact_key=key,
        sha256=sha256_of(data),
        lineage=Lineage(execution=execution, action="emergency_retrain"),
    )


@pytest.fixture
def registry(services: Services) -> ModelRegistry:
    return ModelRegistry(services.table.client, services.table.name, services.store)


def test_registration_numbers_versions_once_per_execution(
    registry: ModelRegistry, services: Services
) -> None:
    key, _ = registry.put_artifact("fraud", "run-a", b"model a")
    first = registry.register(_candidate("run-a", key, b"model a"))
    again = registry.register(_candidate("run-a", key, b"model a"))
    second = registry.register(_candidate("run-b", key, b"model a"))

    assert (first.version, again.version, second.version) == (1, 1, 2)
    items = services.table.client.query(
        TableName=services.table.name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "MODEL#fraud"}},
    )["Items"]
    assert sorted(item["SK"]["S"] for item in items) == [
        "REGISTERED#run-a",
        "REGISTERED#run-b",
        "VERSION#000001",
        "VERSION#000002",
    ]
    version_item = next(i for i in items if i["SK"]["S"] == "VERSION#000001")
    assert version_item["status"]["S"] == "challenger"
    assert version_item["sha256"]["S"] == sha256_of(b"model a")


def test_promotion_retires_the_old_champion_in_one_transaction(registry: ModelRegistry) -> None:
    key, _ = registry.put_artifact("fraud", "run-a", b"a")
    registry.register(_candidate("run-a", key, b"a"))
    registry.register(_candidate("run-b", key, b"a"))
    registry.start_canary("fraud", 1, 0.1, at="t1", execution="run-a")
    registry.promote("fraud", 1, at="t2", reason="won")
    registry.start_canary("fraud", 2, 0.25, at="t3", execution="run-b")

    registry.register(_candidate("run-c", key, b"a"))
    with pytest.raises(RegistryError, match="v2 is already in a canary"):
        registry.start_canary("fraud", 3, 0.1, at="t4", execution="run-c")

    split = registry.promote("fraud", 2, at="t5", reason="won again")
    assert split.champion == 2 and split.challenger is None
    assert registry.version("fraud", 1).status == "retired"
    assert registry.version("fraud", 1).history[-1] == {
        "status": "retired",
        "at": "t5",
        "reason": "replaced by v2",
    }
    assert registry.version("fraud", 2).status == "champion"
    assert registry.promote("fraud", 2, at="t6", reason="again") == split  # idempotent
    assert registry.champion("fraud") == registry.version("fraud", 2)
    with pytest.raises(InvalidTransitionError, match="cannot go from retired to champion"):
        registry.promote("fraud", 1, at="t7", reason="resurrect")


def test_a_tampered_artifact_in_the_bucket_is_refused_before_unpickling(
    registry: ModelRegistry, services: Services
) -> None:
    # GIVEN a registered model whose bytes are later replaced in the bucket
    from driftline.training import TrainingSpec, dump_model, train_model

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200)}).assign(y=lambda f: (f["x"] > 0).astype(int))
    data = dump_model(
        train_model(frame, TrainingSpec(task="binary_classification", label="y", numeric=("x",)))
    )
    key, digest = registry.put_artifact("fraud", "run-a", data)
    version = registry.register(_candidate("run-a", key, data))
    assert digest == version.sha256
    assert registry.load_model(version).predict(pd.DataFrame({"x": [-2.0, 2.0]})).tolist() == [
        0,
        1,
    ]
    services.store.put(key, pickle.dumps(ModelVersion))

    # WHEN it is loaded THEN it is refused with a clear error naming the key and digests
    with pytest.raises(ArtifactIntegrityError) as caught:
        registry.load_model(version)
    assert re.match(
        rf"refusing to load {key}: its SHA-256 is [0-9a-f]{{12}}\.\.\., the registry recorded "
        rf"{version.sha256[:12]}\.\.\. \(tampered or corrupted\)",
        str(caught.value),
    )


# -- traffic adapters -----------------------------------------------------------------------


def test_sagemaker_endpoint_weights_follow_the_canary(aws: None) -> None:
    # GIVEN an endpoint with a champion and a challenger variant
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    role = "arn:aws:iam::123456789012:role/sagemaker"
    for name in ("credit-v1", "credit-v2"):
        sagemaker.create_model(
            ModelName=name,
            ExecutionRoleArn=role,
            PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"},
        )
    sagemaker.create_endpoint_config(
        EndpointConfigName="credit-ab",
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
            for variant, model, weight in (
                ("champion", "credit-v1", 1.0),
                ("challenger", "credit-v2", 0.0),
            )
        ],
    )
    sagemaker.create_endpoint(EndpointName="credit-ep", EndpointConfigName="credit-ab")
    router = SageMakerEndpointTraffic(sagemaker, "credit-ep", "champion", "challenger")
    version = _candidate("run-a", "models/credit/run-a/model.tar.gz", b"m")

    def weights() -> dict[str, float]:
        variants = sagemaker.describe_endpoint(EndpointName="credit-ep")["ProductionVariants"]
        return {v["VariantName"]: v["DesiredWeight"] for v in variants}

    # WHEN the canary starts, then is promoted, then rolled back
    context = router.start_canary(version, 0.1)
    assert weights() == {"champion": 0.9, "challenger": 0.1}
    assert context["weights"] == {"champion": 0.9, "challenger": 0.1}
    router.promote(version, context)
    assert weights() == {"champion": 0.0, "challenger": 1.0}
    router.rollback(context)
    assert weights() == {"champion": 1.0, "challenger": 0.0}


def test_lambda_alias_routes_a_weight_to_the_challengers_function_version(aws: None) -> None:
    # GIVEN a serving function whose alias "live" points at version 1
    client = boto3.client("lambda", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="serve", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", "def handler(event, context):\n    return None\n")
    client.create_function(
        FunctionName="credit-serve",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
        Environment={"Variables": {"MODEL_BUCKET": "b"}},
    )
    client.publish_version(FunctionName="credit-serve")
    client.create_alias(FunctionName="credit-serve", Name="live", FunctionVersion="1")
    router = LambdaAliasTraffic(client, "credit-serve", "live")
    version = _candidate("run-a", "models/credit/run-a/model.joblib", b"m")
    version = ModelVersion.from_dict({**version.to_dict(), "version": 4})

    # WHEN the canary starts
    context = router.start_canary(version, 0.1)

    # THEN a new function version serves model v4, the alias sends it 10 %, $LATEST is as
    # it was
    challenger = context["challenger_version"]
    published = client.get_function_configuration(FunctionName="credit-serve", Qualifier=challenger)
    assert published["Environment"]["Variables"] == {
        "MODEL_BUCKET": "b",
        "DRIFTLINE_MODEL_VERSION": "4",
    }
    latest = client.get_function_configuration(FunctionName="credit-serve")
    assert latest["Environment"]["Variables"] == {"MODEL_BUCKET": "b"}
    alias = client.get_alias(FunctionName="credit-serve", Name="live")
    assert alias["FunctionVersion"] == "1"
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {challenger: 0.1}

    # AND promotion points the alias at the challenger alone; rollback back at version 1
    router.promote(version, context)
    alias = client.get_alias(FunctionName="credit-serve", Name="live")
    assert alias["FunctionVersion"] == challenger
    assert not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    router.rollback(context)
    assert client.get_alias(FunctionName="credit-serve", Name="live")["FunctionVersion"] == "1"


# -- the sagemaker and external backends ----------------------------------------------------


def _resolve(path: str, state: Any) -> Any:
    """A JSONPath of the simple form the definition uses ($.a.b.c)."""
    value = state
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def _tarball(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def sagemaker_backend(credit: Services) -> Iterator[Services]:
    text = CONFIG.replace(
        "  estimator: logistic_regression\n",
        "  backend: sagemaker\n"
        "  sagemaker: {image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/credit:3,\n"
        "              role_arn: 'arn:aws:iam::123456789012:role/driftline-training-credit',\n"
        "              instance_type: ml.m5.xlarge, max_runtime: PT2H,\n"
        "              hyperparameters: {epochs: 5, objective: binary}}\n",
    )
    credit.store.put("config/credit.yaml", text.encode())
    jobs.configure(credit, "config/credit.yaml")
    yield credit


def test_the_sagemaker_training_job_request_is_valid_for_the_sagemaker_api(
    sagemaker_backend: Services, steps: RetrainingServices
) -> None:
    # GIVEN the state after prepare, and the parameters the definition passes to SageMaker
    state = through(steps, "prepare", state=dict(REQUEST))
    task = ASL["States"]["TrainOnSageMaker"]
    assert task["Resource"] == "arn:aws:states:::sagemaker:createTrainingJob.sync"
    request = {
        key.removesuffix(".$"): _resolve(path, state) for key, path in task["Parameters"].items()
    }

    # THEN botocore's own validator accepts them as a CreateTrainingJob request
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateTrainingJob").input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    assert request["RoleArn"] == "arn:aws:iam::123456789012:role/driftline-training-credit"
    assert request["HyperParameters"] == {"epochs": "5", "objective": "binary"}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}
    assert request["TrainingJobName"].startswith("driftline-credit-")
    assert len(request["TrainingJobName"]) <= 63
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in request["InputDataConfig"]
    }
    assert channels == {
        "train": f"s3://driftline-test/retraining/credit/{EXECUTION}/train/",
        "holdout": f"s3://driftline-test/retraining/credit/{EXECUTION}/holdout/",
    }
    # ... and the ResultSelector reads what DescribeTrainingJob returns
    output = model.operation_model("DescribeTrainingJob").output_shape
    selected = task["ResultSelector"]
    assert selected["model_artifacts.$"] == "$.ModelArtifacts.S3ModelArtifacts"
    assert "S3ModelArtifacts" in output.members["ModelArtifacts"].members


def test_collect_takes_in_a_sagemaker_artifact_and_its_holdout_predictions(
    sagemaker_backend: Services, steps: RetrainingServices
) -> None:
    # GIVEN a finished training job's model.tar.gz and output.tar.gz in the bucket
    state = through(steps, "prepare", state=dict(REQUEST))
    holdout = pd.read_csv(
        io.BytesIO(
            gzip.decompress(sagemaker_backend.store.get(state["prepared"]["holdout_key"]).body)
        )
    )
    truth = holdout["defaulted"].to_numpy()
    score = np.clip(truth * 0.7 + 0.15 + np.random.default_rng(3).normal(0, 0.1, len(truth)), 0, 1)
    predictions = pd.DataFrame({"prediction": (score > 0.5).astype(int), "score": score})
    job = state["prepared"]["sagemaker"]["TrainingJobName"]
    out = f"retraining/credit/{EXECUTION}/sagemaker/{job}/output"
    model_tarball = _tarball("model.bin", b"weights")
    sagemaker_backend.store.put(f"{out}/model.tar.gz", model_tarball)
    sagemaker_backend.store.put(
        f"{out}/output.tar.gz", _tarball("holdout_predictions.csv", csv(predictions))
    )
    state["training_job"] = {
        "name": job,
        "status": "Completed",
        "model_artifacts": f"s3://driftline-test/{out}/model.tar.gz",
    }

    # WHEN collected and evaluated
    state = through(steps, "collect", "evaluate", state=state)

    # THEN the artifact is under models/ with its digest, and judged by its predictions
    trained = state["trained"]
    assert trained["artifact_key"] == f"models/credit/{EXECUTION}/model.tar.gz"
    assert trained["sha256"] == sha256_of(model_tarball)
    assert sagemaker_backend.store.get(trained["artifact_key"]).body == model_tarball
    assert state["evaluation"]["passed"] is True
    assert state["evaluation"]["challenger"] > 0.9


def test_an_artifact_outside_the_bucket_is_refused(
    sagemaker_backend: Services, steps: RetrainingServices
) -> None:
    state = through(steps, "prepare", state=dict(REQUEST))
    state["training_job"] = {"model_artifacts": "s3://someone-else/model.tar.gz"}
    with pytest.raises(InvalidInputError, match="outside the monitoring bucket driftline-test"):
        run(steps, "collect", state)


def test_an_external_answer_with_the_wrong_hash_is_refused(
    credit: Services, steps: RetrainingServices
) -> None:
    credit.store.put(
        "config/credit.yaml",
        CONFIG.replace(
            "  estimator: logistic_regression\n",
            "  backend: external\n  external: {timeout: PT3H}\n",
        ).encode(),
    )
    jobs.configure(credit, "config/credit.yaml")
    state = through(steps, "prepare", state=dict(REQUEST))
    detail = state["prepared"]["external"]
    assert detail["timeout_seconds"] == detail["heartbeat_seconds"] == 10800
    assert (
        detail["detail"]["predictions_key"]
        == f"retraining/credit/{EXECUTION}/holdout/predictions.csv"
    )
    credit.store.put("pipelines/credit/model.pkl", b"weights")
    state["external"] = {
        "artifact_key": "pipelines/credit/model.pkl",
        "sha256": sha256_of(b"other"),
    }
    refused = r"refusing to load pipelines/credit/model\.pkl"
    with pytest.raises(ArtifactIntegrityError, match=refused):
        run(steps, "collect", state)


# -- the state machine definition -----------------------------------------------------------


def _targets(state: dict[str, Any]) -> list[str]:
    found = [state["Next"]] if "Next" in state else []
    found += [choice["Next"] for choice in state.get("Choices", [])]
    found += [state["Default"]] if "Default" in state else []
    found += [catch["Next"] for catch in state.get("Catch", [])]
    return found


def _reachable(start: str, *, without: str | None = None) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name == without:
            continue
        seen.add(name)
        todo += _targets(ASL["States"][name])
    return seen


def test_every_task_catches_every_error_and_every_state_is_reachable() -> None:
    states = ASL["States"]
    assert _reachable(ASL["StartAt"]) == set(states)
    for name, state in states.items():
        for target in _targets(state):
            assert target in states, (name, target)
        if state["Type"] == "Task":
            (catch,) = state["Catch"]
            assert catch["ErrorEquals"] == ["States.ALL"], name
            assert catch["ResultPath"] in ("$.error", "$.rollback_error", "$.notify_error")
    assert {states[n]["Type"] for n in ("RetrainingFailed", "NotificationFailed")} == {"Fail"}


def test_lambda_tasks_name_real_steps_and_pass_the_whole_state() -> None:
    for name, state in ASL["States"].items():
        if state.get("Resource") != "${RetrainFunctionArn}":
            continue
        parameters = state["Parameters"]
        assert parameters["step"] in retraining.STEPS, name
        assert parameters["state.$"] == "$"
        assert parameters["now.$"] == "$$.State.EnteredTime"  # no step reads a clock
        assert parameters["execution.$"] == "$$.Execution.Name"
        if parameters["step"] == "notify":
            assert parameters["outcome"] in ("promoted", "rolled_back", "blocked", "failed")


def test_no_path_reaches_registration_or_deployment_without_the_gates() -> None:
    # Removing the evaluation (or the gate choice) cuts Register and the canary off: an
    # emergency, which only shortens the waits, cannot skip them.
    for gate in ("Evaluate", "GatesPassed"):
        cut = _reachable(ASL["StartAt"], without=gate)
        assert {"Register", "DeployCanary", "Promote"}.isdisjoint(cut), gate
    choice = ASL["States"]["GatesPassed"]
    assert choice["Choices"] == [
        {"Variable": "$.evaluation.passed", "BooleanEquals": True, "Next": "Register"}
    ]


def test_failures_after_registration_roll_back_before_notifying() -> None:
    states = ASL["States"]
    for name in ("Register", "DeployCanary", "AnalyseCanary", "Promote"):
        assert states[name]["Catch"][0]["Next"] == "RollbackAfterFailure", name
    for name in (
        "Prepare",
        "Train",
        "TrainOnSageMaker",
        "TrainExternally",
        "CollectArtifact",
        "Evaluate",
    ):
        assert states[name]["Catch"][0]["Next"] == "NotifyFailure", name
    assert states["RollbackAfterFailure"]["Next"] == "NotifyFailure"
    assert states["NotifyFailure"]["Next"] == "RetrainingFailed"


def test_the_canary_loop_waits_a_parameterised_time_between_analyses() -> None:
    states = ASL["States"]
    assert states["WaitForTraffic"] == {
        "Type": "Wait",
        "Comment": states["WaitForTraffic"]["Comment"],
        "SecondsPath": "$.prepared.canary.poll_seconds",
        "Next": "AnalyseCanary",
    }
    decision = states["CanaryDecision"]
    assert {c["StringEquals"]: c["Next"] for c in decision["Choices"]} == {
        "promote": "Promote",
        "rollback": "Rollback",
    }
    assert decision["Default"] == "WaitForTraffic"


def test_the_external_backend_waits_for_a_callback_with_a_timeout() -> None:
    task = ASL["States"]["TrainExternally"]
    assert task["Resource"] == "arn:aws:states:::events:putEvents.waitForTaskToken"
    (entry,) = task["Parameters"]["Entries"]
    assert entry["EventBusName"] == "${EventBusName}"
    assert entry["Detail"]["task_token.$"] == "$$.Task.Token"
    assert entry["Detail"]["request.$"] == "$.prepared.external.detail"
    assert task["TimeoutSecondsPath"] == "$.prepared.external.timeout_seconds"
    assert task["HeartbeatSecondsPath"] == "$.prepared.external.heartbeat_seconds"
    assert task["Next"] == ASL["States"]["TrainOnSageMaker"]["Next"] == "CollectArtifact"


def test_the_definition_uses_jsonpath_and_only_known_substitutions() -> None:
    text = (ROOT / "infrastructure/statemachines/retrain.asl.json").read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) == {"RetrainFunctionArn", "EventBusName"}
    assert "QueryLanguage" not in ASL and "{%" not in text  # no JSONata
