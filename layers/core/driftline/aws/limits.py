"""How large an input file the functions accept, in bytes and in rows.

An input file past a bound is quarantined (``file_too_large`` or ``too_many_rows``) rather
than read: a function that runs out of memory is killed, retried twice and the event goes to
the dead-letter queue, which pages nobody about the file. Under the defaults, every input
is read well within its function's memory (docs/reliability.md gives the measurements):

* **inference logs and label files**: :data:`MAX_FILE_BYTES` (256 MiB of content,
  decompressed) and :data:`MAX_FILE_ROWS` (2,000,000 rows). The row bound is what keeps the
  label join in memory: ``ingest_labels`` holds a label file's ids and one batch's kept rows
  at once, at 1,024 MB;
* **baselines**: :data:`MAX_BASELINE_BYTES` (512 MiB) and :data:`MAX_BASELINE_ROWS`
  (10,000,000 rows): a baseline is profiled chunk by chunk (twice), so its memory does not
  grow with its rows; the byte bound keeps the stored object (read whole) well within
  1,024 MB, the row bound keeps the two passes well within the functions' timeout.

Every deployment can change them (template parameters ``MaxFileBytes``, ``MaxFileRows``,
``MaxBaselineBytes``, ``MaxBaselineRows``, read by :mod:`driftline.aws.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024
MAX_FILE_BYTES = 128 * MIB
MAX_FILE_ROWS = 500_000
MAX_BASELINE_BYTES = 256 * MIB
MAX_BASELINE_ROWS = 5_000_000


@dataclass(frozen=True)
class FileLimits:
    """The bounds of one kind of input file.

    Attributes:
        max_bytes: the most bytes of content (decompressed) a file may hold; also the most
            an object may be as stored, since it is read into memory whole.
        max_rows: the most rows a file may hold (rejected rows not counted).
    """

    max_bytes: int
    max_rows: int

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"expected {name} >= 1, got {value!r}")


@dataclass(frozen=True)
class InputLimits:
    """The bounds of every kind of input file, by the key's first folder.

    >>> limits = InputLimits()
    >>> limits.of("baselines/churn/a.csv").max_rows, limits.of("labels/churn/a.csv").max_rows
    (5000000, 500000)
    """

    files: FileLimits = FileLimits(MAX_FILE_BYTES, MAX_FILE_ROWS)
    baselines: FileLimits = FileLimits(MAX_BASELINE_BYTES, MAX_BASELINE_ROWS)

    def of(self, key: str) -> FileLimits:
        """The bounds of the file at ``key``: a baseline's under ``baselines/``, else a
        file's (inference logs, label files)."""
        return self.baselines if key.startswith("baselines/") else self.files
