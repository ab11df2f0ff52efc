"""Readers that stream a data file as pandas DataFrame chunks, never dropping a row silently.

:func:`open_table` opens CSV, JSON Lines, Parquet, SageMaker Data Capture and SageMaker
ground-truth files, plain or gzip-compressed, from a path, bytes or a stream. Iterating the
returned :class:`TableReader` yields frames of at most ``chunk_rows`` rows, one in memory at a
time; its :class:`ReadReport` counts the rows yielded and the rows rejected, with the line and
reason of the first few (:class:`BadRow`). A file that cannot be read at all raises
:class:`~driftline.errors.InvalidInputError` with a ``reason`` code and the file's name.

>>> reader = open_table(b'{"x": 1}\\n[2]\\n{"x": 3}\\n', name="batch.jsonl")
>>> [frame["x"].tolist() for frame in reader], reader.report.bad_rows
([[1, 3]], 1)
"""

from __future__ import annotations

from driftline.io.reader import FORMATS, Format, TableReader, detect_format, open_table
from driftline.io.report import BadRow, ReadReport
from driftline.io.sagemaker import CaptureColumns
from driftline.io.source import SupportsRead, TableSource
from driftline.io.tabular import ParquetEngine

__all__ = [
    "FORMATS",
    "BadRow",
    "CaptureColumns",
    "Format",
    "ParquetEngine",
    "ReadReport",
    "SupportsRead",
    "TableReader",
    "TableSource",
    "detect_format",
    "open_table",
]
