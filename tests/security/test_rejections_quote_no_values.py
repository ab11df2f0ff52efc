"""Rejections quote no data value: a distinctive, secret-looking value is planted in every kind
of bad input the readers and jobs reject, each file goes through its real handler on moto,
and the value appears in nothing driftline writes about it.

What is searched, per file: ``quarantine/<key>.reason.json``, the SNS message (subject, text
and machine-readable part), the EventBridge event, the bad-rows report
(``quarantine/<key>.bad-rows.json``) and everything the function prints or logs (stdout,
stderr, the powertools JSON lines, log records; an unhandled error is logged by Lambda with
its message and traceback, so that text counts as logged too). Column names are schema, not
data: they may be named, so the value is never planted in a header.

Each case also states the outcome it must reach (rejected with its reason, or profiled with
its bad rows counted), so a case that stopped reaching its path fails instead of passing
on nothing; and the planted value is checked to be in the quarantined copy, where it
belongs. The same files then go through ``driftline evaluate``, whose error output follows
the same rule.

Rejections not planted here: ``empty_file`` (nothing to plant), ``line_too_long`` (a 64 MiB
line; its message is a line number and the bound), ``unexpected_key`` and
``no_monitor_definition`` (they name the key, which is not data), and monitor-definition
errors (a definition is configuration, and its errors name its keys).
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import logging
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftline.aws.handler import logger as handler_logger
from driftline.aws.jobs import Services
from driftline.cli import main
from moto_support import REGION, LambdaContext, load_handler, s3_event

#: The planted text value, and a planted number (for the columns that must hold numbers).
SECRET = "SSN-123-45-6789"
SECRET_NUMBER = -48151623.42
#: The spellings of the planted values that must not appear (the number as a message might
#: format it: its digits, or rounded by ``:g``).
SPELLINGS = (SECRET, "123-45-6789", "48151623", f"{-SECRET_NUMBER:g}")
HEADER = "request_id,age,plan,score,predicted,label"


def definition(model: str, *, positive_class: bool = True) -> str:
    positive = "  positive_class: 1\n" if positive_class else ""
    return (
        f"model: {model}\n"
        "schema:\n"
        "  id: request_id\n"
        "  task: binary_classification\n"
        "  prediction: predicted\n"
        "  score: score\n"
        "  label: label\n"
        f"{positive}"
        "  features: {age: numeric, plan: categorical}\n"
        f"baseline: {{path: baselines/{model}/reference.csv}}\n"
        # Data Capture requests and answers without names: their fields' order
        "capture: {csv_fields: [age, plan], csv_outputs: [predicted, score]}\n"
        "checks:\n"
        "  - {name: input-drift, drift: dataset, action: notify}\n"
    )


RANKED = """
model: ranked
schema:
  task: ranking
  query: query
  score: score
  label: relevance
  features: {age: numeric}
baseline: {path: baselines/ranked/reference.csv}
checks:
  - {name: input-drift, drift: dataset, action: notify}
