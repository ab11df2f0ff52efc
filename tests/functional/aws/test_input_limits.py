"""Input files past the limits (bytes, rows) are quarantined; files within them are read in
bounded memory.

A gzip of a few MB holding 10.7 million short rows (about 370 MiB of CSV) took
profile_batch to about 1.9 GiB, past the function's 1,536 MB: every chunk's kept columns
were held for the label join, then concatenated and written as one text. Now the kept
columns are compressed chunk by chunk, and a file past the limits is quarantined with the
reason ``too_many_rows`` or ``file_too_large`` and paged once. A file at the limits,
with the label join it triggers, is profiled in a child process whose peak memory is
checked. The figures: docs/reliability.md (benchmarks/input_limits.py).
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from driftline.aws import jobs
from driftline.aws.jobs import Services
from driftline.aws.limits import FileLimits, InputLimits

ROOT = Path(__file__).resolve().parents[3]
DEFINITION = """
model: churn
schema:
  id: customer_id
  task: binary_classification
  prediction: churn_predicted
  score: churn_score
  label: churned
  positive_class: 1
  features: {tenure: numeric, plan: categorical}
  segments: [plan]
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: tenure-missing, quality: missing_share, feature: tenure, max: 0.05, action: notify}
  - {name: error-ddm, detector: ddm, signal: error, action: emergency_retrain}
