"""Rejected inputs on moto: quarantined with a machine-readable reason, counted in an EMF
metric, and reported to on-call once per file, never once per row.

Every job that reads an input (configure, build_baseline, profile_batch, ingest_labels) is
given files that cannot be used. For each: ``quarantine/<key>`` holds the original bytes,
``quarantine/<key>.reason.json`` the reason, the topic receives exactly one message, stdout
one ``RejectedFiles`` EMF document, and nothing is written outside ``quarantine/``. A file
with some bad rows is not rejected: its rows are profiled, the bad ones counted (in the
profile, an EMF metric and ``quarantine/<key>.bad-rows.json``), and nobody is paged.

The tests at the end pin bugs found here (each was a strict xfail until fixed in
driftline/aws/jobs and notify.py): a file refused while it is opened, a key outside the
layout, a redelivered rejection, a nameless model, a subject from a hostile key, an array as
a prediction, a reason too long for SNS.
"""

from __future__ import annotations

import gzip
import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftline.aws import jobs
from driftline.aws.jobs import Services
from driftline.config import MODEL_NAME

MODEL = "fuzz"
DEFINITION = f"""
model: {MODEL}
schema:
  id: request_id
  task: binary_classification
  prediction: predicted
  score: score
  label: label
  positive_class: 1
  features: {{age: numeric, income: numeric, plan: categorical}}
  segments: [plan]
baseline: {{path: baselines/{MODEL}/reference.csv}}
checks:
  - {{name: input-drift, drift: dataset, action: notify}}
"""
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
HEADER = "request_id,age,income,plan,score,predicted,label"


