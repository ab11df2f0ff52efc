"""Flat CSV and Parquet files, a chunk of rows at a time.

**CSV** is parsed by pandas' C engine, ``chunk_rows`` rows at a time, with the types pandas
infers for each chunk (a column may be ``int64`` in one chunk and ``float64`` in the next
when the latter has a missing value; type violations are the profiler's business). The first
line is the header. A row with more fields than the header is rejected with its line number
and "expected 3 fields, saw 4"; a row with fewer has missing values (pandas' rule). When the
*first* data row has more fields than the header, pandas would silently take the extra
field for an index or drop it, so the whole file is rejected (``malformed_csv``) instead.
Two other header problems reject the whole file as ``malformed_csv``, because pandas would
read on and profile the wrong thing; the ``defect`` detail tells them apart: a name given
twice (``duplicate_columns``: pandas would rename the second ``plan`` to ``plan.1`` and its
values would never be monitored) and a header that is one column holding semicolons, tabs
or pipes (``wrong_delimiter``: a file written with another separator, which would
otherwise look as if every monitored column were missing).
A missing value is always missing (NaN): in a chunk where a number too large for a float
makes pandas fall back to text, pandas leaves the missing fields of short rows as ``""`` and
markers such as ``nan`` or ``NA`` as text, which would be profiled as type violations; the
reader turns them back into NaN (pandas turns these markers into NaN everywhere else, so
they are never genuine text).
Rejected rows are counted from pandas' ``ParserWarning`` ("Skipping line 3: ...") caught
around each parse call; warning filters are process-wide, so read CSV files from one thread
at a time (as a Lambda invocation does).

**Parquet** is read one record batch at a time with pyarrow, or one row group at a time with
fastparquet when pyarrow is not installed (a slimmer Lambda layer), so memory is bounded by
the batch or row group. Columns are read as stored; a pandas index stored in the file comes
back as a column if it was named and is dropped if it was not (``__index_level_0__``). A
schema that names a column twice is rejected as ``corrupt_parquet`` (detail ``defect``:
``duplicate_columns`` with pyarrow; fastparquet cannot open such a file at all).
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
from collections import Counter
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
#: The parser's own descriptions of a malformed file, which state positions and counts only.
#: A rejection repeats one of these; any other parser message is not quoted, as it could
#: hold part of a line.
_PARSER_PROBLEM = re.compile(
    r"Expected \d+ fields in line \d+, saw \d+"
    r"|EOF inside string starting at row \d+"
    r"|EOF following escape character"
    r"|Buffer overflow caught - possible malformed input file"
)
_HEADER_MISMATCH = "Length of header or names does not match length of data"
_STORED_INDEX = re.compile(r"__index_level_\d+__")
PARQUET_MAGIC = b"PAR1"
_CSV_ERRORS = (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError)
#: Separators that give away a file written with another delimiter (its header is one column).
_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "pipes"}
_UTF8_BOM = b"\xef\xbb\xbf"
#: The texts pandas reads as a missing value (its default ``na_values``).
MISSING_MARKERS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)


def read_csv(
    stream: io.BufferedIOBase,
    *,
    name: str,
    report: ReadReport,
    chunk_rows: int,
    head: bytes | None = None,
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``chunk_rows`` rows from a CSV stream with a header line.

    Args:
        stream: the decompressed bytes of the file, from its start.
        name: the file's name, for errors.
        report: receives every rejected row (line number and reason).
        chunk_rows: the most rows per frame.
        head: the file's first decompressed bytes (at least its header line), to find a
            column named twice, which pandas renames silently; ``None`` skips that check.

    Returns:
        An iterator of frames (a header-only file may give one frame with no rows).

    Raises:
        InvalidInputError: ``not_utf8``, ``empty_file`` (no header line), ``malformed_csv``
            (an unclosed quote, a first data row longer than the header, a column named
            twice, a header that is one column holding another delimiter).
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
    checked = False
    with chunks:
        while True:
            try:
                with _parser_warnings(name, report):
                    chunk = next(chunks, None)
            except _CSV_ERRORS as exc:
                raise _csv_error(name, exc) from exc
            if chunk is None:
                return
            if not checked:
                _check_csv_header([str(column) for column in chunk.columns], head, name)
                checked = True
            yield _markers_as_missing(chunk)


def _markers_as_missing(chunk: pd.DataFrame) -> pd.DataFrame:
    """Missing-value markers left as text (see the module docstring) back to NaN."""
    for column in chunk.columns:
        values = chunk[column]
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            marked = values.isin(MISSING_MARKERS)
            if marked.any():
                chunk[column] = values.mask(marked)
    return chunk


def _check_csv_header(columns: list[str], head: bytes | None, name: str) -> None:
    """Reject a header pandas would misread silently: a repeated name, another delimiter.

    ``columns`` are the names pandas made of the header (a repeated ``plan`` becomes
    ``plan.1``), ``head`` the file's first bytes, whose header line is parsed here again as
    written.

    Raises:
        InvalidInputError: ``malformed_csv`` with the detail ``defect``:
            ``wrong_delimiter`` or ``duplicate_columns``.
    """
    if len(columns) == 1:
        for delimiter, plural in _OTHER_DELIMITERS.items():
            if delimiter in columns[0]:
                raise invalid_input(
                    name,
                    "malformed_csv",
                    f"the header is a single column holding {plural}; expected comma-separated "
                    "values (was the file written with another delimiter?)",
                    defect="wrong_delimiter",
                    delimiter=delimiter,
                )
    if not _maybe_renamed(columns):
        return
    written = _header_as_written(head) if head is not None else None
    if written is None or len(written) != len(columns):
        return
    counts = Counter(written)  # not list.count per name: quadratic in a 60,000-column header
    repeated = sorted(column for column, count in counts.items() if column and count > 1)
    if repeated and written != columns:
        shown = ", ".join(repr(column) for column in _short(repeated[:5]))
        raise invalid_input(
            name,
            "malformed_csv",
            f"the header names {shown} more than once; expected each column once",
            defect="duplicate_columns",
            columns=_short(repeated[:20]),
        )


def _maybe_renamed(columns: list[str]) -> bool:
    """Whether pandas may have renamed a repeated name: it keeps the first ``plan`` and
    calls the next ``plan.1``, so without a ``<name>.<n>`` beside ``<name>`` nothing was
    renamed and the header need not be parsed again (slow for 60,000 columns).

    >>> _maybe_renamed(["plan", "plan.1"]), _maybe_renamed(["v.1", "w"])
    (True, False)
    """
    names = set(columns)
    for column in columns:
        stem, dot, number = column.rpartition(".")
        if dot and number.isdigit() and stem in names:
            return True
    return False


def _header_as_written(head: bytes) -> list[str] | None:
    """The first record of ``head`` as pandas splits it, names unchanged (``header=None``
    reads the header as a data row: no renaming), or ``None`` if it is not whole."""
    if b"\n" not in head and b"\r" not in head:
        return None
    try:
        first = pd.read_csv(
            io.BytesIO(head.removeprefix(_UTF8_BOM)),
            header=None,
            nrows=1,
            dtype=str,
            na_filter=False,
            index_col=False,
            engine="c",
            encoding="utf-8",
            encoding_errors="replace",
            compression=None,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None  # the body's parse reports what is wrong
    return [str(name) for name in first.iloc[0].tolist()] if len(first) else None


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
    problem = _PARSER_PROBLEM.search(str(exc))
    detail = problem.group(0) if problem else f"{type(exc).__name__} from the parser"
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
        opened = parquet.ParquetFile(handle)
        _check_unique_columns(list(opened.schema_arrow.names), name)
        batches = opened.iter_batches(batch_size=chunk_rows)
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


def _check_unique_columns(columns: list[str], name: str) -> None:
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        shown = ", ".join(repr(column) for column in _short(repeated[:5]))
        raise invalid_input(
            name,
            "corrupt_parquet",
            f"the schema names {shown} more than once; expected each column once",
            defect="duplicate_columns",
            columns=_short(repeated[:20]),
        )


def _short(names: list[str]) -> list[str]:
    """Column names as errors show them, each at most 60 characters: a header may hold a
    name of a megabyte, and the error travels into an SNS message (at most 256 KB)."""
    return [name if len(name) <= 60 else f"{name[:40]}...{name[-15:]}" for name in names]


def _without_stored_index(frame: pd.DataFrame) -> pd.DataFrame:
    stored = [column for column in frame.columns if _STORED_INDEX.fullmatch(str(column))]
    return frame.drop(columns=stored) if stored else frame


def _corrupt_parquet(name: str, exc: Exception) -> InvalidInputError:
    return invalid_input(
        name,
        "corrupt_parquet",
        # The reader's own message is not quoted: it may repeat bytes of the file.
        f"not a valid Parquet file ({type(exc).__name__} from the Parquet reader)",
    )
