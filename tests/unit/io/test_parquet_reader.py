"""Parquet: streamed by record batch (pyarrow) or row group (fastparquet), same rows either way."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftline.errors import InvalidInputError
from driftline.io import ParquetEngine, TableReader, open_table, tabular

ReadAll = Callable[[TableReader], pd.DataFrame]
ENGINES: list[ParquetEngine] = ["pyarrow", "fastparquet"]


def _parquet_bytes(frame: pd.DataFrame, *, row_group_size: int = 20, index: bool = False) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=index), buffer, row_group_size=row_group_size
    )
    return buffer.getvalue()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("extension", [".parquet", ".pq"])
def test_parquet_reader_round_trips_a_written_frame(
    tmp_path: Path,
    sample_frame: pd.DataFrame,
    read_all: ReadAll,
    engine: ParquetEngine,
    extension: str,
) -> None:
    # GIVEN a frame written as Parquet in row groups of 20
    path = tmp_path / f"batch{extension}"
    path.write_bytes(_parquet_bytes(sample_frame))
    # WHEN read with either engine
    reader = open_table(path, parquet_engine=engine)
    frame = read_all(reader)
    # THEN the same rows and columns come back
    assert reader.format == "parquet"
    pd.testing.assert_frame_equal(frame, sample_frame, check_dtype=False)
    assert reader.report.to_dict() == {"rows": 50, "bad_rows": 0, "samples": []}


@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_reader_chunks_concatenate_to_one_read(
    sample_frame: pd.DataFrame, read_all: ReadAll, engine: ParquetEngine
) -> None:
    # GIVEN 50 rows in row groups of 20
    data = _parquet_bytes(sample_frame)
    # WHEN read 7 rows at a time
    chunks = list(open_table(data, chunk_rows=7, parquet_engine=engine))
    # THEN no chunk exceeds 7 rows and together they are the whole file
    assert max(len(chunk) for chunk in chunks) == 7
    assert sum(len(chunk) for chunk in chunks) == 50
    pd.testing.assert_frame_equal(pd.concat(chunks), sample_frame, check_dtype=False)


def test_parquet_reader_falls_back_to_fastparquet_without_pyarrow(
    monkeypatch: pytest.MonkeyPatch, sample_frame: pd.DataFrame, read_all: ReadAll
) -> None:
    # GIVEN a runtime where pyarrow cannot be imported (a slimmer Lambda layer)
    monkeypatch.setattr(tabular, "pyarrow_parquet_module", lambda: None)
    # WHEN a Parquet file is read with the default engine
    frame = read_all(open_table(_parquet_bytes(sample_frame), name="b.parquet", chunk_rows=7))
    # THEN fastparquet reads it (its text columns come back as object dtype)
    assert frame["plan"].dtype == object
    pd.testing.assert_frame_equal(frame, sample_frame, check_dtype=False)


def test_parquet_reader_refuses_engine_pyarrow_when_it_is_missing(
    monkeypatch: pytest.MonkeyPatch, sample_frame: pd.DataFrame
) -> None:
    monkeypatch.setattr(tabular, "pyarrow_parquet_module", lambda: None)
    reader = open_table(_parquet_bytes(sample_frame), parquet_engine="pyarrow")
    with pytest.raises(ImportError, match="pyarrow"):
        list(reader)


@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_reader_reads_gzip_and_non_seekable_streams(
    sample_frame: pd.DataFrame, read_all: ReadAll, engine: ParquetEngine
) -> None:
    # GIVEN gzip-compressed Parquet behind a stream that cannot seek (like an S3 body)
    class Body:
        def __init__(self, data: bytes) -> None:
            self._buffer = io.BytesIO(data)

        def read(self, size: int = -1, /) -> bytes:
            return self._buffer.read(size)

    body = Body(gzip.compress(_parquet_bytes(sample_frame)))
    # WHEN it is read THEN it is spooled for random access and read whole
    reader = open_table(body, name="b.parquet.gz", parquet_engine=engine)
    pd.testing.assert_frame_equal(read_all(reader), sample_frame, check_dtype=False)


@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_reader_recognises_parquet_by_magic_bytes(
    sample_frame: pd.DataFrame, engine: ParquetEngine
) -> None:
    # GIVEN Parquet content under a misleading name
    reader = open_table(_parquet_bytes(sample_frame), name="export.csv", parquet_engine=engine)
    # THEN the content wins
    assert reader.format == "parquet"
    assert sum(len(frame) for frame in reader) == 50


@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_reader_turns_a_named_stored_index_into_a_column(
    sample_frame: pd.DataFrame, read_all: ReadAll, engine: ParquetEngine
) -> None:
    # GIVEN a frame saved with its request ids as a named index
    data = _parquet_bytes(sample_frame.set_index("request_id"), index=True)
    # WHEN read
    frame = read_all(open_table(data, parquet_engine=engine))
    # THEN the ids are a column, not lost
    assert sorted(frame.columns) == sorted(sample_frame.columns)
    assert frame["request_id"].tolist() == sample_frame["request_id"].tolist()


@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_reader_drops_an_unnamed_stored_index(
    sample_frame: pd.DataFrame, read_all: ReadAll, engine: ParquetEngine
) -> None:
    data = _parquet_bytes(sample_frame.iloc[10:], index=True)
    frame = read_all(open_table(data, parquet_engine=engine))
    assert frame.columns.tolist() == sample_frame.columns.tolist()
    assert frame.index.tolist() == list(range(40))


@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_reader_rejects_a_truncated_file(
    sample_frame: pd.DataFrame, engine: ParquetEngine
) -> None:
    # GIVEN a Parquet file cut short (its footer is gone)
    data = _parquet_bytes(sample_frame)[:-100]
    # WHEN read THEN corrupt_parquet naming the file
    with pytest.raises(InvalidInputError) as caught:
        list(open_table(data, name="cut.parquet", parquet_engine=engine))
    assert caught.value.reason == "corrupt_parquet"
    assert caught.value.details["file"] == "cut.parquet"


def test_parquet_reader_rejects_text_named_parquet() -> None:
    with pytest.raises(InvalidInputError) as caught:
        list(open_table(b"a,b\n1,2\n", name="wrong.parquet"))
    assert caught.value.reason == "corrupt_parquet"


def test_parquet_reader_yields_no_rows_for_an_empty_table() -> None:
    reader = open_table(_parquet_bytes(pd.DataFrame({"a": pd.Series([], dtype="int64")})))
    assert list(reader) == []
    assert reader.report.rows == 0
