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

from collections.abc import Callable, Mapping
from typing import Any

from driftline.aws.retraining.backends import collect, train
from driftline.aws.retraining.context import RetrainingServices, StepEvent
from driftline.aws.retraining.gates import evaluate, register
from driftline.aws.retraining.messages import notify
from driftline.aws.retraining.preparation import prepare
from driftline.aws.retraining.rollout import analyse, deploy_canary, promote, rollback
from driftline.errors import InvalidInputError


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
