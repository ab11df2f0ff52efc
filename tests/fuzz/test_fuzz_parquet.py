"""Fuzzing the Parquet reader through open_table: valid files of every common column type
come back row for row and value for value; damaged files are frames or ``corrupt_parquet``.

Generated: int64 and uint64 extremes, decimals of 38 digits, NaN and ±inf, text with the
canary, booleans, timestamps across the whole calendar, lists, dictionary-encoded columns,
nulls anywhere, zero rows, many row groups, every codec, gzip around the file, columns named
twice, and damaged bytes (read with pyarrow only: fastparquet can crash the interpreter on
damaged files, as the reader's docstring says).
"""

from __future__ import annotations

import gzip
import io
from datetime import UTC
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fuzz_support import CANARY, fuzz_settings, missing, read, same_value
from hypothesis import given
from hypothesis import strategies as st

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8) | st.just(CANARY)
COLUMN_TYPES: dict[str, tuple[pa.DataType, st.SearchStrategy[Any]]] = {
    "int64": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "uint64": (pa.uint64(), st.integers(0, 2**64 - 1)),
    "float64": (pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
    "float32": (pa.float32(), st.floats(width=32, allow_nan=True, allow_infinity=True)),
    "string": (pa.string(), TEXT),
    "bool": (pa.bool_(), st.booleans()),
    "decimal": (pa.decimal128(38, 0), st.integers(-(10**38) + 1, 10**38 - 1).map(Decimal)),
    "timestamp": (pa.timestamp("us", tz="UTC"), st.datetimes(timezones=st.just(UTC))),
    "list": (pa.list_(pa.float64()), st.lists(st.floats(allow_nan=False), max_size=3)),
    "dictionary": (pa.dictionary(pa.int32(), pa.string()), st.sampled_from(["a", "b", CANARY])),
}
# What fastparquet reads back faithfully (it has no decimal/list/dictionary round trip here).
FASTPARQUET_TYPES = ("int64", "float64", "string", "bool")
CODECS = ["NONE", "SNAPPY", "GZIP", "ZSTD", "BROTLI", "LZ4"]


@st.composite
def tables(draw: st.DrawFn, types: tuple[str, ...] = tuple(COLUMN_TYPES)) -> pa.Table:
    rows = draw(st.integers(0, 30))
    names = draw(st.lists(st.text("abcdef", min_size=1, max_size=4), max_size=5, unique=True))
    columns = []
    for _ in names:
        kind = draw(st.sampled_from(types))
        arrow_type, values = COLUMN_TYPES[kind]
        nullable = draw(st.booleans())
        cells = [None if nullable and draw(st.booleans()) else draw(values) for _ in range(rows)]
        if kind == "dictionary":
            columns.append(pa.array(cells, pa.string()).dictionary_encode())
        else:
            columns.append(pa.array(cells, arrow_type))
    if not names:
        return pa.table({"only": pa.array(range(rows), pa.int64())})
    return pa.table(columns, names=names)


def parquet_bytes(table: pa.Table, *, row_group_size: int, codec: str) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=row_group_size, compression=codec)
    return buffer.getvalue()


def plain(value: Any) -> Any:
    """A read value as a Python value (arrays of a list column as lists)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def assert_same_table(result_frames: list[Any], table: pa.Table) -> None:
    expected = table.to_pylist()
    rows = [row for frame in result_frames for row in frame.to_dict("records")]
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert list(got) == list(want)
        for column, value in want.items():
            read_value = plain(got[column])
            if value is None:
                assert missing(read_value), (column, read_value)
            elif isinstance(value, list):
                assert read_value == value, (column, read_value, value)
            else:
                assert same_value(read_value, value), (column, read_value, value)


@fuzz_settings(80)
@given(
    table=tables(),
    row_group_size=st.integers(1, 12),
    codec=st.sampled_from(CODECS),
    chunk_rows=st.integers(1, 9),
    compress=st.booleans(),
)
def test_parquet_valid_files_come_back_value_for_value(
    table: pa.Table, row_group_size: int, codec: str, chunk_rows: int, compress: bool
) -> None:
    # GIVEN a valid Parquet file of any common column types, maybe gzip-compressed
    data = parquet_bytes(table, row_group_size=row_group_size, codec=codec)
    data = gzip.compress(data, mtime=0) if compress else data
    # WHEN read with pyarrow, whatever the name says
    result = read(data, name="upload", chunk_rows=chunk_rows, parquet_engine="pyarrow")
    # THEN it is detected as Parquet and every row and value comes back
    assert result.error is None, result.error
    assert result.format == "parquet"
    assert result.bad_rows == 0
    assert_same_table(result.frames, table)


@fuzz_settings(40)
@given(
    table=tables(FASTPARQUET_TYPES),
    row_group_size=st.integers(1, 12),
    chunk_rows=st.integers(1, 9),
)
def test_parquet_valid_files_come_back_with_fastparquet_too(
    table: pa.Table, row_group_size: int, chunk_rows: int
) -> None:
    data = parquet_bytes(table, row_group_size=row_group_size, codec="SNAPPY")
    result = read(data, name="b.parquet", chunk_rows=chunk_rows, parquet_engine="fastparquet")
    assert result.error is None, result.error
    assert_same_table(result.frames, table)


@fuzz_settings(100)
@given(
    table=tables(),
    codec=st.sampled_from(CODECS),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4),
    cut=st.none() | st.floats(0, 1),
    compress=st.booleans(),
)
def test_parquet_damaged_files_are_frames_or_corrupt_parquet(
    table: pa.Table,
    codec: str,
    edits: list[tuple[float, int]],
    cut: float | None,
    compress: bool,
) -> None:
    # GIVEN a Parquet file with bytes overwritten and maybe cut short
    damaged = bytearray(parquet_bytes(table, row_group_size=5, codec=codec))
    for position, value in edits:
        damaged[int(position * (len(damaged) - 1))] = value
    if cut is not None:
        damaged = damaged[: int(len(damaged) * cut)]
    data = gzip.compress(bytes(damaged), mtime=0) if compress else bytes(damaged)
    # WHEN read THEN rows (never more than written) or a reason
    result = read(data, name="b.parquet", parquet_engine="pyarrow")
    if result.error is not None:
        assert result.reason in {"corrupt_parquet", "empty_file"}, result.error
    else:
        assert result.rows <= table.num_rows or edits


@pytest.mark.parametrize("engine", ["pyarrow", "fastparquet"])
def test_parquet_with_a_column_named_twice_is_rejected(engine: str) -> None:
    # Regression: pyarrow read such a file into a frame with two "age" columns, which
    # crashed the profiler with a ValueError (not a DriftlineError) in profile_batch.
    table = pa.table([pa.array([31, 45]), pa.array([1.0, 2.0])], names=["age", "age"])
    result = read(parquet_bytes(table, row_group_size=1, codec="NONE"), name="b.parquet",
                  parquet_engine=engine)  # fmt: skip
    assert result.reason == "corrupt_parquet"
    if engine == "pyarrow":
        assert result.error is not None
        assert result.error.details["defect"] == "duplicate_columns"
        assert result.error.details["columns"] == ["age"]


def test_parquet_without_rows_yields_no_frames() -> None:
    table = pa.table({"age": pa.array([], pa.int64()), "plan": pa.array([], pa.string())})
    for engine in ("pyarrow", "fastparquet"):
        result = read(parquet_bytes(table, row_group_size=1, codec="NONE"), name="b.parquet",
                      parquet_engine=engine)  # fmt: skip
        assert (result.error, result.rows, result.bad_rows) == (None, 0, 0)
