"""open_table's bounds on a file's size: bytes of content (decompressed) and rows."""

from __future__ import annotations

import base64
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftline.errors import InvalidInputError
from driftline.io import CaptureColumns, TableReader, open_table

ReadAll = Callable[[TableReader], pd.DataFrame]
# 1,000 rows; every value is distinct from every count the errors carry.
ROWS = 1000
CSV = b"secret_id,secret_value\n" + b"".join(f"id-{i},value-{i}\n".encode() for i in range(ROWS))


class NonSeekableBody:
    """Like botocore's StreamingBody: read() only."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    def read(self, size: int = -1, /) -> bytes:
        return self._buffer.read(size)


def _assert_names_no_value(error: InvalidInputError) -> None:
    shown = str(error) + json.dumps(error.details)
    assert "id-" not in shown and "value-" not in shown


@pytest.mark.parametrize("compressed", [False, True])
def test_a_file_of_exactly_the_bounds_is_read_whole(compressed: bool, read_all: ReadAll) -> None:
    # GIVEN a file of exactly max_bytes bytes of content and max_rows rows
    data = gzip.compress(CSV) if compressed else CSV
    # WHEN read under those bounds THEN every row comes back
    frame = read_all(open_table(data, name="b.csv", max_bytes=len(CSV), max_rows=ROWS))
    assert len(frame) == ROWS


def test_an_uncompressed_file_past_the_byte_bound_is_refused_when_opened(tmp_path: Path) -> None:
    # GIVEN a plain CSV one byte longer than the bound, as bytes and as a path
    path = tmp_path / "b.csv"
    path.write_bytes(CSV)
    for source in (CSV, path):
        # WHEN it is opened THEN it is refused at once, with its exact size
        with pytest.raises(InvalidInputError) as raised:
            open_table(source, name="b.csv", max_bytes=len(CSV) - 1)
        error = raised.value
        assert error.reason == "file_too_large"
        assert error.details == {
            "file": "b.csv",
            "limit_bytes": len(CSV) - 1,
            "size_bytes": len(CSV),
        }
        assert f"holds {len(CSV):,} bytes" in str(error)
        _assert_names_no_value(error)


def test_a_gzip_file_whose_content_is_past_the_byte_bound_is_refused_while_read() -> None:
    # GIVEN a small gzip whose content is one byte past the bound
    data = gzip.compress(CSV)
    reader = open_table(data, name="b.csv.gz", max_bytes=len(CSV) - 1, chunk_rows=10)
    # WHEN it is read THEN it is refused, naming the bound and the stored size
    with pytest.raises(InvalidInputError) as raised:
        list(reader)
    error = raised.value
    assert error.reason == "file_too_large"
    assert error.details == {
        "file": "b.csv.gz",
        "limit_bytes": len(CSV) - 1,
        "stored_bytes": len(data),
    }
    assert f"more than {len(CSV) - 1:,} bytes once decompressed ({len(data):,}" in str(error)
    _assert_names_no_value(error)


@pytest.mark.parametrize("compressed", [False, True])
def test_a_stream_past_the_byte_bound_is_refused_while_read(compressed: bool) -> None:
    # GIVEN a non-seekable body (an S3 StreamingBody), plain or gzip: its size is not known
    data = gzip.compress(CSV) if compressed else CSV
    reader = open_table(NonSeekableBody(data), name="b.csv", max_bytes=len(CSV) // 2)
    # WHEN read THEN refused once the content runs past the bound
    with pytest.raises(InvalidInputError) as raised:
        list(reader)
    assert raised.value.reason == "file_too_large"
    assert raised.value.details["limit_bytes"] == len(CSV) // 2


def test_json_lines_capture_and_gzip_parquet_are_bounded_too() -> None:
    # GIVEN a JSON Lines file, a Data Capture file and a gzip-compressed Parquet file
    lines = b"".join(json.dumps({"n": i}).encode() + b"\n" for i in range(ROWS))
    record = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": base64.b64encode(b"1,2\n" * 50).decode(),
                "encoding": "BASE64",
            },
        },
        "eventMetadata": {"eventId": "e"},
    }
    capture = (json.dumps(record) + "\n").encode() * 20
    buffer = io.BytesIO()
    pq.write_table(pa.table({"n": list(range(ROWS))}), buffer)
    parquet = gzip.compress(buffer.getvalue())
    columns = CaptureColumns(inputs=("x", "y"))
    for name, data, size in (
        ("a.jsonl.gz", gzip.compress(lines), len(lines)),
        ("capture.jsonl.gz", gzip.compress(capture), len(capture)),
        ("a.parquet.gz", parquet, len(buffer.getvalue())),
    ):
        # WHEN each is read with a byte bound under its content THEN it is refused
        with pytest.raises(InvalidInputError) as raised:
            list(open_table(data, name=name, max_bytes=size - 1, capture=columns))
        assert raised.value.reason == "file_too_large", name
        # ... and with a bound of exactly its content, read whole
        assert sum(len(f) for f in open_table(data, name=name, max_bytes=size, capture=columns))


def test_a_file_past_the_row_bound_is_refused_before_the_rows_past_it_are_handed_out() -> None:
    # GIVEN a file of 1,000 rows, read 300 at a time under a bound of 999 rows
    reader = open_table(CSV, name="b.csv", max_rows=ROWS - 1, chunk_rows=300)
    seen: list[int] = []
    # WHEN it is read THEN it is refused as too_many_rows, naming the bound and the rows read
    with pytest.raises(InvalidInputError) as raised:
        seen.extend(len(frame) for frame in reader)
    error = raised.value
    assert error.reason == "too_many_rows"
    assert error.details == {"file": "b.csv", "limit_rows": ROWS - 1, "rows_read": ROWS}
    assert f"more than {ROWS - 1:,} rows" in str(error)
    _assert_names_no_value(error)
    # ... and no frame past the bound was handed out
    assert seen == [300, 300, 300]


def test_the_row_bound_counts_rows_not_records() -> None:
    # GIVEN Data Capture records of 50 rows each: 4 records are 200 rows
    record = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": base64.b64encode(b"1,2\n" * 50).decode(),
                "encoding": "BASE64",
            },
        },
        "eventMetadata": {"eventId": "e"},
    }
    data = (json.dumps(record) + "\n").encode() * 4
    columns = CaptureColumns(inputs=("x", "y"))
    # WHEN read under a bound of 199 rows THEN refused; under 200, read whole
    with pytest.raises(InvalidInputError) as raised:
        list(open_table(data, name="c.jsonl", max_rows=199, capture=columns))
    assert raised.value.reason == "too_many_rows"
    assert sum(len(f) for f in open_table(data, name="c.jsonl", max_rows=200, capture=columns))


def test_rejected_rows_do_not_count_towards_the_row_bound(read_all: ReadAll) -> None:
    # GIVEN 3 rows of which one has a field too many
    data = b"a,b\n1,2\n3,4,5\n6,7\n"
    # WHEN read under a bound of 2 rows THEN the 2 good rows are read, the bad one counted
    reader = open_table(data, name="b.csv", max_rows=2)
    assert len(read_all(reader)) == 2
    assert reader.report.bad_rows == 1


def test_every_pass_is_bounded() -> None:
    # GIVEN a gzip file past the bound, read twice (a baseline is profiled in two passes)
    reader = open_table(gzip.compress(CSV), name="b.csv.gz", max_bytes=100)
    # WHEN each pass is read THEN each is refused
    for _ in range(2):
        with pytest.raises(InvalidInputError, match="more than 100 bytes once decompressed"):
            list(reader)


@pytest.mark.parametrize("argument", ["max_bytes", "max_rows"])
@pytest.mark.parametrize("value", [0, -5, True, 2.5])
def test_a_bound_must_be_a_whole_number_of_at_least_one(argument: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"expected {argument} >= 1, got {value!r}"):
        open_table(CSV, name="b.csv", **{argument: value})  # type: ignore[arg-type]
