"""Load on the local runtime: many batch uploads across many models, every event delivered
twice and in shuffled order (labels racing their predictions), compared with a clean
sequential run of the same files.

The scenario is generated from a seed: each model gets a baseline, ``batches`` inference
files spread over the seven days before the evaluation, and one label file per
``batches_per_label_file`` batches, dated the day of the latest batch it labels. Some models
are built to fail, each in one way, so the expected incidents follow from the scenario:

- model index % 4 == 0: the model's accuracy falls below the floor (``accuracy-floor``);
- model index % 4 == 1: feature ``x`` shifts (``x-drift``);
- model index % 4 == 2: a tenth of ``y`` goes missing in every batch (``y-missing``, a
  quality check run on each batch as it lands, so it is raised by the first batch profiled
  and must not be raised again by the others, nor by the scheduled evaluation);
- model index % 4 == 3: healthy (nothing may be raised).

Two deployments of template.yaml run the scenario (:class:`driftline.local.LocalRuntime`:
moto, real S3 notifications, the real handlers in-process):

- **clean**: definitions and baselines first, then each model's batches in time order with
  each label file right after the batches it labels; every event delivered once.
- **raced**: definitions and baselines first (shuffled, each delivered twice), then every
  batch and label file in one shuffled order across all models (so a label file often lands
  before the predictions it labels), each event delivered a second time at a random later
  point. The schedule then fires twice.

Compared (:func:`compare`): every metric item in the table (exactly), every report's
status, the rows each detector has seen (no lost update) and the label files it applied,
and the notifications, one per incident, the same in both runs. Deliveries run one after
the other: the runtime invokes handlers in-process and sets the process environment per
function, so it is not thread-safe. Concurrent writers to one detector state are tested in
tests/functional/aws/test_jobs.py::test_sixteen_concurrent_label_batches_lose_no_detector_update.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftline.local import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
#: When every schedule fires: the evaluation window (P7D) holds every batch.
NOW = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
FIRST_DAY = NOW - timedelta(days=7)
ACCURACY_FLOOR = 0.8
DEFINITION = """
model: {model}
schema:
  id: request_id
  task: binary_classification
  prediction: predicted
  score: score
  label: label
  positive_class: 1
  features: {{x: numeric, y: numeric, plan: categorical}}
  segments: [plan]
baseline: {{path: baselines/{model}/reference.csv}}
drift:
  method: psi
checks:
  - {{name: accuracy-floor, metric: accuracy, min: {floor}, action: notify}}
  - {{name: x-drift, drift: x, action: notify}}
  - {{name: y-missing, quality: missing_share, feature: y, max: 0.05, action: notify}}
  - {{name: error-adwin, detector: adwin, signal: error, action: notify}}
