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

One room per use case, each a module of this package:

- :mod:`~driftline.aws.jobs.keys`: the S3 layout and the ids derived from keys;
- :mod:`~driftline.aws.jobs.services`: the adapters a job uses and what every job reads
  through them (definition, baseline profile, input files within their limits, the clock);
- :mod:`~driftline.aws.jobs.rejections`: bad inputs quarantined and reported once;
- :mod:`~driftline.aws.jobs.holding`: inputs held until their model is ready;
- :mod:`~driftline.aws.jobs.configuring`: ``config/<model>.yaml`` uploaded (``configure``);
- :mod:`~driftline.aws.jobs.baseline`: a baseline uploaded (``build_baseline``), then the
  held inputs released (``release_held``);
- :mod:`~driftline.aws.jobs.batches`: an inference log uploaded (``profile_batch``);
- :mod:`~driftline.aws.jobs.labels`: a label file uploaded (``ingest_labels``): the label
  join and the detector updates;
- :mod:`~driftline.aws.jobs.reconciling`: each batch a label file labelled reconciled with
  its estimate, its figures stored, and the batches' running coverage read back;
- :mod:`~driftline.aws.jobs.windows`: a scheduled evaluation (``evaluate_model``): windows,
  daily roll-ups, metrics;
- :mod:`~driftline.aws.jobs.acting`: a result acted on (``act``), the outbox delivered.

The handlers call the jobs through this package (``jobs.profile_batch(...)``).
"""

from __future__ import annotations

from driftline.aws.jobs.acting import act, deliver_outbox
from driftline.aws.jobs.baseline import build_baseline, release_held
from driftline.aws.jobs.batches import profile_batch
from driftline.aws.jobs.configuring import configure
from driftline.aws.jobs.keys import model_of, rows_key_of, time_of, variant_of
from driftline.aws.jobs.labels import ingest_labels
from driftline.aws.jobs.rejections import STALE_CLAIM
from driftline.aws.jobs.services import (
    CHUNK_ROWS,
    Services,
    load_definition,
    load_reference,
    now_utc,
)
from driftline.aws.jobs.windows import evaluate_model
from driftline.ids import digest

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