"""
DEFINITIONS = {
    "leaks": definition("leaks"),
    "unsigned": definition("unsigned", positive_class=False),
    "ranked": RANKED,
}


def rows(count: int, *, seed: int, start: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    predicted = rng.integers(0, 2, count)
    return pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(start, start + count)],
            "age": rng.integers(18, 90, count),
            "plan": rng.choice(["basic", "pro"], count),
            "score": rng.random(count).round(3),
            "predicted": predicted,
            "label": np.where(rng.random(count) < 0.8, predicted, 1 - predicted),
        }
    )


def ranked_rows(count: int, *, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "query": [f"q{i // 5}" for i in range(count)],
            "age": rng.integers(18, 90, count),
            "score": rng.random(count).round(3),
            "relevance": rng.integers(0, 3, count),
        }
    )


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


def jsonl(*records: object) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


GOOD_RECORD = {"request_id": "r1", "age": 31, "plan": "basic", "score": 0.5, "predicted": 1,
               "label": 1}  # fmt: skip


def capture(input_part: dict[str, Any], event_id: str) -> dict[str, Any]:
    """A SageMaker Data Capture record with ``input_part`` as its endpointInput."""
    return {
        "captureData": {
            "endpointInput": input_part,
            "endpointOutput": {
                "observedContentType": "text/csv",
                "mode": "OUTPUT",
                "data": "1,0.8",
                "encoding": "CSV",
            },
        },
        "eventMetadata": {"eventId": event_id},
        "eventVersion": "0",
    }


def csv_input(data: str) -> dict[str, Any]:
    return {"observedContentType": "text/csv", "mode": "INPUT", "data": data, "encoding": "CSV"}


BASE64_SECRET = base64.b64encode(f"41,{SECRET}".encode()).decode()


@dataclass(frozen=True)
class Case:
    """One bad input: where it is uploaded, what it holds, what must come of it."""

    function: str
    key: str
    body: bytes
    outcome: str  # "rejected" or "profiled" (with bad rows)
    reason: str | None = None  # the rejection's reason, or None for bad rows
    before: tuple[tuple[str, bytes], ...] = ()  # files uploaded (and handled) first
    crashes: str = ""  # a known bug: the job lets the error escape instead of rejecting


def inference(model: str, name: str) -> str:
    return f"inference/{model}/2026/11/24/10/{name}"


def labels(name: str) -> str:
    return f"labels/leaks/2026/11/24/{name}"


CLEAN_BATCH = (inference("leaks", "clean.csv"), csv(rows(40, seed=7)))
CASES = {
    # -- label and prediction classes -------------------------------------------------------
    "too-many-classes": Case(
        "profile_batch",
        inference("leaks", "classes.csv"),
        csv(rows(30, seed=2).assign(label=[0, 1, SECRET] * 10)),
        "rejected",
        "too_many_classes",
    ),
    "positive-class-not-among-the-classes": Case(
        "profile_batch",
        inference("leaks", "positive.csv"),
        csv(rows(30, seed=2).assign(label=[SECRET, "other"] * 15, predicted="other")),
        "rejected",
        "unknown_positive_class",
    ),
    "text-classes-without-a-positive-class": Case(
        "profile_batch",
        inference("unsigned", "text.csv"),
        csv(rows(30, seed=2).assign(label=[SECRET, "other"] * 15, predicted="other")),
        "rejected",
        "unknown_positive_class",
    ),
    "prediction-is-an-array": Case(
        "profile_batch",
        inference("leaks", "arrays.jsonl"),
        jsonl(GOOD_RECORD, {**GOOD_RECORD, "request_id": "r2", "predicted": [SECRET]}),
        "rejected",
        "invalid_label",
    ),
    "baseline-with-too-many-classes": Case(
        "build_baseline",
        "baselines/leaks/reference.csv",
        csv(rows(60, seed=3).assign(label=[0, 1, SECRET] * 20)),
        "rejected",
        "too_many_classes",
    ),
    # -- wrong types ------------------------------------------------------------------------
    "score-is-text": Case(
        "profile_batch",
        inference("leaks", "score.csv"),
        csv(rows(30, seed=2).assign(score=SECRET)),
        "rejected",
        "non_numeric_values",
    ),
    "baseline-score-is-text": Case(
        "build_baseline",
        "baselines/leaks/reference.csv",
        csv(rows(60, seed=3).assign(score=SECRET)),
        "rejected",
        "empty_baseline_column",
    ),
    "negative-relevance": Case(
        "profile_batch",
        inference("ranked", "relevance.csv"),
        csv(ranked_rows(30, seed=2).assign(relevance=[1, 0, SECRET_NUMBER] * 10)),
        "rejected",
        "negative_relevance",
    ),
    # -- files that cannot be parsed --------------------------------------------------------
    "unclosed-quote": Case(
        "profile_batch",
        inference("leaks", "quote.csv"),
        f'{HEADER}\nr1,31,"{SECRET},0.5,1,1\n'.encode(),
        "rejected",
        "malformed_csv",
    ),
    "first-row-longer-than-the-header": Case(
        "profile_batch",
        inference("leaks", "longer.csv"),
        f"{HEADER}\nr1,31,basic,0.5,1,1,{SECRET}\n".encode(),
        "rejected",
        "malformed_csv",
    ),
    "semicolons": Case(
        "profile_batch",
        inference("leaks", "semicolons.csv"),
        f"{HEADER}\nr1,31,{SECRET},0.5,1,1\n".replace(",", ";").encode(),
        "rejected",
        "malformed_csv",
    ),
    "csv-not-utf8": Case(
        "profile_batch",
        inference("leaks", "latin1.csv"),
        f"{HEADER}\nr1,31,{SECRET}-café,0.5,1,1\n".encode("latin-1"),
        "rejected",
        "not_utf8",
    ),
    "jsonl-line-not-utf8": Case(
        "profile_batch",
        inference("leaks", "latin1.jsonl"),
        jsonl(GOOD_RECORD) + f'{{"plan": "{SECRET}-café"}}\n'.encode("latin-1"),
        "rejected",
        "not_utf8",
    ),
    "truncated-gzip": Case(
        "profile_batch",
        inference("leaks", "cut.csv.gz"),
        gzip.compress(csv(rows(6000, seed=4).assign(plan=SECRET)), mtime=0)[:-400],
        "rejected",
        "corrupt_compression",
    ),
    "truncated-parquet": Case(
        "profile_batch",
        inference("leaks", "cut.parquet"),
        parquet(rows(50, seed=4).assign(plan=SECRET))[:-30],
        "rejected",
        "corrupt_parquet",
    ),
    "parquet-with-a-damaged-footer": Case(
        "profile_batch",
        inference("leaks", "footer.parquet"),
        b"PAR1" + SECRET.encode() * 4 + b"\x10\x00\x00\x00PAR1",
        "rejected",
        "corrupt_parquet",
    ),
    "json-array": Case(
        "profile_batch",
        inference("leaks", "array.json"),
        json.dumps([{**GOOD_RECORD, "plan": SECRET}]).encode(),
        "rejected",
        "unknown_format",
    ),
    "binary": Case(
        "profile_batch",
        inference("leaks", "binary"),
        b"\x00\x01" + SECRET.encode() + b"\x00",
        "rejected",
        "unknown_format",
    ),
    "no-monitored-columns": Case(
        "profile_batch",
        inference("leaks", "other.csv"),
        f"customer,note\nc1,{SECRET}\n".encode(),
        "rejected",
        "no_monitored_columns",
    ),
    # -- label files ------------------------------------------------------------------------
    "labels-without-an-id": Case(
        "ingest_labels",
        labels("noid.csv"),
        f"label\n{SECRET}\n1\n".encode(),
        "rejected",
        "missing_column",
    ),
    "labels-with-a-third-class": Case(
        "ingest_labels",
        labels("classes.csv"),
        csv(rows(40, seed=7)[["request_id"]].assign(label=[0, 1, SECRET, 1] * 10)),
        "rejected",
        "invalid_label",  # a third class fits none of the model's two
        before=(CLEAN_BATCH,),
    ),
    "labels-not-utf8": Case(
        "ingest_labels",
        labels("latin1.csv"),
        f"request_id,label\n{SECRET}-é,1\n".encode("latin-1"),
        "rejected",
        "not_utf8",
    ),
    # -- bad rows in a file that is profiled ------------------------------------------------
    "csv-row-with-a-field-too-many": Case(
        "profile_batch",
        inference("leaks", "extra.csv"),
        csv(rows(20, seed=5)) + f"r99,31,basic,0.5,1,1,{SECRET}\n".encode(),
        "profiled",
    ),
    "jsonl-invalid-json": Case(
        "profile_batch",
        inference("leaks", "broken.jsonl"),
        jsonl(GOOD_RECORD) + f'{{"plan": "{SECRET}", "age": \n'.encode(),
        "profiled",
    ),
    "jsonl-not-an-object": Case(
        "profile_batch",
        inference("leaks", "scalar.jsonl"),
        jsonl(GOOD_RECORD, SECRET, [SECRET]),
        "profiled",
    ),
    "jsonl-unpaired-surrogate": Case(
        "profile_batch",
        inference("leaks", "surrogate.jsonl"),
        jsonl(GOOD_RECORD) + ('{"plan": "' + SECRET + '\\ud800"}\n').encode(),
        "profiled",
    ),
    "capture-with-an-unknown-encoding": Case(
        "profile_batch",
        inference("leaks", "capture-encoding.jsonl"),
        jsonl(
            capture(csv_input("41,basic"), "e1"),
            capture({**csv_input("41,basic"), "encoding": SECRET}, "e2"),
        ),
        "profiled",
    ),
    "capture-with-an-unknown-content-type": Case(
        "profile_batch",
        inference("leaks", "capture-type.jsonl"),
        jsonl(
            capture(csv_input("41,basic"), "e1"),
            capture(
                {
                    "observedContentType": SECRET,
                    "mode": "INPUT",
                    "data": BASE64_SECRET,
                    "encoding": "BASE64",
                },
                "e2",
            ),
        ),
        "profiled",
    ),
    "capture-with-too-many-values": Case(
        "profile_batch",
        inference("leaks", "capture-values.jsonl"),
        jsonl(capture(csv_input("41,basic"), "e1"), capture(csv_input(f"41,{SECRET},9"), "e2")),
        "rejected",  # a field count that does not fit refuses the file (docs/aws.md)
        "capture_field_count",
    ),
    "capture-with-undecodable-data": Case(
        "profile_batch",
        inference("leaks", "capture-base64.jsonl"),
        jsonl(
            capture(csv_input("41,basic"), "e1"),
            capture({**csv_input(SECRET), "encoding": "BASE64"}, "e2"),
        ),
        "profiled",
    ),
}


# -- running a case through its handler --------------------------------------------------


_HANDLERS: dict[str, ModuleType] = {}


def handle(function: str, key: str) -> tuple[dict[str, Any] | None, str]:
    """Run ``function``'s handler on the upload of ``key``: its outcome (None when it raised)
    and, when it raised, what Lambda would log (the error's message and traceback)."""
    if function not in _HANDLERS:
        _HANDLERS[function] = load_handler(function, prefix="rejections_handler")
    try:
        result = _HANDLERS[function].handler(s3_event(key), LambdaContext("rejections-test"))
    except Exception as exc:  # Lambda logs an unhandled error: message and traceback
        return None, "".join(traceback.format_exception(exc))
    return result["objects"][0], ""


def listen(stack: Services) -> Callable[[], list[dict[str, Any]]]:
    """An SQS queue receiving every event on driftline's bus; call it for those so far."""
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName="bus-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = stack.notifier.bus
    events.put_rule(
        Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["driftline"]})
    )
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])

    def read() -> list[dict[str, Any]]:
        found = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    return read


