"""Cost of a window evaluation: merge N daily profiles, then decide every check.

A scheduled evaluation never reads rows: it reads the stored profiles of the window's
batches, merges them and runs :func:`driftline.evaluation.evaluate`. This measures that for
windows of 1, 7, 30 and 365 daily profiles of a binary classifier with 20 features
(10 numeric, 10 categorical), 5 segments and performance profiles (labels, scores,
predictions, error slices by segment, hour and feature), under a monitor definition with
metric, drift, data-quality and detector checks (the detector check is ``skip`` in an
evaluation by design: detectors run on label arrival).

Three phases, each timed (best of the rounds, the sizes interleaved in every round):

* **load**: ``json.loads`` + ``DatasetProfile.from_dict`` of each stored profile (the S3
  GETs themselves are not included: they are requests, priced in the cost model);
* **merge**: ``reduce(DatasetProfile.merge, ...)``;
* **evaluate**: ``evaluate(...)`` and the result's ``to_dict()`` (what is stored as the
  report).

Distinct daily profiles are built from ``rows_per_day`` rows each (30 of them; longer windows
cycle through them: the merge cost depends on the profiles' structure, not their values).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import reduce
from pathlib import Path
from typing import Any

import bench_data
import harness

WINDOWS = (1, 7, 30, 365)
SEGMENTS = ("seg_a", "seg_b", "seg_c", "seg_d", "seg_e")
DISTINCT_DAYS = 30

DEFINITION = """
model: bench-window
schema:
  id: request_id
  timestamp: event_time
  task: binary_classification
  prediction: predicted
  score: score
  label: label
  positive_class: 1
  features: {FEATURES}
  segments: [segment]
baseline: {path: baselines/bench-window/reference.parquet}
drift:
  method: auto
  dataset_drift_share: 0.5
  features: {num_1: {method: psi, threshold: 0.2}}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
  - {name: f1-floor, metric: f1, min: 0.5}
  - {name: auc-drop, metric: auc, max_relative_drop: 0.05}
  - {name: log-loss-rise, metric: log_loss, max_relative_increase: 0.2}
  - {name: gini-a, metric: gini, segment: {segment: seg_a}, max_relative_drop: 0.05,
     action: retrain}
  - {name: gini-b, metric: gini, segment: {segment: seg_b}, max_relative_drop: 0.05,
     action: retrain}
  - {name: gini-c, metric: gini, segment: {segment: seg_c}, max_relative_drop: 0.05}
  - {name: gini-d, metric: gini, segment: {segment: seg_d}, max_relative_drop: 0.05}
  - {name: gini-e, metric: gini, segment: {segment: seg_e}, max_relative_drop: 0.05}
  - {name: input-drift, drift: dataset}
  - {name: input-drift-b, drift: dataset, segment: {segment: seg_b}}
  - {name: num-1-drift, drift: num_1}
  - {name: score-drift, drift: score}
  - {name: prediction-drift, drift: prediction}
  - {name: num-0-missing, quality: missing_share, feature: num_0, max: 0.02}
  - {name: cat-0-new, quality: new_category_share, feature: cat_0, max: 0.05}
  - {name: num-2-range, quality: out_of_range_share, feature: num_2, max: 0.05}
  - {name: volume, quality: volume_ratio, min: 0.5}
  - {name: bad-rows, quality: bad_row_share, max: 0.01}
  - {name: error-adwin, detector: adwin, signal: error, action: emergency_retrain}
windows: [P1D, P7D, P30D]
"""


#: Checks on the estimate, added for the comparison with and without estimates.
ESTIMATED_CHECKS = """
  - {name: auc-est, metric: auc, estimated: true, min: 0.7}
  - {name: accuracy-est, metric: accuracy, estimated: true, min: 0.7}
  - {name: gini-a-est, metric: gini, estimated: true, segment: {segment: seg_a},
     max_relative_drop: 0.05}
