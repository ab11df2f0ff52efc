"""A baseline file uploaded: profiled into the reference, then the inputs held for it released."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pandas as pd

from driftline.aws.jobs.batches import profile_batch
from driftline.aws.jobs.holding import page_once, ready
from driftline.aws.jobs.labels import ingest_labels
from driftline.aws.jobs.rejections import model_of_input, reject
from driftline.aws.jobs.services import Services, read_input
from driftline.aws.store import ConflictError
from driftline.errors import DriftlineError, InvalidInputError
from driftline.evaluation import profile_spec
from driftline.ids import digest
from driftline.profile.dataset import build_reference


def build_baseline(services: Services, key: str) -> dict[str, Any]:
    """A baseline file uploaded: profile it (two passes) with its metrics; store and point."""
    found = model_of_input(services, key, "baselines", "baseline")
    if isinstance(found, dict):
        return found
    model, stored = found
    definition, _, problem = ready(services, model)
    if definition is None:
        if problem is not None and problem.reason == "stored_definition_invalid":
            page_once(services, model, problem, first=key)
        services.log("baseline waits for its monitor definition", key=key, model=model)
        return {"status": "waiting_for_definition"}
    if key != definition.baseline.path:
        return {"status": "ignored", "reason": f"baseline.path is {definition.baseline.path}"}
    definition_id = digest(json.dumps(definition.model_dump(mode="json"), sort_keys=True))
    reference_key = f"profiles/{model}/reference/{digest(key, stored.etag, definition_id)}.json"
    if services.store.exists(reference_key):
        services.table.put_reference(model, key=reference_key, source=key, etag=stored.etag)
        released = release_held(services, model)
        return {"status": "duplicate", "reference": reference_key, **released}
    readers: list[Any] = []

    def frames() -> Iterator[pd.DataFrame]:
        reader = read_input(services, stored.body, key, definition)
        readers.append(reader)
        yield from reader

    try:
        reference = build_reference(
            frames,
            profile_spec(definition),
            bins=definition.drift.bins,
            max_categories=definition.drift.max_categories,
            source=key,
        )
    except (InvalidInputError, DriftlineError) as exc:
        return reject(services, key, stored.etag, model=model, exc=exc, what="baseline")
    reference = reference.with_bad_rows(readers[-1].report.bad_rows)
    services.store.put_json_once(reference_key, reference.to_dict())
    services.table.put_reference(model, key=reference_key, source=key, etag=stored.etag)
    services.log("baseline profiled", model=model, rows=reference.profile.rows)
    released = release_held(services, model)
    return {
        "status": "built",
        "reference": reference_key,
        "rows": reference.profile.rows,
        **released,
    }


def release_held(services: Services, model: str) -> dict[str, Any]:
    """Process every input held for ``model`` (its baseline is now profiled), oldest first,
    and re-arm the held-inputs page.

    Each held file goes to the function for its kind (``services.redeliver``, an
    asynchronous invocation with the upload's S3 record: that function's own role, timeout,
    retries and on-failure destination apply), or is processed here when there is none (the
    tests, the CLI). A held file whose hand-over fails is put back and the error propagates
    (the invocation is retried; the rest stay held)."""
    held = sorted(
        services.table.states(model, "HELD").items(),
        key=lambda item: (str(item[1].document.get("at", "")), item[0]),
    )
    outcomes: dict[str, int] = {}
    for name, saved in held:
        document = saved.document
        if not services.table.claim_state(model, "HELD", name, version=saved.version):
            continue  # another invocation releases it
        try:
            received = datetime.fromisoformat(str(document["at"]))
            key = str(document["key"])
            if services.redeliver is not None:
                kind = str(document.get("kind", "inference"))
                services.redeliver(kind, key, str(document.get("etag", "")), received)
                outcome = {"status": "redelivered"}
            elif document.get("kind") == "labels":
                outcome = ingest_labels(services, key, received=received)
            else:
                outcome = profile_batch(services, key, received=received)
        except KeyError:
            outcome = {"status": "gone"}  # deleted since it was held: nothing to process
        except Exception:
            with contextlib.suppress(ConflictError):
                services.table.put_state(model, "HELD", name, document, version=0)
            raise
        status = str(outcome.get("status", "processed"))
        outcomes[status] = outcomes.get(status, 0) + 1
    for reason, saved in services.table.states(model, "HOLDPAGE").items():
        services.table.claim_state(model, "HOLDPAGE", reason, version=saved.version)
    if held:
        services.log("held inputs released", model=model, files=len(held), **outcomes)
    return {"released": len(held), **({"outcomes": outcomes} if outcomes else {})}