def deploy(stack: Services, model: str) -> None:
    reference = ranked_rows(300, seed=1) if model == "ranked" else rows(300, seed=1)
    stack.store.put(f"baselines/{model}/reference.csv", csv(reference))
    stack.store.put(f"config/{model}.yaml", DEFINITIONS[model].encode())
    outcome, crash = handle("configure", f"config/{model}.yaml")
    assert not crash and outcome is not None and outcome["baseline"]["status"] == "built"


def holds_planted_value(body: bytes) -> bool:
    """Whether the planted value is in ``body`` (decompressed as far as it goes)."""
    if body.startswith(b"\x1f\x8b"):
        body = zlib.decompressobj(wbits=31).decompress(body)
    return SECRET.encode() in body or b"48151623" in body


def leaked(text: str) -> list[str]:
    return [spelling for spelling in SPELLINGS if spelling in text]


@pytest.fixture
def logs(
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[], list[str]]:
    """Capture what the functions print and log, at the most verbose level the template
    allows (the powertools logger, created at import, writes to the stdout it found then: it
    is pointed at a buffer); call the result for the texts since the last call."""
    lines = io.StringIO()
    monkeypatch.setattr(handler_logger.registered_handler, "stream", lines)
    monkeypatch.setattr(handler_logger._logger, "level", logging.DEBUG)
    caplog.set_level(logging.WARNING)

    def read() -> list[str]:
        captured = capfd.readouterr()
        logged = "\n".join(
            f"{record.getMessage()} {json.dumps(record.__dict__, default=str)}"
            for record in caplog.records
        )
        caplog.clear()
        texts = [lines.getvalue(), captured.out, captured.err, logged]
        lines.seek(0)
        lines.truncate()
        return texts

    return read


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_no_rejection_or_bad_row_report_quotes_a_planted_value(
    stack: Services, inbox: Any, logs: Callable[[], list[str]], case: Case
) -> None:
    # GIVEN a deployed model, everything the functions log captured, and a bad input
    # holding the planted value
    model = case.key.split("/")[1]
    deploy(stack, model)
    bus = listen(stack)
    for key, body in case.before:
        stack.store.put(key, body)
        assert handle("profile_batch", key)[0] is not None
    inbox()
    logs()
    stack.store.put(case.key, case.body)

    # WHEN its function handles the upload
    outcome, crash = handle(case.function, case.key)

    # THEN nothing it printed or logged quotes the planted value (an unhandled error too:
    # Lambda logs its message and traceback)
    texts = logs()
    for text in [*texts, crash]:
        assert leaked(text) == [], text
    if outcome is None and case.crashes:
        pytest.xfail(case.crashes)
    # ... it reached the path it is about (and the capture saw its log lines): rejected with
    # its reason, or profiled with its bad rows counted and reported
    assert outcome is not None, crash
    assert '"message":"done"' in texts[0]
    quarantine = f"quarantine/{case.key}"
    if case.outcome == "rejected":
        assert (outcome["status"], outcome["reason"]) == ("rejected", case.reason)
        assert stack.store.get(quarantine).body == case.body
        assert holds_planted_value(case.body)
        written = stack.store.get(f"{quarantine}.reason.json").body.decode()
    else:
        assert outcome["status"] == "profiled", outcome
        written = stack.store.get(f"{quarantine}.bad-rows.json").body.decode()
        assert json.loads(written)["bad_rows"] >= 1
    messages = inbox()
    events = bus()
    assert len(messages) == len(events) == (1 if case.outcome == "rejected" else 0)
    # ... and the reason or report, the message and the event do not quote it either
    assert leaked(written) == [], written
    for message in messages:
        assert leaked(message["Subject"]) == [], message["Subject"]
        assert leaked(message["Message"]) == [], message["Message"]
    for event in events:
        assert leaked(json.dumps(event)) == [], event


