"""What each Lambda function does, written against the adapters so it runs the same on AWS,
on moto in the tests and in the local runtime.

Every job is idempotent under at-least-once delivery:

- outputs live under deterministic keys derived from the input's key and are written
  with S3 conditional writes (the first write stands; a duplicate finds it and stops); a
  new version of an input (same key, new ETag) replaces its outputs;
- detector states carry a version and the batches already applied, so a duplicate label
  file changes nothing and two concurrent ones both land;
- alert and action states are versioned too, notifications are planned from them, and
  retraining executions have deterministic names (Step Functions refuses a second).

S3 layout (docs/aws.md)::

    config/<model>.yaml                              monitor definition (input)
    baselines/<model>/<file>                         reference data (input)
    inference/<model>/[...]/YYYY/MM/DD/HH/<file>     inference logs (input)
    labels/<model>/YYYY/MM/DD/<file>                 late labels (input)
    profiles/<model>/reference/<id>.json             reference profile + bins
    profiles/<model>/batches/YYYY/MM/DD/HH/<id>.json profile of one inference file (id: its key)
    profiles/<model>/rows/YYYY/MM/DD/HH/<id>.csv.gz  its monitored columns, for the label join
    profiles/<model>/labelled/YYYY/MM/DD/HH/<rows id>-<labels id>.json
                                                     profile of the rows one label file labelled,
                                                     under the hour of the predictions
    profiles/<model>/signals/<check>/<pair id>.json  a labelled pair's detector signal
    profiles/<model>/daily/<kind>/YYYY/MM/DD.json    one day of batches/ or labelled/ merged
    reports/<model>/<evaluation id>.json             evaluation results
    quarantine/<key> + quarantine/<key>.reason.json  rejected inputs
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd

from driftline.alerts import ActionState, AlertState, combine_windows, plan_actions
from driftline.aws.emf import emit, emit_many
from driftline.aws.limits import InputLimits
from driftline.aws.notify import Notifier
from driftline.aws.retrain import RetrainStarter
from driftline.aws.s3 import QUARANTINE, ObjectStore, ObjectTooLargeError, StoredObject
from driftline.aws.schedules import Schedules
from driftline.aws.store import ConflictError, Table
from driftline.checks import CheckResult, Status, effective_checks, segment_key
from driftline.config import (
    MODEL_NAME,
    CheckSpec,
    MonitorDefinition,
    load_monitor_definition,
    parse_duration,
    shown,
)
from driftline.detector_feed import feed
from driftline.detectors import make_detector
from driftline.detectors.base import DriftDetector
from driftline.errors import ConfigError, DriftlineError, InvalidInputError
from driftline.evaluation import EvaluationResult, Window, capture_columns, evaluate, profile_spec
from driftline.io import TableReader, open_table
from driftline.io.gzip_csv import GzipCsvWriter
from driftline.labels import JoinReport, LabelTable, conform_labels, id_text, join_labels
from driftline.metrics.classification import as_float_array
from driftline.profile.dataset import DatasetProfile, Reference, build_reference, profile_frames
from driftline.profile.performance import row_errors
from driftline.report import render_report

#: How far back a label file looks for the predictions it labels, at least: the longest
#: evaluation window of the model is used when longer (labels of a monthly model arrive
#: weeks later), up to :data:`MAX_LABEL_LOOKBACK`.
LABEL_LOOKBACK = timedelta(days=7)
MAX_LABEL_LOOKBACK = timedelta(days=92)
#: How far behind the newest labelled batch (in the event time of its predictions) a batch
#: may arrive and still be fed to the detectors in its place (docs/aws.md); an older one is
#: counted as late in the detector's state and not fed. As long as the shortest label
#: lookback: any labels that can still find their predictions can be put in their place.
REORDER_HORIZON = LABEL_LOOKBACK
#: Batches a detector state remembers having applied (duplicates older than this many
#: batches would be applied again; S3 redelivers within minutes).
APPLIED_MEMORY = 500
#: The evaluation status as the dashboard's ``Status`` metric plots it.
STATUS_LEVELS = {"ok": 0, "warning": 1, "critical": 2}
#: Attempts at a versioned write before giving up (each re-reads the state).
WRITE_ATTEMPTS = 20
CHUNK_ROWS = 50_000

_DATE_PARTS = re.compile(r"^(\d{4})/(\d{2})/(\d{2})(?:/(\d{2}))?$")


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


# -- helpers ------------------------------------------------------------------------------


def digest(*parts: str) -> str:
    """A short, stable id of the parts (object key + ETag, ...)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def model_of(key: str, prefix: str) -> str:
    """The model a key belongs to (``<prefix>/<model>/...``).

    Raises:
        InvalidInputError: the key is not under ``<prefix>/<model>/``.
    """
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != prefix or not parts[1]:
        raise InvalidInputError(
            f"expected a key {prefix}/<model>/<file>, got {key!r}", reason="unexpected_key"
        )
    if not MODEL_NAME.fullmatch(parts[1]):
        # No definition can ever name it: quarantined rather than held for it.
        raise InvalidInputError(
            f"expected a key {prefix}/<model>/<file> whose <model> is 1-64 lowercase letters, "
            f"digits or '-', got {key!r}",
            reason="unexpected_key",
        )
    return parts[1]


def _date_index(folders: list[str]) -> int | None:
    """Where ``YYYY/MM/DD`` starts among a key's folders (the first such run)."""
    widths = (4, 2, 2)
    for index in range(len(folders) - 2):
        if all(
            len(part) == width and part.isdigit()
            for part, width in zip(folders[index : index + 3], widths, strict=True)
        ):
            return index
    return None


def time_of(key: str) -> datetime | None:
    """The UTC time of a key's ``YYYY/MM/DD[/HH]`` folders, or None.

    >>> time_of("inference/churn/ep/AllTraffic/2026/11/24/13/a.jsonl").isoformat()
    '2026-11-24T13:00:00+00:00'
    >>> time_of("labels/churn/2026/11/24/a.csv").isoformat(), time_of("baselines/x/a.csv")
    ('2026-11-24T00:00:00+00:00', None)
    """
    folders = key.split("/")[:-1]
    index = _date_index(folders)
    if index is None:
        return None
    year, month, day = (int(part) for part in folders[index : index + 3])
    hour_part = folders[index + 3] if len(folders) > index + 3 else ""
    hour = int(hour_part) if len(hour_part) == 2 and hour_part.isdigit() else 0
    try:
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None


