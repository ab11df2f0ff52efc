"""JSON Lines: round trips, chunking, flattening, and rejected lines with their numbers."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from driftline.errors import InvalidInputError
from driftline.io import TableReader, open_table

ReadAll = Callable[[TableReader], pd.DataFrame]


@pytest.mark.parametrize("extension", [".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz"])
def test_jsonl_reader_round_trips_a_written_frame(
    tmp_path: Path, sample_frame: pd.DataFrame, read_all: ReadAll, extension: str
) -> None:
    # GIVEN a frame written by pandas as JSON Lines (gzip-compressed for .gz)
    path = tmp_path / f"batch{extension}"
    sample_frame.to_json(path, orient="records", lines=True, compression="infer")
    # WHEN it is read back
    reader = open_table(path)
    frame = read_all(reader)
    # THEN the same rows come back and nothing was rejected
    assert reader.format == "jsonl"
    pd.testing.assert_frame_equal(frame, sample_frame, check_dtype=False)
    assert reader.report.bad_rows == 0


def test_jsonl_reader_chunks_concatenate_to_one_read(
    tmp_path: Path, sample_frame: pd.DataFrame, read_all: ReadAll
) -> None:
    path = tmp_path / "batch.jsonl"
    sample_frame.to_json(path, orient="records", lines=True)
    chunks = list(open_table(path, chunk_rows=7))
    assert [len(chunk) for chunk in chunks] == [7] * 7 + [1]
    pd.testing.assert_frame_equal(pd.concat(chunks), read_all(open_table(path)))


def test_jsonl_reader_counts_malformed_lines_with_line_numbers(read_all: ReadAll) -> None:
    # GIVEN invalid JSON on line 2, a blank line 3, an array on 4 and a string on 6
    data = b'{"a": 1}\n{"a": 2,\n\n[1, 2]\n{"a": 3}\n"text"\n{"a": 4}\n'
    # WHEN it is read two rows at a time
    reader = open_table(data, name="batch.jsonl", chunk_rows=2)
    frame = read_all(reader)
    # THEN good rows come through; each bad line is counted with its number; blanks are not
    assert frame["a"].tolist() == [1, 3, 4]
    assert reader.report.to_dict() == {
        "rows": 3,
        "bad_rows": 3,
        "samples": [
            {"line": 2, "reason": "invalid JSON"},
            {"line": 4, "reason": "not a JSON object"},
            {"line": 6, "reason": "not a JSON object"},
        ],
    }


def test_jsonl_reader_flattens_nested_objects_with_dotted_names(read_all: ReadAll) -> None:
    # GIVEN nested objects and an array
    data = b'{"user": {"age": 30, "geo": {"country": "NZ"}}, "tags": ["a", "b"]}\n'
    # WHEN read
    frame = read_all(open_table(data, name="nested.jsonl"))
    # THEN objects become dotted columns in order; arrays stay lists
    assert frame.columns.tolist() == ["user.age", "user.geo.country", "tags"]
    assert frame.iloc[0].tolist() == [30, "NZ", ["a", "b"]]


def test_jsonl_reader_unions_keys_across_records(read_all: ReadAll) -> None:
    frame = read_all(open_table(b'{"a": 1}\n{"b": 2}\n', name="sparse.jsonl"))
    assert frame.columns.tolist() == ["a", "b"]
    assert frame.isna().to_numpy().tolist() == [[False, True], [True, False]]


def test_jsonl_reader_rejects_unpaired_surrogates_as_bad_rows(read_all: ReadAll) -> None:
    # GIVEN a text column where one line spells an unpaired surrogate escape
    data = b'{"name": "ok"}\n{"name": "\\ud800"}\n{"name": "fine"}\n'
    # WHEN read
    reader = open_table(data, name="text.jsonl")
    frame = read_all(reader)
    # THEN that line is a bad row; the others are read
    assert frame["name"].tolist() == ["ok", "fine"]
    assert reader.report.samples[0].line == 2


def test_jsonl_reader_reports_deeply_nested_lines_as_invalid() -> None:
    data = b'{"a": 1}\n' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"\n"
    reader = open_table(data, name="deep.jsonl")
    assert sum(len(frame) for frame in reader) == 1
    assert reader.report.samples[0].line == 2


def test_jsonl_reader_rejects_a_line_that_is_not_utf8() -> None:
    # GIVEN a Latin-1 byte on line 2
    data = '{"a": "x"}\n{"a": "café"}\n'.encode("latin-1")
    # WHEN read THEN not_utf8 naming the file and the line
    with pytest.raises(InvalidInputError) as caught:
        list(open_table(data, name="latin1.jsonl"))
    assert caught.value.reason == "not_utf8"
    assert caught.value.details == {"file": "latin1.jsonl", "line": 2}


def test_jsonl_reader_rejects_a_json_array_document() -> None:
    # GIVEN a .json file holding one JSON array rather than JSON Lines
    with pytest.raises(InvalidInputError) as caught:
        open_table(b'[{"a": 1}, {"a": 2}]', name="export.json")
    # THEN unknown_format, saying what was expected
    assert caught.value.reason == "unknown_format"
    assert "JSON Lines" in str(caught.value)


def test_jsonl_reader_reads_a_gzip_stream_named_without_extension(
    sample_frame: pd.DataFrame, read_all: ReadAll
) -> None:
    # GIVEN gzip JSON Lines under an S3 key without extension
    data = gzip.compress(sample_frame.to_json(orient="records", lines=True).encode())
    # WHEN read THEN gzip and JSON Lines are both detected from the content
    reader = open_table(data, name="inference/m/2024/05/01/10/part-0")
    assert reader.format == "jsonl"
    pd.testing.assert_frame_equal(read_all(reader), sample_frame, check_dtype=False)
