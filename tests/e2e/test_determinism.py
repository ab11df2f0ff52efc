"""Identical inputs give identical figures and decisions: three separate deployments of
template.yaml on the local runtime, each fed one day of hourly inference logs and label files
in its own shuffled order (one with a duplicate delivery), store the same evaluation to the
byte; ``driftline evaluate`` gives the same JSON twenty times over, in this process and in
another one (another hash seed).

The day holds 120,000 rows, so the window's merged profile of ``amount`` (a continuous
feature) passes the 100,000 exact values a column keeps and becomes the deterministic
sketch (docs/profiles.md): its bytes then depend on the order of the merges, which must be
canonical whatever order the files arrived in.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.cli import main as cli_main
from driftline.local import LocalRuntime
from driftline.profile.dataset import DatasetProfile
from driftline.profile.numeric import NumericProfile

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MODEL = "orders"
DAY = datetime(2026, 11, 24, tzinfo=UTC)
#: The schedule fires at the end of the day: P1D covers the day whole (through its roll-up),
#: PT6H the last six hours key by key.
NOW = DAY + timedelta(days=1)
HOURS = range(24)
ROWS_PER_HOUR = 5_000  # 120,000 in the day: past the 100,000 exact values of a column
LABEL_FILES = 2  # each labels a fifth of every hour's predictions
DEFINITION = f"""
model: {MODEL}
schema:
  id: order_id
  timestamp: event_time
  task: binary_classification
  prediction: predicted
  score: score
  label: returned
  positive_class: 1
  features:
    amount: numeric
    items: numeric
    region: categorical
    channel: categorical
  segments: [channel]
baseline: {{path: baselines/{MODEL}/reference.csv}}
drift:
  correction: holm
checks:
  - {{name: amount-drift, drift: amount, action: notify}}
  - {{name: items-drift, drift: items, action: notify}}
  - {{name: region-drift, drift: region, action: notify}}
  - {{name: channel-drift, drift: channel, action: notify}}
  - {{name: input-drift, drift: dataset, action: notify}}
  - {{name: amount-missing, quality: missing_share, feature: amount, max: 0.02, action: notify}}
  - {{name: accuracy-floor, metric: accuracy, min: 0.8, action: notify}}
  - {{name: error-ddm, detector: ddm, signal: error, action: notify}}