def table(rows: int, *, seed: int, start: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    predicted = rng.integers(0, 2, rows)
    return pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(start, start + rows)],
            "age": rng.integers(18, 90, rows),
            "income": rng.normal(3000.0, 800.0, rows).round(2),
            "plan": rng.choice(["basic", "pro", "team"], rows),
            "score": rng.random(rows).round(4),
            "predicted": predicted,
            "label": np.where(rng.random(rows) < 0.8, predicted, 1 - predicted),
        }
    )


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def parquet_bytes(frame: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(frame, buffer)
    return buffer.getvalue()


def deploy(services: Services) -> None:
    services.store.put(f"baselines/{MODEL}/reference.csv", csv_bytes(table(400, seed=1)))
    services.store.put(f"config/{MODEL}.yaml", DEFINITION.encode())
    outcome = jobs.configure(services, f"config/{MODEL}.yaml")
    assert outcome["status"] == "stored" and outcome["baseline"]["status"] == "built"


def emf(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{"')]


def machine_part(message: dict[str, Any]) -> dict[str, Any]:
    body = message["Message"]
    return dict(json.loads(body.split("--- machine-readable ---\n", 1)[1]))


def run(services: Services, job: str, key: str) -> dict[str, Any]:
    if job == "configure":
        return jobs.configure(services, key)
    if job == "build_baseline":
        return jobs.build_baseline(services, key)
    if job == "profile_batch":
        return jobs.profile_batch(services, key, received=NOW)
    return jobs.ingest_labels(services, key, received=NOW)


GOOD = csv_bytes(table(50, seed=2))
BIG = csv_bytes(table(6000, seed=3))  # about 250 KB: damage after the first 64 KB head
TRUNCATED_GZIP = gzip.compress(BIG, mtime=0)[:-400]
TWICE = pa.table([pa.array([31, 45]), pa.array([1.0, 2.0])], names=["age", "age"])
VALID_YAML = DEFINITION
# A SageMaker Data Capture record with a CSV request: its fields have no names, and the
# definition does not give their order (capture.csv_fields).
CAPTURE_CSV = (
    json.dumps(
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                  "data": "31,2000,basic", "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                   "data": "0.5", "encoding": "CSV"},
            },
            "eventMetadata": {"eventId": "r1", "inferenceTime": "2026-11-24T10:00:00Z"},
            "eventVersion": "0",
        }
    )
    + "\n"
).encode()  # fmt: skip
# (job, key, body, reason, defect): each file must be rejected whole.
REJECTED = {
    "csv-not-utf8": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/latin1.csv",
        f"{HEADER}\nr1,31,2000,café,0.5,1,1\n".encode("latin-1"),
        "not_utf8",
        None,
    ),
    "csv-unclosed-quote": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/quote.csv",
        f'{HEADER}\nr1,31,2000,"basic,0.5,1,1\n'.encode(),
        "malformed_csv",
        None,
    ),
    "csv-semicolons": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/semicolons.csv",
        GOOD.replace(b",", b";"),
        "malformed_csv",
        "wrong_delimiter",
    ),
    "csv-column-twice": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/twice.csv",
        f"{HEADER},plan\nr1,31,2000,basic,0.5,1,1,pro\n".encode(),
        "malformed_csv",
        "duplicate_columns",
    ),
    "gzip-truncated-after-the-head": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/cut.csv.gz",
        TRUNCATED_GZIP,
        "corrupt_compression",
        None,
    ),
    "parquet-truncated": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/cut.parquet",
        parquet_bytes(pa.Table.from_pandas(table(50, seed=4)))[:-30],
        "corrupt_parquet",
        None,
    ),
    "parquet-column-twice": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/twice.parquet",
        parquet_bytes(TWICE),
        "corrupt_parquet",
        "duplicate_columns",
    ),
    "jsonl-line-not-utf8": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/bad.jsonl",
        b'{"age": 31}\n{"plan": "caf\xe9"}\n',
        "not_utf8",
        None,
    ),
    "score-not-a-number": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/score.csv",
        f"{HEADER}\nr1,31,2000,basic,high,1,1\n".encode(),
        "non_numeric_values",
        None,
    ),
    "three-label-classes": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/classes.csv",
        f"{HEADER}\nr1,31,2000,basic,0.5,1,1\nr2,32,2100,pro,0.4,0,2\nr3,33,10,pro,0.1,0,0\n"
        .encode(),
        "too_many_classes",
        None,
    ),
    "capture-csv-without-csv-fields": (
        "profile_batch",
        f"inference/{MODEL}/endpoint/AllTraffic/2026/11/24/10/capture.jsonl",
        CAPTURE_CSV,
        "capture_fields_unknown",
        None,
    ),
    "model-name-no-definition-can-have": (
        "profile_batch",
        "inference/Unknown_Model/2026/11/24/10/batch.csv",
        GOOD,
        "unexpected_key",
        None,
    ),
    "labels-without-id": (
        "ingest_labels",
        f"labels/{MODEL}/2026/11/24/noid.csv",
        b"label\n1\n0\n",
        "missing_column",
        None,
    ),
    "labels-empty": ("ingest_labels", f"labels/{MODEL}/2026/11/24/empty.csv", b"", "empty_file",
                     None),
    "labels-not-utf8": (
        "ingest_labels",
        f"labels/{MODEL}/2026/11/24/latin1.csv",
        "request_id,label\nré,1\n".encode("latin-1"),
        "not_utf8",
        None,
    ),
    "baseline-empty": ("build_baseline", f"baselines/{MODEL}/reference.csv", b"", "empty_file",
                       None),
    "baseline-header-only": (
        "build_baseline",
        f"baselines/{MODEL}/reference.csv",
        f"{HEADER}\n".encode(),
        "empty_baseline",
        None,
    ),
    "baseline-without-a-feature": (
        "build_baseline",
        f"baselines/{MODEL}/reference.csv",
        csv_bytes(table(50, seed=6).drop(columns=["income"])),
        "missing_columns",
        None,
    ),
    "csv-header-only": (
        "profile_batch",
        f"inference/{MODEL}/2026/11/24/10/header-only.csv",
        f"{HEADER}\n".encode(),
        "no_rows",
        None,
    ),
    "config-not-yaml": ("configure", f"config/{MODEL}.yaml", b"model: [unclosed\n",
                        "invalid_yaml", None),
    "config-nan-threshold": (
        "configure",
        f"config/{MODEL}.yaml",
        (VALID_YAML + "  - {name: m, metric: accuracy, min: .nan}\n").encode(),
        "invalid_config",
        None,
    ),
    "config-nested-100k-deep": ("configure", f"config/{MODEL}.yaml",
                                b"model: " + b"[" * 100_000, "invalid_yaml", None),
    "config-key-twice": ("configure", f"config/{MODEL}.yaml",
                         (VALID_YAML + "checks: []\n").encode(), "invalid_yaml", None),
    "config-baseline-of-another-model": (
        "configure",
        f"config/{MODEL}.yaml",
        VALID_YAML.replace(f"baselines/{MODEL}/", "baselines/churn/").encode(),
        "invalid_config",
        None,
    ),
    "config-name-mismatch": ("configure", "config/other.yaml", VALID_YAML.encode(),
                             "invalid_config", None),
}  # fmt: skip


