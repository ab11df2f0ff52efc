"""Profile + drift throughput and peak memory, and the side-by-side comparison at 1M rows.

One interleaved schedule serves both tables: in every round, for every current file (100k
and 1M rows, and 10M with ``full``; CSV and parquet), the floor runs and then driftline; on
the 1M-row parquet file the fastparquet reader (as on Lambda), the naive scipy baseline and
(in the first ``evidently_rounds`` rounds) Evidently run too. Every run is a fresh process
(:mod:`contenders`); the tables show the best time of the rounds and the largest peak RSS.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import bench_data
import contenders
import harness

SIZES = (100_000, 1_000_000)
FULL_SIZE = 10_000_000
COMPARISON_ROWS = 1_000_000
FORMATS = ("csv", "parquet")


def plan(
    sizes: tuple[int, ...],
    *,
    round_number: int,
    evidently_rounds: int,
    comparison_rows: int = COMPARISON_ROWS,
) -> list[tuple[str, int, str]]:
    """The (kind, rows, format) runs of one round, in order."""
    runs = []
    for rows in sizes:
        for fmt in FORMATS:
            runs += [("floor", rows, fmt), ("driftline", rows, fmt)]
        if rows == comparison_rows:
            runs += [("floor", rows, "parquet-fp"), ("driftline", rows, "parquet-fp")]
            runs.append(("scipy", rows, "parquet"))
            if round_number < evidently_rounds:
                runs.append(("evidently", rows, "parquet"))
    return runs


def run(
    *,
    sizes: tuple[int, ...] = SIZES,
    rounds: int = 3,
    evidently_rounds: int = 1,
    data: Path | None = None,
    columns: bool = True,
    comparison_rows: int = COMPARISON_ROWS,
    reference_rows: int = bench_data.REFERENCE_ROWS,
) -> dict[str, Any]:
    """Generate what is missing, run the schedule, keep every run."""
    data = data or harness.DATA
    started = time.perf_counter()
    bench_data.ensure_reference(data, reference_rows)
    for rows in sizes:
        for fmt in FORMATS:
            bench_data.ensure_current(rows, fmt, data)
    generated = time.perf_counter() - started
    evidently_note = "not run"
    python = None
    if evidently_rounds and comparison_rows in sizes:
        python, evidently_note = contenders.evidently_python()
    runs: dict[str, list[dict[str, Any]]] = {}
    for round_number in range(rounds):
        for kind, rows, fmt in plan(
            sizes,
            round_number=round_number,
            evidently_rounds=evidently_rounds,
            comparison_rows=comparison_rows,
        ):
            key = f"{kind}/{rows}/{fmt}"
            if kind == "evidently":
                if python is None:
                    continue
                try:
                    result = contenders.run_evidently(python, rows, data)
                except RuntimeError as exc:
                    evidently_note = f"failed: {str(exc)[-300:]}"
                    python = None
                    continue
            else:
                result = contenders.measure(kind, rows, fmt, data)
            runs.setdefault(key, []).append(result)
        print(f"  throughput round {round_number + 1}/{rounds} done", flush=True)
    by_columns = None
    if columns and comparison_rows in sizes:
        by_columns = contenders.measure("columns", comparison_rows, "parquet", data)
    return {
        "sizes": list(sizes),
        "comparison_rows": comparison_rows,
        "rounds": rounds,
        "evidently_rounds": evidently_rounds,
        "evidently_note": evidently_note,
        "generate_seconds": generated,
        "best": {key: harness.best(measured) for key, measured in runs.items()},
        "columns": by_columns,
    }


def _cell(best: dict[str, Any], key: str) -> dict[str, Any] | None:
    return best.get(key)


def render_throughput(result: dict[str, Any]) -> str:
    best = result["best"]
    rows = []
    for size in result["sizes"]:
        for fmt in (*FORMATS, "parquet-fp"):
            floor, ours = _cell(best, f"floor/{size}/{fmt}"), _cell(best, f"driftline/{size}/{fmt}")
            if floor is None or ours is None:
                continue
            label = "parquet, fastparquet reader (as on Lambda)" if fmt == "parquet-fp" else fmt
            rows.append(
                [
                    f"{size:,}",
                    label,
                    harness.seconds(floor["seconds"]),
                    harness.seconds(ours["seconds"]),
                    f"{size / ours['seconds']:,.0f}",
                    harness.ratio(ours["seconds"] / floor["seconds"]),
                    f"{floor['peak_rss_mib']:,.0f}",
                    f"{ours['peak_rss_mib']:,.0f}",
                    harness.ratio(ours["peak_rss_mib"] / floor["peak_rss_mib"]),
                ]
            )
    lines = [
        harness.table(
            [
                "rows",
                "format",
                "floor s",
                "driftline s",
                "driftline rows/s",
                "time ÷ floor",
                "floor peak MiB",
                "driftline peak MiB",
                "memory ÷ floor",
            ],
            rows,
        )
    ]
    million = _cell(best, f"driftline/{result['comparison_rows']}/parquet")
    if million:
        lines.append(
            f"\ndriftline at {result['comparison_rows']:,} rows, parquet: reference profile "
            f"{million['reference_seconds']:.3f} s, "
            f"profile {million['profile_seconds']:.3f} s, drift of 20 features "
            f"{million['drift_seconds']:.3f} s; {million['drifted']} of 20 drifted. "
            f"Best of {result['rounds']} fresh processes each; peak = the largest VmHWM."
        )
    columns = result.get("columns")
    if columns:
        by = columns["by_columns"]
        cells = ", ".join(
            f"{count} columns {seconds:.3f} s ({seconds / int(count) * 1000:.0f} ms per column)"
            for count, seconds in by.items()
        )
        lines.append(
            f"Columns ({result['comparison_rows']:,} rows already in memory, half numeric, "
            f"profile + drift): {cells}."
        )
    return "\n".join(lines)


def render_comparison(result: dict[str, Any]) -> str:
    best = result["best"]
    size = result["comparison_rows"]
    ours = _cell(best, f"driftline/{size}/parquet")
    floor = _cell(best, f"floor/{size}/parquet")
    if ours is None or floor is None:
        return f"(not run: needs the {size:,}-row files)"
    entries = [
        ("bare one-pass floor (histogram / value_counts, current file only)", floor),
        ("driftline (stored reference profile + current file)", ours),
        (
            "naive scipy on raw data (ks_2samp, chi2_contingency; both files)",
            _cell(best, f"scipy/{size}/parquet"),
        ),
        ("Evidently DataDriftPreset (both files)", _cell(best, f"evidently/{size}/parquet")),
    ]
    rows = []
    for label, measured in entries:
        if measured is None:
            rows.append([label, "-", "-", "-", "-", "-", result["evidently_note"]])
            continue
        compute = measured.get("compute_seconds")
        rows.append(
            [
                label,
                harness.seconds(measured["seconds"]),
                harness.seconds(compute) if compute is not None else "-",
                f"{measured['peak_rss_mib']:,.0f}",
                harness.ratio(measured["seconds"] / ours["seconds"]),
                str(measured.get("drifted", "-")),
                f"best of {measured['runs']}",
            ]
        )
    lines = [
        harness.table(
            [
                f"contender ({size:,} × 20, parquet)",
                "seconds",
                "of which compute s",
                "peak MiB",
                "÷ driftline",
                "drifted",
                "runs",
            ],
            rows,
        )
    ]
    evidently = _cell(best, f"evidently/{size}/parquet")
    time_ratio = ours["seconds"] / floor["seconds"]
    memory_ratio = ours["peak_rss_mib"] / floor["peak_rss_mib"]
    targets = [
        f"driftline ≤ 2× the floor's time: {time_ratio:.2f}× ({harness.verdict(time_ratio <= 2)})",
        f"peak memory ≤ 1.5× the floor's: {memory_ratio:.2f}× "
        f"({harness.verdict(memory_ratio <= 1.5)})",
    ]
    if evidently:
        speedup = evidently["seconds"] / ours["seconds"]
        compute_only = evidently["compute_seconds"] / ours["seconds"]
        targets.insert(
            0,
            f"≥ 30× faster than Evidently: {speedup:.0f}× end to end, {compute_only:.0f}× "
            f"against Evidently's compute alone ({harness.verdict(compute_only >= 30)}); "
            f"{evidently.get('versions', '')}, methods {', '.join(evidently.get('methods', []))}",
        )
    else:
        targets.insert(0, f"Evidently: {result['evidently_note']}")
    lines.append("\nTargets: " + "; ".join(targets) + ".")
    return "\n".join(lines)
