"""Putting the challenger in service: the canary deployed and analysed, then the challenger
promoted or rolled back (the registry record and the serving side)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from driftline.aws.retraining.context import (
    RetrainingServices,
    StepEvent,
    canary_metric,
    iso_utc,
    monitor_definition,
    parse_time,
    retraining_spec,
)
from driftline.aws.retraining.data import CHUNK_ROWS, attach_labels, inference_batches, labels_since
from driftline.aws.retraining.messages import error_text
from driftline.aws.traffic import router_for
from driftline.canary.arms import ArmData, arm_from_rows
from driftline.canary.decision import CanarySettings, analyse_canary
from driftline.evaluation import capture_columns
from driftline.io import open_table


def deploy_canary(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Route the canary share to the challenger (registry record, then the serving side)."""
    prepared, registered = event.result("prepared"), event.result("registered")
    definition = monitor_definition(services, event.model)
    version = int(registered["version"])
    weight = float(prepared["canary"]["traffic"])
    record = services.registry.version(event.model, version)
    split = services.registry.start_canary(
        event.model, version, weight, at=iso_utc(event.now), execution=event.execution
    )
    serving = router_for(retraining_spec(definition), services.clients).start_canary(record, weight)
    return {
        "started_at": iso_utc(event.now),
        "champion": split.champion,
        "challenger": version,
        "weight": weight,
        "serving": serving,
    }


def analyse(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Champion against challenger on the traffic each served since the canary started."""
    canary = event.result("canary")
    definition = monitor_definition(services, event.model)
    spec = retraining_spec(definition)
    schema = definition.schema_
    started = parse_time(str(canary["started_at"]))
    since = started.replace(minute=0, second=0, microsecond=0)
    variants = {
        spec.canary.champion_variant: "champion",
        spec.canary.challenger_variant: "challenger",
    }
    served: dict[str, list[pd.DataFrame]] = {"champion": [], "challenger": []}
    end = event.now + timedelta(hours=1)
    for _, _, document in inference_batches(services, event.model, since, end):
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
    labels = labels_since(services, definition, since)
    metric = canary_metric(definition)
    assert schema.label is not None
    arms: dict[str, ArmData] = {}
    for role, frames in served.items():
        empty = pd.DataFrame(
            columns=[c for c in (schema.id, schema.label, schema.prediction, schema.score) if c]
        )
        frame = pd.concat(frames, ignore_index=True) if frames else empty
        frame = attach_labels(frame, definition, labels)
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


def promote(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Make the challenger the champion: the serving side first, then the registry."""
    registered = event.result("registered")
    definition = monitor_definition(services, event.model)
    version = int(registered["version"])
    record = services.registry.version(event.model, version)
    previous = services.registry.traffic(event.model).champion
    context = (event.state.get("canary") or {}).get("serving") or {}
    serving = router_for(retraining_spec(definition), services.clients).promote(record, context)
    analysis = event.state.get("analysis")
    reason = (
        str(analysis["reason"])
        if isinstance(analysis, dict)
        else "deployed directly: the holdout gates passed"
    )
    services.registry.promote(event.model, version, at=iso_utc(event.now), reason=reason)
    return {"champion": version, "previous": previous, "reason": reason, "serving": serving}


def rollback(services: RetrainingServices, event: StepEvent) -> dict[str, Any]:
    """Send every request back to the champion; mark the challenger rolled back."""
    definition = monitor_definition(services, event.model)
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
        reason = "failed: " + error_text(error)
    canary = event.state.get("canary")
    serving: dict[str, Any] = {}
    if isinstance(canary, dict):
        serving = router_for(retraining_spec(definition), services.clients).rollback(
            canary.get("serving") or {}
        )
    split = services.registry.rollback(event.model, version, at=iso_utc(event.now), reason=reason)
    return {
        "rolled_back": version,
        "champion": split.champion,
        "reason": reason,
        "serving": serving,
    }