schedule: rate(1 day)
windows: [P7D]
"""
#: The check each kind of model is built to fail (None: healthy).
FAILING = {0: "accuracy-floor", 1: "x-drift", 2: "y-missing", 3: None}
ACCURACY_DROP, SHIFT, MISSING = 0, 1, 2


@dataclass(frozen=True)
class Scale:
    """How big a run is."""

    models: int
    batches: int  # per model
    rows: int  # per batch
    batches_per_label_file: int = 4
    labelled_share: float = 0.9
    seed: int = 20261125

    @property
    def uploads(self) -> int:
        return self.models * self.batches


@dataclass(frozen=True)
class Upload:
    key: str
    body: bytes
    model: str
    kind: str  # "config" | "baseline" | "batch" | "labels"
    order: tuple[int, ...]  # position in the clean run


@dataclass
class Scenario:
    scale: Scale
    setup: list[Upload]
    data: list[Upload]
    #: model → the check it is built to fail, or None.
    failing: dict[str, str | None]
    #: model → rows carrying a label (what its detector must have seen).
    labelled_rows: dict[str, int]
    #: model → number of label files.
    label_files: dict[str, int]


def model_name(index: int) -> str:
    return f"load-{index:02d}"


def _frame(rng: np.random.Generator, rows: int, *, ids: list[str], kind: int) -> pd.DataFrame:
    accuracy = 0.65 if kind == ACCURACY_DROP else 0.9
    shift = 1.5 if kind == SHIFT else 0.0
    predicted = rng.integers(0, 2, rows)
    wrong = rng.random(rows) > accuracy
    y = rng.normal(50.0, 10.0, rows).round(3)
    if kind == MISSING:
        y[rng.permutation(rows)[: max(1, rows // 10)]] = np.nan
    return pd.DataFrame(
        {
            "request_id": ids,
            "x": (rng.normal(0.0, 1.0, rows) + shift).round(4),
            "y": y,
            "plan": rng.choice(["basic", "pro", "team"], rows),
            "score": rng.random(rows).round(4),
            "predicted": predicted,
            "label": np.where(wrong, 1 - predicted, predicted),
        }
    )


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def build_scenario(scale: Scale) -> Scenario:
    """Every file of the run, from the scale's seed."""
    rng = np.random.default_rng(scale.seed)
    setup: list[Upload] = []
    data: list[Upload] = []
    failing: dict[str, str | None] = {}
    labelled_rows: dict[str, int] = {}
    label_files: dict[str, int] = {}
    for index in range(scale.models):
        model = model_name(index)
        kind = index % 4
        failing[model] = FAILING[kind]
        baseline = _frame(rng, 2000, ids=[f"ref-{i}" for i in range(2000)], kind=-1)
        setup.append(Upload(f"baselines/{model}/reference.csv", _csv(baseline), model,
                            "baseline", (index, 0)))  # fmt: skip
        text = DEFINITION.format(model=model, floor=ACCURACY_FLOOR)
        setup.append(Upload(f"config/{model}.yaml", text.encode(), model, "config", (index, 1)))
        labelled_rows[model] = 0
        label_files[model] = 0
        pending: list[pd.DataFrame] = []
        for batch in range(scale.batches):
            # spread over the 7 days (hours 00..23), in time order
            at = FIRST_DAY + timedelta(hours=batch * 7 * 24 // scale.batches)
            ids = [f"{model}-{batch}-{row}" for row in range(scale.rows)]
            frame = _frame(rng, scale.rows, ids=ids, kind=kind)
            key = f"inference/{model}/{at:%Y/%m/%d/%H}/batch-{batch:04d}.csv"
            data.append(Upload(key, _csv(frame.drop(columns="label")), model, "batch",
                               (index, batch, 0)))  # fmt: skip
            labelled = frame.sample(frac=scale.labelled_share, random_state=int(rng.integers(1e9)))
            pending.append(labelled[["request_id", "label"]])
            if len(pending) == scale.batches_per_label_file or batch == scale.batches - 1:
                labels = pd.concat(pending, ignore_index=True)
                number = label_files[model]
                key = f"labels/{model}/{at:%Y/%m/%d}/labels-{number:04d}.csv"
                data.append(Upload(key, _csv(labels), model, "labels", (index, batch, 1)))
                labelled_rows[model] += len(labels)
                label_files[model] += 1
                pending = []
    return Scenario(scale, setup, data, failing, labelled_rows, label_files)


# -- running ------------------------------------------------------------------------------


@dataclass
class RunResult:
    """What a run left behind, and how it went."""

    metrics: dict[str, float]
    statuses: dict[str, str]
    detectors: dict[str, dict[str, Any]]
    notifications: list[tuple[str, str, tuple[str, ...]]]
    failures: list[str]
    deliveries: Counter[str] = field(default_factory=Counter)
    redeliveries: int = 0
    seconds: float = 0.0


@contextlib.contextmanager
def _quiet(log: Path | None) -> Iterator[None]:
    """The functions' log lines and EMF documents (stdout, thousands of them) go to ``log``
    (or nowhere), not into the run's own output. At the file-descriptor level: the
    powertools logger holds the stdout it found at import."""
    sys.stdout.flush()
    saved = os.dup(1)
    target = os.open(log if log is not None else os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(target, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(target)


def _upload(runtime: LocalRuntime, upload: Upload) -> list[tuple[str, Any]]:
    """Upload (its S3 notification runs the handler); returns the events it delivered."""
    before = len(runtime.invocations)
    runtime.upload(upload.key, upload.body)
    return [(call.function, call.event) for call in runtime.invocations[before:]]


def _metrics(runtime: LocalRuntime) -> dict[str, float]:
    dynamodb = runtime.client("dynamodb")
    table = runtime.name_of("MonitorTable")
    found: dict[str, float] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if item["PK"]["S"].startswith("METRIC#"):
                found[item["PK"]["S"] + "|" + item["SK"]["S"]] = float(item["value"]["N"])
    return found


def _detectors(runtime: LocalRuntime, models: list[str]) -> dict[str, dict[str, Any]]:
    dynamodb = runtime.client("dynamodb")
    table = runtime.name_of("MonitorTable")
    found = {}
    for model in models:
        item = dynamodb.get_item(
            TableName=table,
            Key={"PK": {"S": f"MODEL#{model}"}, "SK": {"S": "DETECTOR#error-adwin"}},
        ).get("Item")
        if item is None:
            found[model] = {"rows": 0, "applied": 0}
            continue
        document = json.loads(item["state"]["S"])
        found[model] = {
            "rows": int(document["detector"]["state"]["n"]),
            "applied": len(document["applied"]),
        }
    return found


def _statuses(runtime: LocalRuntime) -> dict[str, str]:
    s3 = runtime.client("s3")
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=runtime.bucket, Prefix="reports/"
    ):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".json"):
                body = s3.get_object(Bucket=runtime.bucket, Key=item["Key"])["Body"].read()
                if body[:2] == b"\x1f\x8b":
                    body = gzip.decompress(body)
                found[item["Key"]] = json.loads(body)["status"]
    return found


def _notifications(runtime: LocalRuntime) -> list[tuple[str, str, tuple[str, ...]]]:
    """(model, kind, the checks it names) of each message on the topic; a CloudWatch alarm's
    page (a function failing, the dead-letter queue filling) is ``("(alarm)", "alarm",
    (alarm name,))``."""
    found = []
    for message in runtime.notifications():
        body = message["Message"]
        if "--- machine-readable ---\n" not in body:
            alarm = json.loads(body)
            found.append(("(alarm)", "alarm", (str(alarm["AlarmName"]),)))
            continue
        machine = json.loads(body.split("--- machine-readable ---\n", 1)[1])
        checks = tuple(sorted(machine.get("about", [])))
        found.append((str(machine.get("model")), str(machine.get("kind")), checks))
    return sorted(found)


def _finish(runtime: LocalRuntime, models: list[str], result: RunResult) -> RunResult:
    result.metrics = _metrics(runtime)
    result.statuses = _statuses(runtime)
    result.detectors = _detectors(runtime, models)
    result.notifications = _notifications(runtime)
    result.failures = [f"{call.function}: {call.error}" for call in runtime.failures()]
    return result


def run_clean(scenario: Scenario, *, log: Path | None = None) -> RunResult:
    """Every file once, in the order a well-behaved world would deliver them."""
    started = time.perf_counter()
    result = RunResult({}, {}, {}, [], [])
    models = sorted(scenario.failing)
    with _quiet(log), LocalRuntime(TEMPLATE, stack="driftline-clean") as runtime:
        for upload in sorted(scenario.setup, key=lambda u: u.order):
            _upload(runtime, upload)
            result.deliveries[upload.kind] += 1
        for upload in sorted(scenario.data, key=lambda u: u.order):
            _upload(runtime, upload)
            result.deliveries[upload.kind] += 1
        runtime.run_schedules(NOW)
        result.deliveries["schedule"] += len(models)
        _finish(runtime, models, result)
    result.seconds = time.perf_counter() - started
    return result


def _raced(
    runtime: LocalRuntime, uploads: list[Upload], rng: random.Random, result: RunResult
) -> None:
    """Each upload once and each of its events a second time, all in one shuffled order
    (an event's second delivery always comes after its first)."""
    slots = [(upload, copy) for upload in uploads for copy in (1, 2)]
    rng.shuffle(slots)
    delivered: dict[str, list[tuple[str, Any]]] = {}
    for upload, _ in slots:
        if upload.key not in delivered:
            delivered[upload.key] = _upload(runtime, upload)
            result.deliveries[upload.kind] += 1
        else:
            for function, event in delivered[upload.key]:
                runtime.invoke(function, event)
                result.redeliveries += 1


def run_raced(scenario: Scenario, *, log: Path | None = None) -> RunResult:
    """Every event twice, shuffled across models, labels racing predictions."""
    started = time.perf_counter()
    result = RunResult({}, {}, {}, [], [])
    rng = random.Random(scenario.scale.seed)
    models = sorted(scenario.failing)
    with _quiet(log), LocalRuntime(TEMPLATE, stack="driftline-raced") as runtime:
        _raced(runtime, scenario.setup, rng, result)
        _raced(runtime, scenario.data, rng, result)
        runtime.run_schedules(NOW)
        runtime.run_schedules(NOW)  # the schedule fires twice too
        result.deliveries["schedule"] += len(models)
        result.redeliveries += len(models)
        _finish(runtime, models, result)
    result.seconds = time.perf_counter() - started
    return result


def labels_before_predictions(scenario: Scenario) -> int:
    """How many label files the raced order uploads before a batch they label (replaying
    :func:`run_raced`'s shuffles)."""
    rng = random.Random(scenario.scale.seed)
    for uploads in (scenario.setup,):
        slots = [(u, c) for u in uploads for c in (1, 2)]
        rng.shuffle(slots)
    slots = [(u, c) for u in scenario.data for c in (1, 2)]
    rng.shuffle(slots)
    seen: set[str] = set()
    first: list[Upload] = []
    for upload, _ in slots:
        if upload.key not in seen:
            seen.add(upload.key)
            first.append(upload)
    position = {u.key: i for i, u in enumerate(first)}
    early = 0
    for upload in first:
        if upload.kind != "labels":
            continue
        model, last_batch = upload.order[0], upload.order[1]
        span = scenario.scale.batches_per_label_file
        labelled = [
            u
            for u in first
            if u.kind == "batch"
            and u.order[0] == model
            and last_batch - span < u.order[1] <= last_batch
        ]
        if any(position[b.key] > position[upload.key] for b in labelled):
            early += 1
    return early


# -- comparing ----------------------------------------------------------------------------


def expected_incidents(scenario: Scenario) -> list[tuple[str, str]]:
    """(model, check) of every incident the scenario is built to raise."""
    return sorted((model, check) for model, check in scenario.failing.items() if check)


def compare(scenario: Scenario, clean: RunResult, raced: RunResult) -> list[str]:
    """Every way the raced run differs from the clean one or from the scenario (empty: none)."""
    problems: list[str] = []
    for name, run in (("clean", clean), ("raced", raced)):
        problems += [f"{name}: a function failed: {failure[:500]}" for failure in run.failures]
        for model, seen in run.detectors.items():
            if seen["rows"] != scenario.labelled_rows[model]:
                problems.append(
                    f"{name}: detector of {model} saw {seen['rows']} rows, "
                    f"expected {scenario.labelled_rows[model]} (a lost or doubled update)"
                )
            # one applied pair per (label file, batch it labels): each batch has one
            if seen["applied"] != scenario.scale.batches:
                problems.append(
                    f"{name}: detector of {model} applied {seen['applied']} (label file, "
                    f"batch) pairs, expected {scenario.scale.batches}"
                )
        raised = sorted(
            (model, check)
            for model, kind, checks in run.notifications
            if kind not in ("input_rejected", "alarm")
            for check in checks
        )
        if raised != expected_incidents(scenario):
            problems.append(f"{name}: notified {raised}, expected {expected_incidents(scenario)}")
        rejected = [n for n in run.notifications if n[1] == "input_rejected"]
        if rejected:
            problems.append(f"{name}: {len(rejected)} inputs rejected: {rejected[:3]}")
        alarms = [n[2][0] for n in run.notifications if n[1] == "alarm"]
        if alarms:
            problems.append(f"{name}: {len(alarms)} alarm pages: {alarms[:3]}")
    if not clean.metrics:
        problems.append("clean: no metric was stored")
    if raced.metrics.keys() != clean.metrics.keys():
        missing = sorted(clean.metrics.keys() - raced.metrics.keys())[:5]
        extra = sorted(raced.metrics.keys() - clean.metrics.keys())[:5]
        problems.append(f"metric items differ: missing {missing}, extra {extra}")
    differing = sorted(
        key for key in clean.metrics.keys() & raced.metrics.keys()
        if clean.metrics[key] != raced.metrics[key]
    )  # fmt: skip
    problems += [
        f"metric {key}: clean {clean.metrics[key]!r}, raced {raced.metrics[key]!r}"
        for key in differing[:20]
    ]
    if raced.statuses != clean.statuses:
        problems.append(f"report statuses differ: clean {clean.statuses}, raced {raced.statuses}")
    if raced.notifications != clean.notifications:
        problems.append(
            f"notifications differ: clean {clean.notifications}, raced {raced.notifications}"
        )
    return problems


def figures(scenario: Scenario, clean: RunResult, raced: RunResult) -> dict[str, Any]:
    """The figures docs/reliability.md records."""
    return {
        "models": scenario.scale.models,
        "batch_uploads": scenario.scale.uploads,
        "rows_per_batch": scenario.scale.rows,
        "label_files": sum(scenario.label_files.values()),
        "labelled_rows": sum(scenario.labelled_rows.values()),
        "raced": {
            "uploads": dict(raced.deliveries),
            "redelivered_events": raced.redeliveries,
            "label_files_before_their_predictions": labels_before_predictions(scenario),
            "seconds": round(raced.seconds, 1),
        },
        "clean": {"uploads": dict(clean.deliveries), "seconds": round(clean.seconds, 1)},
        "metric_items": len(clean.metrics),
        "metric_items_equal": sum(
            1 for key, value in clean.metrics.items() if raced.metrics.get(key) == value
        ),
        "notifications": {"clean": len(clean.notifications), "raced": len(raced.notifications)},
        "incidents": len(expected_incidents(scenario)),
        "detector_rows": {
            "expected": sum(scenario.labelled_rows.values()),
            "clean": sum(d["rows"] for d in clean.detectors.values()),
            "raced": sum(d["rows"] for d in raced.detectors.values()),
        },
        "failed_invocations": len(clean.failures) + len(raced.failures),
    }
