"""SageMaker Data Capture and ground truth: the records endpoints and labellers write."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from driftline.io import CaptureColumns, TableReader, open_table

ReadAll = Callable[[TableReader], pd.DataFrame]
COLUMNS = CaptureColumns(inputs=("age", "income", "plan"), outputs=("score",), timestamp="ts")


def _part(content_type: str, data: str, encoding: str, mode: str) -> dict[str, str]:
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def _record(
    event_id: str,
    endpoint_input: tuple[str, str, str] | None,
    endpoint_output: tuple[str, str, str] | None,
    **metadata: str,
) -> dict[str, Any]:
    capture: dict[str, Any] = {}
    if endpoint_input is not None:
        capture["endpointInput"] = _part(*endpoint_input, mode="INPUT")
    if endpoint_output is not None:
        capture["endpointOutput"] = _part(*endpoint_output, mode="OUTPUT")
    return {
        "captureData": capture,
        "eventMetadata": {
            "eventId": event_id,
            "inferenceTime": "2024-05-01T10:00:00Z",
            **metadata,
        },
        "eventVersion": "0",
    }


def _jsonl(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_capture_reader_reads_csv_input_with_json_output(read_all: ReadAll) -> None:
    # GIVEN a capture file as an endpoint writes it: CSV in, JSON out
    data = _jsonl(
        _record("e1", ("text/csv", "41,5200,pro", "CSV"), ("application/json", "0.81", "JSON")),
        _record(
            "e2",
            ("text/csv", "35,3100,basic", "CSV"),
            ("application/json", '{"predictions": [0.12]}', "JSON"),
        ),
    )
    # WHEN read with the model's column names
    reader = open_table(data, name="capture.jsonl", capture=COLUMNS)
    frame = read_all(reader)
    # THEN it is detected as capture and each request is a row with id and time
    assert reader.format == "capture"
    assert frame.to_dict("records") == [
        {"id": "e1", "ts": "2024-05-01T10:00:00Z", "age": 41, "income": 5200, "plan": "pro",
         "score": 0.81},
        {"id": "e2", "ts": "2024-05-01T10:00:00Z", "age": 35, "income": 3100, "plan": "basic",
         "score": 0.12},
    ]  # fmt: skip


def test_capture_reader_reads_json_input_with_csv_output(read_all: ReadAll) -> None:
    # GIVEN JSON object input (its own keys) and CSV output: encodings differ per side
    data = _jsonl(
        _record(
            "e1",
            ("application/json", '{"age": 41, "income": 5200, "plan": "pro"}', "JSON"),
            ("text/csv; charset=utf-8", "0.81", "CSV"),
        )
    )
    frame = read_all(open_table(data, name="capture.jsonl", capture=COLUMNS))
    assert frame.iloc[0].to_dict() == {
        "id": "e1",
        "ts": "2024-05-01T10:00:00Z",
        "age": 41,
        "income": 5200,
        "plan": "pro",
        "score": 0.81,
    }


def test_capture_reader_decodes_base64_by_content_type(read_all: ReadAll) -> None:
    # GIVEN base64 input wrapping CSV and base64 output wrapping JSON
    data = _jsonl(
        _record(
            "e1",
            ("text/csv", _b64("41,5200,pro"), "BASE64"),
            ("application/json", _b64('{"scores": [0.5]}'), "BASE64"),
        )
    )
    frame = read_all(open_table(data, name="capture.jsonl", capture=COLUMNS))
    assert frame[["age", "plan", "score"]].iloc[0].tolist() == [41, "pro", 0.5]


def test_capture_reader_splits_multi_row_requests_with_unique_ids(read_all: ReadAll) -> None:
    # GIVEN requests carrying several rows: CSV lines, and JSON instances with a list output
    data = _jsonl(
        _record(
            "e1",
            ("text/csv", "41,5200,pro\n35,3100,basic\n", "CSV"),
            ("text/csv", "0.8\n0.1", "CSV"),
        ),
        _record(
            "e2",
            (
                "application/json",
                '{"instances": [[50, 4000, "team"], [22, 1800, "basic"]]}',
                "JSON",
            ),
            ("application/json", '{"predictions": [{"score": 0.3}, {"score": 0.6}]}', "JSON"),
            inferenceId="req-9",
        ),
    )
    # WHEN read
    frame = read_all(open_table(data, name="capture.jsonl", capture=COLUMNS))
    # THEN each row has its own id (#n suffix), inferenceId preferred over eventId
    assert frame["id"].tolist() == ["e1#0", "e1#1", "req-9#0", "req-9#1"]
    assert frame["age"].tolist() == [41, 35, 50, 22]
    assert frame["score"].tolist() == [0.8, 0.1, 0.3, 0.6]


def test_capture_reader_names_several_outputs_in_order(read_all: ReadAll) -> None:
    # GIVEN one output row of two values (label and probability)
    columns = CaptureColumns(inputs=("x",), outputs=("prediction", "score"))
    data = _jsonl(_record("e1", ("text/csv", "3", "CSV"), ("application/json", "[1, 0.9]", "JSON")))
    frame = read_all(open_table(data, name="c.jsonl", capture=columns))
    assert frame.iloc[0].to_dict() == {"id": "e1", "x": 3, "prediction": 1, "score": 0.9}


def test_capture_reader_uses_positional_names_by_default(read_all: ReadAll) -> None:
    data = _jsonl(_record("e1", ("text/csv", "1,2", "CSV"), ("text/csv", "0.4", "CSV")))
    frame = read_all(open_table(data, name="c.jsonl"))
    assert frame.columns.tolist() == ["id", "input_0", "input_1", "output_0"]


def test_capture_reader_rejects_mismatched_row_counts_as_bad_rows(read_all: ReadAll) -> None:
    # GIVEN a request of 3 rows answered with 2 scores, between two good requests
    data = _jsonl(
        _record("e1", ("text/csv", "1,2,a", "CSV"), ("text/csv", "0.1", "CSV")),
        _record("e2", ("text/csv", "1,2,a\n3,4,b\n5,6,c", "CSV"), ("text/csv", "0.1\n0.2", "CSV")),
        _record("e3", ("text/csv", "7,8,d", "CSV"), ("text/csv", "0.3", "CSV")),
    )
    # WHEN read
    reader = open_table(data, name="c.jsonl", capture=COLUMNS)
    frame = read_all(reader)
    # THEN the bad request is one bad row with its line and reason; the others are read
    assert frame["id"].tolist() == ["e1", "e3"]
    assert reader.report.to_dict()["samples"] == [
        {"line": 2, "reason": "output has 2 rows, input 3"}
    ]


@pytest.mark.parametrize(
    ("endpoint_input", "reason"),
    [
        (("text/csv", "1,2", "CSV"), "input row has 2 values, expected 3"),
        (("text/csv", "not base64!", "BASE64"), "endpointInput.data is not base64 of UTF-8 text"),
        (("application/json", "{broken", "JSON"), "endpointInput.data is not valid JSON"),
        (("image/png", _b64("x"), "BASE64"), "endpointInput has an unknown content type"),
        (("text/csv", "1,2,3", "GZIP"), "endpointInput has an unknown encoding"),
    ],
)
def test_capture_reader_rejects_undecodable_records_with_a_reason(
    endpoint_input: tuple[str, str, str], reason: str
) -> None:
    data = _jsonl(_record("e1", endpoint_input, ("text/csv", "0.5", "CSV")))
    reader = open_table(data, name="c.jsonl", capture=COLUMNS)
    assert list(reader) == []
    assert reader.report.bad_rows == 1
    assert reader.report.samples[0].reason.startswith(reason)


def test_capture_reader_reads_input_only_capture(read_all: ReadAll) -> None:
    data = _jsonl(_record("e1", ("text/csv", "41,5200,pro", "CSV"), None))
    frame = read_all(open_table(data, name="c.jsonl", capture=COLUMNS))
    assert frame.columns.tolist() == ["id", "ts", "age", "income", "plan"]


def test_capture_reader_detects_capture_in_gzip_without_extension(read_all: ReadAll) -> None:
    data = gzip.compress(
        _jsonl(_record("e1", ("text/csv", "41,5200,pro", "CSV"), ("text/csv", "0.5", "CSV")))
    )
    reader = open_table(data, name="inference/m/AllTraffic/2024/05/01/10/12-34-56-789-abc")
    assert reader.format == "capture"
    assert len(read_all(reader)) == 1


def test_capture_reader_detects_capture_with_a_first_line_longer_than_the_head() -> None:
    # GIVEN a first record over 1 MiB (a large payload)
    big = ",".join(["1"] * 600_000)
    data = _jsonl(_record("e1", ("text/csv", big, "CSV"), ("text/csv", "0.5", "CSV")))
    # THEN it is still recognised as capture
    assert open_table(data, name="c.jsonl").format == "capture"


def test_ground_truth_reader_reads_labels_by_event_id(read_all: ReadAll) -> None:
    # GIVEN SageMaker ground truth, labels as CSV text, JSON and base64
    records = [
        {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "e1"}},
        {"groundTruthData": {"data": "churned", "encoding": "CSV"},
         "eventMetadata": {"eventId": "e2"}},
        {"groundTruthData": {"data": "0.25", "encoding": "JSON"},
         "eventMetadata": {"eventId": "e3"}},
        {"groundTruthData": {"data": _b64("0"), "encoding": "BASE64",
                             "observedContentType": "text/csv"},
         "eventMetadata": {"eventId": "e4"}},
    ]  # fmt: skip
    data = _jsonl(*[{**record, "eventVersion": "0"} for record in records])
    # WHEN read with the model's label column
    reader = open_table(data, name="labels.jsonl", capture=CaptureColumns(label="churned"))
    frame = read_all(reader)
    # THEN id and label; numbers parse, other text is kept
    assert reader.format == "ground_truth"
    assert frame.to_dict("list") == {
        "id": ["e1", "e2", "e3", "e4"],
        "churned": [1, "churned", 0.25, 0],
    }


def test_ground_truth_reader_rejects_labels_without_id_or_value(read_all: ReadAll) -> None:
    data = _jsonl(
        {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {}},
        {"groundTruthData": {"data": "", "encoding": "CSV"}, "eventMetadata": {"eventId": "e2"}},
        {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "e3"}},
    )
    reader = open_table(data, name="labels.jsonl")
    assert read_all(reader)["id"].tolist() == ["e3"]
    assert [sample.line for sample in reader.report.samples] == [1, 2]
