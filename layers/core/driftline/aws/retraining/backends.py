"""The training backends: ``train`` fits in the function (``lambda``); ``collect`` takes in
what ``sagemaker`` or an ``external`` pipeline produced, and its holdout predictions."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pandas as pd

from driftline.aws.retraining.context import (
    RetrainingServices,
    StepEvent,
    monitor_definition,
    training_spec,
)
from driftline.aws.retraining.data import read_csv
from driftline.errors import InvalidInputError


def train(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """The ``lambda`` backend: fit the configured estimator on the training rows."""
    from driftline.training.estimators import dump_model, train_model  # noqa: PLC0415

    prepared = event.result("prepared")
    definition = monitor_definition(services, event.model)
    spec = training_spec(definition)
    frame = read_csv(services.store.get(prepared["train_key"]).body, definition)
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
            from driftline.model_store import verify_artifact  # noqa: PLC0415

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


def external_predictions(
    services: RetrainingServices, key: str, holdout: pd.DataFrame, tspec: Any
) -> Any:
    """The holdout predictions a ``sagemaker`` or ``external`` backend wrote to ``key``.

    Raises:
        InvalidInputError: none were written (``missing_predictions``), or not one
            ``prediction`` per holdout row (``bad_predictions``).
    """
    from driftline.training.data import class_array  # noqa: PLC0415
    from driftline.training.estimators import Predictions  # noqa: PLC0415

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