def test_the_search_finds_a_planted_value_where_it_is() -> None:
    # The search would see the value in every spelling a message might use.
    assert leaked(json.dumps({"classes": [0, 1, SECRET]})) == [SECRET, "123-45-6789"]
    assert leaked(f"has {SECRET_NUMBER:g}") == ["4.81516e+07"]
    assert leaked(repr(SECRET_NUMBER)) == ["48151623"]


# -- the same files through `driftline evaluate` ------------------------------------------

#: Rejections only the AWS jobs make (the CLI reads the file it is given, whatever it holds).
JOBS_ONLY = {"no_monitored_columns"}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_cli_quotes_no_planted_value_either(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: Case
) -> None:
    # GIVEN the monitor definition, a clean baseline and clean current data, with the bad
    # file in its role: the baseline, the current data or the labels
    model = case.key.split("/")[1]
    config = tmp_path / f"{model}.yaml"
    config.write_text(DEFINITIONS[model], encoding="utf-8")
    reference = tmp_path / "reference.csv"
    reference.write_bytes(csv(ranked_rows(300, seed=1) if model == "ranked" else rows(300, seed=1)))
    current = tmp_path / "current.csv"
    current.write_bytes(CLEAN_BATCH[1] if model == "leaks" else reference.read_bytes())
    bad = tmp_path / case.key.rsplit("/", 1)[1]
    bad.write_bytes(case.body)
    role = {"build_baseline": "--reference", "profile_batch": "--current"}.get(
        case.function, "--labels"
    )
    files = {"--reference": reference, "--current": current, role: bad}
    arguments = [f"--config={config}"] + [f"{flag}={path}" for flag, path in files.items()]

    # WHEN evaluated
    code = main(["evaluate", *arguments])

    # THEN a file a job rejects is bad input (exit 2), a file with bad rows is read, and the
    # planted value is in neither output
    out, err = capsys.readouterr()
    if case.outcome == "rejected" and case.reason not in JOBS_ONLY:
        assert code == 2, (out, err)
        assert err.startswith("driftline: error: ") and "Traceback" not in err
    else:
        assert code in (0, 1), err
    assert leaked(out) == [], out
    assert leaked(err) == [], err