"""


def definition(*, estimated_checks: bool = False) -> Any:
    from driftline.config import load_monitor_definition

    features = {**dict.fromkeys(bench_data.NUMERIC, "numeric")}
    features.update(dict.fromkeys(bench_data.CATEGORICAL, "categorical"))
    text = DEFINITION.replace("{FEATURES}", json.dumps(features))
    if estimated_checks:
        text = text.replace("windows: [P1D", ESTIMATED_CHECKS.lstrip("\n") + "windows: [P1D")
    return load_monitor_definition(text, source="bench-window.yaml")


def without_estimates(stored: list[str]) -> list[str]:
    """The same stored profiles without what only the estimate reads (the score cells,
    overall and per segment): what a profile held before estimates existed."""

    def strip(document: dict[str, Any]) -> dict[str, Any]:
        document.pop("score_cells", None)
        for segment in document.get("segments", {}).values():
            strip(segment)
        return document

    return [json.dumps(strip(json.loads(text))) for text in stored]


def estimate_cost(*, rounds: int = 5, rows_per_day: int = 20_000, days: int = 30) -> dict[str, Any]:
    """A ``days``-day window of unlabelled inference batches evaluated with estimates (the
    score cells stored, the estimate and three estimated checks decided) and without (the
    same profiles without score cells: the estimate is skip), interleaved ``rounds`` times;
    the best of each phase."""
    from driftline.evaluation import profile_spec
    from driftline.profile.dataset import build_reference, profile_frame

    monitor = definition(estimated_checks=True)
    spec = profile_spec(monitor)
    baseline = labelled_frame(max(rows_per_day, 1000), day=-1, shift=0.0)
    reference = build_reference(lambda: [baseline], spec, bins=10)
    with_cells = []
    for day in range(days):
        unlabelled = labelled_frame(rows_per_day, day=day, shift=0.1).drop(columns=["label"])
        with_cells.append(json.dumps(profile_frame(unlabelled, spec, reference.bins).to_dict()))
    variants = {"with estimates": with_cells, "without": without_estimates(with_cells)}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for stored in variants.values():  # warm up: imports and first calls are not timed
        evaluate_window(monitor, reference, stored)
    for _ in range(rounds):
        for name, stored in variants.items():
            runs[name].append(evaluate_window(monitor, reference, stored))
    best: dict[str, dict[str, Any]] = {}
    for name, measured in runs.items():
        chosen = dict(measured[0])
        for phase in ("load_seconds", "merge_seconds", "evaluate_seconds", "seconds"):
            chosen[phase] = min(run[phase] for run in measured)
        chosen["total_seconds"] = min(run["total_seconds"] for run in measured)
        best[name] = chosen
    with_result = evaluate_window(monitor, reference, with_cells)
    return {
        "rows_per_day": rows_per_day,
        "days": days,
        "rounds": rounds,
        "variants": best,
        "estimated_statuses": _estimated_statuses(monitor, reference, with_cells),
        "checks": with_result["checks"],
    }


def _estimated_statuses(monitor: Any, reference: Any, stored: list[str]) -> dict[str, str]:
    """The estimated checks' statuses on the window (they must decide, not skip)."""
    from driftline.evaluation import Window, evaluate
    from driftline.profile.dataset import DatasetProfile

    current = reduce(
        DatasetProfile.merge, [DatasetProfile.from_dict(json.loads(t)) for t in stored]
    )
    result = evaluate(monitor, reference, current, evaluation_id="b", window=Window("s", "e"))
    return {check.name: check.status for check in result.checks if check.name.endswith("-est")}


def render_estimates(result: dict[str, Any], target_ratio: float = 1.2) -> str:
    rows = []
    for name, measured in result["variants"].items():
        rows.append(
            [
                name,
                harness.seconds(measured["load_seconds"]),
                harness.seconds(measured["merge_seconds"]),
                harness.seconds(measured["evaluate_seconds"]),
                harness.seconds(measured["total_seconds"]),
                f"{measured['profile_bytes'] / 1024:,.0f}",
            ]
        )
    with_, without = result["variants"]["with estimates"], result["variants"]["without"]
    ratio = with_["total_seconds"] / without["total_seconds"]
    lines = [
        harness.table(
            [
                "30-day window",
                "load s",
                "merge s",
                "evaluate s",
                "load + merge + evaluate s",
                "KiB per stored profile",
            ],
            rows,
        ),
        f"\n{result['days']} daily inference batches of {result['rows_per_day']:,} rows, "
        f"{result['checks']} checks, best of {result['rounds']} (interleaved); the estimated "
        f"checks: {result['estimated_statuses']}.",
        f"Target: with estimates ≤ {target_ratio:g} × without: {ratio:.2f} × "
        f"({harness.verdict(ratio <= target_ratio)}).",
    ]
    return "\n".join(lines)


def labelled_frame(rows: int, *, day: int, shift: float) -> Any:
    """Features, a segment, an event time, a score, a prediction and the label."""
    import numpy as np
    import pandas as pd

    frame = bench_data.frame(rows, shift=shift, seed=10_000 + day)
    rng = np.random.default_rng(20_000 + day)
    frame["request_id"] = [f"r{day}-{i}" for i in range(rows)]
    seconds = rng.integers(0, 86_400, rows)
    stamps = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(day, unit="D")
    frame["event_time"] = (stamps + pd.to_timedelta(seconds, unit="s")).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    frame["segment"] = np.asarray(SEGMENTS, dtype=object)[rng.integers(0, len(SEGMENTS), rows)]
    logit = 0.8 * frame["num_0"].to_numpy() - 0.5 * frame["num_3"].to_numpy() - 1.0
    score = 1 / (1 + np.exp(-logit))
    frame["score"] = np.round(score, 4)
    frame["predicted"] = (score >= 0.5).astype(int)
    frame["label"] = (rng.random(rows) < score).astype(int)
    return frame


