"""Acting on a result: the alert policy's plan written with its outbox, then delivered
(notifications sent, retraining executions started), once."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from driftline.alerts.planning import plan_actions
from driftline.alerts.states import ActionState, AlertState
from driftline.aws.emf import emit
from driftline.aws.jobs.services import WRITE_ATTEMPTS, Services, now_utc
from driftline.aws.store import ConflictError
from driftline.config.definition import MonitorDefinition


def act(
    services: Services,
    definition: MonitorDefinition,
    result: Mapping[str, Any],
    *,
    now: datetime,
    report: str | None = None,
) -> dict[str, Any]:
    """Notify and start retraining as the alert policy plans (driftline.alerts), once.

    The new states and an *outbox* item per notification and execution start are written in
    one transaction, each state conditional on the version read: of two concurrent
    invocations acting on the same evaluation only one wins; the other re-plans on the fresh
    states, which show the work done. The outbox is then delivered (:func:`deliver_outbox`):
    an item is claimed by deleting it, sent, and put back if sending fails, and the error
    propagates so the invocation is retried (or lands in the on-failure destination). So a
    failed send is retried rather than lost, and the next act on the model delivers any
    leftover.
    """
    model = definition.model
    deliver_outbox(services, model)
    for _ in range(WRITE_ATTEMPTS):
        alert_saved = services.table.states(model, "ALERT")
        action_saved = services.table.states(model, "ACTION")
        plan = plan_actions(
            definition,
            result,
            {name: AlertState.from_dict(v.document) for name, v in alert_saved.items()},
            {name: ActionState.from_dict(v.document) for name, v in action_saved.items()},
            now,
            report=report,
        )
        writes: list[tuple[str, str, Mapping[str, Any], int]] = [
            (kind, name, state.to_dict(), saved[name].version if name in saved else 0)
            for kind, states, saved in (
                ("ALERT", plan.alert_states, alert_saved),
                ("ACTION", plan.action_states, action_saved),
            )
            for name, state in states.items()
            if name not in saved or saved[name].document != state.to_dict()
        ]
        writes += [
            ("OUTBOX", f"notify:{item.dedup_key}", {"notification": item.to_dict()}, 0)
            for item in plan.notifications
        ]
        writes += [
            (
                "OUTBOX",
                f"start:{item.execution_name}",
                {
                    "start": {
                        "name": item.execution_name,
                        "input": item.input,
                        "action": item.action,
                    }
                },
                0,
            )
            for item in plan.retrain_starts
        ]
        try:
            services.table.put_states(model, writes)
        except ConflictError:
            continue
        break
    else:
        raise ConflictError(f"{model}: {WRITE_ATTEMPTS} conflicting writes of alert states")
    delivered = deliver_outbox(services, model)
    return {
        "notifications": [n.kind for n in plan.notifications],
        "executions": delivered["executions"],
        "suppressed": list(plan.suppressed),
    }


def deliver_outbox(services: Services, model: str) -> dict[str, Any]:
    """Send every pending notification and start every pending execution of a model."""
    executions: list[dict[str, Any]] = []
    sent = 0
    for name, pending in sorted(services.table.states(model, "OUTBOX").items()):
        document = pending.document
        try:
            claimed = services.table.claim_state(model, "OUTBOX", name, version=pending.version)
        except Exception:
            # The claim (a conditional delete) may have been applied with its answer lost (a
            # timeout): put the item back unless it is still there, so the retry sends it.
            _restore_outbox(services, model, name, document)
            raise
        if not claimed:
            continue  # another invocation took it
        try:
            if "notification" in document:
                note = document["notification"]
                services.notifier.send(
                    subject=note["subject"],
                    body=note["body"],
                    message=note["message"],
                    detail_type=f"driftline.check.{note['kind']}",
                )
                sent += 1
                counted = ({"model": model, "kind": str(note["kind"])}, {"Alerts": 1.0})
            else:
                start = document["start"]
                arn, new = services.retrain.start(start["name"], start["input"])
                executions.append({"execution": start["name"], "arn": arn, "new": new})
                action = str(start.get("action", "retrain"))
                counted = ({"model": model, "action": action}, {"RetrainingsStarted": float(new)})
        except Exception:
            # Not sent, or sent with the answer lost: the retry sends it (again), at least
            # once rather than at most once.
            _restore_outbox(services, model, name, document)
            raise
        emit(services.namespace, *counted, timestamp_ms=int(now_utc().timestamp() * 1000))
    return {"notifications": sent, "executions": executions}


def _restore_outbox(services: Services, model: str, name: str, document: Mapping[str, Any]) -> None:
    """Put a pending item back in the outbox, unless it is there already."""
    with contextlib.suppress(ConflictError):  # the claim did not happen: still pending
        services.table.put_state(model, "OUTBOX", name, document, version=0)
