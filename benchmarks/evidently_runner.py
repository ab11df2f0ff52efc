"""Evidently's DataDriftPreset on a reference/current parquet pair, timed in this process.

Runs inside its own virtual environment (Evidently 0.7 does not import under pandas 3), so
it imports nothing from driftline and only the standard library at module level. Started
by ``benchmarks/contenders.py`` as::

    /tmp/evidently-venv/bin/python benchmarks/evidently_runner.py \
        REFERENCE CURRENT NUMERIC CATEGORICAL

where NUMERIC and CATEGORICAL are comma-separated column names. Prints one JSON line:
read and compute seconds, the total, how many columns Evidently found drifted with which
methods, the versions, and this process's peak resident set (VmHWM).
"""

from __future__ import annotations

import json
import sys
import time


def peak_rss_mib() -> float:
    """Peak resident set of this process in MiB (VmHWM: reset by exec, unlike ru_maxrss)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def summary(snapshot: object) -> tuple[int, list[str]]:
    """Columns Evidently reports as drifted (its DriftedColumnsCount metric) and the drift
    methods it chose per column (its ValueDrift metrics)."""
    drifted, methods = -1, set()
    for metric in snapshot.dict().get("metrics", []):  # type: ignore[attr-defined]
        name = str(metric.get("metric_name", ""))
        if name.startswith("DriftedColumnsCount") and isinstance(metric.get("value"), dict):
            drifted = int(metric["value"].get("count", -1))
        elif name.startswith("ValueDrift"):
            methods.add(str(metric.get("config", {}).get("method")))
    return drifted, sorted(methods)


def main(argv: list[str]) -> None:
    reference_path, current_path, numeric, categorical = argv
    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=numeric.split(","), categorical_columns=categorical.split(",")
    )
    start = time.perf_counter()
    reference = pd.read_parquet(reference_path)
    current = pd.read_parquet(current_path)
    read = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(current, data_definition=definition),
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
    )
    end = time.perf_counter()
    drifted, methods = summary(snapshot)
    print(
        json.dumps(
            {
                "seconds": end - start,
                "read_seconds": read - start,
                "compute_seconds": end - read,
                "rows": len(current),
                "drifted": drifted,
                "methods": methods,
                "peak_rss_mib": peak_rss_mib(),
                "versions": f"evidently {evidently.__version__}, pandas {pd.__version__}",
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
