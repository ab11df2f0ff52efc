"""Opening a data file: a path, bytes already in memory, or a binary stream, gzip or not.

A :class:`DataSource` hands out the *decompressed* bytes from the start of the file as often
as the readers need them (once to sniff the format, once per pass over the data), without
ever holding the whole file in memory when it comes from a path or a stream:

* a path is reopened for every pass;
* a seekable stream (an open file) is rewound to where it was when it was given;
* a non-seekable stream (an S3 ``StreamingBody``) keeps only the bytes the sniffing read, so
  that it can be read once more from the start; it supports a single pass.

Gzip is recognised by its magic bytes, whatever the name says. Parquet needs random access,
so a compressed or streamed Parquet file is first copied to a spooled temporary file (kept in
memory up to :data:`SPOOL_MEMORY_BYTES`, on local disk beyond).

With ``max_bytes``, a file whose content is longer (decompressed, for gzip) is refused as
``file_too_large``: at once when the size is known (a plain path or bytes), else as soon as a
pass reads past the bound (a small gzip can inflate a thousandfold).

>>> import gzip
>>> source = DataSource(gzip.compress(b"a,b\\n1,2\\n"), name="batch.csv.gz")
>>> source.compression, source.head
('gzip', b'a,b\\n1,2\\n')
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol, cast

from driftline.errors import InvalidInputError

GZIP_MAGIC = b"\x1f\x8b"
#: Bytes of decompressed content read to sniff the format.
HEAD_BYTES = 64 * 1024
#: The head grows up to this size to hold a whole first line (a large Data Capture record).
MAX_HEAD_BYTES = 1024 * 1024
#: A Parquet file that must be copied for random access stays in memory up to this size.
SPOOL_MEMORY_BYTES = 32 * 1024 * 1024
#: The longest line a text file (CSV, JSON Lines) may have. A line is read whole before it is
#: parsed, so without a bound one line of a small gzip upload (a "decompression bomb": 200 KB
#: that inflate to a 200 MB line) takes gigabytes and kills the function; 64 MiB holds any
#: real record (SageMaker payloads are at most 25 MB, 33 MB in base64) in about 300 MB.
MAX_LINE_BYTES = 64 * 1024 * 1024

#: Errors the gzip module raises for a truncated or corrupted stream.
COMPRESSION_ERRORS: tuple[type[Exception], ...] = (EOFError, zlib.error, gzip.BadGzipFile)


class SupportsRead(Protocol):
    """A binary stream: anything with ``read(size) -> bytes`` (a file, ``BytesIO``, an S3 body)."""

    def read(self, size: int = -1, /) -> bytes: ...


class _SeekableStream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...


#: What :func:`driftline.io.open_table` accepts.
TableSource = str | os.PathLike[str] | bytes | SupportsRead


def invalid_input(name: str, reason: str, problem: str, **details: Any) -> InvalidInputError:
    """An :class:`InvalidInputError` naming the file in its message and details.

    Args:
        name: the file's name (path or S3 key) as the user knows it.
        reason: the machine-readable reason code, e.g. ``"not_utf8"``.
        problem: what is wrong and, where it helps, what was expected.
        details: further JSON-serialisable details.

    Returns:
        The error, to be raised by the caller (``raise invalid_input(...) from exc``).
    """
    return InvalidInputError(f"{name}: {problem}", reason=reason, file=name, **details)


def corrupt_compression(name: str, exc: Exception) -> InvalidInputError:
    """The error for a truncated or corrupted gzip stream (``exc``: a COMPRESSION_ERRORS)."""
    return invalid_input(
        name,
        "corrupt_compression",
        f"the gzip data is truncated or corrupted ({type(exc).__name__}); "
        "expected a complete gzip file",
    )


class LineTooLong(Exception):
    """A line of the decompressed stream is longer than the bound (raised while reading).

    Attributes:
        line: its 1-based line number.
        limit: the bound, in bytes.
    """

    def __init__(self, line: int, limit: int) -> None:
        super().__init__(f"line {line} is longer than {limit} bytes")
        self.line = line
        self.limit = limit


class ContentTooLarge(Exception):
    """The decompressed content runs past the bound (raised while reading).

    Attributes:
        limit: the bound, in bytes.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


