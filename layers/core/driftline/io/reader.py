"""Open a data file as a stream of DataFrame chunks: :func:`open_table`.

The format comes from the name's extension (``.csv``, ``.jsonl``, ``.json``, ``.ndjson``,
``.parquet``, ``.pq``, each optionally followed by ``.gz``), else from the content: Parquet
by its magic bytes (whatever the name says), JSON Lines when the first character is ``{``,
CSV for other UTF-8 text. A JSON Lines file whose first record has ``captureData`` is read
as SageMaker Data Capture, one with ``groundTruthData`` as SageMaker ground truth. Gzip is
recognised by its magic bytes.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Generator, Iterator
from functools import partial
from typing import Literal, get_args

import pandas as pd

from driftline.errors import InvalidInputError
from driftline.io.jsonl import UTF8_BOM, read_json_lines
from driftline.io.report import ReadReport
from driftline.io.sagemaker import CaptureColumns, capture_rows, ground_truth_rows
from driftline.io.source import (
    COMPRESSION_ERRORS,
    MAX_HEAD_BYTES,
    MAX_LINE_BYTES,
    ContentTooLarge,
    DataSource,
    LineTooLong,
    TableSource,
    bounded_lines,
    corrupt_compression,
    invalid_input,
    line_too_long,
)
from driftline.io.tabular import PARQUET_MAGIC, ParquetEngine, read_csv, read_parquet

Format = Literal["csv", "jsonl", "parquet", "capture", "ground_truth"]
FORMATS: tuple[Format, ...] = get_args(Format)

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_EXPECTED = (
    "expected CSV, JSON Lines (.jsonl, .json, .ndjson) or Parquet (.parquet, .pq), "
    "optionally gzip-compressed (.gz), or SageMaker Data Capture / ground-truth JSON Lines"
)
_OTHER_MAGIC = {
    b"PK\x03\x04": "a zip archive (an Excel workbook?)",
    b"BZh": "bzip2-compressed data (only gzip is supported)",
    b"\xfd7zXZ\x00": "xz-compressed data (only gzip is supported)",
    b"\x28\xb5\x2f\xfd": "zstd-compressed data (only gzip is supported)",
    b"ARROW1": "an Arrow IPC file",
}


class TableReader:
    """The rows of one file as DataFrame chunks; iterate it, then read :attr:`report`.

    Each frame holds between 1 and ``chunk_rows`` rows and is indexed by the rows' position
    among the rows yielded (0, 1, 2, ... across frames). Iterating again reads the file again
    from the start with a fresh report (except over a non-seekable stream, read only once).
    With ``max_rows``, the frame that would take the rows read past it is not yielded: the
    file is refused as ``too_many_rows`` instead.

    Attributes:
        name: the file's name, as errors show it.
        format: ``"csv"``, ``"jsonl"``, ``"parquet"``, ``"capture"`` or ``"ground_truth"``.
    """

    def __init__(
        self,
        source: DataSource,
        format: Format,
        *,
        chunk_rows: int,
        capture: CaptureColumns,
        parquet_engine: ParquetEngine,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_rows: int | None = None,
    ) -> None:
        self._source = source
        self._max_line_bytes = max_line_bytes
        self._max_rows = max_rows
        self.name = source.name
        self.format: Format = format
        self._chunk_rows = chunk_rows
        self._capture = capture
        self._parquet_engine: ParquetEngine = parquet_engine
        self._report = ReadReport()

    @property
    def report(self) -> ReadReport:
        """Counts of the current (or last) pass: rows yielded, rows rejected, samples."""
        return self._report

    def __repr__(self) -> str:
        return f"TableReader(name={self.name!r}, format={self.format!r})"

    def __iter__(self) -> Iterator[pd.DataFrame]:
        """Read the file, a chunk at a time, filling :attr:`report` as it goes.

        Raises:
            InvalidInputError: the file cannot be read as its format (``not_utf8``,
                ``corrupt_compression``, ``corrupt_parquet``, ``malformed_csv``,
                ``line_too_long``, ...) or is past a bound (``file_too_large``,
                ``too_many_rows``).
        """
        report = self._report = ReadReport()
        frames = self._frames(report)
        try:
            while True:
                try:
                    frame = next(frames, None)
                except COMPRESSION_ERRORS as exc:
                    raise corrupt_compression(self.name, exc) from exc
                except LineTooLong as exc:
                    raise line_too_long(self.name, exc) from exc
                except ContentTooLarge as exc:
                    raise self._source.too_large(exc) from exc
                if frame is None:
                    return
                if len(frame) == 0:
                    continue
                if self._max_rows is not None and report.rows + len(frame) > self._max_rows:
                    raise too_many_rows(self.name, self._max_rows, read=report.rows + len(frame))
                frame.index = pd.RangeIndex(report.rows, report.rows + len(frame))
                report.rows += len(frame)
                yield frame
        finally:
            frames.close()

    def _frames(self, report: ReadReport) -> Generator[pd.DataFrame, None, None]:
        if self.format == "parquet":
            yield from read_parquet(
                self._source, chunk_rows=self._chunk_rows, engine=self._parquet_engine
            )
            return
        with self._source.open() as raw:
            stream = bounded_lines(raw, self._max_line_bytes)
            if self.format == "csv":
                self._check_header_line()
                yield from read_csv(
                    stream,
                    name=self.name,
                    report=report,
                    chunk_rows=self._chunk_rows,
                    head=self._source.head,
                )
                return
            convert = None
            if self.format == "capture":
                convert = partial(capture_rows, columns=self._capture)
            elif self.format == "ground_truth":
                convert = partial(ground_truth_rows, columns=self._capture)
            yield from read_json_lines(
                stream, name=self.name, report=report, chunk_rows=self._chunk_rows, convert=convert
            )

    def _check_header_line(self) -> None:
        """A CSV header is in the head: a longer one (pandas would hold it many times over
        while splitting it, gigabytes for a 200 MB line) is not a header."""
        head = self._source.head
        if not self._source.head_is_whole_file and b"\n" not in head and b"\r" not in head:
            raise invalid_input(
                self.name,
                "line_too_long",
                f"the header line is longer than {MAX_HEAD_BYTES:,} bytes; expected a header "
                "of column names",
                line=1,
                limit_bytes=MAX_HEAD_BYTES,
            )


def too_many_rows(name: str, limit: int, *, read: int) -> InvalidInputError:
    """The error for a file of more than ``limit`` rows, of which ``read`` were read.

    >>> error = too_many_rows("b.csv", 100, read=150)
    >>> str(error).split(";")[0], error.details
    ('b.csv: holds more than 100 rows (150 read when reading stopped)',
     {'file': 'b.csv', 'limit_rows': 100, 'rows_read': 150})
    """
    return invalid_input(
        name,
        "too_many_rows",
        f"holds more than {limit:,} rows ({read:,} read when reading stopped); expected at most "
        f"{limit:,} rows per file: split it into smaller files",
        limit_rows=limit,
        rows_read=read,
    )


def open_table(
    source: TableSource,
    *,
    name: str | None = None,
    format: Format | Literal["auto"] = "auto",
    chunk_rows: int = 100_000,
    capture: CaptureColumns | None = None,
    parquet_engine: ParquetEngine = "auto",
    max_line_bytes: int = MAX_LINE_BYTES,
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> TableReader:
    """Open a data file for reading in chunks of rows, rejecting bad rows visibly.

    Nothing but the first bytes is read here (to detect compression and format); the rows
    are read while the returned reader is iterated, one chunk in memory at a time.

    Args:
        source: a path, the file's bytes, or a binary stream such as an S3 ``StreamingBody``
            (a non-seekable stream can be iterated once).
        name: the file's name for format detection and errors, e.g. the S3 key; defaults to
            the path or the stream's ``name``.
        format: ``"auto"`` (by extension, else by content), ``"csv"``, ``"jsonl"``,
            ``"parquet"``, ``"capture"`` (SageMaker Data Capture) or ``"ground_truth"``.
        chunk_rows: the most rows per frame.
        capture: column names for Data Capture and ground-truth records; by default
            positional names (``input_0``, ``output_0``), ``id`` and ``label``.
        parquet_engine: ``"auto"`` (pyarrow if installed, else fastparquet), ``"pyarrow"``
            or ``"fastparquet"``.
        max_line_bytes: the longest line a CSV or JSON Lines file may have (a longer one
            rejects the file as ``line_too_long`` before it fills the memory).
        max_bytes: the most bytes the file may hold, decompressed; ``None`` for no bound.
            A larger file is refused as ``file_too_large``: here when its size is known (an
            uncompressed path or bytes), else while iterating, once a pass reads past it.
        max_rows: the most rows the file may hold; ``None`` for no bound. A file with more
            is refused as ``too_many_rows`` while iterating, before the frame that passes
            the bound is yielded (the rows before it have been yielded).

    Returns:
        A :class:`TableReader`: iterate it for frames, then read its ``report``.

    Raises:
        InvalidInputError: ``empty_file``, ``unknown_format``, ``not_utf8``,
            ``corrupt_compression`` or ``file_too_large`` (more reasons while iterating); the
            message and the ``file`` detail name the file.
        ValueError: ``format``, ``chunk_rows``, ``parquet_engine``, ``max_line_bytes``,
            ``max_bytes`` or ``max_rows`` is not allowed.
        OSError: the path cannot be opened.

    >>> reader = open_table(b"age,plan\\n31,basic\\n45,pro,extra\\n52,pro\\n", name="b.csv",
    ...                     chunk_rows=1)
    >>> reader.format, [frame["age"].tolist() for frame in reader]
    ('csv', [[31], [52]])
    >>> reader.report.to_dict()
    {'rows': 2, 'bad_rows': 1, 'samples': [{'line': 3, 'reason': 'expected 2 fields, saw 3'}]}
    """
    if format != "auto" and format not in FORMATS:
        raise ValueError(f"expected format 'auto' or one of {FORMATS}, got {format!r}")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"expected chunk_rows >= 1, got {chunk_rows!r}")
    if parquet_engine not in get_args(ParquetEngine):
        raise ValueError(
            f"expected parquet_engine in {get_args(ParquetEngine)}, got {parquet_engine!r}"
        )
    _check_bound("max_line_bytes", max_line_bytes)
    if max_bytes is not None:
        _check_bound("max_bytes", max_bytes)
    if max_rows is not None:
        _check_bound("max_rows", max_rows)
    data = DataSource(source, name=name, max_bytes=max_bytes)
    detected: Format = detect_format(data) if format == "auto" else format
    return TableReader(
        data,
        detected,
        chunk_rows=chunk_rows,
        capture=capture if capture is not None else CaptureColumns(),
        parquet_engine=parquet_engine,
        max_line_bytes=max_line_bytes,
        max_rows=max_rows,
    )


def _check_bound(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected {name} >= 1, got {value!r}")


def detect_format(source: DataSource) -> Format:
    """The format of a file, from its name's extension, else from its first bytes.

    Args:
        source: the opened file (its name and decompressed head).

    Returns:
        The format name.

    Raises:
        InvalidInputError: ``unknown_format`` (binary content, a JSON array document, another
            compression) or ``not_utf8`` (text in another encoding).
    """
    head = source.head.removeprefix(UTF8_BOM)
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    by_name = format_from_name(source.name)
    if by_name in ("csv", "parquet"):
        return by_name
    if by_name is None:
        _check_text(source, head)
    start = head.lstrip()
    if not start and source.head_is_whole_file:
        raise invalid_input(source.name, "empty_file", "only blank lines; expected data rows")
    may_be_array = by_name is None or source.name.lower().removesuffix(".gz").endswith(".json")
    if start.startswith(b"[") and may_be_array:
        raise invalid_input(
            source.name,
            "unknown_format",
            "a JSON array document; expected JSON Lines (one JSON object per line)",
            expected=list(FORMATS),
        )
    if by_name is None and not start.startswith(b"{"):
        return "csv"
    return _json_lines_flavour(start, whole=source.head_is_whole_file)


def format_from_name(name: str) -> Format | None:
    """The format an extension names (``.gz`` stripped first), or ``None``.

    >>> format_from_name("inference/m/2024/05/01/10/part-0.jsonl.gz")
    'jsonl'
    """
    lowered = name.lower().removesuffix(".gz")
    for extension, known in _EXTENSIONS.items():
        if lowered.endswith(extension):
            return known
    return None


def _check_text(source: DataSource, head: bytes) -> None:
    """Reject content that is not UTF-8 text, saying what it looks like."""
    for magic, what in _OTHER_MAGIC.items():
        if head.startswith(magic):
            raise invalid_input(
                source.name, "unknown_format", f"{what}; {_EXPECTED}", expected=list(FORMATS)
            )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise invalid_input(source.name, "not_utf8", "UTF-16 text; expected UTF-8 text")
    if b"\x00" in head:
        raise invalid_input(
            source.name, "unknown_format", f"binary content; {_EXPECTED}", expected=list(FORMATS)
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=source.head_is_whole_file)
    except UnicodeDecodeError as exc:
        raise invalid_input(
            source.name,
            "not_utf8",
            f"not UTF-8 text (byte 0x{head[exc.start]:02x} at offset {exc.start}); "
            "expected UTF-8 text",
            offset=exc.start,
        ) from exc


def _json_lines_flavour(start: bytes, *, whole: bool) -> Format:
    """``capture`` or ``ground_truth`` when the first record says so, else ``jsonl``."""
    first, newline, _ = start.partition(b"\n")
    if newline or whole:
        try:
            record = json.loads(first)
        except (ValueError, RecursionError):
            return "jsonl"
        if isinstance(record, dict):
            if "captureData" in record:
                return "capture"
            if "groundTruthData" in record:
                return "ground_truth"
        return "jsonl"
    # A first line longer than the head (a very large capture payload): look for the key.
    if b'"captureData"' in first:
        return "capture"
    if b'"groundTruthData"' in first:
        return "ground_truth"
    return "jsonl"
