"""The ``notify`` step: how the retraining ended, told to on-call (SNS subject and body,
the EventBridge message) and recorded as the run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from driftline.aws.retraining.context import RetrainingServices, StepEvent, iso_utc
from driftline.formatting import short_number

MESSAGE_VERSION = 1


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
        "at": iso_utc(event.now),
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
            f"Holdout {evaluation['metric']}: challenger {short_number(evaluation['challenger'])}, "
            f"champion {short_number(evaluation['champion'])} "
            f"({evaluation.get('champion_source')})."
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


def error_text(error: Any) -> str:
    """A caught error as ``type: message``.

    >>> error_text({"Error": "States.Timeout", "Cause": "no answer"})
    'States.Timeout: no answer'
    """
    found = _error(error)
    return f"{found['type']}: {found['message']}"


def _without(value: Any, *keys: str) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {k: v for k, v in value.items() if k not in keys}


def trigger_text(request: Mapping[str, Any]) -> str:
    """Why the retraining ran, as the registry's lineage records it.

    >>> trigger_text({"action": "emergency_retrain", "triggered_by": ["error_adwin"]})
    'emergency_retrain asked by error_adwin'
    """
    checks = ", ".join(request.get("triggered_by") or []) or "an operator"
    return f"{request.get('action') or 'retrain'} asked by {checks}"
