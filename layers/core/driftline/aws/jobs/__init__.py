"""What each Lambda function does (:mod:`driftline.aws.jobs.windows` for now; the package's
rooms follow)."""

from __future__ import annotations

from driftline.aws.jobs.windows import (
    CHUNK_ROWS,
    STALE_CLAIM,
    Services,
    act,
    build_baseline,
    configure,
    deliver_outbox,
    digest,
    evaluate_model,
    ingest_labels,
    load_definition,
    load_reference,
    model_of,
    now_utc,
    profile_batch,
    release_held,
    rows_key_of,
    time_of,
    variant_of,
)

__all__ = [
    "CHUNK_ROWS",
    "STALE_CLAIM",
    "Services",
    "act",
    "build_baseline",
    "configure",
    "deliver_outbox",
    "digest",
    "evaluate_model",
    "ingest_labels",
    "load_definition",
    "load_reference",
    "model_of",
    "now_utc",
    "profile_batch",
    "release_held",
    "rows_key_of",
    "time_of",
    "variant_of",
]
