"""open_table: sources, format detection, and every InvalidInputError reason."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from driftline.errors import InvalidInputError
from driftline.io import TableReader, open_table

ReadAll = Callable[[TableReader], pd.DataFrame]
CSV = b"a,b\n1,2\n3,4\n"


class NonSeekableBody:
    """Like botocore's StreamingBody: read() only."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    def read(self, size: int = -1, /) -> bytes:
        return self._buffer.read(size)


def test_open_table_reads_paths_bytes_and_streams_alike(tmp_path: Path, read_all: ReadAll) -> None:
    # GIVEN the same CSV as a path, bytes, an open file, and a non-seekable body
    path = tmp_path / "b.csv"
    path.write_bytes(CSV)
    with path.open("rb") as handle:
        sources = [path, str(path), CSV, handle, NonSeekableBody(CSV)]
        # WHEN each is read THEN the same frame comes back
        frames = [read_all(open_table(source, name="b.csv")) for source in sources]
    for frame in frames:
        pd.testing.assert_frame_equal(frame, frames[0])


def test_open_table_reads_a_stream_from_its_current_position(read_all: ReadAll) -> None:
    stream = io.BytesIO(b"preamble" + CSV)
    stream.seek(len(b"preamble"))
    frame = read_all(open_table(stream, name="b.csv"))
    assert frame["a"].tolist() == [1, 3]


def test_open_table_reader_can_be_iterated_again_with_a_fresh_report(read_all: ReadAll) -> None:
    # GIVEN a reader over bytes, read once
    reader = open_table(b"a,b\n1,2\n3,4,5\n", name="b.csv")
    first = read_all(reader)
    # WHEN it is read again (a baseline is profiled in two passes)
    second = read_all(reader)
    # THEN the same rows, and the report describes one pass, not two
    pd.testing.assert_frame_equal(first, second)
    assert (reader.report.rows, reader.report.bad_rows) == (1, 1)


def test_open_table_non_seekable_stream_is_read_once() -> None:
    # GIVEN a gzip body larger than what format detection reads ahead
    body = NonSeekableBody(gzip.compress(b"a,b\n" + b"1,2\n" * 100_000))
    reader = open_table(body, name="b.csv.gz")
    # WHEN read twice THEN the first pass reads every row and the second refuses clearly
    assert sum(len(frame) for frame in reader) == 100_000
    with pytest.raises(RuntimeError, match="only once"):
        list(reader)


def test_open_table_does_not_close_the_callers_stream() -> None:
    stream = io.BytesIO(CSV)
    list(open_table(stream, name="b.csv"))
    assert not stream.closed


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("b.csv", "csv"),
        ("B.CSV.GZ", "csv"),
        ("b.jsonl", "jsonl"),
        ("b.json.gz", "jsonl"),
        ("b.ndjson", "jsonl"),
        ("b.parquet", "parquet"),
        ("b.pq.gz", "parquet"),
    ],
)
def test_open_table_detects_format_by_extension(name: str, expected: str) -> None:
    assert open_table(b'{"a": 1}\n', name=name).format == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a,b\n1,2\n", "csv"),
        (b'  {"a": 1}\n', "jsonl"),
        (b'{"captureData": {}}\n', "capture"),
        (b'{"groundTruthData": {"data": "1"}}\n', "ground_truth"),
        (b"\xef\xbb\xbfa\n1\n", "csv"),
    ],
)
def test_open_table_sniffs_format_without_extension(content: bytes, expected: str) -> None:
    assert open_table(content, name="inference/model/part-0").format == expected


def test_open_table_explicit_format_skips_detection(read_all: ReadAll) -> None:
    # GIVEN Data Capture records read as plain JSON Lines on purpose
    reader = open_table(b'{"captureData": {"x": 1}}\n', name="c.jsonl", format="jsonl")
    # THEN they are flattened as they are
    assert reader.format == "jsonl"
    assert read_all(reader).columns.tolist() == ["captureData.x"]


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"", "empty.csv", "empty_file"),
        (gzip.compress(b""), "empty.csv.gz", "empty_file"),
        (b"\n \n\n", "blank", "empty_file"),
        (gzip.compress(CSV * 100)[:-20], "cut.csv.gz", "corrupt_compression"),
        (b"\x1f\x8b" + b"\x00" * 30, "bad.gz", "corrupt_compression"),
        ("café,1\n".encode("latin-1"), "latin1", "not_utf8"),
        ("a,b\n".encode("utf-16"), "wide", "not_utf8"),
        (b"\x00\x01\x02\x03binary", "blob", "unknown_format"),
        (b"PK\x03\x04rest-of-zip", "book.xlsx", "unknown_format"),
        (b"BZh91AY&SY", "b.csv.bz2", "unknown_format"),
        (b"PAR1 not really PAR1", "fake.parquet", "corrupt_parquet"),
    ],
)
def test_open_table_raises_invalid_input_with_a_reason_naming_the_file(
    content: bytes, name: str, reason: str
) -> None:
    # WHEN a file that cannot be read is opened and read
    with pytest.raises(InvalidInputError) as caught:
        list(open_table(content, name=name))
    # THEN the reason code is machine-readable and the file is named in message and details
    error = caught.value
    assert error.reason == reason
    assert name in str(error)
    assert error.to_dict()["file"] == name


def test_open_table_translates_library_errors_with_their_cause() -> None:
    with pytest.raises(InvalidInputError) as caught:
        list(open_table(gzip.compress(CSV * 100)[:-20], name="cut.csv.gz"))
    assert isinstance(caught.value.__cause__, EOFError)


def test_open_table_rejects_bad_arguments_with_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="expected format 'auto' or one of"):
        open_table(CSV, format="xlsx")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected chunk_rows >= 1, got 0"):
        open_table(CSV, chunk_rows=0)
    with pytest.raises(ValueError, match="parquet_engine"):
        open_table(CSV, parquet_engine="polars")  # type: ignore[arg-type]


def test_open_table_missing_path_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_table(tmp_path / "missing.csv")
