"""The ``evaluate`` step (challenger against champion on the holdout, with the gates) and the
``register`` step (the challenger that passed them becomes a version in the registry)."""

from __future__ import annotations

from typing import Any

from driftline.aws.retraining.backends import external_predictions
from driftline.aws.retraining.context import (
    RetrainingServices,
    StepEvent,
    iso_utc,
    monitor_definition,
    retraining_spec,
    training_spec,
)
from driftline.aws.retraining.data import read_csv
from driftline.aws.retraining.messages import trigger_text
from driftline.model_store import Lineage, ModelVersion


def evaluate(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Challenger against champion on the holdout, overall and per segment, with gates."""
    from driftline.training.estimators import (  # noqa: PLC0415
        load_model,
        logged_predictions,
        predict,
    )
    from driftline.training.gates import (  # noqa: PLC0415
        GateSettings,
        compare_on_holdout,
        default_metric,
    )

    prepared, trained = event.result("prepared"), event.result("trained")
    definition = monitor_definition(services, event.model)
    schema = definition.schema_
    spec = retraining_spec(definition)
    tspec = training_spec(definition)
    holdout = read_csv(services.store.get(prepared["holdout_key"]).body, definition)
    if trained["backend"] == "lambda":
        data = services.registry.read_artifact(trained["artifact_key"], trained["sha256"])
        model = load_model(data, trained["sha256"], key=trained["artifact_key"])
        challenger = predict(model, holdout, tspec)
    else:
        challenger = external_predictions(services, prepared["predictions_key"], holdout, tspec)
    champion_number = prepared.get("champion")
    champion_record = (
        None
        if champion_number is None
        else services.registry.version(event.model, int(champion_number))
    )
    if champion_record is not None and champion_record.backend == "lambda":
        champion = predict(services.registry.load_model(champion_record), holdout, tspec)
        judged_against = champion_record.label
    else:
        champion = logged_predictions(
            holdout, task=schema.task, prediction=schema.prediction, score=schema.score
        )
        judged_against = "logged predictions of the serving model"
    metric = spec.metric or default_metric(schema.task, has_score=schema.score is not None)
    fairness = spec.fairness
    settings = GateSettings(
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
    comparison = compare_on_holdout(
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
        reason=trigger_text(request),
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
        created_at=iso_utc(event.now),
    )
    record = services.registry.register(candidate)
    return {"version": record.version, "label": record.label, "status": record.status}
