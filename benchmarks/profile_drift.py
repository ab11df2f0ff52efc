"""Benchmark: profile a 1M-row x 20-column parquet batch and compute drift against a baseline.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python benchmarks/profile_drift.py            # 1,000,000 rows, 3 rounds
    python benchmarks/profile_drift.py --rows 100000 --rounds 1

Two contenders run side by side, alternating, each in a fresh subprocess so that peak RSS is
its own:

* ``floor``: the bare one-pass minimum - read the same parquet file in the same chunks, one
  ``np.histogram`` per numeric column (on the baseline's edges) and one ``value_counts`` per
  categorical column. No profile, no statistics.
* ``driftline``: ``open_table`` -> ``profile_frames`` (counts, moments, histograms, exact
  samples or quantile sketches, category counts) -> ``compare_profiles`` (drift of every
  feature).

The baseline profile is built once beforehand (it is stored, not recomputed, in production).
The table prints the best time of the rounds, rows/s and peak RSS, and the ratios
driftline / floor. The machine is shared and noisy: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
NUMERIC = [f"num_{i}" for i in range(10)]
CATEGORICAL = [f"cat_{i}" for i in range(10)]
CHUNK_ROWS = 100_000


def _paths(rows: int) -> tuple[Path, Path, Path]:
    stem = f"{rows}x20"
    return (
        DATA / f"reference_{stem}.parquet",
        DATA / f"current_{stem}.parquet",
        DATA / f"reference_{stem}.profile.json",
    )


def generate(rows: int) -> None:
    """Write the reference and current parquet files and the reference profile (cached)."""
    import numpy as np
    import pandas as pd

    reference_path, current_path, profile_path = _paths(rows)
    if reference_path.exists() and current_path.exists() and profile_path.exists():
        return
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    levels = np.array([f"level_{j:03d}" for j in range(50)])

    def frame(shift: float) -> pd.DataFrame:
        columns: dict[str, object] = {}
        for i, name in enumerate(NUMERIC):
            columns[name] = rng.normal(shift * (i % 3), 1.0 + 0.1 * i, rows)
        for i, name in enumerate(CATEGORICAL):
            weights = rng.dirichlet(np.ones(levels.size) * (1 + i + shift * 10))
            columns[name] = levels[rng.choice(levels.size, rows, p=weights)]
        return pd.DataFrame(columns)

    frame(0.0).to_parquet(reference_path, row_group_size=CHUNK_ROWS, index=False)
    frame(0.2).to_parquet(current_path, row_group_size=CHUNK_ROWS, index=False)

    from driftline.io import open_table
    from driftline.profile.dataset import build_reference

    spec = _spec()
    reference = build_reference(
        lambda: open_table(reference_path, chunk_rows=CHUNK_ROWS), spec, bins=10
    )
    profile_path.write_text(json.dumps(reference.to_dict()), encoding="utf-8")


def _spec():  # type: ignore[no-untyped-def]
    from driftline.profile.dataset import ProfileSpec

    return ProfileSpec(
        columns={**dict.fromkeys(NUMERIC, "numeric"), **dict.fromkeys(CATEGORICAL, "categorical")}
    )


def run_floor(rows: int) -> dict[str, float]:
    import numpy as np
    import pyarrow.parquet as pq

    from driftline.profile.dataset import Reference

    _, current_path, profile_path = _paths(rows)
    reference = Reference.from_dict(json.loads(profile_path.read_text(encoding="utf-8")))
    edges = {name: np.asarray(reference.bins.edges[name]) for name in NUMERIC}
    start = time.perf_counter()
    seen = 0
    for batch in pq.ParquetFile(current_path).iter_batches(batch_size=CHUNK_ROWS):
        frame = batch.to_pandas()
        seen += len(frame)
        for name in NUMERIC:
            np.histogram(frame[name].to_numpy(), bins=edges[name])
        for name in CATEGORICAL:
            frame[name].value_counts()
    return {"seconds": time.perf_counter() - start, "rows": seen}


def run_driftline(rows: int) -> dict[str, float]:
    from driftline.config import DriftSpec
    from driftline.drift import compare_profiles
    from driftline.io import open_table
    from driftline.profile.dataset import Reference, profile_frames

    _, current_path, profile_path = _paths(rows)
    reference = Reference.from_dict(json.loads(profile_path.read_text(encoding="utf-8")))
    spec = _spec()
    start = time.perf_counter()
    profile = profile_frames(open_table(current_path, chunk_rows=CHUNK_ROWS), spec, reference.bins)
    profiled = time.perf_counter()
    report = compare_profiles(reference.profile, profile, features=spec.columns, drift=DriftSpec())
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "profile_seconds": profiled - start,
        "drift_seconds": end - profiled,
        "rows": profile.rows,
        "drifted": sum(feature.drifted for feature in report.features.values()),
    }


def _child(kind: str, rows: int) -> None:
    runner = run_floor if kind == "floor" else run_driftline
    result = runner(rows)
    result["peak_rss_mib"] = _peak_rss_mib()
    print(json.dumps(result))


def _peak_rss_mib() -> float:
    """Peak resident set of this process. VmHWM, not ru_maxrss: on Linux ru_maxrss survives
    exec, so a child would report its parent's peak (the data generator's)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(kind: str, rows: int) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=("floor", "driftline"))
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.rows)
        return
    print(f"generating {args.rows:,} x 20 parquet pair (cached in {DATA}) ...", flush=True)
    generate(args.rows)
    results: dict[str, list[dict[str, float]]] = {"floor": [], "driftline": []}
    for round_number in range(args.rounds):
        for kind in ("floor", "driftline"):
            results[kind].append(_measure(kind, args.rows))
        print(f"round {round_number + 1}/{args.rounds} done", flush=True)
    best = {kind: min(runs, key=lambda run: run["seconds"]) for kind, runs in results.items()}
    peak = {kind: max(run["peak_rss_mib"] for run in runs) for kind, runs in results.items()}
    print()
    print(f"{'contender':<11} {'seconds':>8} {'rows/s':>12} {'peak RSS MiB':>13}")
    for kind in ("floor", "driftline"):
        seconds = best[kind]["seconds"]
        print(f"{kind:<11} {seconds:>8.3f} {args.rows / seconds:>12,.0f} {peak[kind]:>13.0f}")
    driftline = best["driftline"]
    print(
        f"\ndriftline split: profile {driftline['profile_seconds']:.3f} s, "
        f"drift {driftline['drift_seconds']:.3f} s ({int(driftline['drifted'])} of 20 drifted)"
    )
    print(
        f"ratios driftline/floor: time {driftline['seconds'] / best['floor']['seconds']:.2f}x "
        f"(target <= 2x), peak RSS {peak['driftline'] / peak['floor']:.2f}x (target <= 1.5x)"
    )


if __name__ == "__main__":
    main()
