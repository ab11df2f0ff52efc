"""The benchmark data: a reference file and current files of 20 columns, cached on disk.

10 numeric columns (normal; column ``i`` has standard deviation ``1 + 0.1 i``) and 10
categorical columns (50 levels, ``level_000`` ...; each column has its own skewed level
frequencies). The current data is drifted: numeric column ``i`` has its mean moved by
``0.2 (i mod 3)`` (a third of them do not move), and every categorical column's frequencies
are flattened towards uniform. Files are written one chunk of 1,000,000 rows at a time (seeded per
chunk), so 10 million rows never sit in memory, and the first 1,000,000 rows of the
10-million-row file are the 1-million-row file.

* reference (``bench_reference.parquet``): 1,000,000 rows, parquet (for Evidently and the
  scipy baseline) and its driftline reference profile (bins from the baseline's quantiles;
  built once and stored, as a deployment stores it);
* current: 100,000, 1,000,000 (and with ``--full`` 10,000,000) rows, CSV and parquet, row
  groups of 100,000.

Everything lands in ``benchmarks/data/`` (git-ignored).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import harness

NUMERIC = tuple(f"num_{i}" for i in range(10))
CATEGORICAL = tuple(f"cat_{i}" for i in range(10))
LEVELS = 50
CHUNK_ROWS = 100_000
GENERATE_ROWS = 1_000_000
REFERENCE_ROWS = 1_000_000
CURRENT_SHIFT = 0.2


def reference_path(data: Path | None = None) -> Path:
    return (data or harness.DATA) / "bench_reference.parquet"


def reference_profile_path(data: Path | None = None) -> Path:
    return (data or harness.DATA) / "bench_reference.profile.json"


def current_path(rows: int, fmt: str, data: Path | None = None) -> Path:
    suffix = "csv" if fmt == "csv" else "parquet"
    return (data or harness.DATA) / f"bench_current_{rows}.{suffix}"


def spec(numeric: int = len(NUMERIC), categorical: int = len(CATEGORICAL)) -> Any:
    """The driftline ProfileSpec of the first ``numeric`` and ``categorical`` columns."""
    from driftline.profile.dataset import ProfileSpec

    return ProfileSpec(
        columns={
            **dict.fromkeys(NUMERIC[:numeric], "numeric"),
            **dict.fromkeys(CATEGORICAL[:categorical], "categorical"),
        }
    )


def frame(rows: int, *, shift: float, seed: int) -> Any:
    """One chunk of data (pandas DataFrame), deterministic in ``seed``."""
    import numpy as np
    import pandas as pd

    levels = np.array([f"level_{j:03d}" for j in range(LEVELS)], dtype=object)
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        columns[name] = rng.normal(shift * (i % 3), 1.0 + 0.1 * i, rows)
    for i, name in enumerate(CATEGORICAL):
        # The same skewed frequencies in every chunk of a file (their own seed).
        weights = np.random.default_rng(1000 + i).dirichlet(np.ones(LEVELS) * (1 + i))
        weights = (weights + shift) / (weights + shift).sum()
        columns[name] = levels[rng.choice(LEVELS, rows, p=weights)]
    return pd.DataFrame(columns)


def write(path: Path, rows: int, *, shift: float, seed: int) -> None:
    """Write ``rows`` rows to ``path`` (CSV or parquet by suffix), one chunk at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    writer = None
    try:
        for index, start in enumerate(range(0, rows, GENERATE_ROWS)):
            chunk = frame(min(GENERATE_ROWS, rows - start), shift=shift, seed=seed + index)
            if path.suffix == ".csv":
                chunk.to_csv(
                    partial, mode="w" if index == 0 else "a", header=index == 0, index=False
                )
                continue
            arrow = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(partial, arrow.schema)
            writer.write_table(arrow, row_group_size=CHUNK_ROWS)
    finally:
        if writer is not None:
            writer.close()
    partial.replace(path)


def ensure_reference(data: Path | None = None, rows: int = REFERENCE_ROWS) -> None:
    """The reference parquet file and its driftline reference profile (cached)."""
    path, profile = reference_path(data), reference_profile_path(data)
    if not path.exists():
        write(path, rows, shift=0.0, seed=1)
    if not profile.exists():
        from driftline.io import open_table
        from driftline.profile.dataset import build_reference

        reference = build_reference(
            lambda: open_table(path, chunk_rows=CHUNK_ROWS), spec(), bins=10
        )
        profile.write_text(json.dumps(reference.to_dict()), encoding="utf-8")


def ensure_current(rows: int, fmt: str, data: Path | None = None) -> Path:
    """The current file of ``rows`` rows in ``fmt`` ("csv" or "parquet"), cached."""
    path = current_path(rows, fmt, data)
    if not path.exists():
        write(path, rows, shift=CURRENT_SHIFT, seed=100)
    return path


def load_reference(data: Path | None = None) -> Any:
    """The stored driftline reference profile (what a deployment reads from S3)."""
    from driftline.profile.dataset import Reference

    text = reference_profile_path(data).read_text(encoding="utf-8")
    return Reference.from_dict(json.loads(text))
