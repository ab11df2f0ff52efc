"""Profile + drift of 1M x 20 rows: this tree against another checkout, side by side.

Run from the repository root::

    git archive <commit> | tar -x -C /tmp/before      # the code to compare with
    python benchmarks/side_by_side.py --before /tmp/before --rounds 5

Alternates, round by round, a fresh ``profile_drift.py --child driftline`` process of each
tree (each with its own ``benchmarks/data`` cache: run ``profile_drift.py`` once in each
first), so both see the same machine load; prints the best and median seconds, every run,
the largest peak RSS and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


def load() -> str:
    return Path("/proc/loadavg").read_text(encoding="ascii").strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": Path(__file__).resolve().parents[1]}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    print("load average:", load(), flush=True)
    for round_number in range(args.rounds):
        for name, root in trees.items():
            env = {**os.environ, "PYTHONPATH": str(root / "layers" / "core")}
            completed = subprocess.run(
                [sys.executable, str(root / "benchmarks" / "profile_drift.py"), "--child",
                 "driftline"],
                capture_output=True, text=True, check=True, env=env, cwd=root,
            )  # fmt: skip
            runs[name].append(json.loads(completed.stdout.strip().splitlines()[-1]))
        print(f"round {round_number + 1}: load average {load()}", flush=True)
    for name, results in runs.items():
        seconds = sorted(run["seconds"] for run in results)
        print(
            f"{name:<7} best {seconds[0]:.3f} s, median {seconds[len(seconds) // 2]:.3f} s, "
            f"all {[round(s, 3) for s in seconds]}, peak RSS "
            f"{max(run['peak_rss_mib'] for run in results):.0f} MiB, "
            f"drifted {int(results[0]['drifted'])}"
        )


if __name__ == "__main__":
    main()
