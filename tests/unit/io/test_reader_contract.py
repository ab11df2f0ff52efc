"""Contract of every reader: consistent reports, and InvalidInputError as the only failure.

Each format has a writer here; a check makes sure no format is left off the list. Then
hypothesis feeds open_table arbitrary bytes, damaged versions of valid files and mutated
records: it must either yield frames whose sizes add up to ``report.rows`` or raise
InvalidInputError, never another exception.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftline.errors import InvalidInputError
from driftline.io import FORMATS, CaptureColumns, Format, open_table
from driftline.io.report import MAX_SAMPLES

FRAME = pd.DataFrame({"x": [1, 2, 3, 4, 5], "y": ["a", "b", "c", "d", "e"]})


def _csv() -> bytes:
    return FRAME.to_csv(index=False).encode()


def _jsonl() -> bytes:
    return FRAME.to_json(orient="records", lines=True).encode()


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(FRAME, preserve_index=False), buffer, row_group_size=2)
    return buffer.getvalue()


def _capture() -> bytes:
    records = [
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                  "data": f"{x},{y}", "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "application/json",
                                   "mode": "OUTPUT", "data": "0.5", "encoding": "JSON"},
            },
            "eventMetadata": {"eventId": f"e{x}", "inferenceTime": "2024-05-01T10:00:00Z"},
            "eventVersion": "0",
        }
        for x, y in zip(FRAME["x"], FRAME["y"], strict=True)
    ]  # fmt: skip
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def _ground_truth() -> bytes:
    records = [
        {"groundTruthData": {"data": y, "encoding": "CSV"}, "eventMetadata": {"eventId": f"e{x}"}}
        for x, y in zip(FRAME["x"], FRAME["y"], strict=True)
    ]
    return "".join(json.dumps(record) + "\n" for record in records).encode()


WRITERS: dict[Format, Callable[[], bytes]] = {
    "csv": _csv,
    "jsonl": _jsonl,
    "parquet": _parquet,
    "capture": _capture,
    "ground_truth": _ground_truth,
}
COLUMNS = CaptureColumns(inputs=("x", "y"), outputs=("score",), label="y")


def test_every_format_has_a_writer_in_the_contract_tests() -> None:
    assert set(WRITERS) == set(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("compress", [False, True])
def test_every_reader_detects_its_format_and_reads_every_row(fmt: Format, compress: bool) -> None:
    # GIVEN a valid file of five rows, unnamed, maybe gzip-compressed
    data = WRITERS[fmt]()
    data = gzip.compress(data) if compress else data
    # WHEN opened with format detection, two rows at a time
    reader = open_table(data, name="upload", chunk_rows=2, capture=COLUMNS)
    frames = list(reader)
    # THEN the format is detected and every row is read, in chunks of at most two
    assert reader.format == fmt
    assert [len(frame) for frame in frames] == [2, 2, 1]
    assert pd.concat(frames)["y"].tolist() == FRAME["y"].tolist()
    assert reader.report.to_dict() == {"rows": 5, "bad_rows": 0, "samples": []}


def _read_or_reject(data: bytes, *, name: str, chunk_rows: int) -> None:
    try:
        reader = open_table(data, name=name, chunk_rows=chunk_rows, capture=COLUMNS)
        frames = list(reader)
    except InvalidInputError as error:
        assert error.reason in {
            "empty_file",
            "unknown_format",
            "not_utf8",
            "corrupt_compression",
            "corrupt_parquet",
            "malformed_csv",
        }
        assert error.details["file"] == name
        json.dumps(error.to_dict())
        return
    report = reader.report
    assert all(0 < len(frame) <= chunk_rows for frame in frames)
    assert sum(len(frame) for frame in frames) == report.rows
    assert len(report.samples) == min(report.bad_rows, MAX_SAMPLES)
    assert all(sample.line is None or sample.line >= 1 for sample in report.samples)
    json.dumps(report.to_dict())


NAMES = st.sampled_from(["upload", "b.csv", "b.jsonl", "b.json.gz", "b.parquet", "b.pq.gz"])
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


TEXTISH = st.text(alphabet=st.sampled_from(list("ab1.,;\"'\n\r\t {}[]:\\\x00é")), max_size=200)


@FUZZ
@given(
    data=st.binary(max_size=400) | TEXTISH.map(str.encode),
    name=NAMES,
    chunk_rows=st.integers(1, 5),
)
def test_any_bytes_yield_consistent_frames_or_invalid_input(
    data: bytes, name: str, chunk_rows: int
) -> None:
    _read_or_reject(data, name=name, chunk_rows=chunk_rows)


@FUZZ
@given(
    fmt=st.sampled_from(FORMATS),
    compress=st.booleans(),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    cut=st.none() | st.integers(0, 10_000),
    chunk_rows=st.integers(1, 5),
)
def test_damaged_files_yield_consistent_frames_or_invalid_input(
    fmt: Format,
    compress: bool,
    edits: list[tuple[int, int]],
    cut: int | None,
    chunk_rows: int,
) -> None:
    # GIVEN a valid file of any format, bytes overwritten and maybe cut short
    original = WRITERS[fmt]()
    damaged = bytearray(gzip.compress(original) if compress else original)
    for position, value in edits:
        damaged[position % len(damaged)] = value
    if cut is not None:
        damaged = damaged[: cut % (len(damaged) + 1)]
    # WHEN it is read THEN frames with a consistent report, or InvalidInputError
    _read_or_reject(bytes(damaged), name="upload", chunk_rows=chunk_rows)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(
    inputs=JSON_VALUES,
    outputs=JSON_VALUES,
    encodings=st.tuples(
        st.sampled_from(["CSV", "JSON", "BASE64", "XML", None]),
        st.sampled_from(["CSV", "JSON", "BASE64", None]),
    ),
    content_type=st.sampled_from(["text/csv", "application/json", "application/jsonlines", ""]),
)
def test_arbitrary_capture_payloads_are_rows_a_bad_row_or_a_field_count_rejection(
    inputs: object, outputs: object, encodings: tuple[str | None, str | None], content_type: str
) -> None:
    # GIVEN a capture record whose payloads are arbitrary JSON values, as text or as values
    def part(value: object, encoding: str | None) -> dict[str, object]:
        data: object = json.dumps(value) if encoding != "CSV" else str(value)
        return {"observedContentType": content_type, "data": data, "encoding": encoding}

    record = {
        "captureData": {
            "endpointInput": part(inputs, encodings[0]),
            "endpointOutput": part(outputs, encodings[1]),
        },
        "eventMetadata": {"eventId": "e1"},
    }
    data = (json.dumps(record) + "\n").encode()
    # WHEN read
    reader = open_table(data, name="c.jsonl", capture=COLUMNS)
    try:
        rows = sum(len(frame) for frame in reader)
    except InvalidInputError as exc:
        # THEN either the values without names do not fit the configured order (the whole
        # file refused, naming the line and the counts) ...
        assert exc.reason == "capture_field_count"
        assert exc.details["line"] == 1
        assert exc.details["found"] != exc.details["expected"]
        return
    # ... or rows, or exactly one bad row, and never another exception
    assert rows == reader.report.rows
    assert (rows > 0) != (reader.report.bad_rows == 1)