schedule: rate(1 day)
windows: [P1D, PT6H]
"""


def orders(rows: int, *, seed: int, start: datetime, shift: float = 0.0) -> pd.DataFrame:
    """Generated predictions of one hour (or the baseline): ``amount`` continuous and
    distinct, ``items`` a small count, two categorical features, a score, a prediction and
    the label (dropped from inference logs, sent in label files)."""
    rng = np.random.default_rng(seed)
    score = rng.random(rows)
    predicted = (score > 0.5).astype(int)
    wrong = rng.random(rows) < 0.12 + 0.1 * shift
    amount = rng.lognormal(3.0 + shift, 0.8, rows)
    amount[rng.random(rows) < 0.01] = np.nan
    return pd.DataFrame(
        {
            "order_id": [f"o{start:%d%H}-{seed}-{i:05d}" for i in range(rows)],
            "event_time": (
                pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.integers(0, 3600, rows)), "s")
            ).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "amount": amount,
            "items": rng.poisson(2.0 + shift, rows),
            "region": rng.choice(["north", "south", "east", "west", "centre"], rows,
                                 p=[0.3, 0.25, 0.2, 0.15, 0.1]),
            "channel": rng.choice(["web", "app", "store"], rows, p=[0.5, 0.3, 0.2]),
            "score": score.round(6),
            "predicted": predicted,
            "returned": np.where(wrong, 1 - predicted, predicted),
        }
    )  # fmt: skip


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def day_inputs() -> dict[str, bytes]:
    """The baseline, the definition, the day's inference logs (one per hour, two at
    00 and 12) and its label files (each labels a fifth of every hour's predictions), so
    every hour merges several labelled profiles and two hours several batch profiles."""
    batches = {
        hour: orders(ROWS_PER_HOUR, seed=100 + hour, start=DAY + timedelta(hours=hour),
                     shift=0.15 * hour / 23)
        for hour in HOURS
    }  # fmt: skip
    files = {
        f"baselines/{MODEL}/reference.csv": csv(orders(20_000, seed=1, start=DAY - timedelta(7))),
        f"config/{MODEL}.yaml": DEFINITION.encode(),
    }
    for hour, frame in batches.items():
        folder = f"inference/{MODEL}/{DAY:%Y/%m/%d}/{hour:02d}"
        logged = frame.drop(columns="returned")
        half = len(logged) // 2
        parts = [logged[:half], logged[half:]] if hour % 12 == 0 else [logged]
        for name, piece in zip("ab", parts, strict=False):
            files[f"{folder}/batch-{name}.csv"] = csv(piece)
    day = pd.concat(batches.values())
    part_of = np.random.default_rng(7).integers(0, 5, len(day))  # 2 of 5 parts labelled
    for part in range(LABEL_FILES):
        labelled = day[part_of == part]
        files[f"labels/{MODEL}/{DAY:%Y/%m/%d}/labels-{part}.csv"] = csv(
            labelled[["order_id", "returned"]]
        )
    return files


@pytest.fixture(scope="module")
def inputs() -> dict[str, bytes]:
    return day_inputs()


# -- three deployments, three arrival orders -------------------------------------------


def arrival_order(keys: list[str], *, seed: int, duplicate: bool, setup_first: bool) -> list[str]:
    """The day's files in a seeded permutation (label files often before the predictions
    they label); ``setup_first`` puts the definition and the baseline first, else they land
    among the rest (the inputs before them are held and handed back); ``duplicate`` delivers
    one inference log and one label file a second time, later."""
    rng = random.Random(seed)
    setup = [k for k in keys if k.startswith(("config/", "baselines/"))]
    rest = [k for k in keys if k not in setup]
    rng.shuffle(rest)
    if duplicate:
        again = [next(k for k in rest if k.startswith(p)) for p in ("inference/", "labels/")]
        for key in again:
            rest.insert(rng.randint(rest.index(key) + 1, len(rest)), key)
    if setup_first:
        return setup + rest
    for key in setup:
        rest.insert(rng.randint(1, len(rest) - 1), key)
    return rest


#: (seed, duplicate delivery, definition and baseline first) of each deployment.
DEPLOYMENTS = [(11, False, True), (22, True, True), (33, False, False)]


def deploy(inputs: dict[str, bytes], order: list[str]) -> dict[str, Any]:
    """One deployment fed ``order``, then the day's schedule fired once: every object it
    stored, every table item, what the evaluation returned and the notification it sent."""
    with LocalRuntime(ROOT / "template.yaml") as runtime:
        for key in order:
            runtime.upload(key, inputs[key])
        runtime.notifications()  # pages sent on arrival (inputs held, quality): not compared
        results = runtime.run_schedules(NOW)
        assert runtime.failures() == [], runtime.failures()[0].error
        s3 = runtime.client("s3")
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=runtime.bucket):
            for item in page.get("Contents", ()):
                body = s3.get_object(Bucket=runtime.bucket, Key=item["Key"])["Body"].read()
                objects[item["Key"]] = body
        scan = runtime.client("dynamodb").get_paginator("scan")
        items = {
            item["PK"]["S"] + "|" + item["SK"]["S"]: item
            for page in scan.paginate(TableName=runtime.name_of("MonitorTable"))
            for item in page["Items"]
        }
        return {
            "order": order,
            "objects": objects,
            "items": items,
            "results": results,
            "notifications": runtime.notifications(),
        }


@pytest.fixture(scope="module")
def deployments(inputs: dict[str, bytes]) -> list[dict[str, Any]]:
    return [
        deploy(inputs, arrival_order(list(inputs), seed=s, duplicate=d, setup_first=f))
        for s, d, f in DEPLOYMENTS
    ]


#: The checks decided on arrival rather than by the schedule: the quality checks (the
#: built-in schema-columns and scores-in-range among them) on each batch, the detector on
#: each label file.
ON_ARRIVAL = ("amount-missing", "schema-columns", "scores-in-range", "error-ddm")
#: The only fields allowed to differ between the deployments, in the table items of those
#: checks; everything else is compared to the byte. Each records the arrival, not the data:
ARRIVAL_FIELDS = {
    # ``applied``: the pairs the detector applied, in arrival order (compared as a set).
    # ``reported``, ``last_fired``: the fires it paged on the pairs seen so far (see
    # ARRIVAL_ITEMS). Its state once every pair is in place (detector, checkpoint,
    # event-time log, late count) is compared exactly.
    "DETECTOR#": {"applied", "reported", "last_fired"},
    # An alert state of a quality check names the batch that last decided it
    # (``evaluation_id``, ``recent_evaluations``) and when it was received (``since``,
    # ``last_notified``: the wall clock); ``version`` counts its writes.
    "ALERT#": {"evaluation_id", "recent_evaluations", "since", "last_notified", "version"},
}
#: Items left out whole. A streaming detector acts when labels arrive, on the pairs seen so
#: far put in event-time order: a pair that arrives after later ones leaves a gap until it
#: comes, and a fire on the stream with the gap is paged and not taken back. With this day's
#: orders DDM fires nowhere on the whole stream, yet fired on arrival in two of the three
#: deployments (its alert exists there only): what a detector pages depends on the arrival
#: order (docs/reliability.md#4-determinism); its final state does not.
ARRIVAL_ITEMS = {f"MODEL#{MODEL}|ALERT#error-ddm"}


def comparable(key: str, item: dict[str, Any]) -> dict[str, Any]:
    """A table item without the fields :data:`ARRIVAL_FIELDS` allows to differ (only for
    the checks of :data:`ON_ARRIVAL`); other items whole."""
    sort_key = key.split("|", 1)[1]
    kind, _, name = sort_key.partition("#")
    if name not in ON_ARRIVAL:
        return item
    fields = ARRIVAL_FIELDS[f"{kind}#"]
    document = json.loads(item["state"]["S"])
    return {
        **{k: v for k, v in item.items() if k not in fields and k != "state"},
        "state": {k: v for k, v in document.items() if k not in fields},
        "applied": sorted(document.get("applied", [])),
    }


def test_three_deployments_in_shuffled_orders_store_the_same_bytes(
    deployments: list[dict[str, Any]],
) -> None:
    # GIVEN three deployments of one model, each fed the same day of files in its own
    # order (labels before predictions, a duplicate delivery, the definition and baseline
    # after some of the inputs) and evaluated by the day's schedule
    orders_seen = [tuple(d["order"]) for d in deployments]
    assert len(set(orders_seen)) == 3
    first, *others = deployments
    # THEN the window's merged profile of amount did pass the exact limit (the sketch, whose
    # bytes depend on the merge order, was exercised) ...
    rollup = json.loads(
        gzip.decompress(first["objects"][f"profiles/{MODEL}/daily/batches/{DAY:%Y/%m/%d}.json"])
    )
    amount = DatasetProfile.from_dict(rollup["profile"]).columns["amount"]
    assert isinstance(amount, NumericProfile)
    assert amount.n > 100_000 and not amount.exact
    # ... and every object each deployment stored is byte-identical: the batch, labelled
    # and daily profiles, the kept rows, the detector signals, the reports (JSON and HTML)
    for other in others:
        assert other["objects"].keys() == first["objects"].keys()
        differing = [k for k, body in first["objects"].items() if other["objects"][k] != body]
        assert differing == []
    reports = [k for k in first["objects"] if k.startswith(f"reports/{MODEL}/")]
    assert len(reports) == 4  # P1D and PT6H, JSON and HTML
    # (the reports hold the estimated performance, from score cells merged in that order)
    for key in (k for k in reports if k.endswith(".json")):
        report = json.loads(gzip.decompress(first["objects"][key]))
        assert report["performance"]["estimated"]["rows"]["overall"] > 0
    # ... every item in the table: each figure (value, p-values, effects, decisions), the
    # definition, the reference, the alerts of the checks the schedule decides, exactly;
    # the states of the checks decided on arrival but for the fields that record it
    for other in others:
        assert other["items"].keys() - ARRIVAL_ITEMS == first["items"].keys() - ARRIVAL_ITEMS
        differing = [
            key
            for key, item in first["items"].items()
            if key not in ARRIVAL_ITEMS
            and comparable(key, other["items"][key]) != comparable(key, item)
        ]
        assert differing == []
    assert len([k for k in first["items"] if k.startswith("METRIC#")]) > 100
    (detector,) = (item for key, item in first["items"].items() if "|DETECTOR#" in key)
    pairs = 2 * len([k for k in first["objects"] if k.startswith(f"profiles/{MODEL}/rows/")])
    assert len(json.loads(detector["state"]["S"])["log"]) == pairs  # every pair in place
    # ... what the schedule returned, and the notification it sent, but for the link to
    # the report (a presigned URL: its expiry and signature follow the clock)
    for other in others:
        assert other["results"] == first["results"]
        assert unsigned(other["notifications"]) == unsigned(first["notifications"])
    assert len(first["notifications"]) == 1


def unsigned(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Subject and message of each notification, each presigned URL's query left out."""
    return [
        (m["Subject"], re.sub(r"(https://\S+?\.html)\?\S+", r"\1", m["Message"])) for m in messages
    ]


