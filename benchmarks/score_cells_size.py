"""What score cells add to a binary classifier's batch profile, and what the calibrator and
the model-error terms add to building its baseline.

Run from the repository root: ``python benchmarks/score_cells_size.py`` (batches of 10,000
and 100,000 rows, a baseline of 1,000,000; ``--rows``, ``--baseline-rows`` for others).
The model is the churn example's shape: 2 numeric and 2 categorical features, one segment
column of 5 values, a continuous score (every value distinct) and the predicted class; the
batches are unlabelled inference logs, profiled in chunks of 100,000 rows with the
baseline's bins as the profiling function does. A profile's size "without cells" is the
same profile written without its ``score_cells`` (overall and per segment): what version 3
wrote.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from driftline.config import load_monitor_definition
from driftline.estimation.baseline import MAX_CALIBRATION_ROWS, BaselineCalibration
from driftline.estimation.columns import labelled_rows_of
from driftline.estimation.model_error import measure_model_error
from driftline.evaluation import profile_spec
from driftline.profile.dataset import DatasetProfile, build_reference, profile_frames

CHUNK_ROWS = 100_000
DEFINITION = """
model: churn
schema:
  task: binary_classification
  prediction: churn_predicted
  score: churn_score
  label: churned
  features: {tenure: numeric, charges: numeric, plan: categorical, region: categorical}
  segments: [segment]
baseline: {path: baselines/churn/reference.csv}
"""


def frame(rows: int, seed: int, *, labelled: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.beta(1.2, 3.0, rows)
    data = pd.DataFrame(
        {
            "tenure": rng.gamma(2.0, 12.0, rows).round(1),
            "charges": rng.normal(70, 20, rows).round(2),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
            "region": rng.choice(["north", "south", "east", "west", "online"], rows),
            "segment": rng.choice(["s1", "s2", "s3", "s4", "s5"], rows),
            "churn_score": score,
            "churn_predicted": (score >= 0.5).astype(int),
        }
    )
    if labelled:
        data["churned"] = (rng.random(rows) < score).astype(int)
    return data


def chunks(data: pd.DataFrame) -> list[pd.DataFrame]:
    return [data.iloc[i : i + CHUNK_ROWS] for i in range(0, len(data), CHUNK_ROWS)]


def without_cells(document: dict[str, Any]) -> dict[str, Any]:
    body = {key: value for key, value in document.items() if key != "score_cells"}
    if "segments" in body:
        body["segments"] = {key: without_cells(s) for key, s in body["segments"].items()}
    return body


def kib(document: dict[str, Any]) -> float:
    return len(json.dumps(document).encode()) / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, action="append")
    parser.add_argument("--baseline-rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    spec = profile_spec(load_monitor_definition(DEFINITION))
    plain = replace(spec, estimation=None)

    baseline = frame(args.baseline_rows, 1, labelled=True)
    timings = {}
    for name, used in (("without", plain), ("with", spec)):
        start = time.perf_counter()
        reference = build_reference(lambda used=used: chunks(baseline), used)
        timings[name] = time.perf_counter() - start
    assert reference.calibration is not None
    calibration = json.dumps(reference.calibration.to_dict()).encode()
    assert spec.estimation is not None
    scores, positive, predicted = labelled_rows_of(baseline, spec.estimation)
    tracemalloc.start()
    BaselineCalibration.fitted(scores, positive, predicted)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    decision = reference.calibration.decision
    assert decision is not None
    start = time.perf_counter()
    measure_model_error(
        scores, positive, predicted, calibrate=decision.calibrate, max_rows=MAX_CALIBRATION_ROWS
    )
    model_error_seconds = time.perf_counter() - start
    gathered = scores.nbytes + positive.nbytes + predicted.nbytes
    print(
        f"baseline of {args.baseline_rows:,} rows: built in {timings['without']:.2f} s without "
        f"the calibrator, {timings['with']:.2f} s with it (of which {model_error_seconds:.2f} s "
        "measuring the model error); calibrator "
        f"{reference.calibration.calibrator.kind if reference.calibration.calibrator else '-'}"
        f", {len(calibration) / 1024:.1f} KiB stored; rows gathered "
        f"{gathered / 2**20:.1f} MiB, fitting's peak allocations {peak / 2**20:.0f} MiB"
    )
    print(
        f"{'batch rows':>10} {'v3 KiB':>8} {'v4 KiB':>8} {'cells KiB':>9} "
        f"{'overall cells':>13} {'profile s (v3 / v4)':>19} {'load s (v3 / v4)':>16}"
    )
    for rows in args.rows or [10_000, 100_000]:
        batch = frame(rows, 2, labelled=False)
        seconds = []
        for used in (plain, spec):
            start = time.perf_counter()
            profile = profile_frames(chunks(batch), used, reference.bins)
            seconds.append(time.perf_counter() - start)
        document = profile.to_dict()
        assert profile.score_cells is not None
        before, after = kib(without_cells(document)), kib(document)
        loading = []
        for stored in (json.dumps(without_cells(document)), json.dumps(document)):
            start = time.perf_counter()
            DatasetProfile.from_dict(json.loads(stored))
            loading.append(time.perf_counter() - start)
        print(
            f"{rows:>10,} {before:>8.0f} {after:>8.0f} {after - before:>9.0f} "
            f"{int(np.count_nonzero(profile.score_cells.counts)):>13,} "
            f"{seconds[0]:>10.2f} / {seconds[1]:.2f} {loading[0]:>9.3f} / {loading[1]:.3f}"
        )


if __name__ == "__main__":
    main()
