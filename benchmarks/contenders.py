"""The contenders of the throughput and comparison tables, each run in a fresh process.

    python benchmarks/contenders.py --child KIND --rows N --format FMT [--data DIR]

prints one JSON line (seconds, rows, peak RSS in MiB, and what the contender found).
``run_all.py`` starts them, interleaved, round after round. The kinds:

* ``floor``: the bare one-pass minimum: read the current file in chunks of 100,000 rows,
  one ``np.histogram`` per numeric column on the baseline's edges and one ``value_counts``
  per categorical column. No profile, no statistic.
* ``driftline``: read the stored reference profile (JSON, as a deployment reads it from
  S3), ``open_table`` -> ``profile_frames`` (counts, moments, histograms, exact samples
  or sketches, category counts, missing and type counts) -> ``compare_profiles`` (drift of
  all 20 features with the ``auto`` methods: normalised Wasserstein and Jensen-Shannon here).
* ``scipy``: the naive baseline on raw data: read reference and current whole, then
  ``scipy.stats.ks_2samp`` per numeric column and ``chi2_contingency`` on the category
  counts per categorical column.
* ``evidently``: ``evidently_runner.py`` in its own virtual environment (see
  :func:`evidently_python`), Evidently's ``DataDriftPreset`` on the reference and current
  DataFrames (normalised Wasserstein and Jensen-Shannon at this size, as driftline).
* ``columns``: cost against the number of columns: the 1M-row current file read into
  memory once, then profile + drift of 2, 10 and 20 of its columns (half numeric).

Formats: ``csv``, ``parquet`` (pyarrow), ``parquet-fp`` (the parquet file read with
fastparquet, as the Lambda layer does: pyarrow does not fit beside numpy, pandas, scipy).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bench_data
import harness

EVIDENTLY_VENV = Path("/tmp/evidently-venv")
EVIDENTLY_REQUIREMENTS = ("evidently>=0.7,<0.8", "pandas<3")
COLUMN_COUNTS = (2, 10, 20)


def _current(rows: int, fmt: str, data: Path) -> Path:
    return bench_data.current_path(rows, "csv" if fmt == "csv" else "parquet", data)


def _raw_frames(path: Path, fmt: str) -> Iterator[Any]:
    """The floor's reader: the same chunks as driftline's, with no checks."""
    if fmt == "csv":
        import pandas as pd

        yield from pd.read_csv(path, chunksize=bench_data.CHUNK_ROWS)
    elif fmt == "parquet-fp":
        import fastparquet

        yield from fastparquet.ParquetFile(str(path)).iter_row_groups(index=False)
    else:
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=bench_data.CHUNK_ROWS):
            yield batch.to_pandas()


def run_floor(rows: int, fmt: str, data: Path) -> dict[str, Any]:
    import numpy as np

    reference = bench_data.load_reference(data)
    edges = {name: np.asarray(reference.bins.edges[name]) for name in bench_data.NUMERIC}
    start = time.perf_counter()
    seen = 0
    for frame in _raw_frames(_current(rows, fmt, data), fmt):
        seen += len(frame)
        for name in bench_data.NUMERIC:
            np.histogram(frame[name].to_numpy(), bins=edges[name])
        for name in bench_data.CATEGORICAL:
            frame[name].value_counts()
    return {"seconds": time.perf_counter() - start, "rows": seen}


def run_driftline(rows: int, fmt: str, data: Path) -> dict[str, Any]:
    from driftline.config import DriftSpec
    from driftline.drift import compare_profiles
    from driftline.io import open_table
    from driftline.profile.dataset import profile_frames

    spec = bench_data.spec()
    engine = "fastparquet" if fmt == "parquet-fp" else "auto"
    start = time.perf_counter()
    reference = bench_data.load_reference(data)
    loaded = time.perf_counter()
    reader = open_table(
        _current(rows, fmt, data), chunk_rows=bench_data.CHUNK_ROWS, parquet_engine=engine
    )
    profile = profile_frames(reader, spec, reference.bins)
    profiled = time.perf_counter()
    report = compare_profiles(reference.profile, profile, features=spec.columns, drift=DriftSpec())
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "reference_seconds": loaded - start,
        "profile_seconds": profiled - loaded,
        "drift_seconds": end - profiled,
        "rows": profile.rows,
        "drifted": sum(feature.drifted for feature in report.features.values()),
    }


def run_scipy(rows: int, fmt: str, data: Path) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    import scipy.stats

    start = time.perf_counter()
    reference = pd.read_parquet(bench_data.reference_path(data))
    current = (
        pd.read_csv(_current(rows, fmt, data))
        if fmt == "csv"
        else pd.read_parquet(_current(rows, fmt, data))
    )
    read = time.perf_counter()
    drifted = 0
    for name in bench_data.NUMERIC:
        drifted += scipy.stats.ks_2samp(reference[name], current[name]).pvalue < 0.05
    for name in bench_data.CATEGORICAL:
        counts = pd.concat(
            [reference[name].value_counts(), current[name].value_counts()], axis=1
        ).fillna(0)
        table = np.asarray(counts, dtype=float).T
        drifted += scipy.stats.chi2_contingency(table).pvalue < 0.05
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "read_seconds": read - start,
        "compute_seconds": end - read,
        "rows": len(current),
        "drifted": int(drifted),
    }


def run_columns(rows: int, fmt: str, data: Path) -> dict[str, Any]:
    """Profile + drift of 2, 10 and 20 columns of chunks already in memory (best of 2)."""
    from driftline.config import DriftSpec
    from driftline.drift import compare_profiles
    from driftline.profile.dataset import profile_frames

    reference = bench_data.load_reference(data)
    frames = list(_raw_frames(_current(rows, fmt, data), fmt))
    results: dict[str, float] = {}
    for count in COLUMN_COUNTS:
        spec = bench_data.spec(numeric=count // 2, categorical=count - count // 2)
        timings = []
        for _ in range(2):
            start = time.perf_counter()
            profile = profile_frames(frames, spec, reference.bins)
            compare_profiles(reference.profile, profile, features=spec.columns, drift=DriftSpec())
            timings.append(time.perf_counter() - start)
        results[str(count)] = min(timings)
    return {"seconds": results[str(COLUMN_COUNTS[-1])], "by_columns": results, "rows": rows}


def evidently_python(*, install: bool = True) -> tuple[Path | None, str]:
    """The Python of Evidently's virtual environment, created on first use (cached).

    Returns ``(python, note)``; ``python`` is None when the environment could not be made
    (no network, a failed install), and ``note`` says why.
    """
    python = EVIDENTLY_VENV / "bin" / "python"
    probe = [str(python), "-c", "import evidently, pandas; print(evidently.__version__)"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python, "cached"
    if not install:
        return None, f"{EVIDENTLY_VENV} is missing"
    print(f"creating {EVIDENTLY_VENV} for Evidently (about a minute, once) ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(EVIDENTLY_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", *EVIDENTLY_REQUIREMENTS],
    ]
    for step in steps:
        completed = subprocess.run(step, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:]
            return None, f"`{' '.join(step[-3:])}` failed: {' '.join(tail)}"
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        return None, "Evidently installed but does not import"
    return python, "installed"


def run_evidently(python: Path, rows: int, data: Path) -> dict[str, Any]:
    """Evidently's DataDriftPreset on the 1M pair, in its own environment (parquet)."""
    return harness.run_child(
        [
            str(python),
            str(harness.HERE / "evidently_runner.py"),
            str(bench_data.reference_path(data)),
            str(bench_data.current_path(rows, "parquet", data)),
            ",".join(bench_data.NUMERIC),
            ",".join(bench_data.CATEGORICAL),
        ],
        env={
            **{key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
            "DO_NOT_TRACK": "1",  # Evidently's usage telemetry off
        },
    )


RUNNERS = {
    "floor": run_floor,
    "driftline": run_driftline,
    "scipy": run_scipy,
    "columns": run_columns,
}


def measure(kind: str, rows: int, fmt: str, data: Path) -> dict[str, Any]:
    """One run of a contender in a fresh process."""
    return harness.run_script(
        "contenders.py", kind, "--rows", str(rows), "--format", fmt, "--data", str(data)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=sorted(RUNNERS), required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--format", choices=("csv", "parquet", "parquet-fp"), required=True)
    parser.add_argument("--data", type=Path, default=harness.DATA)
    args = parser.parse_args(argv)
    result = RUNNERS[args.child](args.rows, args.format, args.data)
    result["peak_rss_mib"] = harness.peak_rss_mib()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
