"""What the benchmarks share: paths, child processes, peak memory, best-of, tables.

Every timed contender runs in a fresh child process (``python <script> --child ...``) that
prints one JSON line as its last output, so its peak resident set is its own and one
contender's imports or garbage never weigh on another's. The parent interleaves the
contenders round by round and keeps the best time of each: on a shared, noisy machine the
best of N is the least disturbed run, and ratios from one run are what compare.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORE = REPO / "layers" / "core"
DATA = HERE / "data"
RESULTS = HERE / "results"

if str(CORE) not in sys.path:
    sys.path.insert(0, str(CORE))


def peak_rss_mib() -> float:
    """Peak resident set of this process in MiB.

    VmHWM rather than ``ru_maxrss``: on Linux ``ru_maxrss`` survives ``exec``, so a child
    would report its parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    """Resident set of this process now, in MiB (NaN where /proc is not there)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def child_environment() -> dict[str, str]:
    """The environment of a child: driftline importable from the work tree, quiet pip."""
    env = dict(os.environ)
    paths = [str(CORE), str(HERE), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    return env


def run_child(
    command: Sequence[str], *, timeout: float = 3600, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run a child process and return the JSON object on the last line of its output.

    Raises:
        RuntimeError: the child failed or printed no JSON (its stderr's tail is attached).
    """
    completed = subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=dict(env) if env is not None else child_environment(),
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise RuntimeError(
            f"{' '.join(command[:3])} ... exited {completed.returncode}: {completed.stderr[-2000:]}"
        )
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def run_script(script: str, *arguments: str, timeout: float = 3600) -> dict[str, Any]:
    """``python benchmarks/<script> --child <arguments>`` with this interpreter."""
    return run_child([sys.executable, str(HERE / script), "--child", *arguments], timeout=timeout)


def best(runs: Iterable[Mapping[str, Any]], key: str = "seconds") -> dict[str, Any]:
    """The run with the smallest ``key``, with the largest peak RSS of all runs attached
    (memory does not vary with noise the way time does; the worst is the honest figure)."""
    runs = list(runs)
    chosen = dict(min(runs, key=lambda run: run[key]))
    peaks = [run["peak_rss_mib"] for run in runs if "peak_rss_mib" in run]
    if peaks:
        chosen["peak_rss_mib"] = max(peaks)
    chosen["runs"] = len(runs)
    return chosen


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub markdown table (cells already formatted as text)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def seconds(value: float) -> str:
    return f"{value:.3f}" if value < 100 else f"{value:,.1f}"


def ratio(value: float) -> str:
    return f"{value:.2f}×" if value < 100 else f"{value:,.0f}×"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import numpy
    import pandas

    versions = f"numpy {numpy.__version__}, pandas {pandas.__version__}"
    try:
        import pyarrow

        versions += f", pyarrow {pyarrow.__version__}"
    except ImportError:
        pass
    return {
        "python": platform.python_version(),
        "cpus": str(os.cpu_count()),
        "platform": platform.platform(terse=True),
        "versions": versions,
    }
