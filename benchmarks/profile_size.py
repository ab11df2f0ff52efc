"""Serialised size of a batch profile of 20 numeric columns, and the time to write and read it.

Run from the repository root: ``python benchmarks/profile_size.py`` (10,000 and 1,000,000
rows; ``--rows 5000 --rows 200000`` for others). Each batch is profiled in chunks of 100,000
rows with a baseline's bins, as the profiling function does; the columns are continuous
(normal, lognormal, uniform: every value distinct) and discrete (integers 0-20, rounded
values), so both an exact sample's and a sketch's sizes show.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from driftline.profile.dataset import DatasetProfile, ProfileSpec, build_reference, profile_frames

CHUNK_ROWS = 100_000


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(20):
        kind = i % 5
        if kind == 0:
            columns[f"num_{i}"] = rng.normal(i, 1.0, rows)
        elif kind == 1:
            columns[f"num_{i}"] = rng.lognormal(0, 1, rows)
        elif kind == 2:
            columns[f"num_{i}"] = rng.random(rows)
        elif kind == 3:
            columns[f"num_{i}"] = rng.integers(0, 21, rows).astype(float)
        else:
            columns[f"num_{i}"] = np.round(rng.normal(50, 10, rows), 1)
    return pd.DataFrame(columns)


def chunks(data: pd.DataFrame) -> list[pd.DataFrame]:
    return [data.iloc[i : i + CHUNK_ROWS] for i in range(0, len(data), CHUNK_ROWS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, action="append")
    args = parser.parse_args()
    spec = ProfileSpec(columns=dict.fromkeys(frame(1, 0).columns, "numeric"))
    baseline = frame(20_000, 1)
    reference = build_reference(lambda: chunks(baseline), spec, bins=10)
    print(f"{'rows':>10} {'JSON KiB':>9} {'to_dict+dumps s':>15} {'loads+from_dict s':>17} exact")
    for rows in args.rows or [10_000, 1_000_000]:
        profile = profile_frames(chunks(frame(rows, 2)), spec, reference.bins)
        start = time.perf_counter()
        text = json.dumps(profile.to_dict())
        written = time.perf_counter()
        loaded = DatasetProfile.from_dict(json.loads(text))
        read = time.perf_counter()
        exact = sum(bool(getattr(c, "exact", False)) for c in loaded.columns.values())
        print(
            f"{rows:>10,} {len(text) / 1024:>9.1f} {written - start:>15.3f} "
            f"{read - written:>17.3f} {exact}/20"
        )


if __name__ == "__main__":
    main()