@pytest.mark.parametrize("case", REJECTED.values(), ids=REJECTED.keys())
def test_a_rejected_file_is_quarantined_counted_and_reported_once(
    services: Services,
    inbox: Any,
    capsys: pytest.CaptureFixture[str],
    case: tuple[str, str, bytes, str, str | None],
) -> None:
    # GIVEN a deployed model and a file that cannot be used
    job, key, body, reason, defect = case
    deploy(services)
    inbox()
    services.store.put(key, body)
    etag = services.store.get(key).etag
    before = set(services.store.keys(""))
    capsys.readouterr()

    # WHEN its job runs
    outcome = run(services, job, key)

    # THEN it is rejected with the reason ...
    assert outcome["status"] == "rejected"
    assert outcome["reason"] == reason
    # ... quarantined as it was, with a machine-readable reason beside it
    target = f"quarantine/{key}"
    assert outcome["quarantine"] == target
    assert services.store.get(target).body == body
    document = json.loads(services.store.get(f"{target}.reason.json").body)
    assert document["key"] == key and document["etag"] == etag
    assert document["reason"] == reason
    named = key.split("/")[1].removesuffix(".yaml")
    # (a folder no model name can be is no model: the rejection names none)
    assert document["model"] == (named if MODEL_NAME.fullmatch(named) else "")
    assert document["error"]
    if defect is not None:
        assert document["details"]["defect"] == defect
    # ... and nothing else is written, anywhere
    assert set(services.store.keys("")) - before == {target, f"{target}.reason.json"}
    # ... counted once in an EMF metric by model and reason
    documents = [d for d in emf(capsys.readouterr().out) if "RejectedFiles" in d]
    assert [(d["RejectedFiles"], d["model"], d["reason"]) for d in documents] == [
        (1.0, document["model"] or "(none)", reason)
    ]
    assert documents[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["model", "reason"]]
    # ... and reported to on-call exactly once, with the same machine-readable reason
    (message,) = inbox()
    assert reason in message["Subject"]
    machine = machine_part(message)
    assert machine["kind"] == "input_rejected"
    assert (machine["key"], machine["reason"], machine["quarantine"]) == (key, reason, target)
    assert message["MessageAttributes"]["kind"]["Value"] == "driftline.input.rejected"