def build(
    rows_per_day: int, distinct: int = DISTINCT_DAYS
) -> tuple[Any, Any, list[str], list[str]]:
    """The definition, the reference, ``distinct`` daily profiles of labelled rows and as
    many profiles of inference batches (the same rows without the label), as stored JSON."""
    from driftline.evaluation import profile_spec
    from driftline.profile.dataset import build_reference, profile_frame

    monitor = definition()
    spec = profile_spec(monitor)
    baseline = labelled_frame(max(rows_per_day, 1000), day=-1, shift=0.0)
    reference = build_reference(lambda: [baseline], spec, bins=10)
    days, batches = [], []
    for day in range(distinct):
        frame = labelled_frame(rows_per_day, day=day, shift=0.1)
        days.append(json.dumps(profile_frame(frame, spec, reference.bins).to_dict()))
        unlabelled = frame.drop(columns=["label"])
        batches.append(json.dumps(profile_frame(unlabelled, spec, reference.bins).to_dict()))
    return monitor, reference, days, batches


def load_and_merge(stored: list[str]) -> float:
    """Seconds to load and merge ``stored`` profiles."""
    from driftline.profile.dataset import DatasetProfile

    start = time.perf_counter()
    profiles = [DatasetProfile.from_dict(json.loads(text)) for text in stored]
    reduce(DatasetProfile.merge, profiles)
    return time.perf_counter() - start


