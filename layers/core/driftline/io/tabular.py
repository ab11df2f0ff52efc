"""Flat CSV and Parquet files, a chunk of rows at a time.

**CSV** is parsed by pandas' C engine, ``chunk_rows`` rows at a time, with the types pandas
infers for each chunk (a column may be ``int64`` in one chunk and ``float64`` in the next
when the latter has a missing value; type violations are the profiler's business). The first
line is the header. A row with more fields than the header is rejected with its line number
and "expected 3 fields, saw 4"; a row with fewer has missing values (pandas' rule). When the
*first* data row has more fields than the header, pandas would silently take the extra
field for an index or drop it, so the whole file is rejected (``malformed_csv``) instead.
Rejected rows are counted from pandas' ``ParserWarning`` ("Skipping line 3: ...") caught
around each parse call; warning filters are process-wide, so read CSV files from one thread
at a time (as a Lambda invocation does).

**Parquet** is read one record batch at a time with pyarrow, or one row group at a time with
fastparquet when pyarrow is not installed (a slimmer Lambda layer), so memory is bounded by
the batch or row group. Columns are read as stored; a pandas index stored in the file comes
back as a column if it was named and is dropped if it was not (``__index_level_0__``).
fastparquet does not validate damaged files as thoroughly as pyarrow and can crash the
process on some; prefer pyarrow where files may be corrupted.

>>> import io
>>> from driftline.io.report import ReadReport
>>> report = ReadReport()
>>> stream = io.BytesIO(b"a,b\\n1,2\\n3,4,5\\n6,7\\n")
>>> [len(frame) for frame in read_csv(stream, name="t.csv", report=report, chunk_rows=1)]
[1, 1]
>>> report.samples
[BadRow(line=3, reason='expected 2 fields, saw 3')]
"""

from __future__ import annotations

import importlib
import io
import re
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import IO, Literal

import pandas as pd

from driftline.errors import InvalidInputError
from driftline.io.report import ReadReport
from driftline.io.source import DataSource, invalid_input

ParquetEngine = Literal["auto", "pyarrow", "fastparquet"]

_SKIPPED_LINE = re.compile(r"Skipping line (\d+): (.+)")
_HEADER_MISMATCH = "Length of header or names does not match length of data"
_STORED_INDEX = re.compile(r"__index_level_\d+__")
PARQUET_MAGIC = b"PAR1"
_CSV_ERRORS = (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError)


def read_csv(
    stream: io.BufferedIOBase, *, name: str, report: ReadReport, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``chunk_rows`` rows from a CSV stream with a header line.

    Args:
        stream: the decompressed bytes of the file, from its start.
        name: the file's name, for errors.
        report: receives every rejected row (line number and reason).
        chunk_rows: the most rows per frame.

    Returns:
        An iterator of frames (a header-only file may give one frame with no rows).

    Raises:
        InvalidInputError: ``not_utf8``, ``empty_file`` (no header line) or ``malformed_csv``
            (an unclosed quote, or a first data row longer than the header).
    """
    try:
        with _parser_warnings(name, report):
            chunks = pd.read_csv(
                stream,
                chunksize=chunk_rows,
                engine="c",
                on_bad_lines="warn",
                index_col=False,
                encoding="utf-8",
                compression=None,
            )
    except _CSV_ERRORS as exc:
        raise _csv_error(name, exc) from exc
    with chunks:
        while True:
            try:
                with _parser_warnings(name, report):
                    chunk = next(chunks, None)
            except _CSV_ERRORS as exc:
                raise _csv_error(name, exc) from exc
            if chunk is None:
                return
            yield chunk


@contextmanager
def _parser_warnings(name: str, report: ReadReport) -> Iterator[None]:
    """Counts the rows pandas skips ("Skipping line 3: ...") while it parses one chunk.

    Wraps only the parser's own work, never a ``yield``, so the consumer's code does not run
    with warnings redirected. Other warnings are issued again unchanged.

    Raises:
        InvalidInputError: ``malformed_csv`` when pandas would drop the first data row's
            extra field.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        message = str(warning.message)
        if issubclass(warning.category, pd.errors.ParserWarning):
            if message.startswith(_HEADER_MISMATCH):
                raise invalid_input(
                    name,
                    "malformed_csv",
                    "the first data row has more fields than the header; expected every row "
                    "to have as many fields as the header (a trailing delimiter?)",
                )
            skipped = _SKIPPED_LINE.findall(message)
            if skipped:
                for line, reason in skipped:
                    report.reject(int(line), reason.strip())
                continue
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def _csv_error(name: str, exc: Exception) -> InvalidInputError:
    if isinstance(exc, UnicodeDecodeError):
        return invalid_input(
            name,
            "not_utf8",
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); expected UTF-8 encoded CSV",
        )
    if isinstance(exc, pd.errors.EmptyDataError):
        return invalid_input(name, "empty_file", "no header line; expected CSV with a header")
    detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
    return invalid_input(name, "malformed_csv", f"cannot be parsed as CSV: {detail}")


