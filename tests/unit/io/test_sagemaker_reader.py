"""SageMaker Data Capture and ground truth: the records endpoints and labellers write."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from driftline.errors import InvalidInputError
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


# -- the order of values without names -------------------------------------------------------


def test_capture_reader_names_csv_fields_by_the_given_order_not_the_features_order(
    read_all: ReadAll,
) -> None:
    # GIVEN an endpoint whose CSV request is (plan, income, age): another order than the
    # schema lists its features in, and which the capture record does not tell
    columns = CaptureColumns(inputs=("plan", "income", "age"), outputs=("score",))
    data = _jsonl(
        _record("e1", ("text/csv", "pro,5200,41", "CSV"), ("text/csv", "0.8", "CSV")),
        _record("e2", ("application/json", '[["basic", 3100, 35]]', "JSON"),
                ("application/json", "[0.1]", "JSON")),
    )  # fmt: skip
    # WHEN read with that order
    frame = read_all(open_table(data, name="c.jsonl", capture=columns))
    # THEN each value lands in its own column, for CSV text and a JSON list alike
    assert frame[["age", "income", "plan", "score"]].to_dict("records") == [
        {"age": 41, "income": 5200, "plan": "pro", "score": 0.8},
        {"age": 35, "income": 3100, "plan": "basic", "score": 0.1},
    ]


def test_capture_reader_drops_the_fields_the_order_does_not_name(read_all: ReadAll) -> None:
    # GIVEN a request field the monitor does not keep (None in the order)
    columns = CaptureColumns(inputs=("age", None, "plan"), outputs=("score",))
    data = _jsonl(_record("e1", ("text/csv", "41,5200,pro", "CSV"), ("text/csv", "0.8", "CSV")))
    frame = read_all(open_table(data, name="c.jsonl", capture=columns))
    assert frame.columns.tolist() == ["id", "age", "plan", "score"]


@pytest.mark.parametrize(
    "endpoint_input",
    [
        ("text/csv", "41,5200,pro", "CSV"),
        ("text/csv", _b64("41,5200,pro"), "BASE64"),
        ("application/json", '{"instances": [[41, 5200, "pro"]]}', "JSON"),
        ("application/json", '{"features": [41, 5200, "pro"]}', "JSON"),
    ],
    ids=["csv", "base64-csv", "json-instances", "json-features"],
)
def test_capture_reader_refuses_the_file_when_the_input_order_is_unknown(
    endpoint_input: tuple[str, str, str],
) -> None:
    # GIVEN a good first record with named (JSON object) input, then one whose input values
    # have no names, read without an input order (the definition sets no csv_fields)
    columns = CaptureColumns(inputs=None, outputs=("score",))
    data = _jsonl(
        _record("e1", ("application/json", '{"age": 41, "plan": "pro"}', "JSON"),
                ("text/csv", "0.8", "CSV")),
        _record("e2", endpoint_input, ("text/csv", "0.5", "CSV")),
    )  # fmt: skip
    reader = open_table(data, name="inference/m/c.jsonl", capture=columns)
    # WHEN read THEN the whole file is refused, naming the file, the line and the setting
    with pytest.raises(InvalidInputError) as caught:
        list(reader)
    error = caught.value
    assert error.reason == "capture_fields_unknown"
    assert error.details == {
        "file": "inference/m/c.jsonl",
        "line": 2,
        "key": "capture.csv_fields",
        "side": "input",
    }
    assert str(error).startswith("inference/m/c.jsonl: the record on line 2: the input has")
    assert "set capture.csv_fields" in str(error)
    assert "5200" not in str(error) and "pro" not in str(error)


def test_capture_reader_reads_named_json_input_without_an_input_order(read_all: ReadAll) -> None:
    # GIVEN JSON object input: its keys name its values, so no order is needed
    columns = CaptureColumns(inputs=None, outputs=("score",))
    data = _jsonl(
        _record("e1", ("application/json", '{"age": 41, "plan": "pro"}', "JSON"),
                ("text/csv", "0.8", "CSV")),
    )  # fmt: skip
    frame = read_all(open_table(data, name="c.jsonl", capture=columns))
    assert frame[["age", "plan", "score"]].iloc[0].tolist() == [41, "pro", 0.8]


@pytest.mark.parametrize(
    ("line", "fields"),
    [("41,5200", 2), ("41,5200,pro,extra", 4), ("41,5200,pro\n35,3100", 2)],
    ids=["too-few", "too-many", "second-row-of-a-request"],
)
def test_capture_reader_refuses_the_file_when_a_record_has_another_field_count(
    line: str, fields: int
) -> None:
    # GIVEN two good records, then one with a row whose field count is not the order's
    data = _jsonl(
        _record("e1", ("text/csv", "41,5200,pro", "CSV"), ("text/csv", "0.5", "CSV")),
        _record("e2", ("text/csv", "35,3100,basic", "CSV"), ("text/csv", "0.5", "CSV")),
        _record("e3", ("text/csv", line, "CSV"), ("text/csv", "0.5\n0.6", "CSV")),
    )
    reader = open_table(data, name="c.jsonl", capture=COLUMNS, chunk_rows=1)
    # WHEN read THEN the file is refused at that record: counts named, no value quoted
    with pytest.raises(InvalidInputError) as caught:
        list(reader)
    error = caught.value
    assert error.reason == "capture_field_count"
    assert (error.details["line"], error.details["expected"], error.details["found"]) == (
        3,
        3,
        fields,
    )
    assert f"a row of the input has {fields} fields, capture.csv_fields names 3" in str(error)
    assert "5200" not in str(error) and "extra" not in str(error)


def test_capture_reader_maps_json_output_keys_to_the_schema_columns(read_all: ReadAll) -> None:
    # GIVEN an endpoint answering {"predicted_label": ..., "probability": ...}, a linear
    # learner style list of such objects, and a nested key
    columns = CaptureColumns(
        inputs=("age", "income", "plan"),
        outputs=None,
        output_keys={"predicted_label": "churned_pred", "probability": "churn_score"},
    )
    data = _jsonl(
        _record("e1", ("text/csv", "41,5200,pro", "CSV"),
                ("application/json", '{"predicted_label": 1, "probability": 0.8}', "JSON")),
        _record("e2", ("text/csv", "35,3100,basic", "CSV"),
                ("application/json",
                 '{"predictions": [{"predicted_label": 0, "probability": 0.1, "rank": 3}]}',
                 "JSON")),
    )  # fmt: skip
    # WHEN read
    frame = read_all(open_table(data, name="c.jsonl", capture=columns))
    # THEN the mapped keys fill the schema's columns; an unmapped key keeps its name
    assert frame[["churned_pred", "churn_score"]].to_dict("list") == {
        "churned_pred": [1, 0],
        "churn_score": [0.8, 0.1],
    }
    assert "predicted_label" not in frame.columns and "probability" not in frame.columns
    assert frame["rank"].tolist()[1] == 3


def test_capture_reader_lets_a_mapped_output_key_win_over_a_key_named_like_its_column(
    read_all: ReadAll,
) -> None:
    # GIVEN an output with both the mapped key and a key already named like its column
    columns = CaptureColumns(inputs=("x",), outputs=None, output_keys={"probability": "score"})
    data = _jsonl(
        _record("e1", ("text/csv", "3", "CSV"),
                ("application/json", '{"score": 12.5, "probability": 0.8}', "JSON")),
        _record("e2", ("text/csv", "4", "CSV"), ("application/json", '{"score": 0.3}', "JSON")),
    )  # fmt: skip
    frame = read_all(open_table(data, name="c.jsonl", capture=columns))
    # THEN the definition's mapping decides; without the mapped key the column stays
    assert frame["score"].tolist() == [0.8, 0.3]


@pytest.mark.parametrize(
    "endpoint_output",
    [("text/csv", "1,0.8", "CSV"), ("application/json", "0.8", "JSON")],
    ids=["csv", "json-number"],
)
def test_capture_reader_refuses_outputs_without_names_when_their_order_is_unknown(
    endpoint_output: tuple[str, str, str],
) -> None:
    # GIVEN two output columns (prediction and score) and no order for outputs without names
    columns = CaptureColumns(inputs=("x",), outputs=None, output_keys={"p": "prediction"})
    data = _jsonl(_record("e1", ("text/csv", "3", "CSV"), endpoint_output))
    with pytest.raises(InvalidInputError) as caught:
        list(open_table(data, name="c.jsonl", capture=columns))
    assert caught.value.reason == "capture_fields_unknown"
    assert caught.value.details["key"] == "capture.csv_outputs"


def test_capture_reader_names_csv_outputs_by_their_order_and_checks_their_count(
    read_all: ReadAll,
) -> None:
    # GIVEN outputs of (score, label) in CSV, read as (score, prediction)
    columns = CaptureColumns(inputs=("x",), outputs=("score", "prediction"))
    good = _jsonl(_record("e1", ("text/csv", "3", "CSV"), ("text/csv", "0.8,1", "CSV")))
    assert read_all(open_table(good, name="c.jsonl", capture=columns))[
        ["score", "prediction"]
    ].iloc[0].tolist() == [0.8, 1]
    # WHEN an output row has a third value THEN the file is refused for its field count
    bad = _jsonl(_record("e1", ("text/csv", "3", "CSV"), ("text/csv", "0.8,1,7", "CSV")))
    with pytest.raises(InvalidInputError) as caught:
        list(open_table(bad, name="c.jsonl", capture=columns))
    assert caught.value.reason == "capture_field_count"
    assert caught.value.details["key"] == "capture.csv_outputs"
    assert (caught.value.details["expected"], caught.value.details["found"]) == (2, 3)


def test_capture_reader_keeps_numeric_text_violations_as_values_not_bad_rows(
    read_all: ReadAll,
) -> None:
    # GIVEN a record whose numeric field holds text (the profile counts it as a type
    # violation, as it does for every reader)
    data = _jsonl(_record("e1", ("text/csv", "old,5200,pro", "CSV"), ("text/csv", "0.5", "CSV")))
    reader = open_table(data, name="c.jsonl", capture=COLUMNS)
    frame = read_all(reader)
    assert frame["age"].tolist() == ["old"]
    assert reader.report.bad_rows == 0