def test_each_rejected_file_pages_once_however_many_rows_are_bad(
    services: Services, inbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN five files of 2,000 rows each, every row of which is unusable
    deploy(services)
    inbox()
    capsys.readouterr()
    keys = []
    for number in range(5):
        frame = table(2000, seed=10 + number)
        frame["score"] = "high"  # not a number, on every row
        key = f"inference/{MODEL}/2026/11/24/10/all-bad-{number}.csv"
        services.store.put(key, csv_bytes(frame))
        keys.append(key)
    # WHEN each is profiled
    outcomes = [jobs.profile_batch(services, key, received=NOW) for key in keys]
    # THEN five rejections, five metric points, five messages: one per file, none per row
    assert [o["reason"] for o in outcomes] == ["non_numeric_values"] * 5
    rejected = [d for d in emf(capsys.readouterr().out) if "RejectedFiles" in d]
    assert sum(d["RejectedFiles"] for d in rejected) == 5.0
    messages = inbox()
    assert sorted(machine_part(m)["key"] for m in messages) == sorted(keys)
    assert len(list(services.store.keys("quarantine/"))) == 10


def test_a_file_with_some_bad_rows_is_profiled_counts_them_and_pages_nobody(
    services: Services, inbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 1,000 rows of which 250 have a field too many
    deploy(services)
    inbox()
    capsys.readouterr()
    lines = csv_bytes(table(1000, seed=5)).decode().splitlines()
    bad_lines = set(range(3, 1002, 4))  # physical lines 3, 7, 11, ... (header is line 1)
    text = "\n".join(
        line + ",surplus" if number in bad_lines else line
        for number, line in enumerate(lines, start=1)
    )
    key = f"inference/{MODEL}/2026/11/24/10/some-bad.csv"
    services.store.put(key, (text + "\n").encode())

    # WHEN profiled
    outcome = jobs.profile_batch(services, key, received=NOW)

    # THEN the good rows are profiled and the bad ones counted, not dropped silently
    assert (outcome["status"], outcome["rows"]) == ("profiled", 750)
    (profile_key,) = services.store.keys(f"profiles/{MODEL}/batches/2026/11/24/10/")
    stored = services.store.get_json(profile_key)["profile"]
    assert (stored["rows"], stored["bad_rows"]) == (750, 250)
    report = json.loads(services.store.get(f"quarantine/{key}.bad-rows.json").body)
    assert (report["rows"], report["bad_rows"]) == (750, 250)
    assert [s["line"] for s in report["samples"]] == sorted(bad_lines)[:20]
    assert {s["reason"] for s in report["samples"]} == {"expected 7 fields, saw 8"}
    # ... in the batch metrics, and nobody is paged for a few bad rows
    metrics = [d for d in emf(capsys.readouterr().out) if "BadRows" in d]
    assert [(d["Rows"], d["BadRows"]) for d in metrics] == [(750.0, 250.0)]
    assert inbox() == []
    assert not services.store.exists(f"quarantine/{key}")


ROW_DEFECTS = st.sampled_from(
    ["ok", "extra-field", "short", "nan", "inf", "huge", "unknown-plan", "text-age", "empty"]
)


def defective_row(number: int, defect: str) -> str:
    age, income, plan = "31", "2000.5", "basic"
    if defect == "nan":
        age = "nan"
    elif defect == "inf":
        income = "-inf"
    elif defect == "huge":
        income = "9" * 400
    elif defect == "unknown-plan":
        plan = "never-seen-before"
    elif defect == "text-age":
        age = "thirty-one"
    elif defect == "empty":
        age = income = plan = ""
    row = f"r{number},{age},{income},{plan},0.5,1,{number % 2}"
    if defect == "extra-field":
        return row + ",surplus"
    if defect == "short":
        return f"r{number},{age}"
    return row


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(defects=st.lists(ROW_DEFECTS, max_size=30), header=st.sampled_from(["full", "partial"]))
def test_fuzzed_batches_are_profiled_or_quarantined_never_a_crash(
    services: Services,
    inbox: Any,
    capsys: pytest.CaptureFixture[str],
    defects: list[str],
    header: str,
) -> None:
    # GIVEN (once) a deployed model; for each example a batch whose rows carry defects:
    # NaN, ±inf, 400-digit numbers, unknown categories, text in numeric columns, fields
    # missing or too many; the header maybe without some monitored columns
    if not services.table.models():
        deploy(services)
    inbox()
    capsys.readouterr()
    columns = HEADER if header == "full" else "request_id,age,plan,score,predicted,label"
    rows = [defective_row(n, d) for n, d in enumerate(defects)]
    if header == "partial":
        rows = [",".join(r.split(",")[:2] + r.split(",")[3:]) for r in rows]
    key = f"inference/{MODEL}/2026/11/24/10/fuzz-{abs(hash((tuple(defects), header)))}.csv"
    services.store.put(key, ("\n".join([columns, *rows]) + "\n").encode())

    # WHEN profiled: never an exception
    outcome = jobs.profile_batch(services, key, received=NOW)

    # THEN profiled with every row counted, or quarantined and reported once
    stdout = capsys.readouterr().out
    messages = inbox()
    if outcome["status"] == "rejected":
        assert services.store.exists(f"quarantine/{key}.reason.json")
        assert [machine_part(m)["key"] for m in messages] == [key]
        assert [d["reason"] for d in emf(stdout) if "RejectedFiles" in d] == [outcome["reason"]]
        return
    assert outcome["status"] in ("profiled", "duplicate")
    if outcome["status"] == "duplicate":
        return
    too_many = sum(d == "extra-field" for d in defects)
    first_is_longer = bool(defects) and defects[0] == "extra-field"
    assert not first_is_longer  # that file is rejected whole (malformed_csv)
    assert outcome["rows"] == len(defects) - too_many
    assert services.store.exists(f"quarantine/{key}.bad-rows.json") == (too_many > 0)
    # A batch without the income column fails the built-in schema-columns check (a
    # warning, paged once: later ones are within the cooldown); the next batch with every
    # column resolves it. Nothing else pages: bad values and bad rows are counted, not paged.
    assert outcome["quality"] == ("warning" if header == "partial" else "ok")
    alerts = [machine_part(message) for message in messages]
    assert all(alert["about"] == ["schema-columns"] for alert in alerts)
    expected_kind = "firing" if header == "partial" else "resolved"
    assert all(alert["kind"] == expected_kind for alert in alerts)


def test_a_baseline_without_a_feature_column_is_rejected_naming_key_and_column(
    services: Services, inbox: Any
) -> None:
    # GIVEN a deployed model, then its baseline uploaded again without the income column
    deploy(services)
    inbox()
    key = f"baselines/{MODEL}/reference.csv"
    services.store.put(key, csv_bytes(table(50, seed=6).drop(columns=["income"])))
    # WHEN built THEN rejected, the reason naming the key, the column and the file
    outcome = jobs.build_baseline(services, key)
    assert (outcome["status"], outcome["reason"]) == ("rejected", "missing_columns")
    reason = services.store.get_json(f"quarantine/{key}.reason.json")
    assert reason["error"].startswith(f"{key}: the baseline has no column income ")
    assert "(schema.features.income)" in reason["error"]
    (message,) = inbox()
    assert "(schema.features.income)" in machine_part(message)["error"]


def test_a_model_named_unlike_its_config_file_is_rejected_as_a_model_error(
    services: Services, inbox: Any
) -> None:
    # GIVEN config/fuzz.yaml saying model: other (so its baseline.path, in fuzz's folder,
    # does not fit either: that used to be the error reported)
    key = f"config/{MODEL}.yaml"
    services.store.put(key, DEFINITION.replace(f"model: {MODEL}", "model: other", 1).encode())
    # WHEN configured
    outcome = jobs.configure(services, key)
    # THEN rejected for what it is: the model key, in the reason file and the page
    assert (outcome["status"], outcome["reason"]) == ("rejected", "invalid_config")
    reason = services.store.get_json(f"quarantine/{key}.reason.json")
    expected = f"model: 'other' does not match the file name {key} (expected '{MODEL}')"
    assert reason["error"] == f"invalid monitor definition {key}: {expected}"
    assert reason["details"]["key"] == "model"
    assert "baseline.path" not in json.dumps(reason)
    (message,) = inbox()
    machine = machine_part(message)
    assert machine["error"] == reason["error"] and machine["details"]["key"] == "model"
    assert services.table.definition(MODEL) is None


def test_a_batch_without_a_monitored_column_pages_the_schema_columns_check(
    services: Services, inbox: Any
) -> None:
    # GIVEN a deployed model (whose only check is a drift check) and a batch without plan
    deploy(services)
    inbox()
    key = f"inference/{MODEL}/2026/11/24/10/no-plan.csv"
    services.store.put(key, csv_bytes(table(200, seed=7).drop(columns=["plan"])))
    # WHEN profiled
    outcome = jobs.profile_batch(services, key, received=NOW)
    # THEN profiled (not quarantined), and the built-in schema-columns check pages on-call
    assert (outcome["status"], outcome["quality"]) == ("profiled", "warning")
    (message,) = inbox()
    machine = machine_part(message)
    assert (machine["kind"], machine["about"]) == ("firing", ["schema-columns"])
    (failed,) = machine["checks"]["failed"]
    assert (
        "absent_columns is 1, above the maximum 0 (absent from the data: plan)"
        in (failed["detail"])
    )
    # ... and a later batch with every column resolves it
    again = f"inference/{MODEL}/2026/11/24/11/complete.csv"
    services.store.put(again, csv_bytes(table(200, seed=8)))
    later = NOW + timedelta(hours=1)
    assert jobs.profile_batch(services, again, received=later)["quality"] == "ok"
    (resolved,) = inbox()
    assert (machine_part(resolved)["kind"], machine_part(resolved)["about"]) == (
        "resolved",
        ["schema-columns"],
    )


def test_a_batch_with_scores_outside_the_unit_interval_pages_the_scores_check(
    services: Services, inbox: Any
) -> None:
    # GIVEN a deployed model and a batch of 200 rows, 3 scored 1.3719, -0.4127 and inf
    deploy(services)
    inbox()
    batch = table(200, seed=9)
    batch["score"] = batch["score"].astype(object)
    batch.loc[[5, 50, 150], "score"] = [1.3719, -0.4127, "inf"]
    key = f"inference/{MODEL}/2026/11/24/10/bad-scores.csv"
    services.store.put(key, csv_bytes(batch))
    # WHEN profiled
    outcome = jobs.profile_batch(services, key, received=NOW)
    # THEN profiled (not quarantined: a quality finding, not a bad file), and the built-in
    # scores-in-range check pages on-call at once with the count, share and column
    assert (outcome["status"], outcome["quality"]) == ("profiled", "warning")
    (message,) = inbox()
    machine = machine_part(message)
    assert (machine["kind"], machine["about"]) == ("firing", ["scores-in-range"])
    (failed,) = machine["checks"]["failed"]
    assert failed["detail"] == (
        "out_of_range_scores is 3, above the maximum 0 (3 of 200 rows, 1.5%, have a score "
        "outside [0, 1] or infinite; by column: score 3)"
    )
    # ... and no score is quoted anywhere in the page
    assert not any(value in json.dumps(message) for value in ("1.3719", "0.4127", "Infinity"))


# -- bugs found here, fixed in driftline/aws/jobs and notify.py ---------------------------


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("empty.csv", b""),
        ("gzip-header-only.csv.gz", b"\x1f\x8b\x08\x00"),
        ("array.json", b'[{"age": 31}]'),
        ("workbook", b"PK\x03\x04" + b"\x00" * 40),
    ],
)
def test_a_file_rejected_while_it_is_opened_is_quarantined_too(
    services: Services, inbox: Any, name: str, body: bytes
) -> None:
    deploy(services)
    inbox()
    key = f"inference/{MODEL}/2026/11/24/10/{name}"
    services.store.put(key, body)
    outcome = jobs.profile_batch(services, key, received=NOW)
    assert outcome["status"] == "rejected"
    assert services.store.exists(f"quarantine/{key}.reason.json")
    assert len(inbox()) == 1


