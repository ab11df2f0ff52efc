"""The evaluate job itself on the local runtime: a model with 30 days of hourly batch
profiles (and a labelled profile a day) in the bucket, one scheduled evaluation of its
P1D, P7D and P30D windows through the real handler (S3 reads from moto, the report, the
metric items, the EMF lines).

Three evaluations, each timed, with the AWS requests the handler made counted:

* **before roll-ups**: what every run cost until daily roll-ups: the same handler with each
  whole day expanded back into its keys, so each window merges every stored batch profile
  of its hours (720 for P30D at one file an hour); an hour earlier, so its evaluation id
  differs from the next run's;
* **first run**: the handler, with no roll-up stored yet: it merges each whole day once and
  writes its roll-up (once in a deployment's life, or after a gap);
* **steady state**: the next day's run, after that day's 24 batches landed: one new day to
  roll up, everything older read from its roll-up.

Stored profiles are built from ``rows`` rows each with the deployment's own baseline bins
(20 features, 5 segments, labels, scores and error slices; ``window_eval`` has the data);
30 distinct hours are cycled through the 744 stored batches: the cost depends on the
profiles' structure, not their values.

    python benchmarks/evaluate_job.py            # about 2-3 minutes
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import harness
import window_eval

MODEL = "bench-job"
FIRST = datetime(2026, 10, 1, tzinfo=UTC)


def definition_text() -> str:
    text = window_eval.DEFINITION.replace("bench-window", MODEL)
    text = text.replace("reference.parquet", "reference.csv")
    features = {**dict.fromkeys(window_eval.bench_data.NUMERIC, "numeric")}
    features.update(dict.fromkeys(window_eval.bench_data.CATEGORICAL, "categorical"))
    return text.replace("{FEATURES}", json.dumps(features)).replace(
        "windows: [P1D, P7D, P30D]", "windows: [P1D, P7D, P30D]\nschedule: rate(1 day)"
    )


def _put(s3: Any, bucket: str, key: str, document: dict[str, Any]) -> None:
    body = gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0)
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentEncoding="gzip")


def run(*, rows: int = 4_000, days: int = 30, distinct: int = 30) -> dict[str, Any]:
    """Store ``days`` days of hourly batches, evaluate mid-morning of the next day (so the
    first day is partial) before and with roll-ups, then store one more day and evaluate
    a day later."""
    from end_to_end import Instruments

    from driftline.aws.jobs import windows
    from driftline.aws.s3 import ObjectStore
    from driftline.aws.store import Table
    from driftline.evaluation import profile_spec
    from driftline.local import LocalRuntime
    from driftline.profile.dataset import Reference, profile_frame

    monitor = window_eval.definition()
    spec = profile_spec(monitor)
    baseline = window_eval.labelled_frame(max(rows, 1000), day=-1, shift=0.0)
    with LocalRuntime(harness.REPO / "template.yaml") as runtime:
        s3, bucket = runtime.client("s3"), runtime.bucket
        runtime.upload(f"baselines/{MODEL}/reference.csv", baseline.to_csv(index=False))
        runtime.upload(f"config/{MODEL}.yaml", definition_text())
        store = ObjectStore(s3, bucket)
        table = Table(runtime.client("dynamodb"), runtime.name_of("MonitorTable"))
        reference_key = table.reference_key(MODEL)
        assert reference_key, "the baseline was not built"
        reference = Reference.from_dict(store.get_json(reference_key))
        batches, labelled = [], []
        for day in range(min(distinct, days + 1)):
            frame = window_eval.labelled_frame(rows, day=day, shift=0.1)
            labelled.append(profile_frame(frame, spec, reference.bins).to_dict())
            unlabelled = frame.drop(columns=["label"])
            batches.append(profile_frame(unlabelled, spec, reference.bins).to_dict())

        def store_day(day: int) -> None:
            date = FIRST + timedelta(days=day)
            for hour in range(24):
                key = f"profiles/{MODEL}/batches/{date:%Y/%m/%d}/{hour:02d}/b{day}-{hour}.json"
                _put(s3, bucket, key, {"profile": batches[(day * 24 + hour) % len(batches)]})
            key = f"profiles/{MODEL}/labelled/{date:%Y/%m/%d}/l{day}.json"
            _put(s3, bucket, key, {"profile": labelled[day % len(labelled)]})

        evaluated_at = FIRST + timedelta(days=days, hours=6)
        for day in range(days):
            store_day(day)
        instruments = Instruments()
        instruments.install(runtime)
        try:
            with without_rollups(windows):  # an hour earlier: another evaluation id
                before = _timed(runtime, instruments, evaluated_at - timedelta(hours=1))
            first = _timed(runtime, instruments, evaluated_at)
            store_day(days)
            steady = _timed(runtime, instruments, evaluated_at + timedelta(days=1))
        finally:
            instruments.uninstall()
        rollups = sum(1 for _ in store.keys(f"profiles/{MODEL}/daily/"))
    return {
        "rows_per_profile": rows,
        "batch_profiles": days * 24,
        "before": before,
        "first": first,
        "steady": steady,
        "rollups": rollups,
    }


@contextlib.contextmanager
def without_rollups(windows: Any) -> Iterator[None]:
    """The job as it was before roll-ups: every whole day expanded back into its keys, so
    each window merges every stored profile it covers (the same listing, the same merge).
    ``windows`` is the module that looks ``_window_parts`` up (driftline.aws.jobs.windows)."""
    original = windows._window_parts

    def every_key(*args: Any, **kwargs: Any) -> Iterator[str]:
        for part in original(*args, **kwargs):
            if isinstance(part, str):
                yield part
            else:
                yield from (key for key, _ in part.sources)

    windows._window_parts = every_key
    try:
        yield
    finally:
        windows._window_parts = original


def _timed(runtime: Any, instruments: Any, now: datetime) -> dict[str, Any]:
    evaluate_name = runtime.name_of("EvaluateFunction")
    instruments.reset()
    started = time.perf_counter()
    outcome = runtime.invoke("EvaluateFunction", {"model": MODEL, "time": now.isoformat()})
    seconds = time.perf_counter() - started
    calls = Counter(instruments.calls.get(evaluate_name, Counter()))
    return {
        "seconds": seconds,
        "handler_seconds": sum(instruments.seconds.get(evaluate_name, [seconds])),
        "calls": dict(calls),
        "statuses": [
            window.get("status")
            for evaluation in outcome["evaluations"]
            for window in evaluation.get("windows", [])
        ],
    }


def render(result: dict[str, Any]) -> str:
    rows = []
    for label, run in (
        ("before roll-ups (every stored profile)", result["before"]),
        ("first run (writes the roll-ups)", result["first"]),
        ("steady state (next day)", result["steady"]),
    ):
        calls = run["calls"]
        gets, puts = calls.get("s3:GetObject", 0), calls.get("s3:PutObject", 0)
        rows.append([label, harness.seconds(run["seconds"]), str(gets), str(puts)])
    ratio = result["before"]["seconds"] / result["steady"]["seconds"]
    return "\n".join(
        [
            harness.table(["evaluation of P1D + P7D + P30D", "s", "S3 GETs", "S3 PUTs"], rows),
            "",
            f"{result['batch_profiles']} hourly batch profiles of {result['rows_per_profile']:,}"
            f" rows and a labelled profile a day; {result['rollups']} roll-ups stored after the "
            f"two runs. Steady state ÷ before: {1 / ratio:.2f} ({harness.ratio(ratio)} faster). "
            f"Window statuses: {result['steady']['statuses']}.",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000)
    args = parser.parse_args(argv)
    result = run(rows=args.rows)
    print(render(result))


if __name__ == "__main__":
    main()
