"""Memory and time of the jobs that read input files, at and past the input limits.

Each case runs the real job on moto in a fresh child process and reports the peak resident
set of the process *while the job ran* (VmHWM, reset just before the job: the process holds
moto, with its own copy of every object, and what building the inputs left behind, so the
figures are upper bounds of what the function itself needs) and the job's seconds:

* ``report``: a file like the report's that started the limits: 10.7 million short rows
  (368 MiB of CSV) in a 2.6 MB gzip, through profile_batch under the default limits
  (quarantined), and with the limits lifted (profiled, to show what it costs);
* ``batch-at-limits``: an inference log at both default limits (500,000 rows, about 119 MiB
  of plain CSV with 24 unmonitored columns), every row labelled by a label file that arrived
  first, so profile_batch also joins 500,000 labels;
* ``labels``: ingest_labels joining a label file of N labels (text ids of 36 characters) to
  one kept-rows file of N rows, every row labelled: at the row limit and at twice it;
* ``baseline``: configure building a baseline with event times (the slowest kind of row to
  profile) at the baseline row limit (gzip) and near the baseline byte limit (plain CSV).

    python benchmarks/input_limits.py                 # about 10 minutes on 2 cores
    python benchmarks/input_limits.py --only labels   # one case

Run from a checkout of an earlier commit (the script does not need the limits), it measures
that code the same way.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import harness

sys.path.insert(0, str(harness.REPO / "tests"))

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
RECEIVED = datetime(2026, 11, 24, 11, tzinfo=UTC)
CASES = {
    "report": [["report", "default"], ["report", "lifted"]],
    "batch-at-limits": [["batch-at-limits"]],
    "labels": [["labels", "500000"], ["labels", "1000000"]],
    "baseline": [["baseline", "5000000", "gzip"], ["baseline", "4300000", "plain"]],
}


def short_rows(count: int, *, start: int = 0, id_text: bool = False) -> bytes:
    """``count`` short CSV rows of HEADER's columns (ids from ``start``)."""
    return b"".join(
        b"%s,%.3f,%s,%.8f,%d,%d\n"
        % (
            _id(i, id_text),
            i * 7919 % 99991 / 1000,  # about as many distinct values as rows, as real ones
            b"basic" if i % 3 else b"pro",
            i * 104729 % 99999989 / 99999989,
            i % 2,
            i % 3 % 2,
        )
        for i in range(start, start + count)
    )


def _id(number: int, text: bool) -> bytes:
    return b"%08x-4b1d-4c2e-9f3a-%012d" % (number, number * 7919) if text else b"%08d" % number


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


def _deployed(services: Any) -> None:
    from driftline.aws import jobs

    services.store.put("baselines/churn/reference.csv", HEADER + short_rows(3000))
    services.store.put("config/churn.yaml", DEFINITION.encode())
    assert jobs.configure(services, "config/churn.yaml")["baseline"]["status"] == "built"


def _lift_limits(services: Any) -> None:
    try:
        from driftline.aws.limits import FileLimits, InputLimits
    except ImportError:  # code from before the limits: nothing to lift
        return
    services.limits = InputLimits(
        files=FileLimits(2**40, 2**40), baselines=FileLimits(2**40, 2**40)
    )


def _timed(job: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    import gc

    gc.collect()
    before = harness.current_rss_mib()
    _reset_peak()
    started = time.perf_counter()
    outcome = job()
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "rss_before_mib": round(before),
        "peak_rss_mib": round(harness.peak_rss_mib()),
        "status": outcome.get("status"),
        "reason": outcome.get("reason"),
        "outcome": {k: v for k, v in outcome.items() if isinstance(v, int | str)},
    }


