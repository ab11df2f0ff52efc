"""Which test of spread belongs beside KS and the binned test: power and calibration per test.

One numeric column's evidence is the Bonferroni combination of its tests, so a third test
pays for itself only if it sees what the other two miss and stays calibrated where the
decisions are made: at per-test levels of 1e-3 to 1e-4 (α = 0.01 shared by a family of tens
of tests), on real columns recorded on grids (years, codes, 0.1 mm) and with heavy tails.

For each data set of the alert-quality benchmark (:mod:`alert_data`, the same seeded
bootstrap null) and batch sizes of 200 and 1,000 rows, against a reference of 50,000 rows:

* **calibration**: on stationary batches, every numeric column's p-value from KS, the
  binned test, driftline's Ansari–Bradley (:mod:`driftline.stats.scale`), scipy's
  ``ansari`` and scipy's ``levene(center="median")`` (Brown–Forsythe); the share below
  1e-2, 1e-3 and 1e-4, as a ratio to the level (1 = calibrated; above 1 = false alarms);
* **power**: the numeric target's variance × 1.2 and × 1.5 (planted as in
  :mod:`alert_changes`), the share of batches each test finds at the per-test level of a
  numeric column in the harness's overall family (α 0.01 × half of α for the overall tests
  / the data set's features / three tests).

Run:  python benchmarks/spread_tests.py [--batches 300] [--output results/spread_tests]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import alert_changes  # noqa: E402
import alert_data  # noqa: E402

DATASETS = ("flights", "employment", "diamonds", "caravan")
SIZES = (200, 1000)
REFERENCE_ROWS = 50_000
LEVELS = (1e-2, 1e-3, 1e-4)
TESTS = ("ks", "binned", "scale", "scipy ansari", "brown-forsythe")


def p_values(reference: Any, current: Any) -> dict[str, float]:
    """Each test's p-value for one column (finite values of both sides)."""
    from scipy import stats

    from driftline.stats.base import FeatureDistributions, WeightedSample
    from driftline.stats.decision import measure_drift

    edges = np.unique(np.quantile(reference, np.linspace(0.1, 0.9, 9)))

    def counts(values: Any) -> Any:
        return np.bincount(
            np.searchsorted(edges, values, side="right"), minlength=edges.size + 1
        ).astype(float)

    measured = measure_drift(
        FeatureDistributions(
            "numeric",
            counts(reference),
            counts(current),
            WeightedSample.from_values(reference),
            WeightedSample.from_values(current),
            float(np.std(reference)),
        ),
        "ks",
    )
    parts = dict(measured.parts)
    return {
        "ks": parts["ks"],
        "binned": parts.get("binned", 1.0),
        "scale": parts["scale"],
        "scipy ansari": float(stats.ansari(current, reference).pvalue),
        "brown-forsythe": float(stats.levene(reference, current, center="median").pvalue),
    }


def column_values(frame: Any, column: str) -> Any:
    values = frame[column].to_numpy(dtype=float)
    return values[np.isfinite(values)]


def run(batches: int, seed: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for name in DATASETS:
        population = alert_data.load(name)
        frame = population.frame
        rng = np.random.default_rng([seed, DATASETS.index(name)])
        reference = frame.iloc[rng.integers(0, len(frame), REFERENCE_ROWS)].reset_index(drop=True)
        level = 0.01 * 0.5 / len(population.features) / 3
        for n in SIZES:
            null: dict[str, list[float]] = {test: [] for test in TESTS}
            for _ in range(batches):
                batch = frame.iloc[rng.integers(0, len(frame), n)].reset_index(drop=True)
                for column in population.numeric:
                    ref, cur = column_values(reference, column), column_values(batch, column)
                    if cur.size < 20 or np.ptp(ref) == 0:
                        continue
                    for test, p in p_values(ref, cur).items():
                        null[test].append(p)
            found: dict[str, dict[str, float]] = {}
            for size in (1.2, 1.5):
                change = alert_changes.Change("variance", size)
                hits = dict.fromkeys(TESTS, 0)
                for _ in range(batches):
                    batch = frame.iloc[rng.integers(0, len(frame), n)].reset_index(drop=True)
                    batch = alert_changes.apply(change, batch, population, rng)
                    target = population.numeric_target
                    measured = p_values(
                        column_values(reference, target), column_values(batch, target)
                    )
                    for test, p in measured.items():
                        hits[test] += p < level
                found[f"×{size:g}"] = {test: hits[test] / batches for test in TESTS}
            rows.append(
                {
                    "dataset": name,
                    "n": n,
                    "null_tests": len(null["ks"]),
                    "calibration": {
                        test: {f"{a:g}": float(np.mean(np.asarray(ps) < a) / a) for a in LEVELS}
                        for test, ps in null.items()
                    },
                    "null_counts": {
                        test: {f"{a:g}": int(np.sum(np.asarray(ps) < a)) for a in LEVELS}
                        for test, ps in null.items()
                    },
                    "level": level,
                    "target": population.numeric_target,
                    "power": found,
                }
            )
            print(f"{name} n={n}: done", flush=True)
    return {"rows": rows, "batches": batches, "seed": seed}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "### Calibration on stationary batches: false alarms / expected, at each level "
        "(counts in brackets)",
        "",
        "| data set | n | column tests | " + " | ".join(TESTS) + " |",
        "|---|---|---|" + "---|" * len(TESTS),
    ]
    for row in result["rows"]:
        cells = []
        for test in TESTS:
            ratios = row["calibration"][test]
            counts = row["null_counts"][test]
            cells.append(" / ".join(f"{ratios[f'{a:g}']:.2f} ({counts[f'{a:g}']})" for a in LEVELS))
        lines.append(
            f"| {row['dataset']} | {row['n']:,} | {row['null_tests']:,} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "Levels 1e-2 / 1e-3 / 1e-4.",
        "",
        "### Power: the numeric target's variance changed, share of batches found at the "
        "per-test level",
        "",
        "| data set (target) | n | change | level | " + " | ".join(TESTS) + " |",
        "|---|---|---|---|" + "---|" * len(TESTS),
    ]
    for row in result["rows"]:
        for change, shares in row["power"].items():
            lines.append(
                f"| {row['dataset']} ({row['target']}) | {row['n']:,} | {change} | "
                f"{row['level']:.2g} | "
                + " | ".join(f"{100 * shares[test]:.0f} %" for test in TESTS)
                + " |"
            )
    lines += [
        "",
        f"{result['batches']} batches per data set, size and case; reference {REFERENCE_ROWS:,} "
        f"rows; seed {result['seed']}; {result['seconds']:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(HERE / "results" / "spread_tests"))
    args = parser.parse_args()
    started = time.perf_counter()
    result = run(args.batches, args.seed)
    result["seconds"] = time.perf_counter() - started
    output = Path(args.output)
    output.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    text = markdown(result)
    output.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