def file_too_large(
    name: str,
    limit: int,
    *,
    size: int | None = None,
    stored: int | None = None,
    decompressed: bool = False,
) -> InvalidInputError:
    """The error for a file whose content is longer than ``limit`` bytes.

    Args:
        name: the file's name.
        limit: the bound, in bytes.
        size: the content's size, when known.
        stored: the file's size as stored (compressed or not), when known.
        decompressed: whether reading stopped past the bound while decompressing (the
            content's size is then not known).

    >>> error = file_too_large("a.csv.gz", 1000, stored=40, decompressed=True)
    >>> str(error).split(";")[0], error.details
    ('a.csv.gz: holds more than 1,000 bytes once decompressed (40 bytes stored)',
     {'file': 'a.csv.gz', 'limit_bytes': 1000, 'stored_bytes': 40})
    """
    details: dict[str, Any] = {"limit_bytes": limit}
    if size is not None:
        measured = f"holds {size:,} bytes"
        details["size_bytes"] = size
    elif decompressed:
        measured = f"holds more than {limit:,} bytes once decompressed"
        if stored is not None:
            measured += f" ({stored:,} bytes stored)"
    elif stored is not None:
        measured = f"is {stored:,} bytes as stored"
    else:
        measured = f"holds more than {limit:,} bytes"
    if stored is not None:
        details["stored_bytes"] = stored
    return invalid_input(
        name,
        "file_too_large",
        f"{measured}; expected at most {limit:,} bytes per file: split it into smaller files",
        **details,
    )


