"""Bad input files: quarantined with their reason and reported to on-call once, however
often the event is delivered."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta
from typing import Any

from driftline.aws.emf import emit
from driftline.aws.jobs.keys import model_of
from driftline.aws.jobs.services import Services, get_input, now_utc
from driftline.aws.s3 import QUARANTINE, ObjectTooLargeError, StoredObject
from driftline.aws.store import ConflictError
from driftline.errors import DriftlineError, InvalidInputError
from driftline.ids import digest

#: The most characters of an error message (or of one detail) a rejection carries: an SNS
#: message holds at most 256 KB, and a message listing 60,000 column names would not fit.
MAX_REASON_CHARS = 2_000
#: How a rejection names the model when the key names none (``inference/batch.csv``): CloudWatch
#: dimensions and SNS attributes refuse an empty value.
NO_MODEL = "(none)"


def bounded(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out.

    >>> bounded("abcdefghij", 4)
    'abcd... (6 more characters)'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def reject(
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
        "error": bounded(str(exc)),
        "details": {k: bounded(str(v), 200) for k, v in exc.details.items()},
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


def model_of_input(
    services: Services, key: str, prefix: str, what: str
) -> tuple[str, StoredObject] | dict[str, Any]:
    """The model of an input key and the object, or the rejection of a key outside
    ``<prefix>/<model>/<file>`` (quarantined with ``unexpected_key``, never a crash) or of an
    object larger than the input limits (``file_too_large``, not read)."""
    try:
        stored = get_input(services, key)
    except ObjectTooLargeError as exc:
        model = ""
        with contextlib.suppress(InvalidInputError):
            model = model_of(key, prefix)
        return reject(services, key, exc.etag, model=model, exc=exc, what=what)
    try:
        return model_of(key, prefix), stored
    except InvalidInputError as exc:
        return reject(services, key, stored.etag, model="", exc=exc, what=what)