def read_parquet(
    source: DataSource, *, chunk_rows: int, engine: ParquetEngine = "auto"
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``chunk_rows`` rows from a Parquet file.

    Args:
        source: the file.
        chunk_rows: the most rows per frame (with fastparquet, row groups larger than this
            are read whole, then sliced).
        engine: ``"pyarrow"``, ``"fastparquet"``, or ``"auto"`` for pyarrow when installed.

    Returns:
        An iterator of frames.

    Raises:
        InvalidInputError: ``corrupt_parquet`` when the file is not valid Parquet.
        ImportError: neither pyarrow nor fastparquet is installed.
    """
    pyarrow_parquet = pyarrow_parquet_module() if engine in ("auto", "pyarrow") else None
    if engine == "pyarrow" and pyarrow_parquet is None:
        raise ImportError("reading Parquet with engine='pyarrow' needs pyarrow installed")
    with source.open_seekable() as handle:
        if pyarrow_parquet is not None:
            yield from _pyarrow_frames(pyarrow_parquet, handle, source.name, chunk_rows)
        else:
            yield from _fastparquet_frames(handle, source.name, chunk_rows)


def pyarrow_parquet_module() -> ModuleType | None:
    """``pyarrow.parquet`` if installed, else ``None`` (imported lazily: it is slow to load)."""
    try:
        return importlib.import_module("pyarrow.parquet")
    except ImportError:
        return None


def _pyarrow_frames(
    parquet: ModuleType, handle: str | IO[bytes], name: str, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    pyarrow = importlib.import_module("pyarrow")
    # pyarrow reports damage as ArrowException, OSError, or a ValueError / KeyError from the
    # file's own metadata (measured by fuzzing truncated and bit-flipped files).
    damaged = (pyarrow.ArrowException, OSError, ValueError, KeyError, TypeError, IndexError)
    try:
        batches = parquet.ParquetFile(handle).iter_batches(batch_size=chunk_rows)
        while True:
            batch = next(batches, None)
            if batch is None:
                return
            frame = _without_stored_index(batch.to_pandas(ignore_metadata=True))
            yield frame
    except damaged as exc:
        raise _corrupt_parquet(name, exc) from exc


def _fastparquet_frames(
    handle: str | IO[bytes], name: str, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    try:
        fastparquet = importlib.import_module("fastparquet")
    except ImportError as exc:
        raise ImportError("reading Parquet needs pyarrow or fastparquet installed") from exc
    _check_parquet_magic(handle, name)
    damaged = (
        fastparquet.util.ParquetException,
        OSError,
        EOFError,
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        struct.error,
    )
    try:
        groups = fastparquet.ParquetFile(handle).iter_row_groups(index=False)
        while True:
            group = next(groups, None)
            if group is None:
                return
            group = _without_stored_index(group)
            for start in range(0, len(group), chunk_rows):
                yield group.iloc[start : start + chunk_rows]
    except damaged as exc:
        raise _corrupt_parquet(name, exc) from exc


def _check_parquet_magic(handle: str | IO[bytes], name: str) -> None:
    """fastparquet misreads files without the magic bytes; check them first."""
    if isinstance(handle, str):
        with open(handle, "rb") as opened:
            _check_magic_of(opened, name)
    else:
        _check_magic_of(handle, name)
        handle.seek(0)


def _check_magic_of(handle: IO[bytes], name: str) -> None:
    head = handle.read(len(PARQUET_MAGIC))
    size = handle.seek(0, io.SEEK_END)
    tail = b""
    if size >= 2 * len(PARQUET_MAGIC) + 4:
        handle.seek(size - len(PARQUET_MAGIC))
        tail = handle.read(len(PARQUET_MAGIC))
    if head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise invalid_input(
            name,
            "corrupt_parquet",
            "not a complete Parquet file (magic bytes missing at the start or end)",
        )


def _without_stored_index(frame: pd.DataFrame) -> pd.DataFrame:
    stored = [column for column in frame.columns if _STORED_INDEX.fullmatch(str(column))]
    return frame.drop(columns=stored) if stored else frame


def _corrupt_parquet(name: str, exc: Exception) -> InvalidInputError:
    return invalid_input(
        name,
        "corrupt_parquet",
        f"not a valid Parquet file ({type(exc).__name__}: {str(exc)[:200]})",
    )