def held_memory_mib(stored: list[str]) -> float:
    """MiB of memory per loaded profile while all of ``stored`` are held (as the evaluate
    job holds a window's profiles before merging them), measured in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "profiles.json"
        path.write_text(json.dumps(stored), encoding="utf-8")
        result = harness.run_script("window_eval.py", "--memory-of", str(path))
    return float(result["mib_per_profile"])


def _memory_child(path: Path) -> dict[str, float]:
    from driftline.profile.dataset import DatasetProfile

    stored = json.loads(path.read_text(encoding="utf-8"))
    before = harness.current_rss_mib()
    profiles = [DatasetProfile.from_dict(json.loads(text)) for text in stored]
    held = harness.current_rss_mib() - before
    return {"mib_per_profile": held / len(profiles)}


def evaluate_window(monitor: Any, reference: Any, stored: list[str]) -> dict[str, Any]:
    """One window evaluation, timed by phase."""
    from driftline.evaluation import Window, evaluate
    from driftline.profile.dataset import DatasetProfile

    start = time.perf_counter()
    profiles = [DatasetProfile.from_dict(json.loads(text)) for text in stored]
    loaded = time.perf_counter()
    current = reduce(DatasetProfile.merge, profiles)
    merged = time.perf_counter()
    result = evaluate(
        monitor, reference, current, evaluation_id="bench", window=Window("start", "end")
    )
    document = result.to_dict()
    end = time.perf_counter()
    return {
        "load_seconds": loaded - start,
        "merge_seconds": merged - loaded,
        "evaluate_seconds": end - merged,
        "seconds": end - loaded,
        "total_seconds": end - start,
        "rows": current.rows,
        "checks": len(document["checks"]),
        "statuses": sorted({check["status"] for check in document["checks"]}),
        "profile_bytes": sum(len(text) for text in stored) / len(stored),
        "figures": _figure_count(document),
        "emf_metrics": _emf_count(document),
    }


def _figure_count(document: dict[str, Any]) -> int:
    """How many metric items the evaluate job stores for this result
    (driftline.aws.jobs.windows._store_metrics)."""
    performance = document["performance"]
    count = len(performance.get("overall", {}))
    count += sum(len(values) for values in performance.get("segments", {}).values())
    count += sum(
        1
        for feature in document["drift"]["features"].values()
        if feature.get("statistic") is not None
    )
    return count + 2  # share drifted, rows


def _emf_count(document: dict[str, Any]) -> int:
    """How many CloudWatch metrics the evaluate job emits per window (the overall figures)."""
    count = len(document["performance"].get("overall", {}))
    count += sum(
        1
        for feature in document["drift"]["features"].values()
        if feature.get("statistic") is not None
    )
    return count + 2


def run(
    *,
    rounds: int = 3,
    rows_per_day: int = 20_000,
    windows: tuple[int, ...] = WINDOWS,
    once_from: int = 365,
) -> dict[str, Any]:
    """Every window size, ``rounds`` times interleaved; the best of each phase. Windows of
    ``once_from`` profiles or more are measured in the first round only (they take tens of
    seconds, so noise matters less than the time)."""
    started = time.perf_counter()
    monitor, reference, days, batches = build(rows_per_day, min(DISTINCT_DAYS, max(windows)))
    built = time.perf_counter() - started
    labelled_cost = [load_and_merge(days)]
    batch_cost = [load_and_merge(batches)]
    memory = {"labelled": held_memory_mib(days), "batch": held_memory_mib(batches)}
    runs: dict[int, list[dict[str, Any]]] = {size: [] for size in windows}
    for round_number in range(rounds):
        for size in windows:
            if size >= once_from and round_number > 0:
                continue
            stored = [days[day % len(days)] for day in range(size)]
            runs[size].append(evaluate_window(monitor, reference, stored))
        if round_number:
            labelled_cost.append(load_and_merge(days))
            batch_cost.append(load_and_merge(batches))
    best = {}
    for size, measured in runs.items():
        chosen = dict(measured[0])
        for phase in ("load_seconds", "merge_seconds", "evaluate_seconds", "seconds"):
            chosen[phase] = min(run[phase] for run in measured)
        chosen["total_seconds"] = min(run["total_seconds"] for run in measured)
        chosen["runs"] = len(measured)
        best[str(size)] = chosen
    return {
        "rows_per_day": rows_per_day,
        "segments": len(SEGMENTS),
        "rounds": rounds,
        "build_seconds": built,
        "windows": best,
        "per_profile": {
            kind: {
                "seconds": min(cost) / len(stored),
                "mib": memory[kind],
                "bytes": sum(len(text) for text in stored) / len(stored),
            }
            for kind, cost, stored in (
                ("labelled", labelled_cost, days),
                ("batch", batch_cost, batches),
            )
        },
    }


def render(result: dict[str, Any], target_seconds: float = 0.2) -> str:
    rows = []
    for size, measured in result["windows"].items():
        rows.append(
            [
                size + ("" if measured["runs"] == result["rounds"] else " (1 run)"),
                f"{measured['rows']:,}",
                harness.seconds(measured["load_seconds"]),
                harness.seconds(measured["merge_seconds"]),
                harness.seconds(measured["evaluate_seconds"]),
                harness.seconds(measured["seconds"]),
                harness.seconds(measured["total_seconds"]),
            ]
        )
    thirty = result["windows"].get("30")
    lines = [
        harness.table(
            [
                "daily profiles",
                "rows",
                "load s",
                "merge s",
                "evaluate s",
                "merge + evaluate s",
                "load + merge + evaluate s",
            ],
            rows,
        )
    ]
    any_window = next(iter(result["windows"].values()))
    lines.append(
        f"\n{result['rows_per_day']:,} rows a day, {result['segments']} segments, "
        f"{any_window['checks']} checks ({', '.join(any_window['statuses'])}), "
        f"a stored daily profile ≈ {any_window['profile_bytes'] / 1024:,.0f} KiB of JSON, "
        f"{any_window['figures']} figures stored per evaluation; best of {result['rounds']}."
    )
    for kind, label in (("labelled", "labelled rows"), ("batch", "an inference batch")):
        cost = result["per_profile"][kind]
        lines.append(
            f"Per stored profile of {label} ({result['rows_per_day']:,} rows, 5 segments): "
            f"{cost['bytes'] / 1024:,.0f} KiB of JSON, load + merge {cost['seconds'] * 1000:.0f} "
            f"ms, {cost['mib']:.1f} MiB of memory while held."
        )
    if thirty:
        lines.append(
            f"Target: 30-day window ≤ {target_seconds} s: merge + evaluate "
            f"{thirty['seconds']:.3f} s ({harness.verdict(thirty['seconds'] <= target_seconds)}); "
            f"with loading the 30 stored profiles {thirty['total_seconds']:.3f} s "
            f"({harness.verdict(thirty['total_seconds'] <= target_seconds)})."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows-per-day", type=int, default=20_000)
    parser.add_argument(
        "--estimates",
        action="store_true",
        help="a 30-day window of inference batches with estimates against without",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-of", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_of:
        print(json.dumps(_memory_child(args.memory_of)))
        return
    if args.estimates:
        print(render_estimates(estimate_cost(rounds=args.rounds, rows_per_day=args.rows_per_day)))
        return
    print(render(run(rounds=args.rounds, rows_per_day=args.rows_per_day)))


if __name__ == "__main__":
    main()
