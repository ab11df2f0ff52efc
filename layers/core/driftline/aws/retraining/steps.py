"""The retraining steps the state machine runs (infrastructure/statemachines/retrain.asl.json).

Each step is a small function of ``(services, event)`` returning a JSON-able dict that the
state machine stores under its own key of the execution state::

    prepare          → $.prepared    training data window, time holdout, settings
    train            → $.trained     lambda backend: fit, store the artifact + SHA-256
    collect          → $.trained     sagemaker/external backends: take in their artifact
    evaluate         → $.evaluation  challenger vs champion on the holdout, the gates
    register         → $.registered  a new challenger version in the registry
    deploy_canary    → $.canary      route the canary share to the challenger
    analyse_canary   → $.analysis    promote / continue / rollback, with the numbers
    promote          → $.promoted    the challenger becomes the champion
    rollback         → $.rolled_back the champion serves everything again
    notify           → $.notified    tell on-call how it ended, record the run

The event is ``{"step", "execution", "now", "state"}`` (plus ``"outcome"`` for notify):
``state`` is the whole execution state, ``now`` the state's entry time from the context
object, so no step reads a clock. Every step is safe to run twice (a retried task): keys
are derived from the execution name, registry writes are conditional.

The execution input is the request the act step writes (:mod:`driftline.alerts`):
``model, action, evaluation_id, training_window, window_end, deploy, canary_traffic,
triggered_by, segments``.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from driftline.aws.jobs import Services, digest, load_definition, rows_key_of, time_of
from driftline.aws.notify import Notifier
from driftline.aws.registry import ModelRegistry
from driftline.aws.s3 import ObjectStore
from driftline.aws.traffic import router_for
from driftline.canary import ArmData, CanarySettings, analyse_canary, arm_from_rows
from driftline.config import MonitorDefinition, RetrainingSpec, parse_duration
from driftline.errors import ConfigError, InsufficientDataError, InvalidInputError
from driftline.evaluation import capture_columns
from driftline.io import open_table
from driftline.labels import LabelTable, join_labels
from driftline.registry import Lineage, ModelVersion

#: Column prepare adds: the hour of the inference batch a row came from.
BATCH_HOUR = "_batch_hour"
CHUNK_ROWS = 50_000
MESSAGE_VERSION = 1


@dataclass
class RetrainingServices:
    """The adapters the steps use; ``clients(name)`` makes a boto3 client on demand (the
    traffic adapters' SageMaker or Lambda)."""

    store: ObjectStore
    notifier: Notifier
    registry: ModelRegistry
    jobs: Services
    clients: Callable[[str], Any]
    log: Callable[..., None] = lambda message, **fields: None

    @classmethod
    def from_services(cls, services: Services, clients: Callable[[str], Any]) -> RetrainingServices:
        registry = ModelRegistry(services.table.client, services.table.name, services.store)
        return cls(services.store, services.notifier, registry, services, clients, log=services.log)


@dataclass(frozen=True)
class StepEvent:
    """One task's input, as the state machine passes it."""

    step: str
    execution: str
    now: datetime
    state: dict[str, Any]
    outcome: str | None = None

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> StepEvent:
        """Raises:
        InvalidInputError: a key is missing or malformed (names it)."""
        for key in ("step", "execution", "now", "state"):
            if key not in event:
                raise InvalidInputError(f"retraining step event: {key}: required key is missing")
        state = event["state"]
        if not isinstance(state, dict) or not isinstance(state.get("model"), str):
            raise InvalidInputError("retraining step event: state.model: expected the model name")
        return cls(
            str(event["step"]),
            str(event["execution"]),
            _time(str(event["now"])),
            state,
            None if event.get("outcome") is None else str(event["outcome"]),
        )

    @property
    def model(self) -> str:
        return str(self.state["model"])

    def result(self, key: str) -> dict[str, Any]:
        """An earlier step's result.

        Raises:
            InvalidInputError: that step has not run in this execution.
        """
        value = self.state.get(key)
        if not isinstance(value, dict):
            raise InvalidInputError(f"retraining step {self.step}: no {key} in the state")
        return value


def run_step(services: RetrainingServices, event: Mapping[str, Any]) -> dict[str, Any]:
    """Run the step the event names.

    Raises:
        InvalidInputError: unknown step or malformed event.
    """
    parsed = StepEvent.parse(event)
    step = STEPS.get(parsed.step)
    if step is None:
        raise InvalidInputError(
            f"unknown retraining step {parsed.step!r}; expected one of {', '.join(STEPS)}"
        )
    result = step(services, parsed)
    services.log("retraining step done", step=parsed.step, model=parsed.model)
    return result


# -- settings -----------------------------------------------------------------------------


def _definition(services: RetrainingServices, model: str) -> MonitorDefinition:
    definition = load_definition(services.jobs, model)
    if definition is None:
        raise ConfigError(
            f"no monitor definition for model {model!r}: upload config/{model}.yaml",
            reason="no_monitor_definition",
        )
    return definition


def _spec(definition: MonitorDefinition) -> RetrainingSpec:
    return definition.retraining or RetrainingSpec()


def _training_spec(definition: MonitorDefinition) -> Any:
    from driftline.training import TrainingSpec, feature_columns  # noqa: PLC0415

    schema = definition.schema_
    spec = _spec(definition)
    assert schema.label is not None
    numeric, categorical = feature_columns(schema.features)
    positive = 1 if schema.positive_class is None else schema.positive_class
    return TrainingSpec(
        task=schema.task,
        label=schema.label,
        numeric=numeric,
        categorical=categorical,
        estimator=spec.estimator,
        params=dict(spec.params),
        seed=spec.seed,
        positive_class=positive,
    )


def canary_metric(definition: MonitorDefinition) -> str:
    """The canary metric: configured, else by task."""
    configured = _spec(definition).canary.metric
    if configured is not None:
        return configured
    task = definition.schema_.task
    return {"regression": "absolute_error", "ranking": "ctr"}.get(task, "error_rate")


# -- data ---------------------------------------------------------------------------------


def _text_columns(definition: MonitorDefinition) -> dict[str, str]:
    schema = definition.schema_
    columns = [name for name, kind in schema.features.items() if kind == "categorical"]
    columns += list(schema.segments)
    columns += [c for c in (schema.id, schema.sensitive) if c is not None]
    return dict.fromkeys(columns, "string")


def _read_csv(body: bytes, definition: MonitorDefinition) -> pd.DataFrame:
    text = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
    if not text.strip():
        return pd.DataFrame()
    frame = pd.read_csv(io.BytesIO(text))
    for column in _text_columns(definition):
        if column in frame.columns:
            frame[column] = frame[column].map(lambda v: None if pd.isna(v) else _text(v))
    return frame


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _write_csv(store: ObjectStore, key: str, frame: pd.DataFrame) -> None:
    store.put(
        key, gzip.compress(frame.to_csv(index=False).encode(), mtime=0), content_type="text/csv"
    )


def _batches(
    services: RetrainingServices, model: str, start: datetime, end: datetime
) -> Iterator[tuple[str, datetime, dict[str, Any]]]:
    """``(key, hour, document)`` of every inference batch profiled in ``[start, end)``."""
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        for key in services.store.keys(f"profiles/{model}/batches/{day:%Y/%m/%d}/"):
            hour = time_of(key)
            if hour is not None and start <= hour < end:
                yield key, hour, services.store.get_json(key)
        day += timedelta(days=1)


def _labels(
    services: RetrainingServices, definition: MonitorDefinition, since: datetime
) -> LabelTable | None:
    """Every label that arrived in a ``labels/<model>/`` folder dated on or after ``since``'s
    day (None when the schema has no id to join on)."""
    schema = definition.schema_
    if schema.id is None or schema.label is None:
        return None
    table = LabelTable()
    first = since.replace(hour=0, minute=0, second=0, microsecond=0)
    for key in services.store.keys(f"labels/{definition.model}/"):
        moment = time_of(key)
        if moment is not None and moment < first:
            continue
        reader = open_table(
            services.store.get(key).body,
            name=key,
            chunk_rows=CHUNK_ROWS,
            capture=capture_columns(definition),
        )
        for frame in reader:
            table.add(frame, id=schema.id, label=schema.label)
    return table


def _with_labels(
    frame: pd.DataFrame, definition: MonitorDefinition, labels: LabelTable | None
) -> pd.DataFrame:
    schema = definition.schema_
    assert schema.label is not None
    if labels is not None and schema.id is not None and schema.id in frame.columns:
        frame, _ = join_labels(frame, labels, id=schema.id, label=schema.label)
    elif schema.label not in frame.columns:
        frame = frame.assign(**{schema.label: None})
    return frame


def _in_segments(frame: pd.DataFrame, segments: list[str]) -> pd.DataFrame:
    """Rows in any of the ``column=value[,column=value]`` segments."""
    keep = pd.Series(False, index=frame.index)
    for segment in segments:
        match = pd.Series(True, index=frame.index)
        for part in segment.split(","):
            column, _, value = part.partition("=")
            if column not in frame.columns:
                match &= False
                continue
            match &= frame[column].astype("string") == value
        keep |= match
    return frame[keep]


# -- prepare ------------------------------------------------------------------------------


def prepare(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Collect the labelled rows of the training window, split off the newest as the
    holdout, write both, and resolve every setting the later steps need."""
    definition = _definition(services, event.model)
    request = event.state
    action = str(request.get("action") or "retrain")
    if definition.retraining is None:
        reason = (
            f"config/{event.model}.yaml has no retraining section: nothing is trained or "
            "deployed (docs/retraining.md)"
        )
        services.registry.record_run(
            event.model,
            event.execution,
            {
                "model": event.model,
                "execution": event.execution,
                "outcome": "not_configured",
                "action": action,
                "reason": reason,
                "at": _iso(event.now),
            },
        )
        return {"configured": False, "model": event.model, "reason": reason}
    from driftline.training import limit_rows, split_by_time  # noqa: PLC0415

    spec = definition.retraining
    schema = definition.schema_
    end = _time(str(request["window_end"])) if request.get("window_end") else event.now
    window = str(request.get("training_window") or "P90D")
    start = end - parse_duration(window)
    frames: list[pd.DataFrame] = []
    batches = 0
    for key, hour, document in _batches(services, event.model, start, end):
        if document.get("variant") == spec.canary.challenger_variant:
            continue  # served by a previous challenger: not the champion's predictions
        batch_id = key.rsplit("/", 1)[-1].removesuffix(".json")
        rows_key = rows_key_of(event.model, hour, batch_id)
        if not services.store.exists(rows_key):
            # Stored before rows were kept by the hour (profile format of 2026-11).
            rows_key = f"profiles/{event.model}/rows/{hour:%Y/%m/%d}/{batch_id}.csv.gz"
            if not services.store.exists(rows_key):
                continue
        frame = _read_csv(services.store.get(rows_key).body, definition)
        frames.append(frame.assign(**{BATCH_HOUR: hour.isoformat()}))
        batches += 1
    if not frames:
        raise InsufficientDataError(
            f"no inference batches of {event.model} between {_iso(start)} and {_iso(end)}",
            reason="no_training_data",
        )
    rows = _with_labels(
        pd.concat(frames, ignore_index=True), definition, _labels(services, definition, start)
    )
    assert schema.label is not None
    labelled = rows[rows[schema.label].notna()].reset_index(drop=True)
    segments = [str(s) for s in request.get("segments") or []]
    if spec.scope == "segments" and segments:
        labelled = _in_segments(labelled, segments).reset_index(drop=True)
    if len(labelled) < spec.min_training_rows:
        raise InsufficientDataError(
            f"{len(labelled)} labelled rows of {event.model} between {_iso(start)} and "
            f"{_iso(end)}; retraining needs at least {spec.min_training_rows} "
            "(retraining.min_training_rows)",
            reason="insufficient_training_data",
        )
    time_column = schema.timestamp if schema.timestamp in labelled.columns else BATCH_HOUR
    labelled = limit_rows(labelled, time=time_column, max_rows=spec.max_training_rows)
    train, holdout = split_by_time(
        labelled, time=time_column, holdout_share=spec.holdout_share, min_rows=10
    )
    base = f"retraining/{event.model}/{event.execution}"
    _write_csv(services.store, f"{base}/train/data.csv.gz", train)
    _write_csv(services.store, f"{base}/holdout/data.csv.gz", holdout)
    emergency = action == "emergency_retrain"
    canary = spec.canary
    champion = services.registry.traffic(event.model).champion
    prepared: dict[str, Any] = {
        "configured": True,
        "model": event.model,
        "action": action,
        "emergency": emergency,
        "backend": spec.backend,
        "deploy": str(request.get("deploy") or spec.deploy),
        "window": {"start": _iso(start), "end": _iso(end)},
        "segments": segments if spec.scope == "segments" else [],
        "train_key": f"{base}/train/data.csv.gz",
        "holdout_key": f"{base}/holdout/data.csv.gz",
        "predictions_key": f"{base}/holdout/predictions.csv",
        "rows": {
            "batches": batches,
            "labelled": len(labelled),
            "train": len(train),
            "holdout": len(holdout),
        },
        "champion": champion,
        "canary": {
            "traffic": float(request.get("canary_traffic") or canary.traffic),
            "poll_seconds": _seconds(canary.emergency_poll if emergency else canary.poll),
            "duration_seconds": _seconds(canary.duration),
            "metric": canary_metric(definition),
        },
    }
    if spec.backend == "sagemaker":
        prepared["sagemaker"] = _sagemaker_job(services, event, spec)
    if spec.backend == "external":
        prepared["external"] = _external_request(event, spec, prepared)
    return prepared


def _sagemaker_job(
    services: RetrainingServices, event: StepEvent, spec: RetrainingSpec
) -> dict[str, Any]:
    """The createTrainingJob request (the state machine passes it on as it is)."""
    settings = spec.sagemaker
    assert settings is not None
    bucket = services.store.bucket
    base = f"s3://{bucket}/retraining/{event.model}/{event.execution}"
    name = f"driftline-{event.model[:30]}-{digest(event.model, event.execution)[:20]}"

    def channel(name: str) -> dict[str, Any]:
        return {
            "ChannelName": name,
            "ContentType": "text/csv",
            "CompressionType": "Gzip",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"{base}/{name}/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }

    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": settings.image, "TrainingInputMode": "File"},
        "RoleArn": settings.role_arn,
        "InputDataConfig": [channel("train"), channel("holdout")],
        "OutputDataConfig": {"S3OutputPath": f"{base}/sagemaker/"},
        "ResourceConfig": {
            "InstanceType": settings.instance_type,
            "InstanceCount": settings.instance_count,
            "VolumeSizeInGB": settings.volume_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": _seconds(settings.max_runtime)},
        "HyperParameters": {
            key: json.dumps(value) if not isinstance(value, str) else value
            for key, value in sorted(settings.hyperparameters.items())
        },
        "Tags": [
            {"Key": "driftline:model", "Value": event.model},
            {"Key": "driftline:execution", "Value": event.execution[:256]},
        ],
    }


def _external_request(
    event: StepEvent, spec: RetrainingSpec, prepared: Mapping[str, Any]
) -> dict[str, Any]:
    settings = spec.external
    timeout = _seconds(settings.timeout) if settings else 6 * 3600
    heartbeat = _seconds(settings.heartbeat) if settings and settings.heartbeat else timeout
    return {
        "timeout_seconds": timeout,
        "heartbeat_seconds": heartbeat,
        "detail": {
            "model": event.model,
            "execution": event.execution,
            "train_key": prepared["train_key"],
            "holdout_key": prepared["holdout_key"],
            "predictions_key": prepared["predictions_key"],
            "artifact_prefix": f"models/{event.model}/{event.execution}/",
            **(dict(settings.detail) if settings else {}),
        },
    }


# -- train / collect ----------------------------------------------------------------------


def train(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """The ``lambda`` backend: fit the configured estimator on the training rows."""
    from driftline.training import dump_model, train_model  # noqa: PLC0415

    prepared = event.result("prepared")
    definition = _definition(services, event.model)
    spec = _training_spec(definition)
    frame = _read_csv(services.store.get(prepared["train_key"]).body, definition)
    model = train_model(frame, spec)
    key, sha256 = services.registry.put_artifact(event.model, event.execution, dump_model(model))
    return {
        "backend": "lambda",
        "artifact_key": key,
        "sha256": sha256,
        "estimator": spec.estimator_name,
        "params": dict(spec.params),
        "rows": len(frame),
    }


def collect(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """The ``sagemaker`` and ``external`` backends: take in the artifact they produced
    (copied under ``models/`` with its SHA-256) and the holdout predictions.

    SageMaker: the job's ``model.tar.gz``; the container writes
    ``holdout_predictions.csv`` (``prediction[,score]`` per holdout row, in order) to
    ``/opt/ml/output/data``, which arrives in ``output.tar.gz`` beside it. External: the
    task token's output names ``artifact_key`` (and may give its ``sha256``); the pipeline
    writes the predictions to the ``predictions_key`` it was sent.

    Raises:
        InvalidInputError: the artifact is outside the bucket, missing, or not the bytes
            the pipeline said (hash).
    """
    prepared = event.result("prepared")
    backend = prepared["backend"]
    if backend == "sagemaker":
        job = event.result("training_job")
        uri = str(job["model_artifacts"])
        key = _key_in_bucket(uri, services.store.bucket)
        data = services.store.get(key).body
        output_key = key.rsplit("/", 1)[0] + "/output.tar.gz"
        predictions = _member(services.store.get(output_key).body, "holdout_predictions.csv")
        services.store.put(prepared["predictions_key"], predictions, content_type="text/csv")
        name = "model.tar.gz"
        source = uri
    else:
        answer = event.result("external")
        source = str(answer.get("artifact_key", ""))
        if not source:
            raise InvalidInputError("the external pipeline answered without an artifact_key")
        data = services.store.get(_key_in_bucket(source, services.store.bucket)).body
        name = source.rsplit("/", 1)[-1] or "model"
        claimed = answer.get("sha256")
        if claimed is not None:
            from driftline.registry import verify_artifact  # noqa: PLC0415

            verify_artifact(data, str(claimed), key=source)
    key, sha256 = services.registry.put_artifact(event.model, event.execution, data, name=name)
    return {
        "backend": backend,
        "artifact_key": key,
        "sha256": sha256,
        "source": source,
        "estimator": None,
        "params": {},
    }


def _key_in_bucket(location: str, bucket: str) -> str:
    if not location.startswith("s3://"):
        return location
    found, _, key = location.removeprefix("s3://").partition("/")
    if found != bucket:
        raise InvalidInputError(
            f"artifact {location} is outside the monitoring bucket {bucket}",
            reason="artifact_outside_bucket",
        )
    return key


def _member(archive: bytes, name: str) -> bytes:
    """One file's bytes from a .tar.gz, read without extracting anything to disk."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.rsplit("/", 1)[-1] == name:
                extracted = tar.extractfile(member)
                assert extracted is not None
                return extracted.read()
    raise InvalidInputError(f"the training output has no {name}", reason="missing_predictions")


# -- evaluate -----------------------------------------------------------------------------


def evaluate(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Challenger against champion on the holdout, overall and per segment, with gates."""
    from driftline import training  # noqa: PLC0415

    prepared, trained = event.result("prepared"), event.result("trained")
    definition = _definition(services, event.model)
    schema = definition.schema_
    spec = _spec(definition)
    tspec = _training_spec(definition)
    holdout = _read_csv(services.store.get(prepared["holdout_key"]).body, definition)
    if trained["backend"] == "lambda":
        data = services.registry.read_artifact(trained["artifact_key"], trained["sha256"])
        model = training.load_model(data, trained["sha256"], key=trained["artifact_key"])
        challenger = training.predict(model, holdout, tspec)
    else:
        challenger = _external_predictions(services, prepared["predictions_key"], holdout, tspec)
    champion_number = prepared.get("champion")
    champion_record = (
        None
        if champion_number is None
        else services.registry.version(event.model, int(champion_number))
    )
    if champion_record is not None and champion_record.backend == "lambda":
        champion = training.predict(services.registry.load_model(champion_record), holdout, tspec)
        judged_against = champion_record.label
    else:
        champion = training.logged_predictions(
            holdout, task=schema.task, prediction=schema.prediction, score=schema.score
        )
        judged_against = "logged predictions of the serving model"
    metric = spec.metric or training.default_metric(schema.task, has_score=schema.score is not None)
    fairness = spec.fairness
    settings = training.GateSettings(
        metric=metric,
        margin=spec.margin,
        segment_tolerance=spec.segment_tolerance,
        min_segment_rows=spec.min_segment_rows,
        segments=tuple(schema.segments),
        positive_class=tspec.positive_class,
        fairness_metric=None if fairness is None else fairness.metric,
        fairness_min=None if fairness is None else fairness.min,
        fairness_max=None if fairness is None else fairness.max,
        sensitive=schema.sensitive,
    )
    assert schema.label is not None
    comparison = training.compare_on_holdout(
        holdout,
        label=schema.label,
        task=schema.task,
        challenger=challenger,
        champion=champion,
        settings=settings,
    )
    report = {**comparison.to_dict(), "champion_source": judged_against}
    report_key = f"retraining/{event.model}/{event.execution}/evaluation.json"
    services.store.put_json(report_key, report, compress=False)
    return {
        "passed": comparison.passed,
        "blocked_by": comparison.blocked_by,
        "metric": metric,
        "rows": comparison.rows,
        "challenger": comparison.challenger,
        "champion": comparison.champion,
        "improvement": comparison.improvement,
        "champion_source": judged_against,
        "gates": [gate.to_dict() for gate in comparison.gates],
        "report_key": report_key,
    }


def _external_predictions(
    services: RetrainingServices, key: str, holdout: pd.DataFrame, tspec: Any
) -> Any:
    from driftline.training import Predictions, class_array  # noqa: PLC0415

    try:
        body = services.store.get(key).body
    except KeyError:
        raise InvalidInputError(
            f"the training backend wrote no holdout predictions to {key}",
            reason="missing_predictions",
        ) from None
    frame = pd.read_csv(io.BytesIO(body))
    if "prediction" not in frame.columns or len(frame) != len(holdout):
        raise InvalidInputError(
            f"{key}: expected a prediction column and {len(holdout)} rows (one per holdout "
            f"row, in order), got columns {list(frame.columns)} and {len(frame)} rows",
            reason="bad_predictions",
        )
    if tspec.task == "regression":
        predicted = pd.to_numeric(frame["prediction"], errors="coerce").to_numpy(float)
    else:
        predicted = class_array(frame["prediction"])
    score = None
    if "score" in frame.columns:
        score = pd.to_numeric(frame["score"], errors="coerce").to_numpy(float)
    return Predictions(predicted, score)


# -- register -----------------------------------------------------------------------------


def register(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Register the challenger that passed the gates (idempotent per execution)."""
    prepared, trained = event.result("prepared"), event.result("trained")
    evaluation = event.result("evaluation")
    request = event.state
    lineage = Lineage(
        execution=event.execution,
        action=str(prepared["action"]),
        evaluation_id=request.get("evaluation_id"),
        triggered_by=tuple(request.get("triggered_by") or ()),
        segments=tuple(request.get("segments") or ()),
        data_start=prepared["window"]["start"],
        data_end=prepared["window"]["end"],
        training_rows=int(prepared["rows"]["train"]),
        holdout_rows=int(prepared["rows"]["holdout"]),
        parent=prepared.get("champion"),
        reason=_trigger_text(request),
    )
    candidate = ModelVersion(
        model=event.model,
        version=1,
        status="challenger",
        artifact_key=trained["artifact_key"],
        sha256=trained["sha256"],
        backend=trained["backend"],
        estimator=trained.get("estimator"),
        params=dict(trained.get("params") or {}),
        metrics={
            "holdout": {
                "metric": evaluation["metric"],
                "challenger": evaluation["challenger"],
                "champion": evaluation["champion"],
                "rows": evaluation["rows"],
            }
        },
        lineage=lineage,
        created_at=_iso(event.now),
    )
    record = services.registry.register(candidate)
    return {"version": record.version, "label": record.label, "status": record.status}


# -- canary -------------------------------------------------------------------------------


def deploy_canary(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Route the canary share to the challenger (registry record, then the serving side)."""
    prepared, registered = event.result("prepared"), event.result("registered")
    definition = _definition(services, event.model)
    version = int(registered["version"])
    weight = float(prepared["canary"]["traffic"])
    record = services.registry.version(event.model, version)
    split = services.registry.start_canary(
        event.model, version, weight, at=_iso(event.now), execution=event.execution
    )
    serving = router_for(_spec(definition), services.clients).start_canary(record, weight)
    return {
        "started_at": _iso(event.now),
        "champion": split.champion,
        "challenger": version,
        "weight": weight,
        "serving": serving,
    }


def analyse(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Champion against challenger on the traffic each served since the canary started."""
    canary = event.result("canary")
    definition = _definition(services, event.model)
    spec = _spec(definition)
    schema = definition.schema_
    started = _time(str(canary["started_at"]))
    since = started.replace(minute=0, second=0, microsecond=0)
    variants = {
        spec.canary.champion_variant: "champion",
        spec.canary.challenger_variant: "challenger",
    }
    served: dict[str, list[pd.DataFrame]] = {"champion": [], "challenger": []}
    end = event.now + timedelta(hours=1)
    for _, _, document in _batches(services, event.model, since, end):
        role = variants.get(str(document.get("variant")))
        if role is None:
            continue
        reader = open_table(
            services.store.get(str(document["source"])).body,
            name=str(document["source"]),
            chunk_rows=CHUNK_ROWS,
            capture=capture_columns(definition),
        )
        served[role].extend(reader)
    labels = _labels(services, definition, since)
    metric = canary_metric(definition)
    assert schema.label is not None
    arms: dict[str, ArmData] = {}
    for role, frames in served.items():
        empty = pd.DataFrame(
            columns=[c for c in (schema.id, schema.label, schema.prediction, schema.score) if c]
        )
        frame = pd.concat(frames, ignore_index=True) if frames else empty
        frame = _with_labels(frame, definition, labels)
        arms[role] = arm_from_rows(
            frame,
            metric=metric,
            task=schema.task,
            label=schema.label,
            prediction=schema.prediction,
            score=schema.score,
            positive_class=1 if schema.positive_class is None else schema.positive_class,
            latency=spec.canary.latency if spec.canary.latency in frame.columns else None,
        )
    settings = CanarySettings(
        metric=metric,
        alpha=spec.canary.alpha,
        min_rows=spec.canary.min_rows,
        max_rows=spec.canary.max_rows,
        duration_seconds=float(event.result("prepared")["canary"]["duration_seconds"]),
        min_effect=spec.canary.min_effect,
        max_invalid_share=spec.canary.max_invalid_share,
        max_latency_increase=spec.canary.max_latency_increase,
        seed=spec.seed,
    )
    previous = event.state.get("analysis") or {}
    previous_p = (previous.get("sequential") or {}).get("always_valid_p")
    decision = analyse_canary(
        arms["champion"],
        arms["challenger"],
        settings,
        elapsed_seconds=(event.now - started).total_seconds(),
        previous_p=None if previous_p is None else float(previous_p),
    )
    result = {**decision.to_dict(), "looks": int(previous.get("looks", 0)) + 1}
    key = f"retraining/{event.model}/{event.execution}/canary.json"
    services.store.put_json(key, result, compress=False)
    return {**result, "report_key": key}


# -- promote / rollback -------------------------------------------------------------------


def promote(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Make the challenger the champion: the serving side first, then the registry."""
    registered = event.result("registered")
    definition = _definition(services, event.model)
    version = int(registered["version"])
    record = services.registry.version(event.model, version)
    previous = services.registry.traffic(event.model).champion
    context = (event.state.get("canary") or {}).get("serving") or {}
    serving = router_for(_spec(definition), services.clients).promote(record, context)
    analysis = event.state.get("analysis")
    reason = (
        str(analysis["reason"])
        if isinstance(analysis, dict)
        else "deployed directly: the holdout gates passed"
    )
    services.registry.promote(event.model, version, at=_iso(event.now), reason=reason)
    return {"champion": version, "previous": previous, "reason": reason, "serving": serving}


def rollback(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Send every request back to the champion; mark the challenger rolled back."""
    definition = _definition(services, event.model)
    registered = event.state.get("registered")
    if isinstance(registered, dict):
        version: int | None = int(registered["version"])
    else:  # registration may have written before its task failed
        found = services.registry.registered(event.model, event.execution)
        version = None if found is None else found.version
    analysis, error = event.state.get("analysis"), event.state.get("error")
    if isinstance(analysis, dict) and analysis.get("decision") == "rollback" and error is None:
        reason = str(analysis["reason"])
    else:
        reason = "failed: " + _error_text(error)
    canary = event.state.get("canary")
    serving: dict[str, Any] = {}
    if isinstance(canary, dict):
        serving = router_for(_spec(definition), services.clients).rollback(
            canary.get("serving") or {}
        )
    split = services.registry.rollback(event.model, version, at=_iso(event.now), reason=reason)
    return {
        "rolled_back": version,
        "champion": split.champion,
        "reason": reason,
        "serving": serving,
    }


# -- notify -------------------------------------------------------------------------------

#: The results of the steps in the order they run; the first missing one after a failure
#: is where the execution failed.
_PROGRESS = (
    ("prepared", "prepare"),
    ("trained", "train"),
    ("evaluation", "evaluate"),
    ("registered", "register"),
    ("canary", "deploy_canary"),
    ("analysis", "analyse_canary"),
    ("promoted", "promote"),
)


def notify(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Tell on-call how the retraining ended (SNS + EventBridge) and record the run."""
    outcome = event.outcome or "failed"
    state = event.state
    model = event.model
    champion = services.registry.traffic(model).champion
    message: dict[str, Any] = {
        "version": MESSAGE_VERSION,
        "source": "driftline",
        "kind": f"retraining.{outcome}",
        "model": model,
        "execution": event.execution,
        "outcome": outcome,
        "action": state.get("action"),
        "evaluation_id": state.get("evaluation_id"),
        "triggered_by": list(state.get("triggered_by") or []),
        "champion": champion,
        "challenger": (state.get("registered") or {}).get("version"),
        "evaluation": _without(state.get("evaluation"), "gates"),
        "gates": (state.get("evaluation") or {}).get("gates", []),
        "canary": _without(state.get("analysis"), "guardrails"),
        "at": _iso(event.now),
    }
    if outcome == "failed":
        message["failed_step"] = _failed_step(state)
        message["error"] = _error(state.get("error"))
        if "rollback_error" in state:
            message["rollback_error"] = _error(state["rollback_error"])
    previous = services.registry.run(model, event.execution)
    if previous is not None and previous.get("outcome") == outcome:
        return {"sent": False, "reason": "already notified", "outcome": outcome}
    services.notifier.send(
        subject=_subject(model, outcome, message),
        body=_body(message, state),
        message=message,
        detail_type=f"driftline.retrain.{outcome}",
    )
    services.registry.record_run(model, event.execution, message)
    return {"sent": True, "outcome": outcome}


def _failed_step(state: Mapping[str, Any]) -> str | None:
    """The step that failed: the first whose result is missing from the state."""
    analysis = state.get("analysis")
    if isinstance(analysis, dict) and analysis.get("decision") == "rollback":
        return None if "rolled_back" in state else "rollback"
    return next((step for key, step in _PROGRESS if key not in state), None)


def _subject(model: str, outcome: str, message: Mapping[str, Any]) -> str:
    label = f"v{message['challenger']}" if message.get("challenger") is not None else "challenger"
    if outcome == "promoted":
        text = f"{label} promoted to champion"
    elif outcome == "rolled_back":
        text = f"{label} rolled back, champion kept"
    elif outcome == "blocked":
        gates = ", ".join((message.get("evaluation") or {}).get("blocked_by") or [])
        text = f"challenger blocked by the {gates} gate" + ("s" if "," in gates else "")
    else:
        text = f"retraining FAILED at {message.get('failed_step') or 'an unknown step'}"
    return f"[driftline] {model}: {text}"[:100]


def _body(message: Mapping[str, Any], state: Mapping[str, Any]) -> str:
    champion = message.get("champion")
    serving = f"v{champion}" if champion is not None else "the model serving before driftline"
    lines = [
        f"Retraining of {message['model']} ended: {message['outcome']}.",
        f"Execution {message['execution']} ({message.get('action')}), asked by "
        f"{', '.join(message['triggered_by']) or 'an operator'} in evaluation "
        f"{message.get('evaluation_id')}.",
        "",
    ]
    prepared = state.get("prepared") or {}
    if prepared:
        window = prepared.get("window", {})
        rows = prepared.get("rows", {})
        lines.append(
            f"Data: {window.get('start')} to {window.get('end')}, {rows.get('train')} rows to "
            f"train on, {rows.get('holdout')} held out (the most recent)."
        )
    evaluation = state.get("evaluation") or {}
    if evaluation:
        lines.append(
            f"Holdout {evaluation['metric']}: challenger {_fmt(evaluation['challenger'])}, "
            f"champion {_fmt(evaluation['champion'])} ({evaluation.get('champion_source')})."
        )
        for gate in evaluation.get("gates", []):
            mark = "pass" if gate["passed"] else "BLOCKS"
            lines.append(f"  * gate {gate['name']} ({mark}): {gate['detail']}")
    analysis = state.get("analysis") or {}
    if analysis:
        lines.append(f"Canary ({analysis.get('looks')} analyses): {analysis.get('reason')}")
    if message["outcome"] == "failed":
        error = message.get("error") or {}
        lines.append(
            f"Failed at step {message.get('failed_step')}: {error.get('type')}: "
            f"{error.get('message')}"
        )
    lines += ["", f"Serving now: {serving}. Nothing else to do unless this is unexpected."]
    return "\n".join(lines) + "\n"


def _error(error: Any) -> dict[str, Any]:
    """``{"type", "message"}`` of a caught error (the Lambda error's JSON cause decoded)."""
    if not isinstance(error, dict):
        return {"type": None, "message": None}
    kind, cause = error.get("Error"), error.get("Cause")
    message = cause
    if isinstance(cause, str):
        try:
            decoded = json.loads(cause)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            message = decoded.get("errorMessage", cause)
            kind = decoded.get("errorType", kind)
    return {"type": kind, "message": message}


def _error_text(error: Any) -> str:
    found = _error(error)
    return f"{found['type']}: {found['message']}"


def _without(value: Any, *keys: str) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {k: v for k, v in value.items() if k not in keys}


def _trigger_text(request: Mapping[str, Any]) -> str:
    checks = ", ".join(request.get("triggered_by") or []) or "an operator"
    return f"{request.get('action') or 'retrain'} asked by {checks}"


# -- small helpers ------------------------------------------------------------------------


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _seconds(duration: str) -> int:
    return max(1, int(parse_duration(duration).total_seconds()))


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.4g}"


STEPS: dict[str, Callable[[RetrainingServices, StepEvent], dict[str, Any]]] = {
    "prepare": prepare,
    "train": train,
    "collect": collect,
    "evaluate": evaluate,
    "register": register,
    "deploy_canary": deploy_canary,
    "analyse_canary": analyse,
    "promote": promote,
    "rollback": rollback,
    "notify": notify,
}
