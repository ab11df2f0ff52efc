"""The adapters a job uses, and what every job reads through them: the monitor definition,
the baseline profile, input files within their limits, stored documents, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from driftline.aws.limits import InputLimits
from driftline.aws.notify import Notifier
from driftline.aws.retrain import RetrainStarter
from driftline.aws.s3 import ObjectStore, StoredObject
from driftline.aws.schedules import Schedules
from driftline.aws.store import Table
from driftline.config.definition import MonitorDefinition
from driftline.config.loading import load_monitor_definition
from driftline.evaluation import capture_columns
from driftline.io import TableReader, open_table
from driftline.profile.dataset import Reference

#: Attempts at a versioned write before giving up (each re-reads the state).
WRITE_ATTEMPTS = 20
#: Rows an input file is read and profiled by at a time.
CHUNK_ROWS = 50_000


@dataclass
class Services:
    """The adapters a job uses."""

    store: ObjectStore
    table: Table
    notifier: Notifier
    retrain: RetrainStarter
    schedules: Schedules | None = None
    #: Hands a held input to the function for its kind (``inference`` or ``labels``) as its
    #: S3 event would; None: held inputs are processed in this invocation.
    redeliver: Callable[[str, str, str, datetime], None] | None = None
    namespace: str = "Driftline"
    log: Callable[..., None] = lambda message, **fields: None
    #: How large an input file may be (bytes, rows); larger ones are quarantined.
    limits: InputLimits = field(default_factory=InputLimits)


def load_definition(services: Services, model: str) -> MonitorDefinition | None:
    """The model's stored monitor definition, or None when none was stored.

    Raises:
        ConfigError: the stored definition no longer validates.
    """
    stored = services.table.definition(model)
    if stored is None:
        return None
    return load_monitor_definition(stored["yaml"], source=f"config/{model}.yaml")


def load_reference(services: Services, model: str) -> Reference | None:
    """The model's stored baseline profile, or None when it has none (or it is gone)."""
    key = services.table.reference_key(model)
    if key is None:
        return None
    try:
        return Reference.from_dict(services.store.get_json(key))
    except KeyError:
        services.log("baseline profile missing", model=model, key=key)
        return None


def get_input(services: Services, key: str) -> StoredObject:
    """An input file's object, read whole (so bounded by the limits' bytes).

    Raises:
        ObjectTooLargeError: the object is larger than the input limits allow.
    """
    return services.store.get(key, max_bytes=services.limits.of(key).max_bytes)


def read_input(
    services: Services, body: bytes, key: str, definition: MonitorDefinition
) -> TableReader:
    """An input file's rows, refused past the input limits (``file_too_large``,
    ``too_many_rows``)."""
    limits = services.limits.of(key)
    return open_table(
        body,
        name=key,
        chunk_rows=CHUNK_ROWS,
        capture=capture_columns(definition),
        max_bytes=limits.max_bytes,
        max_rows=limits.max_rows,
    )


def stored_document(services: Services, key: str) -> dict[str, Any] | None:
    """A stored JSON document, or None when there is none."""
    try:
        document = services.store.get_json(key)
    except KeyError:
        return None
    return document if isinstance(document, dict) else None


def now_utc() -> datetime:
    """The clock, read only at the edges (handlers), never in the core."""
    return datetime.now(UTC)