def test_a_redelivered_rejected_file_is_reported_once(services: Services, inbox: Any) -> None:
    deploy(services)
    inbox()
    key = f"inference/{MODEL}/2026/11/24/10/latin1.csv"
    services.store.put(key, f"{HEADER}\nr1,31,2000,café,0.5,1,1\n".encode("latin-1"))
    for _ in range(2):
        assert jobs.profile_batch(services, key, received=NOW)["status"] == "rejected"
    assert len(inbox()) == 1


def test_concurrent_deliveries_of_a_rejected_file_report_it_once(
    services: Services, inbox: Any, atomic_calls: None
) -> None:
    # GIVEN a file that is rejected, delivered eight times at the same moment
    deploy(services)
    inbox()
    key = f"inference/{MODEL}/2026/11/24/10/latin1.csv"
    services.store.put(key, f"{HEADER}\nr1,31,2000,café,0.5,1,1\n".encode("latin-1"))
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(
            pool.map(lambda _: jobs.profile_batch(services, key, received=NOW), range(8))
        )
    # THEN every delivery says rejected, one of them reported it, and on-call is paged once
    assert {outcome["status"] for outcome in outcomes} == {"rejected"}
    assert sum(not outcome.get("duplicate") for outcome in outcomes) == 1
    assert len(inbox()) == 1


