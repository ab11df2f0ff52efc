"""Fuzzing the SageMaker readers through open_table: Data Capture and ground truth.

Each generated request is encoded on its input and output sides independently (CSV, JSON in
four shapes, JSON Lines, each maybe base64-wrapped), so the two sides of one record usually
disagree in encoding, as they may in real captures. The oracle knows every value it
encoded: a valid record's rows come back value for value with their ids; a broken record
(undecodable, mislabelled, row counts that disagree, ...) is exactly one bad row at its line.
A record whose values without names cannot be named truthfully (no configured order, or
another field count than the order's) refuses the whole file at its line.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

from fuzz_support import CANARY, fuzz_settings, read, same_value
from hypothesis import given
from hypothesis import strategies as st

from driftline.io import CaptureColumns

COLUMNS = CaptureColumns(inputs=("x", "y"), outputs=("score",), timestamp="time")
INPUT_VALUES = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet="abcdefghij", min_size=1, max_size=6),
    st.just(CANARY),
)
SCORES = st.floats(0, 1) | st.integers(0, 1)
INPUT_SHAPES = ["csv", "json-lists", "json-instances", "json-features", "json-objects", "jsonl"]
OUTPUT_SHAPES = ["csv", "json-predictions", "json-list", "jsonl"]
BROKEN = [
    "row-count-mismatch",
    "bad-base64",
    "csv-declared-json",
    "base64-of-latin1",
    "base64-unknown-content-type",
    "unknown-encoding",
    "no-capture-data",
    "no-rows",
    "input-not-an-object",
]


def _csv_text(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def encode_input(rows: list[list[Any]], shape: str, wrap: bool) -> dict[str, Any]:
    """One endpointInput carrying ``rows`` of (x, y) in the given shape."""
    kind = "text/csv" if shape == "csv" else "application/json"
    if shape == "csv":
        data = _csv_text(rows)
    elif shape == "json-lists":
        data = json.dumps(rows)
    elif shape == "json-instances":
        data = json.dumps({"instances": rows, "configuration": {"k": 1}})
    elif shape == "json-features":
        data = json.dumps({"instances": [{"features": row} for row in rows]})
    elif shape == "json-objects":
        data = json.dumps([{"x": x, "y": y} for x, y in rows])
    else:
        kind = "application/jsonlines"
        data = "\n".join(json.dumps(row) for row in rows)
    return _side(data, kind, "INPUT", "CSV" if shape == "csv" else "JSON", wrap)


def encode_output(scores: list[Any], shape: str, wrap: bool) -> dict[str, Any]:
    kind = "text/csv" if shape == "csv" else "application/json"
    if shape == "csv":
        data = "\n".join(repr(score) for score in scores)
    elif shape == "json-predictions":
        data = json.dumps({"predictions": scores, "model_version": "7"})
    elif shape == "json-list":
        data = json.dumps(scores)
    else:
        kind = "application/jsonlines"
        data = "\n".join(json.dumps(score) for score in scores)
    return _side(data, kind, "OUTPUT", "CSV" if shape == "csv" else "JSON", wrap)


def _side(data: str, kind: str, mode: str, encoding: str, wrap: bool) -> dict[str, Any]:
    if wrap:
        data, encoding = base64.b64encode(data.encode()).decode(), "BASE64"
    return {"observedContentType": kind, "mode": mode, "data": data, "encoding": encoding}


def record(event: str, input_side: Any, output_side: Any) -> dict[str, Any]:
    return {
        "captureData": {"endpointInput": input_side, "endpointOutput": output_side},
        "eventMetadata": {"eventId": event, "inferenceTime": "2026-11-24T10:00:00Z"},
        "eventVersion": "0",
    }


def expected_csv_value(value: Any) -> Any:
    """What a value becomes after a trip through CSV text (numbers stay numbers)."""
    return float(repr(value)) if isinstance(value, float) else value


@st.composite
def requests(draw: st.DrawFn) -> tuple[list[list[Any]], list[Any], str, str, bool, bool]:
    count = draw(st.integers(1, 4))
    rows = [[draw(INPUT_VALUES), draw(INPUT_VALUES)] for _ in range(count)]
    scores = [draw(SCORES) for _ in range(count)]
    return (
        rows,
        scores,
        draw(st.sampled_from(INPUT_SHAPES)),
        draw(st.sampled_from(OUTPUT_SHAPES)),
        draw(st.booleans()),
        draw(st.booleans()),
    )


def broken_record(kind: str, event: str) -> dict[str, Any]:
    """A record the reader must reject as one bad row."""
    good_in = encode_input([[1, 2]], "csv", wrap=False)
    good_out = encode_output([0.5], "csv", wrap=False)
    if kind == "row-count-mismatch":
        return record(event, good_in, encode_output([0.5, 0.25], "json-list", wrap=False))
    if kind == "bad-base64":
        return record(event, {**good_in, "encoding": "BASE64", "data": "%%not base64%%"}, good_out)
    if kind == "csv-declared-json":
        return record(event, {**good_in, "encoding": "JSON", "data": "a,b"}, good_out)
    if kind == "base64-of-latin1":
        latin = base64.b64encode("é,1".encode("latin-1")).decode()
        return record(event, {**good_in, "encoding": "BASE64", "data": latin}, good_out)
    if kind == "base64-unknown-content-type":
        side = {**encode_input([[1, 2]], "csv", wrap=True)}
        side["observedContentType"] = "application/x-protobuf"
        return record(event, side, good_out)
    if kind == "unknown-encoding":
        return record(event, {**good_in, "encoding": "XML"}, good_out)
    if kind == "no-capture-data":
        return {"eventMetadata": {"eventId": event}, "eventVersion": "0"}
    if kind == "no-rows":
        return record(event, {**good_in, "data": ""}, {**good_out, "data": ""})
    return record(event, "x=1&y=2", good_out)  # input-not-an-object


@fuzz_settings(120)
@given(
    first=requests(),
    others=st.lists(st.one_of(requests(), st.sampled_from(BROKEN)), max_size=12),
    chunk_rows=st.integers(1, 9),
)
def test_capture_records_are_rows_value_for_value_or_one_bad_row_each(
    first: tuple[Any, ...], others: list[Any], chunk_rows: int
) -> None:
    # GIVEN a Data Capture file: a valid request first (so the format is detected), then
    # valid and broken requests in any order, input and output encoded independently
    lines: list[str] = []
    expected: list[dict[str, Any]] = []
    bad_lines: list[int] = []
    for number, item in enumerate([first, *others], start=1):
        event = f"e{number}"
        if isinstance(item, str):
            lines.append(json.dumps(broken_record(item, event)))
            bad_lines.append(number)
            continue
        rows, scores, input_shape, output_shape, wrap_in, wrap_out = item
        side_in = encode_input(rows, input_shape, wrap_in)
        side_out = encode_output(scores, output_shape, wrap_out)
        lines.append(json.dumps(record(event, side_in, side_out)))
        through_csv_in = input_shape == "csv"
        through_csv_out = output_shape == "csv"
        for index, ((x, y), score) in enumerate(zip(rows, scores, strict=True)):
            expected.append(
                {
                    "id": event if len(rows) == 1 else f"{event}#{index}",
                    "time": "2026-11-24T10:00:00Z",
                    "x": expected_csv_value(x) if through_csv_in else x,
                    "y": expected_csv_value(y) if through_csv_in else y,
                    "score": expected_csv_value(score) if through_csv_out else score,
                }
            )
    data = ("\n".join(lines) + "\n").encode()

    # WHEN read with format detection
    result = read(data, name="capture.jsonl", chunk_rows=chunk_rows, capture=COLUMNS)

    # THEN every valid request's rows come back with their ids, each broken one is one bad
    # row at its line, and no reason quotes a value
    assert result.error is None, result.error
    assert result.format == "capture"
    assert result.report is not None
    assert result.bad_rows == len(bad_lines)
    assert [sample.line for sample in result.report.samples] == bad_lines[:20]
    rows_read = [row for frame in result.frames for row in frame.to_dict("records")]
    assert len(rows_read) == len(expected)
    for got, want in zip(rows_read, expected, strict=True):
        for column, value in want.items():
            assert same_value(got[column], value), (column, got[column], value)


def request_lines(requests_: list[tuple[Any, ...]]) -> list[str]:
    """The lines of a capture file holding these valid requests, ids e1, e2, ..."""
    return [
        json.dumps(record(f"e{number}", encode_input(rows, shape_in, wrap_in),
                          encode_output(scores, shape_out, wrap_out)))
        for number, (rows, scores, shape_in, shape_out, wrap_in, wrap_out)
        in enumerate(requests_, start=1)
    ]  # fmt: skip


#: Input shapes whose values come without names (all but JSON objects).
UNNAMED_SHAPES = [shape for shape in INPUT_SHAPES if shape != "json-objects"]


@fuzz_settings(80)
@given(
    requests_=st.lists(requests(), min_size=1, max_size=10),
    at=st.integers(0, 9),
    fields=st.sampled_from([1, 3, 4]),
    shape=st.sampled_from(UNNAMED_SHAPES),
    chunk_rows=st.integers(1, 9),
)
def test_a_record_with_another_field_count_refuses_the_whole_file_at_its_line(
    requests_: list[tuple[Any, ...]], at: int, fields: int, shape: str, chunk_rows: int
) -> None:
    # GIVEN valid requests with, at some position, one whose rows have another number of
    # values than the configured order (x, y) names, the canary among them
    lines = request_lines(requests_)
    position = min(at, len(lines))
    wrong = [[CANARY, *range(fields - 1)]]
    side_in = encode_input(wrong, shape, wrap=False)
    lines.insert(position, json.dumps(record("bad", side_in, encode_output([0.5], "csv", False))))
    # WHEN read
    result = read(("\n".join(lines) + "\n").encode(), name="capture.jsonl",
                  chunk_rows=chunk_rows, capture=COLUMNS)  # fmt: skip
    # THEN the file is refused at that record's line, naming the counts and not the values
    assert result.error is not None
    assert result.reason == "capture_field_count"
    details = result.error.details
    assert (details["line"], details["expected"], details["found"]) == (position + 1, 2, fields)


@fuzz_settings(80)
@given(requests_=st.lists(requests(), min_size=1, max_size=10), chunk_rows=st.integers(1, 9))
def test_values_without_names_and_no_configured_order_refuse_the_file_at_the_first(
    requests_: list[tuple[Any, ...]], chunk_rows: int
) -> None:
    # GIVEN valid requests in any input shape, read without an input order
    lines = request_lines(requests_)
    columns = CaptureColumns(inputs=None, outputs=("score",), timestamp="time")
    result = read(("\n".join(lines) + "\n").encode(), name="capture.jsonl",
                  chunk_rows=chunk_rows, capture=columns)  # fmt: skip
    # THEN named (JSON object) inputs are read; the first input without names refuses the
    # file at its line
    unnamed = [n for n, request in enumerate(requests_, start=1) if request[2] in UNNAMED_SHAPES]
    if not unnamed:
        assert result.error is None, result.error
        assert result.report is not None and result.report.rows == sum(
            len(request[0]) for request in requests_
        )
        return
    assert result.reason == "capture_fields_unknown"
    assert result.error is not None and result.error.details["line"] == unnamed[0]


GOOD_LABELS = st.one_of(
    st.sampled_from(["1", "0", "cat", "3.5", "-2", CANARY]).map(lambda t: ("csv", t)),
    st.sampled_from(["1", '"cat"', "true", "0.25"]).map(lambda t: ("json", t)),
    st.sampled_from(["1", "dog"]).map(lambda t: ("base64", t)),
    st.sampled_from([1, 0.5, True, "bare"]).map(lambda v: ("bare", v)),
)
BROKEN_LABELS = st.sampled_from(
    ["no-id", "empty", "json-list", "json-object", "json-null", "bad-base64", "xml", "not-object"]
)


def label_record(label: tuple[str, Any] | str, event: str, by_inference_id: bool) -> dict[str, Any]:
    ids: dict[str, Any] = (
        {"eventMetadata": {"inferenceId": event}}
        if by_inference_id
        else {"eventMetadata": {"eventId": event}}
    )
    if isinstance(label, tuple):
        kind, value = label
        if kind == "csv":
            truth: Any = {"data": value, "encoding": "CSV"}
        elif kind == "json":
            truth = {"data": value, "encoding": "JSON"}
        elif kind == "base64":
            truth = {"data": base64.b64encode(value.encode()).decode(), "encoding": "BASE64"}
        else:
            truth = {"data": value}
        return {"groundTruthData": truth, **ids, "eventVersion": "0"}
    broken: dict[str, Any] = {
        "no-id": {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {}},
        "empty": {"groundTruthData": {"data": "", "encoding": "CSV"}, **ids},
        "json-list": {"groundTruthData": {"data": "[1, 2]", "encoding": "JSON"}, **ids},
        "json-object": {"groundTruthData": {"data": '{"a": 1}', "encoding": "JSON"}, **ids},
        "json-null": {"groundTruthData": {"data": "null", "encoding": "JSON"}, **ids},
        "bad-base64": {"groundTruthData": {"data": "%%", "encoding": "BASE64"}, **ids},
        "xml": {"groundTruthData": {"data": "<a/>", "encoding": "XML"}, **ids},
        "not-object": {"groundTruthData": "1", **ids},
    }
    return broken[label]


def expected_label(label: tuple[str, Any]) -> Any:
    kind, value = label
    if kind == "json":
        return json.loads(value)
    if kind in ("csv", "base64"):
        for convert in (int, float):
            try:
                return convert(value)
            except ValueError:
                continue
    return value


@fuzz_settings(80)
@given(
    first=GOOD_LABELS,
    others=st.lists(st.one_of(GOOD_LABELS, BROKEN_LABELS), max_size=15),
    by_inference_id=st.booleans(),
    chunk_rows=st.integers(1, 6),
)
def test_ground_truth_records_are_labels_or_one_bad_row_each(
    first: tuple[str, Any],
    others: list[Any],
    by_inference_id: bool,
    chunk_rows: int,
) -> None:
    # GIVEN ground-truth records with labels in every encoding, some broken
    labels = [first, *others]
    lines = [json.dumps(label_record(label, f"e{n}", by_inference_id)) for n, label in
             enumerate(labels, 1)]  # fmt: skip
    # WHEN read
    result = read(("\n".join(lines) + "\n").encode(), name="truth.jsonl",
                  chunk_rows=chunk_rows, capture=COLUMNS)  # fmt: skip
    # THEN each valid record is one (id, label) row, each broken one a bad row at its line
    assert result.error is None, result.error
    assert result.format == "ground_truth"
    assert result.report is not None
    good = [(f"e{n}", label) for n, label in enumerate(labels, 1) if isinstance(label, tuple)]
    bad = [n for n, label in enumerate(labels, 1) if isinstance(label, str)]
    assert result.bad_rows == len(bad)
    assert [sample.line for sample in result.report.samples] == bad[:20]
    rows = [row for frame in result.frames for row in frame.to_dict("records")]
    assert [row["id"] for row in rows] == [ident for ident, _ in good]
    for row, (_, label) in zip(rows, good, strict=True):
        assert same_value(row["label"], expected_label(label)), (row["label"], label)
