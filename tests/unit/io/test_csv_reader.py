"""CSV: round trips, chunking, gzip, and rows rejected with their line numbers."""

from __future__ import annotations

import gzip
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from driftline.errors import InvalidInputError
from driftline.io import TableReader, open_table

ReadAll = Callable[[TableReader], pd.DataFrame]


def test_csv_reader_round_trips_a_written_frame(
    tmp_path: Path, sample_frame: pd.DataFrame, read_all: ReadAll
) -> None:
    # GIVEN a frame written by pandas as CSV
    path = tmp_path / "batch.csv"
    sample_frame.to_csv(path, index=False)
    # WHEN it is read back
    reader = open_table(path)
    frame = read_all(reader)
    # THEN the same rows come back, with the types pandas infers, and nothing rejected
    assert reader.format == "csv"
    pd.testing.assert_frame_equal(frame, sample_frame, check_dtype=False)
    assert reader.report.to_dict() == {"rows": 50, "bad_rows": 0, "samples": []}


def test_csv_reader_chunks_concatenate_to_one_read(
    tmp_path: Path, sample_frame: pd.DataFrame, read_all: ReadAll
) -> None:
    # GIVEN a 50-row CSV file
    path = tmp_path / "batch.csv"
    sample_frame.to_csv(path, index=False)
    # WHEN it is read 7 rows at a time and in one chunk
    chunks = list(open_table(path, chunk_rows=7))
    whole = read_all(open_table(path, chunk_rows=1_000))
    # THEN the chunks are at most 7 rows, indexed by position, and add up to the whole
    assert [len(chunk) for chunk in chunks] == [7] * 7 + [1]
    assert chunks[1].index.tolist() == list(range(7, 14))
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)


def test_csv_reader_reads_gzip_by_magic_bytes_whatever_the_name(
    sample_frame: pd.DataFrame, read_all: ReadAll
) -> None:
    # GIVEN gzip-compressed CSV, named with and without .gz
    data = gzip.compress(sample_frame.to_csv(index=False).encode())
    for name in ("batch.csv.gz", "batch.csv"):
        # WHEN it is read
        frame = read_all(open_table(data, name=name))
        # THEN it is decompressed either way
        pd.testing.assert_frame_equal(frame, sample_frame, check_dtype=False)


def test_csv_reader_counts_malformed_rows_with_line_numbers(read_all: ReadAll) -> None:
    # GIVEN rows with too many fields on physical lines 3 and 6 (line 5 is blank)
    data = b"a,b\n1,2\n3,4,5\n6,7\n\n8,9,10,11\n12,13\n"
    # WHEN the file is read in chunks of two rows
    reader = open_table(data, name="batch.csv", chunk_rows=2)
    frame = read_all(reader)
    # THEN the good rows are yielded and each bad one is counted with its line and reason
    assert frame.to_dict("list") == {"a": [1, 6, 12], "b": [2, 7, 13]}
    assert reader.report.to_dict() == {
        "rows": 3,
        "bad_rows": 2,
        "samples": [
            {"line": 3, "reason": "expected 2 fields, saw 3"},
            {"line": 6, "reason": "expected 2 fields, saw 4"},
        ],
    }


def test_csv_reader_keeps_twenty_samples_but_counts_every_bad_row() -> None:
    # GIVEN 30 malformed rows among good ones
    lines = ["a,b"] + [("1,2,3" if i % 2 else "1,2") for i in range(60)]
    # WHEN the file is read
    reader = open_table("\n".join(lines).encode(), name="b.csv", chunk_rows=8)
    rows = sum(len(frame) for frame in reader)
    # THEN all 30 are counted, 20 kept as samples, in line order
    assert (rows, reader.report.bad_rows, len(reader.report.samples)) == (30, 30, 20)
    assert [s.line for s in reader.report.samples] == list(range(3, 42, 2))


def test_csv_reader_fills_short_rows_with_missing_values(read_all: ReadAll) -> None:
    # GIVEN a row with fewer fields than the header
    frame = read_all(open_table(b"a,b\n1,2\n3\n", name="b.csv"))
    # THEN pandas' rule applies: the row is kept with a missing value
    assert frame["a"].tolist() == [1, 3]
    assert frame["b"].isna().tolist() == [False, True]


def test_csv_reader_keeps_inferred_types_without_coercion(read_all: ReadAll) -> None:
    # GIVEN a numeric column with a stray text value
    frame = read_all(open_table(b"a,b\n1,x\n2,3\n", name="b.csv"))
    # THEN the column stays as pandas infers it (text); the profiler counts type violations
    assert frame["b"].tolist() == ["x", "3"]


def test_csv_reader_header_only_file_yields_no_rows() -> None:
    # GIVEN a CSV file with a header and no rows
    reader = open_table(b"a,b\n", name="empty.csv")
    # WHEN it is read
    frames = list(reader)
    # THEN no frame and no error: the report says zero rows
    assert frames == []
    assert reader.report.to_dict() == {"rows": 0, "bad_rows": 0, "samples": []}


def test_csv_reader_strips_a_utf8_byte_order_mark(read_all: ReadAll) -> None:
    frame = read_all(open_table(b"\xef\xbb\xbfa,b\n1,2\n", name="excel.csv"))
    assert frame.columns.tolist() == ["a", "b"]


def test_csv_reader_rejects_a_first_row_longer_than_the_header() -> None:
    # GIVEN every row one field longer than the header (pandas would invent an index)
    reader = open_table(b"a,b\n1,2,3\n4,5,6\n", name="trailing.csv")
    # WHEN it is read THEN the whole file is rejected rather than silently misread
    with pytest.raises(InvalidInputError) as caught:
        list(reader)
    assert caught.value.reason == "malformed_csv"
    assert "trailing.csv" in str(caught.value)


def test_csv_reader_rejects_an_unclosed_quote() -> None:
    with pytest.raises(InvalidInputError) as caught:
        list(open_table(b'a,b\n"1,2\n3,4\n', name="quote.csv"))
    assert caught.value.reason == "malformed_csv"
    assert caught.value.details["file"] == "quote.csv"


def test_csv_reader_rejects_text_that_is_not_utf8() -> None:
    # GIVEN Latin-1 text in a file named .csv (so detection does not look at it)
    reader = open_table("a,b\ncafé,1\n".encode("latin-1"), name="latin1.csv")
    # WHEN it is read THEN not_utf8, naming the file
    with pytest.raises(InvalidInputError) as caught:
        list(reader)
    assert caught.value.reason == "not_utf8"
    assert caught.value.to_dict()["file"] == "latin1.csv"


def test_csv_reader_issues_unrelated_warnings_unchanged_and_keeps_them_off_yields(
    read_all: ReadAll,
) -> None:
    # GIVEN a reader paused between chunks
    reader = open_table(b"a,b\n1,2\n3,4,5\n6,7\n", name="b.csv", chunk_rows=1)
    frames = iter(reader)
    next(frames)
    # WHEN the consumer warns while the reader is paused
    with pytest.warns(UserWarning, match="consumer"):
        warnings.warn("consumer", UserWarning, stacklevel=1)
    # THEN the warning reached the consumer's filters, and the reader still counts bad lines
    rest = list(frames)
    assert [len(frame) for frame in rest] == [1]
    assert reader.report.bad_rows == 1
