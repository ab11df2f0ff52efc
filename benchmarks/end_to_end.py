"""End to end on the local runtime: a 100,000-row inference file uploaded -> the on-call
notification, through template.yaml's real wiring (moto, handlers in-process).

Each round configures a fresh model (``config/`` + ``baselines/``, not timed), then uploads
one CSV batch of ``rows`` rows (20 features, an id, a score and a prediction) whose
``num_0`` is 5 % missing, against a quality check allowing 1 %. The upload's S3
notification runs ``profile_batch`` (read, profile, keep the rows for the label join,
write the profile, decide the quality checks, act: alert state, outbox, SNS, EventBridge).
In moto all of that happens *inside* the ``put_object`` call, so the time of
``runtime.upload(...)`` is the whole path; ``runtime.notifications()`` then reads the
message from the SQS queue subscribed to the topic. A wrapper around the runtime's handler
dispatch times each handler, and a wrapper around botocore's ``_make_api_call`` counts the
AWS requests each one made (the figures the cost model prices).

After the rounds, one scheduled evaluation (windows P1D and P30D over the uploaded batches)
is run and timed the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_data
import harness

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
MISSING_SHARE = 0.05

DEFINITION = """
model: {model}
schema:
  id: request_id
  task: binary_classification
  prediction: predicted
  score: score
  features: {features}
baseline: {{path: baselines/{model}/reference.csv}}
checks:
  - {{name: num-0-missing, quality: missing_share, feature: num_0, max: 0.01}}
  - {{name: cat-0-new, quality: new_category_share, feature: cat_0, max: 0.05}}
  - {{name: input-drift, drift: dataset}}
schedule: rate(1 day)
windows: [P1D, P30D]
"""


def batch_csv(rows: int, *, seed: int, shift: float, missing: float = 0.0) -> bytes:
    """A CSV inference log: the 20 benchmark features, an id, a score and a prediction."""
    import numpy as np

    frame = bench_data.frame(rows, shift=shift, seed=seed)
    rng = np.random.default_rng(seed + 1)
    if missing:
        frame.loc[rng.random(rows) < missing, "num_0"] = np.nan
    frame.insert(0, "request_id", [f"s{seed}-{i}" for i in range(rows)])
    frame["score"] = np.round(rng.random(rows), 4)
    frame["predicted"] = (frame["score"] >= 0.5).astype(int)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def definition(model: str) -> str:
    features = {**dict.fromkeys(bench_data.NUMERIC, "numeric")}
    features.update(dict.fromkeys(bench_data.CATEGORICAL, "categorical"))
    listed = "{" + ", ".join(f"{name}: {kind}" for name, kind in features.items()) + "}"
    return DEFINITION.format(model=model, features=listed)


class Instruments:
    """Handler durations and AWS request counts, per function, while installed."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.calls: dict[str, Counter[str]] = {}
        self.seconds: dict[str, list[float]] = {}

    def install(self, runtime: Any) -> None:
        import botocore.client

        original_call = botocore.client.BaseClient._make_api_call
        original_invoke = runtime._invoke
        instruments = self

        def counted(client: Any, operation: str, params: Any) -> Any:
            owner = instruments.current or "caller"
            service = client.meta.service_model.service_name
            instruments.calls.setdefault(owner, Counter())[f"{service}:{operation}"] += 1
            return original_call(client, operation, params)

        def timed(function_name: str, event: Any) -> Any:
            outer, instruments.current = instruments.current, function_name
            started = time.perf_counter()
            try:
                return original_invoke(function_name, event)
            finally:
                instruments.seconds.setdefault(function_name, []).append(
                    time.perf_counter() - started
                )
                instruments.current = outer

        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
        runtime._invoke = timed
        self._restore = lambda: setattr(botocore.client.BaseClient, "_make_api_call", original_call)

    def uninstall(self) -> None:
        self._restore()

    def reset(self) -> None:
        self.calls.clear()
        self.seconds.clear()