# -- the CLI, twenty times, in this process and another ---------------------------------


@pytest.fixture(scope="module")
def files(inputs: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The arguments of ``driftline evaluate`` on the day's files written to disk."""
    folder = tmp_path_factory.mktemp("day")
    paths = {}
    for key, body in inputs.items():
        path = folder / key.replace("/", "_")
        path.write_bytes(body)
        paths[key] = str(path)
    current = sorted(p for k, p in paths.items() if k.startswith("inference/"))
    labels = sorted(p for k, p in paths.items() if k.startswith("labels/"))
    return [
        "evaluate",
        "--config",
        paths[f"config/{MODEL}.yaml"],
        "--reference",
        paths[f"baselines/{MODEL}/reference.csv"],
        "--current",
        *current,
        "--labels",
        *labels,
        "--format",
        "json",
    ]


def evaluate_in_process(arguments: list[str]) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli_main(arguments)
    assert code in (0, 1)
    return out.getvalue()


def test_evaluate_gives_the_same_json_twenty_times_and_in_another_process(
    files: list[str],
) -> None:
    # GIVEN one model's files: 24 hourly logs (120,000 rows merged in the order given, so
    # amount passes the exact limit) and 4 label files
    # WHEN driftline evaluate runs on them twenty times in this process
    outputs = [evaluate_in_process(files) for _ in range(20)]
    # THEN the JSON is the same every time
    assert len(set(outputs)) == 1
    document = json.loads(outputs[0])
    amount = document["drift"]["features"]["amount"]
    assert amount["n_current"] > 100_000 and amount["rank_error"] > 0
    assert document["performance"]["estimated"]["rows"]["overall"] == ROWS_PER_HOUR * len(HOURS)
    # ... and in a separate process with another hash seed
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    core = ROOT / "layers" / "core"
    child = subprocess.run(
        [sys.executable, "-m", "driftline.cli", *files],
        env={**os.environ, "PYTHONPATH": str(core), "PYTHONHASHSEED": seed},
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert child.returncode in (0, 1), child.stderr.decode()[-2000:]
    assert (
        hashlib.sha256(child.stdout).hexdigest() == hashlib.sha256(outputs[0].encode()).hexdigest()
    )