class _BoundedBytes(io.RawIOBase):
    """A stream that raises :class:`ContentTooLarge` once more than ``limit`` bytes were read."""

    def __init__(self, stream: io.BufferedIOBase, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        self._read += len(data)
        if self._read > self._limit:
            raise ContentTooLarge(self._limit)
        view[: len(data)] = data
        return len(data)


def line_too_long(name: str, exc: LineTooLong) -> InvalidInputError:
    """The error for a line past the bound (``exc``: the :class:`LineTooLong` raised)."""
    return invalid_input(
        name,
        "line_too_long",
        f"line {exc.line} is longer than {exc.limit:,} bytes; expected lines of at most that "
        "(one record per line)",
        line=exc.line,
        limit_bytes=exc.limit,
    )


class _BoundedLines(io.RawIOBase):
    """A stream that raises :class:`LineTooLong` once a line runs past ``limit`` bytes.

    ``\\n`` and ``\\r`` both end a line (CSV accepts either), so a line is never longer than
    counted. Only the length of the current line is kept: memory stays that of the reader.
    """

    def __init__(self, stream: io.BufferedIOBase, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._run = 0
        self._line = 1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        count = len(data)
        if self._run + count <= self._limit:
            # No line can pass the bound inside this chunk: count, do not scan.
            end = max(data.rfind(b"\n"), data.rfind(b"\r"))
            if end < 0:
                self._run += count
            else:
                self._line += data.count(b"\n") or data.count(b"\r")
                self._run = count - end - 1
        else:
            self._scan(data)
        view[:count] = data
        return count

    def _scan(self, data: bytes) -> None:
        """Follow the lines of ``data`` one by one (only near the bound)."""
        start = 0
        while True:
            ends = [at for at in (data.find(b"\n", start), data.find(b"\r", start)) if at >= 0]
            if not ends:
                self._run += len(data) - start
                break
            end = min(ends)
            self._run += end - start
            if self._run > self._limit:
                raise LineTooLong(self._line, self._limit)
            if data[end : end + 2] != b"\r\n":
                self._line += 1
            self._run = 0
            start = end + 1
        if self._run > self._limit:
            raise LineTooLong(self._line, self._limit)


def bounded_lines(stream: io.BufferedIOBase, limit: int) -> io.BufferedReader:
    """``stream`` read through a guard raising :class:`LineTooLong` past ``limit`` bytes.

    The guard sees the stream a buffer at a time, so it may raise before the reader reaches
    the long line (the whole file is rejected either way).

    >>> bounded_lines(io.BufferedReader(io.BytesIO(b"ab\\ncd\\n")), 10).read()
    b'ab\\ncd\\n'
    >>> bounded_lines(io.BufferedReader(io.BytesIO(b"ab\\n" + b"x" * 50)), 10).read()
    Traceback (most recent call last):
    ...
    driftline.io.source.LineTooLong: line 2 is longer than 10 bytes
    """
    return io.BufferedReader(_BoundedLines(stream, limit), buffer_size=1024 * 1024)


class _Replay:
    """A stream read from its start by successive readers, one after the other.

    While ``keep`` is on, the bytes read are kept so that the next reader can start again at
    the beginning; once a reader has read past them with ``keep`` off, no new reader can start.
    """

    def __init__(self, stream: SupportsRead) -> None:
        self._stream = stream
        self._kept = bytearray()
        self._keep = True
        self.rewindable = True

    def reader(self, *, keep: bool) -> io.BufferedReader:
        self._keep = keep
        return io.BufferedReader(_ReplayReader(self))

    def read_at(self, position: int, view: memoryview) -> int:
        if position < len(self._kept):
            count = min(len(view), len(self._kept) - position)
            view[:count] = self._kept[position : position + count]
            return count
        data = self._stream.read(len(view))
        if not data:
            return 0
        view[: len(data)] = data
        if self._keep:
            self._kept += data
        else:
            self.rewindable = False
            self._kept = bytearray()
        return len(data)


class _ReplayReader(io.RawIOBase):
    """One pass over a :class:`_Replay`; closing it leaves the caller's stream open."""

    def __init__(self, replay: _Replay) -> None:
        self._replay = replay
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._replay.read_at(self._position, memoryview(buffer).cast("B"))
        self._position += count
        return count


class DataSource:
    """The bytes of one data file, decompressed, available once per pass.

    Args:
        source: a path, the file's bytes, or a binary stream (read from its current position).
        name: how errors name the file; defaults to the path, the stream's ``name``, or
            ``"<bytes>"`` / ``"<stream>"``.
        max_bytes: the most bytes of content (decompressed) the file may hold; ``None`` for
            no bound. A pass that reads past it raises :class:`ContentTooLarge`.

    Attributes:
        stored_bytes: the size of the file as given (compressed or not), when known: a path's
            or the bytes' length; ``None`` for a stream.

    Raises:
        InvalidInputError: ``empty_file`` when there is no content (0 bytes, or gzip of
            nothing); ``corrupt_compression`` when the gzip header or start is corrupted;
            ``file_too_large`` when an uncompressed file is longer than ``max_bytes``.
        OSError: the path cannot be opened (``FileNotFoundError``, ``IsADirectoryError``).
    """

    def __init__(
        self, source: TableSource, *, name: str | None = None, max_bytes: int | None = None
    ) -> None:
        self.max_bytes = max_bytes
        self.stored_bytes: int | None = None
        self._path: str | None = None
        self._data: bytes | None = None
        self._stream: _SeekableStream | None = None
        self._start = 0
        self._replay: _Replay | None = None
        self._passes = 0
        if isinstance(source, str | os.PathLike):
            self._path = os.fspath(source)
            default = self._path
        elif isinstance(source, bytes | bytearray | memoryview):
            self._data = bytes(source)
            default = "<bytes>"
        else:
            stream_name = getattr(source, "name", None)
            default = stream_name if isinstance(stream_name, str) else "<stream>"
            if _seekable(source):
                self._stream = cast(_SeekableStream, source)
                self._start = self._stream.tell()
            else:
                self._replay = _Replay(source)
        self.name: str = name if name is not None else default
        if self._path is not None:
            self.stored_bytes = os.path.getsize(self._path)
        elif self._data is not None:
            self.stored_bytes = len(self._data)
        with self._raw(sniffing=True) as raw:
            magic = raw.read(len(GZIP_MAGIC))
        self.compression: str | None = "gzip" if magic == GZIP_MAGIC else None
        if (
            max_bytes is not None
            and self.compression is None
            and self.stored_bytes is not None
            and self.stored_bytes > max_bytes
        ):
            raise file_too_large(self.name, max_bytes, size=self.stored_bytes)
        self.head, self.head_is_whole_file = self._read_head()
        if not self.head:
            raise invalid_input(self.name, "empty_file", "the file is empty; expected data rows")

    @contextmanager
    def open(self) -> Iterator[io.BufferedIOBase]:
        """The decompressed bytes from the start of the file, for one pass.

        Decompression errors surface while reading; translate them with
        :func:`corrupt_compression`. Reading past ``max_bytes`` raises
        :class:`ContentTooLarge`; translate it with :meth:`too_large`.

        Raises:
            RuntimeError: a non-seekable stream was already read once.
        """
        with self._raw(sniffing=False) as raw, self._decompressed(raw) as stream:
            if self.max_bytes is None:
                yield stream
            else:
                yield io.BufferedReader(
                    _BoundedBytes(stream, self.max_bytes), buffer_size=1024 * 1024
                )

    def too_large(self, exc: ContentTooLarge) -> InvalidInputError:
        """The error for a pass that read past the bound (``exc``, raised while reading)."""
        return file_too_large(
            self.name,
            exc.limit,
            stored=self.stored_bytes if self.compression is not None else None,
            decompressed=self.compression is not None,
        )

    @contextmanager
    def open_seekable(self) -> Iterator[str | IO[bytes]]:
        """The decompressed content with random access (for Parquet): a path or a file object.

        A plain file on disk is handed over by path; bytes as an in-memory buffer; anything
        else (gzip, streams) is copied to a spooled temporary file first.

        Raises:
            InvalidInputError: ``corrupt_compression`` while copying a damaged gzip stream,
                ``file_too_large`` when the copy runs past ``max_bytes``.
        """
        if self.compression is None and self._path is not None:
            yield self._path
        elif self.compression is None and self._data is not None:
            yield io.BytesIO(self._data)
        else:
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spool:
                with self.open() as stream:
                    try:
                        shutil.copyfileobj(stream, spool)
                    except COMPRESSION_ERRORS as exc:
                        raise corrupt_compression(self.name, exc) from exc
                    except ContentTooLarge as exc:
                        raise self.too_large(exc) from exc
                spool.seek(0)
                yield spool

    def _read_head(self) -> tuple[bytes, bool]:
        with self._raw(sniffing=True) as raw, self._decompressed(raw) as stream:
            try:
                head = stream.read(HEAD_BYTES)
                whole = len(head) < HEAD_BYTES
                while not whole and len(head) < MAX_HEAD_BYTES and b"\n" not in head.lstrip():
                    more = stream.read(HEAD_BYTES)
                    head += more
                    whole = len(more) < HEAD_BYTES
            except COMPRESSION_ERRORS as exc:
                raise corrupt_compression(self.name, exc) from exc
        return head, whole

    @contextmanager
    def _decompressed(self, raw: io.BufferedIOBase) -> Iterator[io.BufferedIOBase]:
        if self.compression == "gzip":
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw

    @contextmanager
    def _raw(self, *, sniffing: bool) -> Iterator[io.BufferedIOBase]:
        if self._path is not None:
            with open(self._path, "rb") as handle:
                yield handle
        elif self._data is not None:
            yield io.BytesIO(self._data)
        elif self._replay is not None:
            if not sniffing:
                self._passes += 1
            if self._passes > 1 or not self._replay.rewindable:
                raise RuntimeError(
                    f"{self.name}: a non-seekable stream can be read only once; "
                    "open_table it again with a fresh stream"
                )
            with self._replay.reader(keep=sniffing) as reader:
                yield reader
        else:
            assert self._stream is not None
            self._stream.seek(self._start)
            with _Replay(self._stream).reader(keep=False) as reader:
                yield reader


def _seekable(stream: SupportsRead) -> bool:
    seekable = getattr(stream, "seekable", None)
    return (
        callable(seekable)
        and bool(seekable())
        and callable(getattr(stream, "seek", None))
        and callable(getattr(stream, "tell", None))
    )