def test_a_failed_rejection_report_releases_its_claim_so_the_retry_reports(
    services: Services, inbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(services)
    inbox()
    key = f"inference/{MODEL}/2026/11/24/10/latin1.csv"
    services.store.put(key, f"{HEADER}\nr1,31,2000,café,0.5,1,1\n".encode("latin-1"))
    send = services.notifier.send

    def fail(**_: Any) -> None:
        raise ConnectionError("SNS unreachable")

    # GIVEN the page fails the first time
    monkeypatch.setattr(services.notifier, "send", fail)
    with pytest.raises(ConnectionError):
        jobs.profile_batch(services, key, received=NOW)
    # WHEN Lambda retries the event THEN the retry reports it (the claim was released)
    monkeypatch.setattr(services.notifier, "send", send)
    assert jobs.profile_batch(services, key, received=NOW).get("duplicate") is None
    assert len(inbox()) == 1


def test_a_claim_left_by_a_dead_invocation_is_taken_over_once_stale(
    services: Services, inbox: Any
) -> None:
    deploy(services)
    inbox()
    key = f"inference/{MODEL}/2026/11/24/10/latin1.csv"
    services.store.put(key, f"{HEADER}\nr1,31,2000,café,0.5,1,1\n".encode("latin-1"))
    etag = services.store.get(key).etag
    claim = jobs.digest(key, etag)

    # GIVEN a fresh claim of an invocation still running: the delivery stands back
    fresh = {"key": key, "etag": etag, "at": jobs.now_utc().isoformat()}
    services.table.put_state(MODEL, "REJECTION", claim, fresh, version=0)
    assert jobs.profile_batch(services, key, received=NOW)["duplicate"] is True
    assert inbox() == []

    # WHEN the claim is older than any invocation lives (its holder died before reporting)
    old = jobs.now_utc() - jobs.STALE_CLAIM - timedelta(minutes=1)
    services.table.put_state(MODEL, "REJECTION", claim, {**fresh, "at": old.isoformat()}, version=1)
    # THEN the next delivery reports it, and the one after stands back
    assert jobs.profile_batch(services, key, received=NOW).get("duplicate") is None
    assert jobs.profile_batch(services, key, received=NOW)["duplicate"] is True
    assert len(inbox()) == 1


@pytest.mark.parametrize(
    ("job", "key"),
    [
        ("profile_batch", "inference/batch.csv"),
        ("ingest_labels", "labels/labels.csv"),
        ("build_baseline", "baselines/reference.csv"),
        ("build_baseline", "baselines//reference.csv"),
    ],
)
def test_a_key_outside_the_layout_is_quarantined_not_a_crash(
    services: Services, inbox: Any, job: str, key: str
) -> None:
    deploy(services)
    inbox()
    services.store.put(key, GOOD)
    outcome = run(services, job, key)
    assert (outcome["status"], outcome["reason"]) == ("rejected", "unexpected_key")
    assert len(inbox()) == 1


def test_a_config_file_without_a_model_name_is_rejected_once(
    services: Services, inbox: Any
) -> None:
    services.store.put("config/.yaml", DEFINITION.encode())
    outcome = jobs.configure(services, "config/.yaml")
    assert outcome["status"] == "rejected"
    assert len(inbox()) == 1


@pytest.mark.parametrize(
    "model", ["two\nlines", "tab\there", "m" * 120], ids=["newline", "tab", "long"]
)
def test_a_rejection_subject_is_one_short_line_whatever_the_key(
    services: Services, inbox: Any, model: str
) -> None:
    key = f"inference/{model}/2026/11/24/10/batch.csv"
    services.store.put(key, GOOD)
    assert jobs.profile_batch(services, key, received=NOW)["status"] == "rejected"
    (message,) = inbox()
    subject = message["Subject"]
    assert len(subject) < 100
    assert not any(ord(c) < 32 or ord(c) == 127 for c in subject)


def test_a_prediction_that_is_an_array_is_rejected_not_a_crash(
    services: Services, inbox: Any
) -> None:
    deploy(services)
    key = f"inference/{MODEL}/2026/11/24/10/arrays.jsonl"
    record = {"request_id": "r1", "age": 31, "income": 2000, "plan": "basic", "score": 0.5,
              "predicted": [0.2, 0.8], "label": 1}  # fmt: skip
    services.store.put(key, (json.dumps(record) + "\n").encode())
    inbox()
    outcome = jobs.profile_batch(services, key, received=NOW)
    assert (outcome["status"], outcome["reason"]) == ("rejected", "invalid_label")
    reason = services.store.get_json(f"quarantine/{key}.reason.json")
    assert reason["details"]["column"] == "predicted"
    assert len(inbox()) == 1
    assert list(services.store.keys(f"profiles/{MODEL}/batches/")) == []


def test_a_label_file_of_60000_columns_without_an_id_is_rejected_once(
    services: Services, inbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(services)
    inbox()
    capsys.readouterr()
    header = ",".join(f"column_{i:06d}" for i in range(60_000))
    key = f"labels/{MODEL}/2026/11/24/wide.csv"
    services.store.put(key, (header + "\n" + ",".join(["1"] * 60_000) + "\n").encode())
    outcome = jobs.ingest_labels(services, key, received=NOW)
    assert (outcome["status"], outcome["reason"]) == ("rejected", "missing_column")
    assert len(inbox()) == 1
