"""Write DataFrame chunks as one gzip-compressed CSV file, a chunk at a time.

:class:`GzipCsvWriter` compresses each chunk as it comes, so the memory it holds is the
compressed output so far, never the rows: a file of ten million rows costs what its gzip
costs, not gigabytes of frames and text.

The file reads back with ``pd.read_csv`` as the chunks concatenated with ``pd.concat`` and
written with ``to_csv(index=False)`` would: the columns are the union of the chunks' columns
in order of first appearance, and a row has no value (NaN) in a column its chunk lacked.
Since a later chunk may bring a new column, the header is known only at the end: it is
compressed as a gzip member of its own and put *before* the rows' member (a gzip file may
hold several members; every reader decompresses them as one stream). A row of a chunk that
came before a column appeared has fewer fields than the header, which ``read_csv`` reads as
missing values. Values are written as each chunk holds them: ``1`` in an integer chunk where
``pd.concat`` would have made a float column and written ``1.0`` (``read_csv`` gives the same
column either way), ``False`` in a boolean chunk of a column that is numeric in another chunk
(pandas 2's ``concat`` wrote ``False`` too; pandas 3's turns it into ``0``).

>>> import io
>>> import pandas as pd
>>> writer = GzipCsvWriter()
>>> writer.write(pd.DataFrame({"id": [1, 2], "plan": ["basic", "pro"]}))
>>> writer.write(pd.DataFrame({"id": [3], "score": [0.5]}))
>>> data = writer.finish()
>>> gzip.decompress(data).decode()
'id,plan,score\\n1,basic\\n2,pro\\n3,,0.5\\n'
>>> pd.read_csv(io.BytesIO(data), compression="gzip").to_dict("list")
{'id': [1, 2, 3], 'plan': ['basic', 'pro', nan], 'score': [nan, nan, 0.5]}
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Hashable

import pandas as pd


class GzipCsvWriter:
    """Chunks of rows in, one gzip CSV out (header once, columns in order of appearance).

    Args:
        compresslevel: gzip's level, 1 (fastest) to 9 (smallest).

    Attributes:
        columns: the columns so far, in order of first appearance.
        rows: the rows written so far.
    """

    def __init__(self, *, compresslevel: int = 1) -> None:
        self._compresslevel = compresslevel
        self._body = io.BytesIO()
        # mtime=0: the same rows give the same bytes.
        self._gzip = gzip.GzipFile(
            fileobj=self._body, mode="wb", compresslevel=compresslevel, mtime=0
        )
        self.columns: list[Hashable] = []
        self._known: set[Hashable] = set()
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        """Append a chunk's rows (its index is not written).

        Raises:
            ValueError: the writer is finished.
        """
        for column in frame.columns:
            if column not in self._known:
                self._known.add(column)
                self.columns.append(column)
        if list(frame.columns) != self.columns:
            frame = frame.reindex(columns=self.columns)
        if len(frame):
            self._gzip.write(frame.to_csv(header=False, index=False).encode())
            self.rows += len(frame)

    def finish(self) -> bytes:
        """The gzip file: the header's member, then the rows' member.

        Returns:
            The compressed bytes; with no column at all, the gzip of an empty line (what
            ``pd.DataFrame().to_csv(index=False)`` writes).
        """
        self._gzip.close()
        header = pd.DataFrame(columns=self.columns).to_csv(index=False).encode()
        body = self._body.getbuffer()
        try:
            return gzip.compress(header, compresslevel=self._compresslevel, mtime=0) + body
        finally:
            body.release()