def report(limits: str) -> dict[str, Any]:
    from driftline.aws import jobs
    from moto_support import moto_services

    services = moto_services("driftline-bench")
    _deployed(services)
    if limits == "lifted":
        _lift_limits(services)
    rows = 10_700_000
    block = short_rows(100) * 40  # 100 distinct rows, 4,000 at a time
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as packed:
        packed.write(HEADER)
        for _ in range(rows // 4000):
            packed.write(block)
    key = "inference/churn/2026/11/24/10/report.csv.gz"
    services.store.put(key, buffer.getvalue())
    sizes = {"rows": rows, "stored_bytes": len(buffer.getvalue())}
    sizes["content_bytes"] = len(HEADER) + len(block) * (rows // 4000)
    del buffer
    result = _timed(lambda: jobs.profile_batch(services, key, received=RECEIVED))
    return {"case": f"report ({limits} limits)", **sizes, **result}


def batch_at_limits() -> dict[str, Any]:
    from driftline.aws import jobs
    from driftline.aws.limits import InputLimits
    from moto_support import moto_services

    services = moto_services("driftline-bench")
    _deployed(services)
    limits = InputLimits().files
    rows, extra = limits.max_rows, 24
    labels = b"customer_id,churned\n" + b"".join(b"%d,%d\n" % (i, i % 2) for i in range(rows))
    services.store.put("labels/churn/2026/11/24/early.csv.gz", gzip.compress(labels))
    del labels
    padding = b"," + b",".join(b"%.6f" % (0.123456 * j) for j in range(extra))
    body = io.BytesIO()
    body.write(HEADER.rstrip(b"\n") + b"," + b",".join(b"x%d" % j for j in range(extra)) + b"\n")
    for start in range(0, rows, 50_000):
        body.write(short_rows(50_000, start=start).replace(b"\n", padding + b"\n"))
    key = "inference/churn/2026/11/24/10/at-the-limits.csv"
    services.store.put(key, body.getvalue())
    sizes = {"rows": rows, "stored_bytes": len(body.getvalue())}
    del body
    result = _timed(lambda: jobs.profile_batch(services, key, received=RECEIVED))
    joined = result["outcome"].get("early_labels", 0)
    result["status"] = f"{result['status']}, {joined:,} labels joined"
    return {"case": "batch at the limits, labels waiting", **sizes, **result}


def labels(rows: int) -> dict[str, Any]:
    import pandas as pd

    from driftline.aws import jobs
    from driftline.io.gzip_csv import GzipCsvWriter
    from moto_support import moto_services

    services = moto_services("driftline-bench")
    _deployed(services)
    _lift_limits(services)
    kept = GzipCsvWriter()
    label_file = io.BytesIO()
    with gzip.GzipFile(fileobj=label_file, mode="wb", compresslevel=1, mtime=0) as packed:
        packed.write(b"customer_id,churned\n")
        for start in range(0, rows, 50_000):
            count = min(50_000, rows - start)
            chunk = short_rows(count, start=start, id_text=True)
            kept.write(pd.read_csv(io.BytesIO(HEADER + chunk)))
            packed.write(
                b"".join(b"%s,%d\n" % (_id(i, True), i % 2) for i in range(start, start + count))
            )
    services.store.put("profiles/churn/rows/2026/11/24/batch.csv.gz", kept.finish())
    del kept
    key = "labels/churn/2026/11/24/labels.csv.gz"
    services.store.put(key, label_file.getvalue())
    sizes = {"rows": rows, "stored_bytes": len(label_file.getvalue())}
    del label_file
    received = datetime(2026, 11, 25, tzinfo=UTC)
    result = _timed(lambda: jobs.ingest_labels(services, key, received=received))
    result["status"] = f"{result['outcome'].get('joined', 0):,} rows joined"
    return {"case": f"ingest_labels, {rows:,} labels joined to {rows:,} rows", **sizes, **result}


def baseline(rows: int, packing: str) -> dict[str, Any]:
    from driftline.aws import jobs
    from moto_support import moto_services

    services = moto_services("driftline-bench")
    _lift_limits(services)
    body = io.BytesIO()
    sink: Any = (
        gzip.GzipFile(fileobj=body, mode="wb", compresslevel=1, mtime=0)
        if packing == "gzip"
        else body
    )
    # With an event time: the hour-of-day slices make a baseline row about ten times as
    # slow to profile as without, and the row limit is there for the time.
    sink.write(HEADER.replace(b"\n", b",event_time\n"))
    for start in range(0, rows, 50_000):
        chunk = short_rows(min(50_000, rows - start), start=start).splitlines(keepends=True)
        sink.write(
            b"".join(
                line.replace(b"\n", b",2026-11-24T%02d:%02d:00Z\n" % (n % 24, n % 60))
                for n, line in enumerate(chunk, start)
            )
        )
    if packing == "gzip":
        sink.close()
    services.store.put("baselines/churn/reference.csv", body.getvalue())
    sizes = {"rows": rows, "stored_bytes": len(body.getvalue())}
    del body, sink
    timed = DEFINITION.replace(
        "  id: customer_id\n", "  id: customer_id\n  timestamp: event_time\n"
    )
    services.store.put("config/churn.yaml", timed.encode())
    result = _timed(lambda: jobs.configure(services, "config/churn.yaml")["baseline"])
    return {"case": f"baseline of {rows:,} rows, {packing}", **sizes, **result}


def child(arguments: list[str]) -> dict[str, Any]:
    from moto import mock_aws

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    name, *rest = arguments
    with mock_aws():
        if name == "report":
            return report(rest[0])
        if name == "batch-at-limits":
            return batch_at_limits()
        if name == "labels":
            return labels(int(rest[0]))
        return baseline(int(rest[0]), rest[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated cases: " + ", ".join(CASES))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        result = child(arguments.child)
        print(json.dumps(result, default=str))
        return
    chosen = arguments.only.split(",") if arguments.only else list(CASES)
    results = []
    for name in chosen:
        for case in CASES[name]:
            result = harness.run_script("input_limits.py", *case)
            print(json.dumps(result, default=str), flush=True)
            results.append(result)
    rows = [
        (
            r["case"],
            f"{r['rows']:,}",
            f"{r['stored_bytes'] / 2**20:,.1f}",
            r["reason"] or r["status"],
            f"{r['peak_rss_mib']:,}",
            harness.seconds(r["seconds"]),
        )
        for r in results
    ]
    print(harness.table(["case", "rows", "stored MiB", "outcome", "peak MiB", "seconds"], rows))


if __name__ == "__main__":
    main()