def variant_of(key: str) -> str | None:
    """The production variant (model version) of an inference key: the folder right before
    the date when there is one besides the model's (SageMaker writes
    ``<endpoint>/<variant>/YYYY/MM/DD/HH``).

    >>> variant_of("inference/churn/churn-ep/challenger/2026/11/24/13/a.jsonl")
    'challenger'
    >>> variant_of("inference/churn/2026/11/24/13/a.csv") is None
    True
    """
    folders = key.split("/")[:-1]
    index = _date_index(folders)
    return folders[index - 1] if index is not None and index >= 3 else None


def rows_key_of(model: str, hour: datetime, batch: str) -> str:
    """Where the kept rows of the inference batch ``batch`` (its profile's file name) of
    ``hour`` are stored.

    >>> from datetime import datetime, timezone
    >>> rows_key_of("churn", datetime(2026, 11, 24, 13, tzinfo=timezone.utc), "ab12")
    'profiles/churn/rows/2026/11/24/13/ab12.csv.gz'
    """
    return f"profiles/{model}/rows/{hour:%Y/%m/%d/%H}/{batch}.csv.gz"


def load_definition(services: Services, model: str) -> MonitorDefinition | None:
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


def _ready(
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
                f"{_bounded(str(exc), 1_000)}; upload config/{model}.yaml again, corrected; the "
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


# -- holding inputs until their model is ready ---------------------------------------------


def _hold(
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
    _page_once(services, model, exc, first=key)
    services.log("input held", model=model, key=key, reason=exc.reason)
    return {"status": "held", "reason": exc.reason}


def _page_once(services: Services, model: str, exc: DriftlineError, *, first: str) -> bool:
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
                f"{_bounded(str(exc))}\n\nFirst held: {first}\nEvery inference log and label "
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


#: The most characters of an error message (or of one detail) a rejection carries: an SNS
#: message holds at most 256 KB, and a message listing 60,000 column names would not fit.
MAX_REASON_CHARS = 2_000
#: How a rejection names the model when the key names none (``inference/batch.csv``): CloudWatch
#: dimensions and SNS attributes refuse an empty value.
NO_MODEL = "(none)"


def _bounded(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out.

    >>> _bounded("abcdefghij", 4)
    'abcd... (6 more characters)'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def _reject(
    services: Services, key: str, etag: str, *, model: str, exc: DriftlineError, what: str
) -> dict[str, Any]:
    """Quarantine an input with a machine-readable reason and tell the on-call topic, once.

    A redelivered event for the same object (same key and ETag: S3 and Lambda deliver at
    least once) finds the reason already written and neither counts nor reports it again;
    an object uploaded again under the same key (a new ETag) is rejected afresh. Two
    deliveries handled at the same moment race for a claim (a conditional write in the
    table): one reports, the other stands back. A failed report releases its claim so the
    retry reports; a claim left by an invocation that died is taken over once it is older
    than any invocation lives.
    """
    target = QUARANTINE + key
    duplicate = {
        "status": "rejected",
        "reason": exc.reason,
        "quarantine": target,
        "duplicate": True,
    }
    if _already_rejected(services, target, etag):
        return duplicate
    named = model or NO_MODEL
    claim = digest(key, etag)
    if not _claim_rejection(services, named, claim, key=key, target=target, etag=etag):
        return duplicate
    try:
        return _report_rejection(services, key, etag, model=model, exc=exc, what=what)
    except Exception:
        with contextlib.suppress(Exception):  # best effort: a stale claim is taken over later
            services.table.claim_state(named, "REJECTION", claim, version=1)
        raise


#: A rejection claim older than this belongs to an invocation that died (the functions'
#: timeout is at most 15 minutes).
STALE_CLAIM = timedelta(minutes=20)


def _claim_rejection(
    services: Services, model: str, claim: str, *, key: str, target: str, etag: str
) -> bool:
    """Whether this invocation may report the rejection of ``key`` at ``etag``."""
    now = now_utc()
    document = {"key": key, "etag": etag, "at": now.isoformat()}
    try:
        services.table.put_state(model, "REJECTION", claim, document, version=0)
        return True
    except ConflictError:
        pass
    held = services.table.state(model, "REJECTION", claim)
    at = held.document.get("at")
    stale = isinstance(at, str) and datetime.fromisoformat(at) < now - STALE_CLAIM
    if not stale or _already_rejected(services, target, etag):
        return False
    try:
        services.table.put_state(model, "REJECTION", claim, document, version=held.version)
    except ConflictError:
        return False
    return True


def _report_rejection(
    services: Services, key: str, etag: str, *, model: str, exc: DriftlineError, what: str
) -> dict[str, Any]:
    """Quarantine, count and report one rejected input (the caller holds the claim)."""
    reason = {
        "key": key,
        "etag": etag,
        "model": model,
        "reason": exc.reason,
        "error": _bounded(str(exc)),
        "details": {k: _bounded(str(v), 200) for k, v in exc.details.items()},
    }
    target = services.store.quarantine(key)
    named = model or NO_MODEL
    emit(
        services.namespace,
        {"model": named, "reason": exc.reason},
        {"RejectedFiles": 1},
        timestamp_ms=int(now_utc().timestamp() * 1000),
    )
    services.notifier.send(
        subject=f"[driftline] {named}: {what} rejected ({exc.reason})",
        body=(
            f"driftline rejected {key}.\n\nReason: {exc.reason}\n{reason['error']}\n\n"
            f"A copy and the reason are in {target} and {target}.reason.json; the original "
            "is untouched. Fix the input and upload it again."
        ),
        message={"kind": "input_rejected", **reason, "quarantine": target},
        detail_type="driftline.input.rejected",
    )
    # The reason goes last: it is what tells a redelivery the rejection was reported, so a
    # page that failed is sent by the retry rather than lost.
    services.store.put_reason(key, reason)
    services.log("input rejected", key=key, reason=exc.reason, model=named)
    return {"status": "rejected", "reason": exc.reason, "quarantine": target}


def _already_rejected(services: Services, target: str, etag: str) -> bool:
    """Whether this very object (key and ETag) was quarantined and reported already."""
    try:
        earlier = json.loads(services.store.get(target + ".reason.json").body)
    except KeyError:
        return False
    return isinstance(earlier, dict) and earlier.get("etag") == etag


def _model_of_input(
    services: Services, key: str, prefix: str, what: str
) -> tuple[str, StoredObject] | dict[str, Any]:
    """The model of an input key and the object, or the rejection of a key outside
    ``<prefix>/<model>/<file>`` (quarantined with ``unexpected_key``, never a crash) or of an
    object larger than the input limits (``file_too_large``, not read)."""
    try:
        stored = _get_input(services, key)
    except ObjectTooLargeError as exc:
        model = ""
        with contextlib.suppress(InvalidInputError):
            model = model_of(key, prefix)
        return _reject(services, key, exc.etag, model=model, exc=exc, what=what)
    try:
        return model_of(key, prefix), stored
    except InvalidInputError as exc:
        return _reject(services, key, stored.etag, model="", exc=exc, what=what)


def _get_input(services: Services, key: str) -> StoredObject:
    """An input file's object, read whole (so bounded by the limits' bytes).

    Raises:
        ObjectTooLargeError: the object is larger than the input limits allow.
    """
    return services.store.get(key, max_bytes=services.limits.of(key).max_bytes)


def _frames(
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


# -- configure ----------------------------------------------------------------------------


def configure(services: Services, key: str) -> dict[str, Any]:
    """``config/<model>.yaml`` uploaded: validate, store, schedule, build the baseline."""
    parts = key.split("/")
    if len(parts) != 2 or parts[0] != "config" or not parts[1].endswith((".yaml", ".yml")):
        return {"status": "ignored", "reason": "expected config/<model>.yaml"}
    model = parts[1].removesuffix(".yaml").removesuffix(".yml")
    stored = services.store.get(key)
    try:
        definition = load_monitor_definition(stored.body, source=key, expected_model=model)
        _check_baseline_in_bucket(definition, key)
    except ConfigError as exc:
        return _reject(services, key, stored.etag, model=model, exc=exc, what="monitor definition")
    services.table.put_definition(
        model, {"yaml": stored.body.decode("utf-8")}, source=f"{key}@{stored.etag}"
    )
    if services.schedules is not None:
        services.schedules.put(model, definition.schedule)
    result: dict[str, Any] = {"status": "stored", "model": model}
    if services.store.exists(definition.baseline.path):
        result["baseline"] = build_baseline(services, definition.baseline.path)
    services.log("monitor definition stored", model=model, checks=len(definition.checks))
    return result


def _check_baseline_in_bucket(definition: MonitorDefinition, key: str) -> None:
    """In the bucket a baseline is ``baselines/<model>/<file>``: the monitor definition
    also allows a bare file name (local runs), which on AWS would name an object outside
    every model's prefix (and one ``build_baseline`` could not place).

    Raises:
        ConfigError: ``invalid_config``, naming ``baseline.path``.
    """
    path = definition.baseline.path
    folders = path.split("/")
    if len(folders) < 3 or folders[:2] != ["baselines", definition.model]:
        raise ConfigError(
            f"invalid monitor definition {key}: baseline.path: expected "
            f"baselines/{definition.model}/<file> in the monitoring bucket, got {shown(path)}",
            reason="invalid_config",
            key="baseline.path",
        )


# -- build_baseline -----------------------------------------------------------------------


def build_baseline(services: Services, key: str) -> dict[str, Any]:
    """A baseline file uploaded: profile it (two passes) with its metrics; store and point."""
    found = _model_of_input(services, key, "baselines", "baseline")
    if isinstance(found, dict):
        return found
    model, stored = found
    definition, _, problem = _ready(services, model)
    if definition is None:
        if problem is not None and problem.reason == "stored_definition_invalid":
            _page_once(services, model, problem, first=key)
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
        reader = _frames(services, stored.body, key, definition)
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
        return _reject(services, key, stored.etag, model=model, exc=exc, what="baseline")
    reference = Reference(
        reference.profile.with_bad_rows(readers[-1].report.bad_rows), reference.bins
    )
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


# -- profile_batch ------------------------------------------------------------------------


def profile_batch(services: Services, key: str, *, received: datetime) -> dict[str, Any]:
    """An inference log uploaded: profile it, keep its rows for labels, run quality checks."""
    found = _model_of_input(services, key, "inference", "inference log")
    if isinstance(found, dict):
        return found
    model, stored = found
    definition, reference, problem = _ready(services, model)
    if definition is None or reference is None:
        assert problem is not None
        return _hold(services, key, stored.etag, model=model, kind="inference", exc=problem)
    # The profile and rows of an inference file live under its key's id: a file uploaded
    # again under the same key (corrected bytes, a new ETag) replaces what the older version
    # stored instead of adding to it. batch_id (key and ETag) names this version.
    file_id = digest(key)
    batch_id = digest(key, stored.etag)
    hour = (time_of(key) or received).replace(minute=0, second=0, microsecond=0)
    profile_key = f"profiles/{model}/batches/{hour:%Y/%m/%d/%H}/{file_id}.json"
    earlier = _stored_document(services, profile_key)
    if earlier is not None and earlier.get("etag") == stored.etag:
        # The profile is stored, but the invocation that stored it may have failed before it
        # acted (a timeout after the write): act again, idempotently (the alert states
        # decide; a check already notified is not notified twice).
        stored_profile = DatasetProfile.from_dict(earlier["profile"])
        again: dict[str, Any] = {"status": "duplicate", "profile": profile_key}
        again.update(
            _act_on_quality(
                services,
                definition,
                reference,
                stored_profile,
                hour=hour,
                batch_id=batch_id,
                received=received,
            )
        )
        return again
    spec = profile_spec(definition)
    kept_columns = _kept_columns(definition)
    # The kept columns are compressed chunk by chunk as they are profiled: holding the rows
    # until the end took gigabytes for a file of ten million short rows.
    kept = GzipCsvWriter(compresslevel=1)  # level 9 took half a batch's time for 12 % less
    monitored = _monitored_columns(definition)

    def remember(frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        first = True
        for frame in frames:
            if first and not monitored & {str(c) for c in frame.columns}:
                raise _no_monitored_columns(key, monitored, frame.columns)
            first = False
            kept.write(frame[[c for c in frame.columns if c in kept_columns]])
            yield frame

    try:
        reader = _frames(services, stored.body, key, definition)
        profile = profile_frames(remember(reader), spec, reference.bins, source=key)
    except DriftlineError as exc:
        return _reject(services, key, stored.etag, model=model, exc=exc, what="inference log")
    profile = profile.with_bad_rows(reader.report.bad_rows)
    if reader.report.bad_rows:
        services.store.put(
            f"quarantine/{key}.bad-rows.json",
            json.dumps(
                {"key": key, "etag": stored.etag, **reader.report.to_dict()}, indent=2
            ).encode(),
        )
    rows_key = rows_key_of(model, hour, file_id)
    rows_body = kept.finish()
    services.store.put(rows_key, rows_body, content_type="text/csv")
    # Labels that arrived before these predictions (a race, or a replay) are joined now.
    early = _join_waiting_labels(
        services, definition, reference, rows_key, rows_version=_version(rows_body), day=hour
    )
    document = {
        "source": key,
        "etag": stored.etag,
        "variant": variant_of(key),
        "time": hour.isoformat(),
        "profile": profile.to_dict(),
    }
    status = _store_batch_profile(services, profile_key, document, replacing=earlier is not None)
    emit(
        services.namespace,
        {"model": model},
        {"Rows": profile.rows, "BadRows": profile.bad_rows},
        timestamp_ms=int(received.timestamp() * 1000),
    )
    outcome: dict[str, Any] = {"status": status, "rows": profile.rows}
    if early.join_report.joined:
        outcome["early_labels"] = early.join_report.joined
    if any(run["fired"] or run["reordered"] for run in early.detector_runs.values()):
        detected = _detector_result(
            definition, early.detector_runs, evaluation_id=f"{model}-labels-{batch_id}"
        )
        outcome["detectors"] = {name: run["fired"] for name, run in early.detector_runs.items()}
        outcome["acted_on_detectors"] = act(services, definition, detected, now=received)
    outcome.update(
        _act_on_quality(
            services,
            definition,
            reference,
            profile,
            hour=hour,
            batch_id=batch_id,
            received=received,
        )
    )
    services.log(
        "batch profiled", model=model, key=key, rows=profile.rows, bad_rows=profile.bad_rows
    )
    return outcome


def _store_batch_profile(
    services: Services, profile_key: str, document: Mapping[str, Any], *, replacing: bool
) -> str:
    """Store a batch's profile document: written once for a new file (``profiled``; a
    concurrent duplicate finds it, ``duplicate``), over the older version's for a file
    uploaded again under its key (``replaced``)."""
    if not replacing:
        return "profiled" if services.store.put_json_once(profile_key, document) else "duplicate"
    services.store.put_json(profile_key, document)
    services.log("inference log replaced", key=document["source"], etag=document["etag"])
    return "replaced"


def _act_on_quality(
    services: Services,
    definition: MonitorDefinition,
    reference: Reference,
    profile: DatasetProfile,
    *,
    hour: datetime,
    batch_id: str,
    received: datetime,
) -> dict[str, Any]:
    """Run a batch's data-quality checks (the built-in ones too) and act on them."""
    quality = [check for check in effective_checks(definition) if check.quality is not None]
    if not quality:
        return {}
    result = evaluate(
        definition.model_copy(update={"checks": quality}),
        reference,
        profile,
        evaluation_id=f"{definition.model}-batch-{batch_id}",
        window=Window(hour.isoformat(), (hour + timedelta(hours=1)).isoformat()),
    )
    acted = act(services, definition, result.to_dict(), now=received)
    return {"quality": result.status, "acted": acted}


def _join_waiting_labels(
    services: Services,
    definition: MonitorDefinition,
    reference: Reference,
    rows_key: str,
    *,
    rows_version: str,
    day: datetime,
) -> LabelPairs:
    """Join a new batch's rows with the label files already there (from its day on).

    A label file that cannot be read or whose labels fit no class is skipped here: its own
    invocation quarantines it, and these predictions are profiled regardless.
    """
    pairs = LabelPairs(services, definition, reference)
    schema = definition.schema_
    if schema.id is None or schema.label is None:
        return pairs
    start = day.replace(hour=0)
    label_keys = [
        key
        for offset in range(_lookback(definition).days + 1)
        for key in services.store.keys(
            f"labels/{definition.model}/{start + timedelta(days=offset):%Y/%m/%d}/"
        )
    ]
    if not label_keys:
        return pairs
    rows, _ = _read_rows(services, rows_key)
    for label_key in sorted(label_keys):
        try:
            stored = _get_input(services, label_key)
            labels = _label_table(services, definition, reference, stored.body, label_key)
        except DriftlineError:
            continue  # a bad label file is rejected by its own invocation
        label_day = (time_of(label_key) or start).replace(hour=0)
        source = LabelSource(label_key, digest(label_key, stored.etag), label_day, labels)
        pairs.join(source, rows_key, rows, rows_version=rows_version)
    return pairs


def _label_table(
    services: Services, definition: MonitorDefinition, reference: Reference, body: bytes, key: str
) -> LabelTable:
    """A label file's labels by id, written as the model's classes (or numbers).

    Raises:
        InvalidInputError: the file cannot be read, lacks the id or label column, or holds
            labels that fit none of the model's classes (``invalid_label``).
    """
    schema = definition.schema_
    assert schema.id is not None and schema.label is not None
    table = LabelTable.from_frames(
        _frames(services, body, key, definition), id=schema.id, label=schema.label
    )
    return conform_labels(
        table,
        task=schema.task,
        classes=model_classes(reference),
        column=schema.label,
        source=key,
    )


def model_classes(reference: Reference) -> tuple[Any, ...]:
    """The classes the baseline's labels and predictions hold (empty: none known)."""
    performance = reference.profile.performance
    if performance is None or performance.confusion is None:
        return ()
    return performance.confusion.classes


def _stored_document(services: Services, key: str) -> dict[str, Any] | None:
    """A stored JSON document, or None when there is none."""
    try:
        document = services.store.get_json(key)
    except KeyError:
        return None
    return document if isinstance(document, dict) else None


def _version(body: bytes) -> str:
    """A short id of a stored object's bytes (rows files are written deterministically)."""
    return hashlib.sha256(body).hexdigest()[:24]


def _monitored_columns(definition: MonitorDefinition) -> set[str]:
    """The columns an inference log is profiled for: features, prediction and score."""
    schema = definition.schema_
    return set(schema.features) | {c for c in (schema.prediction, schema.score) if c}


def _no_monitored_columns(
    key: str, monitored: set[str], columns: Iterable[Any]
) -> InvalidInputError:
    """A log with none of the monitored columns (another model's file, a wrong export): every
    feature would read as missing, so it is refused instead of profiled as empty rows."""
    shown = sorted(monitored)[:10]
    saw = [str(c)[:60] for c in list(columns)[:10]]
    return InvalidInputError(
        f"{key}: none of the monitored columns is in the file; expected some of {shown}, saw {saw}",
        reason="no_monitored_columns",
        expected=", ".join(shown),
        columns=", ".join(saw),
    )


def _kept_columns(definition: MonitorDefinition) -> set[str]:
    schema = definition.schema_
    columns = set(schema.features) | set(schema.segments)
    columns |= {
        c
        for c in (
            schema.id,
            schema.timestamp,
            schema.prediction,
            schema.score,
            schema.label,
            schema.query,
            schema.sensitive,
            schema.conversion,
        )
        if c
    }
    return columns


# -- ingest_labels ------------------------------------------------------------------------


def ingest_labels(services: Services, key: str, *, received: datetime) -> dict[str, Any]:
    """A label file uploaded: join it to the kept predictions, profile the labelled rows,
    update the streaming detectors, act on detections."""
    found = _model_of_input(services, key, "labels", "label file")
    if isinstance(found, dict):
        return found
    model, stored = found
    definition, reference, problem = _ready(services, model)
    if definition is None or reference is None:
        assert problem is not None
        return _hold(services, key, stored.etag, model=model, kind="labels", exc=problem)
    schema = definition.schema_
    if schema.id is None or schema.label is None:
        missing_roles: DriftlineError = ConfigError(
            "labels need schema.id and schema.label in the monitor definition",
            reason="labels_not_configured",
        )
        return _reject(
            services, key, stored.etag, model=model, exc=missing_roles, what="label file"
        )
    try:
        labels = _label_table(services, definition, reference, stored.body, key)
    except DriftlineError as exc:
        return _reject(services, key, stored.etag, model=model, exc=exc, what="label file")
    day = (time_of(key) or received).replace(hour=0, minute=0, second=0, microsecond=0)
    pairs = LabelPairs(services, definition, reference)
    source = LabelSource(key, digest(key, stored.etag), day, labels)
    rows_keys = [
        rows_key
        for offset in range((_lookback(definition).days) + 1)
        for rows_key in services.store.keys(
            f"profiles/{model}/rows/{day - timedelta(days=offset):%Y/%m/%d}/"
        )
    ]
    for rows_key in sorted(rows_keys):
        rows, rows_version = _read_rows(services, rows_key)
        pairs.join(source, rows_key, rows, rows_version=rows_version)
    outcome: dict[str, Any] = {"labels": len(labels), **pairs.join_report.to_dict(labels)}
    outcome.pop("coverage", None)
    outcome["detectors"] = {name: run["fired"] for name, run in pairs.detector_runs.items()}
    if any(run["fired"] or run["reordered"] for run in pairs.detector_runs.values()):
        result = _detector_result(
            definition, pairs.detector_runs, evaluation_id=f"{model}-labels-{source.batch_id}"
        )
        outcome["acted"] = act(services, definition, result, now=received)
    services.log(
        "labels ingested", model=model, key=key, labels=len(labels), joined=pairs.join_report.joined
    )
    return outcome


def _lookback(definition: MonitorDefinition) -> timedelta:
    """How far back labels look for their predictions (and predictions forward for labels):
    the longest window, at least :data:`LABEL_LOOKBACK`, at most :data:`MAX_LABEL_LOOKBACK`."""
    longest = max([LABEL_LOOKBACK, *(parse_duration(w) for w in definition.windows)])
    return min(longest, MAX_LABEL_LOOKBACK)


def _read_rows(services: Services, rows_key: str) -> tuple[pd.DataFrame, str]:
    """A batch's kept rows and the version of their bytes."""
    body = services.store.get(rows_key).body
    return pd.read_csv(io.BytesIO(body), compression="gzip"), _version(body)


@dataclass(frozen=True)
class LabelSource:
    """One label file: its key, id (key + ETag), day and labels."""

    key: str
    batch_id: str
    day: datetime
    labels: LabelTable

    @property
    def file_id(self) -> str:
        """The label file's id by key alone (a new upload under the key replaces it)."""
        return digest(self.key)


class LabelPairs:
    """Joins label files with kept prediction rows, one (label file, rows file) pair at a time.

    Each pair's labelled rows become one profile under a key derived from both ids, written
    once, and feed the detectors once (the pair id is what they remember). So whichever side
    arrives second — labels after predictions (the usual case, :func:`ingest_labels`) or
    predictions after labels (:func:`profile_batch`), or both at once — the pair is counted
    exactly once.
    """

    def __init__(
        self, services: Services, definition: MonitorDefinition, reference: Reference
    ) -> None:
        self.services = services
        self.definition = definition
        self.reference = reference
        self.join_report = JoinReport()
        self.detector_runs: dict[str, dict[str, Any]] = {}

    def join(
        self, source: LabelSource, rows_key: str, rows: pd.DataFrame, *, rows_version: str
    ) -> None:
        """Join one label file with one batch's kept rows.

        The labelled rows are profiled under the predictions' hour (a window's performance
        counts the predictions made in it, whenever their labels came) and under the ids of
        both files by key: a new version of either file replaces the pair's profile (the
        versions it was made of are stored with it). Detectors see each pair once, the first
        version of it: a streaming detector cannot take back what it saw.
        """
        schema = self.definition.schema_
        assert schema.id is not None and schema.label is not None
        pair_id = digest(source.file_id, rows_key)
        known = set(source.labels.labels)
        if rows.empty or schema.id not in rows.columns:
            return
        ids = id_text(rows[schema.id])
        matched = rows[ids.isin(known).to_numpy()]
        if matched.empty:
            return
        # Only labels from the file: inline labels are already in the batch's own profile.
        joined, _ = join_labels(
            matched.drop(columns=[schema.label], errors="ignore"),
            source.labels,
            id=schema.id,
            label=schema.label,
            report=self.join_report,
        )
        model = self.definition.model
        hour = time_of(rows_key) or source.day
        rows_file = rows_key.rsplit("/", 1)[-1].removesuffix(".csv.gz")
        out_key = f"profiles/{model}/labelled/{hour:%Y/%m/%d/%H}/{rows_file}-{source.file_id}.json"
        versions = {"labels_version": source.batch_id, "rows_version": rows_version}
        earlier = _stored_document(self.services, out_key)
        if earlier is None or any(earlier.get(k) != v for k, v in versions.items()):
            profile = profile_frames([joined], profile_spec(self.definition), self.reference.bins)
            document = {
                "labels": source.key,
                "rows": rows_key,
                **versions,
                "time": hour.isoformat(),
                "profile": profile.to_dict(),
            }
            if earlier is None:
                self.services.store.put_json_once(out_key, document)
            else:
                self.services.store.put_json(out_key, document)
        runs = _update_detectors(self.services, self.definition, joined, pair_id, time=hour)
        for name, run in runs.items():
            previous = self.detector_runs.get(name, {"fired": [], "rows": 0, "reordered": 0})
            self.detector_runs[name] = {
                "fired": previous["fired"] + [previous["rows"] + i for i in run["fired"]],
                "rows": previous["rows"] + run["rows"],
                "reordered": previous["reordered"] + run["reordered_fires"],
            }


def _signal(
    check: CheckSpec, definition: MonitorDefinition, rows: pd.DataFrame
) -> np.ndarray[Any, Any]:
    schema = definition.schema_
    assert schema.label is not None
    if check.signal == "error":
        if schema.prediction is None or schema.prediction not in rows.columns:
            raise InvalidInputError(
                "the error signal needs the prediction column", reason="missing_column"
            )
        present = rows[schema.prediction].notna()
        return row_errors(
            rows[schema.label][present], rows[schema.prediction][present], schema.task
        )
    column = schema.score if check.signal == "score" else check.signal
    if column is None or column not in rows.columns:
        raise InvalidInputError(f"no signal column {column!r}", reason="missing_column")
    values: np.ndarray[Any, Any] = as_float_array(rows[column], role=str(column))
    return values


def _update_detectors(
    services: Services,
    definition: MonitorDefinition,
    rows: pd.DataFrame,
    batch_id: str,
    *,
    time: datetime,
) -> dict[str, dict[str, Any]]:
    """Feed every detector check this batch's signal, exactly once per batch, in event-time
    order (:mod:`driftline.detector_feed`: a batch that arrives after later ones is put
    in its place within :data:`REORDER_HORIZON`), with optimistic locking (a lost race
    re-reads the state and feeds the batch again on it).

    Each batch's signal is stored (``profiles/<model>/signals/<check>/<batch>.json``) for as
    long as the state keeps the batch, so a reordering can replay it.
    """
    model = definition.model
    schema = definition.schema_
    found: dict[str, dict[str, Any]] = {}
    if schema.timestamp and schema.timestamp in rows.columns:
        order = pd.to_datetime(rows[schema.timestamp], utc=True, errors="coerce", format="mixed")
        rows = rows.assign(_order=order).sort_values("_order", kind="stable")
    for check in definition.checks:
        if check.detector is None:
            continue
        scoped = rows
        if check.segment:
            for column, value in check.segment.items():
                scoped = (
                    scoped[scoped[column].astype("string") == value]
                    if column in scoped
                    else scoped.iloc[0:0]
                )
        values = _signal(check, definition, scoped) if len(scoped) else np.zeros(0)
        series = values[np.isfinite(values)].tolist()
        prefix = f"profiles/{model}/signals/{check.name}/"
        services.store.put_json_once(f"{prefix}{batch_id}.json", {"values": series})

        def load(batch: str, prefix: str = prefix) -> list[float] | None:
            document = _stored_document(services, f"{prefix}{batch}.json")
            return None if document is None else list(document["values"])

        detector_name, params = str(check.detector), dict(check.params)

        def make(name: str = detector_name, params: dict[str, Any] = params) -> DriftDetector:
            return make_detector(name, **params)

        for _ in range(WRITE_ATTEMPTS):
            saved = services.table.state(model, "DETECTOR", check.name)
            document, fed = feed(
                saved.document,
                time,
                batch_id,
                series,
                horizon=REORDER_HORIZON,
                make=make,
                load=load,
                memory=APPLIED_MEMORY,
            )
            if fed.status == "duplicate":
                break
            if fed.fired:
                document["last_fired"] = fed.fired[-1]
            try:
                services.table.put_state(
                    model, "DETECTOR", check.name, document, version=saved.version
                )
            except ConflictError:
                continue
            if fed.status == "late":
                services.log("late labels not fed to a detector", model=model, check=check.name)
            found[check.name] = {
                "fired": fed.fired,
                "rows": fed.rows,
                "reordered_fires": len(fed.fired_elsewhere),
                "status": fed.status,
            }
            break
        else:
            raise ConflictError(
                f"{model} detector {check.name}: {WRITE_ATTEMPTS} conflicting writes"
            )
    return found


def _detector_result(
    definition: MonitorDefinition,
    detections: Mapping[str, Mapping[str, Any]],
    *,
    evaluation_id: str,
) -> dict[str, Any]:
    checks: list[CheckResult] = []
    for check in definition.checks:
        if check.name not in detections:
            continue
        fired = detections[check.name]["fired"]
        rows = detections[check.name]["rows"]
        reordered = int(detections[check.name].get("reordered", 0))
        # A detector that saw no change says nothing about recovery (it re-arms after
        # firing): "skip" leaves a firing alert firing instead of resolving it at once.
        status: Status = "fail" if fired or reordered else "skip"
        if fired:
            detail = (
                f"{check.detector} on {check.signal} detected a change at row {fired[0]} of "
                f"{rows} newly labelled rows"
            )
        elif reordered:
            detail = (
                f"{check.detector} on {check.signal} detected a change in labels that arrived "
                f"earlier, once {rows} newly labelled rows were put in event-time order"
            )
        else:
            detail = f"{check.detector} on {check.signal}: no change in {rows} newly labelled rows"
        checks.append(
            CheckResult(
                check.name,
                status,
                float(len(fired) + reordered),
                None,
                None,
                segment_key(check),
                check.action,
                detail,
            )
        )
    failed = [c for c in checks if c.status == "fail"]
    wanted: dict[str, list[str]] = {}
    for c in failed:
        wanted.setdefault(c.action, []).append(c.name)
    order = ("emergency_retrain", "retrain", "notify")
    overall = (
        "ok" if not failed else ("critical" if any(a in wanted for a in order[:2]) else "warning")
    )
    return {
        "version": 1,
        "model": definition.model,
        "evaluation_id": evaluation_id,
        "checks": [c.to_dict() for c in checks],
        "actions": [{"action": a, "checks": wanted[a]} for a in order if a in wanted],
        "worst_slices": [],
        "status": overall,
    }


# -- evaluate -----------------------------------------------------------------------------


def evaluate_model(services: Services, model: str, *, now: datetime) -> dict[str, Any]:
    """A scheduled (or on-demand) evaluation of every window; the first window is acted on."""
    definition, reference, problem = _ready(services, model)
    if definition is None or reference is None:
        assert problem is not None
        if problem.reason in ("baseline_profile_missing", "stored_definition_invalid"):
            _page_once(services, model, problem, first=f"evaluation at {now:%Y-%m-%dT%H:%MZ}")
        return {"status": "skipped", "reason": problem.reason}
    end = now.replace(minute=0, second=0, microsecond=0)
    results: list[dict[str, Any]] = []
    evaluated: list[tuple[str, dict[str, Any]]] = []
    links: list[str] = []
    for window in definition.windows:
        start = end - parse_duration(window)
        evaluation_id = f"{model}-{window}-{end:%Y%m%dT%H%M}"
        report_key = f"reports/{model}/{evaluation_id}.json"
        if services.store.exists(report_key):
            document = services.store.get_json(report_key)
        else:
            current = _window_profile(
                services,
                reference=reference,
                definition=definition,
                model=model,
                start=start,
                end=end,
            )
            if current is None:
                results.append({"window": window, "status": "no_data"})
                continue
            result = evaluate(
                definition,
                reference,
                current,
                evaluation_id=evaluation_id,
                window=Window(start.isoformat(), end.isoformat()),
            )
            document = result.to_dict()
            _store_metrics(
                services,
                model,
                result,
                window=window,
                time=end,
                segment_metrics=definition.cloudwatch.segment_metrics,
            )
            services.store.put(
                report_key.removesuffix(".json") + ".html",
                render_report(
                    document,
                    reference=reference.profile,
                    current=current,
                    history=_history(services, model, window, before=evaluation_id),
                ).encode("utf-8"),
                content_type="text/html; charset=utf-8",
            )
            services.store.put_json_once(report_key, document)
        results.append(
            {"window": window, "evaluation_id": evaluation_id, "status": document["status"]}
        )
        evaluated.append((window, document))
        links.append(report_key.removesuffix(".json") + ".html")
    acted: dict[str, Any] | None = None
    if evaluated:
        # Every window is acted on, in one go: one grouped notification per run (docs/alerts.md).
        run_id = f"{model}-{definition.windows[0]}-{end:%Y%m%dT%H%M}"
        combined = combine_windows(run_id, definition.windows[0], evaluated)
        link = services.store.presigned_url(links[0])
        acted = act(services, definition, combined, now=now, report=link)
    return {"model": model, "windows": results, "acted": acted}


#: Earlier evaluations of the same window shown in a report's "over time" charts.
HISTORY = 30


def _history(services: Services, model: str, window: str, *, before: str) -> list[Any]:
    """The last :data:`HISTORY` result documents of a model's window, oldest first."""
    keys = sorted(
        key
        for key in services.store.keys(f"reports/{model}/{model}-{window}-")
        if key.endswith(".json") and key < f"reports/{model}/{before}.json"
    )
    return [services.store.get_json(key) for key in keys[-HISTORY:]]


def _window_profile(
    services: Services,
    *,
    reference: Reference,
    definition: MonitorDefinition,
    model: str,
    start: datetime,
    end: datetime,
) -> DatasetProfile | None:
    current = _merged(services, _window_parts(services, model, "batches", start, end))
    if current is None:
        return None
    labelled = _merged(services, _window_parts(services, model, "labelled", start, end))
    if labelled is None or current.performance is None:
        return current
    return with_labels(current, labelled, label=definition.schema_.label)


#: Version of the daily roll-up documents (:func:`_daily_profile`); others are rebuilt.
ROLLUP_VERSION = 1


@dataclass(frozen=True)
class _Day:
    """The stored profiles of a day the window covers entirely, ``(key, ETag)`` in key
    order: one roll-up can stand for them."""

    model: str
    kind: str
    day: datetime
    sources: tuple[tuple[str, str], ...]


def _window_parts(
    services: Services, model: str, kind: str, start: datetime, end: datetime
) -> Iterator[str | _Day]:
    """What a window of ``profiles/<model>/<kind>/`` merges, oldest first: the profiles of
    the days the window covers entirely as one :class:`_Day` each, the others key by key.

    Inference batches and labelled profiles both count by the hour of the predictions
    (``start <= hour < end``): a window's performance is that of the predictions made in it,
    whatever day their labels arrived (labelled profiles are stored under the hour of the
    predictions they label).
    """
    first = start.replace(hour=0)
    day = first
    while day < end:
        following = day + timedelta(days=1)
        sources = []
        for key, etag in services.store.listing(f"profiles/{model}/{kind}/{day:%Y/%m/%d}/"):
            moment = time_of(key)
            if moment is None:
                continue
            if start <= moment < end:
                sources.append((key, etag))
        whole = following <= end and day >= start
        if whole and len(sources) > 1:
            yield _Day(model, kind, day, tuple(sources))
        else:
            yield from (key for key, _ in sources)
        day = following


def _merged(services: Services, parts: Iterable[str | _Day]) -> DatasetProfile | None:
    """The stored profiles of ``parts`` (keys, or whole days read through their roll-up)
    merged in that order, one loaded at a time: a 30-day window of hourly batches is
    hundreds of profiles, far more than the function's memory if held together."""
    profiles = (
        _daily_profile(services, part)
        if isinstance(part, _Day)
        else DatasetProfile.from_dict(services.store.get_json(part)["profile"])
        for part in parts
    )
    first = next(profiles, None)
    return None if first is None else reduce(DatasetProfile.merge, profiles, first)


def _daily_profile(services: Services, day: _Day) -> DatasetProfile:
    """One whole day's profiles merged, read from its roll-up when the roll-up was made of
    exactly these objects (same keys, same ETags), else merged again and the roll-up
    rewritten. A 30-day window of hourly batches then reads about 53 objects instead of 720.

    A file that lands late for a past day, or a label file that labels an old day, changes
    the listing, so the next evaluation rebuilds that day. Two evaluations at once write the
    same merge of the same sources; either stands. Reading or writing the roll-up failing
    costs only time: the day is merged from its sources and the evaluation goes on.
    """
    key = f"profiles/{day.model}/daily/{day.kind}/{day.day:%Y/%m/%d}.json"
    listed = [list(source) for source in day.sources]
    try:
        document = services.store.get_json(key)
        if document.get("version") == ROLLUP_VERSION and document.get("sources") == listed:
            return DatasetProfile.from_dict(document["profile"])
    except KeyError:
        pass
    except Exception as exc:  # a roll-up is a cache: rebuild from the sources, say why
        services.log("roll-up unreadable, rebuilt", key=key, error=type(exc).__name__)
    merged = _merged(services, (source for source, _ in day.sources))
    assert merged is not None  # a _Day has sources
    try:
        services.store.put_json(
            key, {"version": ROLLUP_VERSION, "sources": listed, "profile": merged.to_dict()}
        )
    except Exception as exc:  # the evaluation does not need it stored
        services.log("roll-up not stored", key=key, error=type(exc).__name__)
    return merged


def with_labels(
    current: DatasetProfile, labelled: DatasetProfile, *, label: str | None = None
) -> DatasetProfile:
    """The window's inference profile with what the labels that arrived since tell.

    Performance (and the error slices) come from the labelled rows; label coverage is the
    labelled rows over the window's rows, overall and per segment. The ``label`` column's
    profile, empty in inference logs, is the labelled rows' (for label-distribution drift).
    """

    def combine(profile: DatasetProfile, source: DatasetProfile | None) -> DatasetProfile:
        if source is None:
            return profile
        columns = dict(profile.columns)
        if label is not None and label in source.columns and label in columns:
            columns[label] = source.columns[label]
        performance = source.performance
        if performance is None or profile.performance is None:
            return replace(profile, columns=columns)
        return replace(
            profile,
            columns=columns,
            performance=replace(performance, rows=max(profile.rows, performance.labelled)),
        )

    segments = {
        key: combine(segment, labelled.segments.get(key))
        for key, segment in current.segments.items()
    }
    merged = combine(current, labelled)
    return replace(merged, segments=segments, slices=labelled.slices)


def _store_metrics(
    services: Services,
    model: str,
    result: EvaluationResult,
    *,
    window: str,
    time: datetime,
    segment_metrics: bool = False,
) -> None:
    document = result.to_dict()
    figures: list[tuple[str, str | None, float]] = []
    for name, value in document["performance"].get("overall", {}).items():
        figures.append((name, None, float(value)))
    for segment, values in document["performance"].get("segments", {}).items():
        figures.extend((name, segment, float(value)) for name, value in values.items())
    for name, feature in document["drift"]["features"].items():
        if feature.get("statistic") is not None:
            figures.append((f"drift.{name}", None, float(feature["statistic"])))
    figures.append(("drift.share_drifted", None, float(document["drift"]["share_drifted"])))
    figures.append(("rows", None, float(result.current_rows)))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ")
    services.table.put_metrics(
        model, time=stamp, window=window, evaluation_id=result.evaluation_id, figures=figures
    )
    overall = {name.replace(".", "_"): value for name, segment, value in figures if not segment}
    # For the dashboard: the status as a level (0 ok, 1 warning, 2 critical) and the count of
    # failed checks, beside the overall figures. Segment figures go to CloudWatch only when
    # the definition asks (cloudwatch.segment_metrics): an EMF document is a log line, and a
    # segment's name is a feature value (docs/security.md).
    overall["Status"] = float(STATUS_LEVELS[result.status])
    overall["FailedChecks"] = float(sum(check.status == "fail" for check in result.checks))
    rows: list[tuple[dict[str, str], dict[str, float]]] = [
        ({"model": model, "window": window}, overall)
    ]
    if segment_metrics:
        by_segment: dict[str, dict[str, float]] = {}
        for name, segment, value in figures:
            if segment:
                by_segment.setdefault(segment, {})[name.replace(".", "_")] = value
        rows += [
            ({"model": model, "window": window, "segment": segment}, values)
            for segment, values in sorted(by_segment.items())
        ]
    emit_many(services.namespace, rows, timestamp_ms=int(time.timestamp() * 1000))


# -- act ----------------------------------------------------------------------------------


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


def now_utc() -> datetime:
    """The clock, read only at the edges (handlers), never in the core."""
    return datetime.now(UTC)
