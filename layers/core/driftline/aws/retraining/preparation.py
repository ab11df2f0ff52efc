"""The ``prepare`` step: the training window's labelled rows split into training data and a
time holdout, and every setting the later steps need (the backend's request included)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from driftline.aws.jobs.keys import rows_key_of
from driftline.aws.retraining.context import (
    RetrainingServices,
    StepEvent,
    canary_metric,
    duration_seconds,
    iso_utc,
    monitor_definition,
    parse_time,
)
from driftline.aws.retraining.data import (
    BATCH_HOUR,
    attach_labels,
    in_segments,
    inference_batches,
    labels_since,
    read_csv,
    write_csv,
)
from driftline.config.durations import parse_duration
from driftline.config.retraining import RetrainingSpec
from driftline.errors import InsufficientDataError
from driftline.ids import digest


def prepare(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Collect the labelled rows of the training window, split off the newest as the
    holdout, write both, and resolve every setting the later steps need."""
    definition = monitor_definition(services, event.model)
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
                "at": iso_utc(event.now),
            },
        )
        return {"configured": False, "model": event.model, "reason": reason}
    from driftline.training.data import limit_rows, split_by_time  # noqa: PLC0415

    spec = definition.retraining
    schema = definition.schema_
    end = parse_time(str(request["window_end"])) if request.get("window_end") else event.now
    window = str(request.get("training_window") or "P90D")
    start = end - parse_duration(window)
    frames: list[pd.DataFrame] = []
    batches = 0
    for key, hour, document in inference_batches(services, event.model, start, end):
        if document.get("variant") == spec.canary.challenger_variant:
            continue  # served by a previous challenger: not the champion's predictions
        batch_id = key.rsplit("/", 1)[-1].removesuffix(".json")
        rows_key = rows_key_of(event.model, hour, batch_id)
        if not services.store.exists(rows_key):
            # Stored before rows were kept by the hour (profile format of 2026-11).
            rows_key = f"profiles/{event.model}/rows/{hour:%Y/%m/%d}/{batch_id}.csv.gz"
            if not services.store.exists(rows_key):
                continue
        frame = read_csv(services.store.get(rows_key).body, definition)
        frames.append(frame.assign(**{BATCH_HOUR: hour.isoformat()}))
        batches += 1
    if not frames:
        raise InsufficientDataError(
            f"no inference batches of {event.model} between {iso_utc(start)} and {iso_utc(end)}",
            reason="no_training_data",
        )
    rows = attach_labels(
        pd.concat(frames, ignore_index=True), definition, labels_since(services, definition, start)
    )
    assert schema.label is not None
    labelled = rows[rows[schema.label].notna()].reset_index(drop=True)
    segments = [str(s) for s in request.get("segments") or []]
    if spec.scope == "segments" and segments:
        labelled = in_segments(labelled, segments).reset_index(drop=True)
    if len(labelled) < spec.min_training_rows:
        raise InsufficientDataError(
            f"{len(labelled)} labelled rows of {event.model} between {iso_utc(start)} and "
            f"{iso_utc(end)}; retraining needs at least {spec.min_training_rows} "
            "(retraining.min_training_rows)",
            reason="insufficient_training_data",
        )
    time_column = schema.timestamp if schema.timestamp in labelled.columns else BATCH_HOUR
    labelled = limit_rows(labelled, time=time_column, max_rows=spec.max_training_rows)
    train, holdout = split_by_time(
        labelled, time=time_column, holdout_share=spec.holdout_share, min_rows=10
    )
    base = f"retraining/{event.model}/{event.execution}"
    write_csv(services.store, f"{base}/train/data.csv.gz", train)
    write_csv(services.store, f"{base}/holdout/data.csv.gz", holdout)
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
        "window": {"start": iso_utc(start), "end": iso_utc(end)},
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
            "poll_seconds": duration_seconds(canary.emergency_poll if emergency else canary.poll),
            "duration_seconds": duration_seconds(canary.duration),
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
        "StoppingCondition": {"MaxRuntimeInSeconds": duration_seconds(settings.max_runtime)},
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
    timeout = duration_seconds(settings.timeout) if settings else 6 * 3600
    heartbeat = duration_seconds(settings.heartbeat) if settings and settings.heartbeat else timeout
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