@contextlib.contextmanager
def captured_stdout(into: io.BytesIO) -> Iterator[None]:
    """Everything written to file descriptor 1 (print, and powertools' Logger, whose
    handler holds the original ``sys.stdout``) goes to ``into`` instead."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            into.write(sink.read())


def _function_named(runtime: Any, logical_id: str) -> str:
    return str(runtime.name_of(logical_id))


def run(*, rows: int = 100_000, rounds: int = 3, template: Path | None = None) -> dict[str, Any]:
    from driftline.local import LocalRuntime

    template = template or harness.REPO / "template.yaml"
    reference = batch_csv(max(rows // 5, 2_000), seed=7, shift=0.0)
    batches = [
        batch_csv(rows, seed=100 + r, shift=0.1, missing=MISSING_SHARE) for r in range(rounds)
    ]
    instruments = Instruments()
    started = time.perf_counter()
    logs = io.BytesIO()  # the handlers' log lines and EMF documents (stdout on Lambda)
    with captured_stdout(logs), LocalRuntime(template) as runtime:
        provisioned = time.perf_counter() - started
        instruments.install(runtime)
        try:
            profile_name = _function_named(runtime, "ProfileBatchFunction")
            evaluate_name = _function_named(runtime, "EvaluateFunction")
            s3 = runtime.client("s3")
            runs = []
            for index, body in enumerate(batches):
                model = f"bench-e2e-{index}"
                runtime.upload(f"baselines/{model}/reference.csv", reference)
                runtime.upload(f"config/{model}.yaml", definition(model))
                runtime.notifications()
                # What moto's put_object alone costs for this body (no notification there).
                put_started = time.perf_counter()
                s3.put_object(Bucket=runtime.bucket, Key=f"scratch/{model}.csv", Body=body)
                put_seconds = time.perf_counter() - put_started
                instruments.reset()
                key = f"inference/{model}/2026/11/25/10/batch.csv"
                upload_started = time.perf_counter()
                runtime.upload(key, body)
                uploaded = time.perf_counter()
                messages = runtime.notifications()
                notified = time.perf_counter()
                runs.append(
                    {
                        "seconds": notified - upload_started,
                        "upload_seconds": uploaded - upload_started,
                        "notifications_seconds": notified - uploaded,
                        "handler_seconds": sum(instruments.seconds.get(profile_name, [0.0])),
                        "put_seconds": put_seconds,
                        "messages": len(messages),
                        "subject": messages[0]["Subject"] if messages else None,
                        "calls": dict(instruments.calls.get(profile_name, Counter())),
                    }
                )
            instruments.reset()
            evaluate_started = time.perf_counter()
            runtime.run_schedules(NOW)
            evaluate_seconds = time.perf_counter() - evaluate_started
            evaluation = {
                "seconds": evaluate_seconds,
                "handler_seconds": sum(instruments.seconds.get(evaluate_name, [0.0])),
                "models": rounds,
                "calls": dict(instruments.calls.get(evaluate_name, Counter())),
            }
            failures = [call.error for call in runtime.failures()]
            written = _written_bytes(s3, runtime.bucket, "profiles/bench-e2e-0/")
            invocations = len(runtime.invocations)
        finally:
            instruments.uninstall()
    best = min(runs, key=lambda run: run["seconds"])
    return {
        "rows": rows,
        "batch_bytes": len(batches[0]),
        "rounds": rounds,
        "provision_seconds": provisioned,
        "runs": runs,
        "best": best,
        "first": runs[0],
        "evaluation": evaluation,
        "failures": failures,
        "kept_bytes": written.get("rows", 0),
        "profile_bytes": written.get("batches", 0),
        "log_bytes_per_invocation": len(logs.getvalue()) / max(invocations, 1),
    }


def _written_bytes(s3: Any, bucket: str, prefix: str) -> dict[str, int]:
    """Bytes driftline wrote under ``prefix`` by kind (``rows``, ``batches``, ...)."""
    sizes: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            kind = item["Key"][len(prefix) :].split("/", 1)[0]
            sizes[kind] = sizes.get(kind, 0) + int(item["Size"])
    return sizes


def render(result: dict[str, Any]) -> str:
    best, first = result["best"], result["first"]
    rows = []
    for label, run in (("first round", first), (f"best of {result['rounds']}", best)):
        rows.append(
            [
                label,
                harness.seconds(run["upload_seconds"]),
                harness.seconds(run["handler_seconds"]),
                harness.seconds(run["put_seconds"]),
                harness.seconds(run["notifications_seconds"]),
                harness.seconds(run["seconds"]),
                str(run["messages"]),
            ]
        )
    calls = ", ".join(f"{name} {count}" for name, count in sorted(best["calls"].items()))
    evaluation = result["evaluation"]
    evaluate_calls = sum(evaluation["calls"].values())
    lines = [
        harness.table(
            [
                "",
                "runtime.upload s",
                "of which profile_batch s",
                "moto put_object alone s",
                "notifications() s",
                "upload → notification s",
                "messages",
            ],
            rows,
        ),
        "",
        f"{result['rows']:,}-row CSV batch ({result['batch_bytes'] / 2**20:.1f} MiB), "
        f"20 features; moto delivers the S3 notification and runs the handler inside "
        f"put_object, so the upload call is the whole path. Subject: {best['subject']!r}.",
        f"AWS requests made by profile_batch for one batch: {calls}. It wrote "
        f"{result['kept_bytes'] / 2**20:.1f} MiB of kept rows (for the label join) and a "
        f"{result['profile_bytes'] / 1024:.0f} KiB profile.",
        f"One scheduled evaluation tick over {evaluation['models']} model(s) (P1D and P30D, "
        f"one batch each): {evaluation['seconds']:.2f} s, {evaluate_calls} AWS requests "
        f"({evaluate_calls / evaluation['models']:.0f} per model, most of them S3 LIST: two "
        "prefixes for every day of each window).",
    ]
    if result["failures"]:
        lines.append(f"HANDLER FAILURES: {result['failures']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(render(run(rows=args.rows, rounds=args.rounds)))


if __name__ == "__main__":
    main()
