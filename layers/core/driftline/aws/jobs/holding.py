"""Inputs whose model cannot process them yet (no monitor definition, no baseline profile):
held until it can, with one page per cause."""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

from driftline.aws.emf import emit
from driftline.aws.jobs.rejections import bounded, model_of_input
from driftline.aws.jobs.services import Services, load_definition, load_reference, now_utc
from driftline.aws.s3 import StoredObject
from driftline.aws.store import ConflictError
from driftline.config.definition import MonitorDefinition
from driftline.errors import ConfigError, DriftlineError, InvalidInputError
from driftline.ids import digest
from driftline.profile.dataset import Reference


class UsableInput(NamedTuple):
    """An input whose model can process it: the model, the object, its definition and
    baseline profile."""

    model: str
    stored: StoredObject
    definition: MonitorDefinition
    reference: Reference


def usable_input(
    services: Services, key: str, *, prefix: str, what: str, kind: str
) -> UsableInput | dict[str, Any]:
    """An input key's model, object, definition and baseline profile, or the outcome of an
    input that cannot be used now: rejected (a key outside ``<prefix>/<model>/``) or held
    (its model is not ready, :func:`hold`)."""
    found = model_of_input(services, key, prefix, what)
    if isinstance(found, dict):
        return found
    model, stored = found
    definition, reference, problem = ready(services, model)
    if definition is None or reference is None:
        assert problem is not None
        return hold(services, key, stored.etag, model=model, kind=kind, exc=problem)
    return UsableInput(model, stored, definition, reference)


def ready(
    services: Services, model: str
) -> tuple[MonitorDefinition | None, Reference | None, InvalidInputError | None]:
    """A model's definition and baseline profile, or why its inputs cannot be processed.

    A stored definition that no longer validates (stored before a rule it breaks was added)
    is a reason like the others, ``stored_definition_invalid``: the inputs wait for the
    definition to be uploaded again rather than fail on every event.
    """
    try:
        definition = load_definition(services, model)
    except ConfigError as exc:
        return (
            None,
            None,
            InvalidInputError(
                f"the stored monitor definition of model {model!r} no longer validates: "
                f"{bounded(str(exc), 1_000)}; upload config/{model}.yaml again, corrected; the "
                "held files are processed then",
                reason="stored_definition_invalid",
            ),
        )
    reference = load_reference(services, model) if definition else None
    if definition is None or reference is None:
        return definition, reference, _not_ready(services, model, definition)
    return definition, reference, None


def _not_ready(
    services: Services, model: str, definition: MonitorDefinition | None
) -> InvalidInputError:
    """Why a model's inputs cannot be processed yet: no monitor definition, no baseline
    profile, or a baseline profile the table points at that is no longer stored."""
    if definition is None:
        return InvalidInputError(
            f"no monitor definition for model {model!r}: upload config/{model}.yaml and its "
            "baseline; the held files are processed then",
            reason="no_monitor_definition",
        )
    if services.table.reference_key(model) is None:
        return InvalidInputError(
            f"no baseline profile for model {model!r}: upload {definition.baseline.path}; "
            "the held files are processed once it is profiled",
            reason="no_baseline",
        )
    return InvalidInputError(
        f"the baseline profile of model {model!r} is missing from the bucket: upload "
        f"{definition.baseline.path} again to rebuild it; the held files are processed then",
        reason="baseline_profile_missing",
    )


def hold(
    services: Services, key: str, etag: str, *, model: str, kind: str, exc: DriftlineError
) -> dict[str, Any]:
    """Hold an input its model cannot process yet (no definition or baseline profile):
    remember it, page once per model and cause however many files arrive, and process it
    when the baseline is profiled (:func:`release_held`). Nothing is lost, nothing loops."""
    held = {"key": key, "etag": etag, "kind": kind, "reason": exc.reason}
    with contextlib.suppress(ConflictError):  # held already (a redelivery): same item
        services.table.put_state(
            model, "HELD", digest(key), {**held, "at": now_utc().isoformat()}, version=0
        )
    page_once(services, model, exc, first=key)
    services.log("input held", model=model, key=key, reason=exc.reason)
    return {"status": "held", "reason": exc.reason}


def page_once(services: Services, model: str, exc: DriftlineError, *, first: str) -> bool:
    """Page that ``model``'s inputs are held for ``exc.reason``, unless already paged since
    the cause was last resolved. Returns whether this call paged."""
    try:
        services.table.put_state(
            model, "HOLDPAGE", exc.reason, {"at": now_utc().isoformat(), "first": first}, version=0
        )
    except ConflictError:
        return False
    try:
        services.notifier.send(
            subject=f"[driftline] {model}: inputs held ({exc.reason})",
            body=(
                f"driftline cannot process the inputs of {model} yet.\n\nReason: {exc.reason}\n"
                f"{bounded(str(exc))}\n\nFirst held: {first}\nEvery inference log and label "
                "file that arrives until then is held too (nothing is dropped) and processed "
                "when the cause is fixed. You will not be paged again for this cause until then."
            ),
            message={"kind": "inputs_held", "model": model, "reason": exc.reason, "first": first},
            detail_type="driftline.input.held",
        )
    except Exception:
        with contextlib.suppress(Exception):  # the retry pages
            services.table.claim_state(model, "HOLDPAGE", exc.reason, version=1)
        raise
    emit(
        services.namespace,
        {"model": model, "reason": exc.reason},
        {"HeldInputs": 1},
        timestamp_ms=int(now_utc().timestamp() * 1000),
    )
    return True