"""
HEADER = b"customer_id,tenure,plan,churn_score,churn_predicted,churned\n"
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def short_rows(count: int, *, start: int = 0) -> bytes:
    """``count`` short CSV rows (about 37 bytes each), ids from ``start`` (8 digits)."""
    return b"".join(
        b"%08d,%.3f,%s,%.8f,%d,%d\n"
        % (i, (i % 97) / 2, b"basic" if i % 3 else b"pro", (i % 1000) / 1000, i % 2, i % 3 % 2)
        for i in range(start, start + count)
    )


def deploy(services: Services) -> None:
    services.store.put("baselines/churn/reference.csv", HEADER + short_rows(3000))
    services.store.put("config/churn.yaml", DEFINITION.encode())
    outcome = jobs.configure(services, "config/churn.yaml")
    assert outcome["baseline"]["status"] == "built", outcome


def machine_part(message: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(message["Message"].split("--- machine-readable ---\n", 1)[1]))


def test_a_gzip_of_ten_million_short_rows_is_quarantined_once_as_too_many_rows(
    services: Services, inbox: Any
) -> None:
    # GIVEN a file like the report's: 10.7 million short rows, 368 MiB of CSV in a 2.6 MB
    # gzip, under the default limits
    deploy(services)
    inbox()
    rows = 10_700_000
    block = short_rows(100) * 40  # 100 distinct rows, 4,000 at a time
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as packed:
        packed.write(HEADER)
        for _ in range(rows // 4000):
            packed.write(block)
    key = "inference/churn/2026/11/24/10/big.csv.gz"
    services.store.put(key, buffer.getvalue())
    assert len(buffer.getvalue()) < 3 * 2**20
    limits = services.limits.files
    assert rows > limits.max_rows and len(HEADER) + len(block) * (rows // 4000) > limits.max_bytes

    # WHEN it is profiled
    outcome = jobs.profile_batch(services, key, received=NOW)

    # THEN it is quarantined as too_many_rows, naming the file, the limit and the rows read
    assert outcome["status"] == "rejected" and outcome["reason"] == "too_many_rows"
    reason = json.loads(services.store.get(f"quarantine/{key}.reason.json").body)
    details = reason["details"]
    assert (details["file"], details["limit_rows"]) == (key, str(limits.max_rows))
    assert limits.max_rows < int(details["rows_read"]) <= limits.max_rows + jobs.CHUNK_ROWS
    assert f"more than {limits.max_rows:,} rows" in reason["error"]
    # ... nothing of it is stored but the quarantine
    assert not list(services.store.keys("profiles/churn/batches/"))
    assert not list(services.store.keys("profiles/churn/rows/"))
    # ... and on-call is paged exactly once
    (message,) = inbox()
    assert "too_many_rows" in message["Subject"]
    assert machine_part(message)["reason"] == "too_many_rows"


SMALL = InputLimits(files=FileLimits(max_bytes=4000, max_rows=60), baselines=FileLimits(
    max_bytes=200_000, max_rows=4000))  # fmt: skip
ROWS_61 = HEADER + short_rows(61)
assert len(ROWS_61) < SMALL.files.max_bytes
LABELS_61 = b"customer_id,churned\n" + b"".join(b"%d,1\n" % i for i in range(61))
# 50 rows with an unmonitored note of 80 characters: 5.6 KB of CSV in 0.3 KB of gzip
WIDE_GZIP = gzip.compress(
    HEADER.replace(b"\n", b",note\n") + short_rows(50).replace(b"\n", b"," + b"n" * 80 + b"\n"),
    mtime=0,
)
PLAIN_5K = HEADER + short_rows(140)  # 4.3 KB: refused before it is read
# (job, key, body, reason): each past the SMALL limits
PAST = {
    "batch-rows": ("profile_batch", "inference/churn/2026/11/24/10/a.csv", ROWS_61,
                   "too_many_rows"),
    "batch-gzip-content": ("profile_batch", "inference/churn/2026/11/24/10/a.csv.gz",
                           WIDE_GZIP, "file_too_large"),
    "batch-stored-object": ("profile_batch", "inference/churn/2026/11/24/10/b.csv", PLAIN_5K,
                            "file_too_large"),
    "labels-rows": ("ingest_labels", "labels/churn/2026/11/24/a.csv", LABELS_61,
                    "too_many_rows"),
    "labels-gzip-content": ("ingest_labels", "labels/churn/2026/11/24/a.csv.gz", WIDE_GZIP,
                            "file_too_large"),
    "labels-stored-object": ("ingest_labels", "labels/churn/2026/11/24/b.csv", PLAIN_5K,
                             "file_too_large"),
    "baseline-rows": ("build_baseline", "baselines/churn/reference.csv",
                      HEADER + short_rows(4001), "too_many_rows"),
    "baseline-stored-object": ("build_baseline", "baselines/churn/reference.csv",
                               HEADER + short_rows(8000), "file_too_large"),
}  # fmt: skip


@pytest.mark.parametrize("case", PAST.values(), ids=PAST.keys())
def test_a_file_past_a_limit_is_quarantined_with_its_reason_and_reported_once(
    services: Services, inbox: Any, case: tuple[str, str, bytes, str]
) -> None:
    # GIVEN a deployment with small limits and a file past one of them
    job, key, body, reason = case
    deploy(services)
    services.limits = SMALL
    inbox()
    services.store.put(key, body)
    before = set(services.store.keys(""))

    # WHEN its job runs
    if job == "profile_batch":
        outcome = jobs.profile_batch(services, key, received=NOW)
    elif job == "ingest_labels":
        outcome = jobs.ingest_labels(services, key, received=NOW)
    else:
        outcome = jobs.build_baseline(services, key)

    # THEN it is quarantined as it was, with the reason, the limit and the size it measured
    assert outcome["status"] == "rejected" and outcome["reason"] == reason
    target = f"quarantine/{key}"
    assert services.store.get(target).body == body
    document = json.loads(services.store.get(f"{target}.reason.json").body)
    assert document["reason"] == reason and document["model"] == "churn"
    limits = SMALL.of(key)
    details = document["details"]
    assert details["file"] == key
    if reason == "too_many_rows":
        assert details["limit_rows"] == str(limits.max_rows)
        assert int(details["rows_read"]) > limits.max_rows
    else:
        assert details["limit_bytes"] == str(limits.max_bytes)
        assert int(details["stored_bytes"]) == len(body)
        # a gzip is read until its content passes the limit; a larger object is not read
        measured = "once decompressed" if key.endswith(".gz") else "as stored"
        assert f"{len(body):,} bytes" in document["error"] and measured in document["error"]
    assert set(services.store.keys("")) - before == {target, f"{target}.reason.json"}
    # ... and paged once
    (message,) = inbox()
    assert reason in message["Subject"]


def test_a_baseline_may_be_larger_than_an_inference_file(services: Services) -> None:
    # GIVEN limits under which 3,000 rows are too many for an inference log, not a baseline
    services.limits = SMALL
    # WHEN the model is configured with a baseline of 3,000 rows THEN the baseline is built
    deploy(services)
    reference = jobs.load_reference(services, "churn")
    assert reference is not None and reference.profile.rows == 3000


def test_a_label_file_past_the_limits_is_skipped_by_the_batch_it_would_label(
    services: Services,
) -> None:
    # GIVEN a label file past the row limit that arrived before the batch it labels
    deploy(services)
    services.limits = SMALL
    services.store.put("labels/churn/2026/11/24/early.csv", LABELS_61)
    # WHEN the batch is profiled THEN it is, and the label file is left to its own job
    key = "inference/churn/2026/11/24/10/a.csv"
    services.store.put(key, HEADER + short_rows(50))
    outcome = jobs.profile_batch(services, key, received=NOW)
    assert outcome["status"] == "profiled" and outcome["rows"] == 50
    assert "early_labels" not in outcome
    assert not list(services.store.keys("quarantine/"))


def test_the_kept_rows_are_the_rows_profiled(services: Services) -> None:
    # GIVEN a batch read in several chunks (the reader's chunk is 50,000 rows)
    deploy(services)
    rows = 120_000
    key = "inference/churn/2026/11/24/10/chunks.csv.gz"
    body = HEADER + short_rows(rows)
    services.store.put(key, gzip.compress(body, mtime=0))
    # WHEN it is profiled
    assert jobs.profile_batch(services, key, received=NOW)["rows"] == rows
    # THEN the rows kept for the label join are its rows (all its columns are kept), every
    # row once, in order
    (rows_key,) = services.store.keys("profiles/churn/rows/")
    kept = pd.read_csv(io.BytesIO(services.store.get(rows_key).body), compression="gzip")
    pd.testing.assert_frame_equal(kept, pd.read_csv(io.BytesIO(body)))


AT_THE_LIMITS = textwrap.dedent(
    """
    import gzip, io, json, os, resource, sys
    from datetime import UTC, datetime
    from moto import mock_aws

    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    from moto_support import moto_services
    from driftline.aws import jobs
    from test_input_limits import DEFINITION, HEADER, short_rows

    EXTRA = 24  # unmonitored columns, so that the file is near the byte limit too
    with mock_aws():
        services = moto_services("driftline-limits")
        services.store.put("baselines/churn/reference.csv", HEADER + short_rows(3000))
        services.store.put("config/churn.yaml", DEFINITION.encode())
        assert jobs.configure(services, "config/churn.yaml")["baseline"]["status"] == "built"
        limits = services.limits.files
        rows = limits.max_rows
        # labels for every row, uploaded before the batch: profile_batch joins them at once
        labels = b"customer_id,churned\\n" + b"".join(b"%d,%d\\n" % (i, i % 2) for i in range(rows))
        services.store.put("labels/churn/2026/11/24/early.csv.gz", gzip.compress(labels))
        del labels
        # the batch: plain CSV (read into memory whole), every row with unmonitored columns
        padding = b"," + b",".join(b"%.6f" % (0.123456 * j) for j in range(EXTRA))
        header = HEADER.rstrip(b"\\n") + b"," + b",".join(b"x%d" % j for j in range(EXTRA))
        body = io.BytesIO()
        body.write(header + b"\\n")
        for start in range(0, rows, 50_000):
            body.write(short_rows(50_000, start=start).replace(b"\\n", padding + b"\\n"))
        data = body.getvalue()
        del body
        size = len(data)
        key = "inference/churn/2026/11/24/10/at-the-limits.csv"
        services.store.put(key, data)
        del data
        outcome = jobs.profile_batch(
            services, key, received=datetime(2026, 11, 24, 11, tzinfo=UTC)
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"size": size, "rows": rows, "limit_bytes": limits.max_bytes,
                      "status": outcome["status"], "profiled": outcome.get("rows"),
                      "early_labels": outcome.get("early_labels"), "peak_mib": peak}))
    """
)


def test_a_batch_at_the_limits_with_its_labels_waiting_is_profiled_in_bounded_memory() -> None:
    # GIVEN an inference log at both default limits (500,000 rows, just under 128 MiB of
    # plain CSV) whose every row a label file that arrived first labels
    completed = subprocess.run(
        [sys.executable, "-c", AT_THE_LIMITS],
        capture_output=True,
        text=True,
        timeout=600,
        env={
            "PYTHONPATH": ":".join(
                str(p) for p in (ROOT / "layers" / "core", ROOT / "tests", Path(__file__).parent)
            ),
            "PATH": "",
        },
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.splitlines()[-1])
    assert result["rows"] == InputLimits().files.max_rows
    assert 0.9 * result["limit_bytes"] < result["size"] <= result["limit_bytes"], result
    # WHEN profile_batch runs in a child process THEN it profiles every row and joins every
    # label ...
    assert result["status"] == "profiled"
    assert result["profiled"] == result["early_labels"] == result["rows"]
    # ... and the process (moto, holding the file and the labels, included) stayed well
    # under the function's 1,536 MB.
    assert result["peak_mib"] < 1024, result
