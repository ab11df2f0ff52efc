"""Detection quality of driftline's streaming detectors, side by side with River's.

    python benchmarks/detection_quality.py            # 100 streams per scenario, ~1.5 min
    python benchmarks/detection_quality.py --quick    # 5 streams per scenario, ~5 s

Every stream has 10,000 values and, unless it is a control stream, a change starting at
position 5,000:

* **Bernoulli error streams** (0/1 error indicators, error rate 0.10 before the change) for
  DDM, EDDM, ADWIN, Page-Hinkley and SPRT (p0 = 0.10, p1 = 0.20: the known rate and a
  doubling of it, alpha = 0.001, beta = 0.1);
* **Gaussian streams** (unit variance, mean 0 before the change) for ADWIN, Page-Hinkley and
  CUSUM.

A change is *abrupt* (the new rate or mean from position 5,000 on) or *gradual* (a linear
ramp over positions 5,000-5,999), of three magnitudes: the error rate rises by 0.05, 0.10 or
0.20; the mean by 0.5, 1 or 2 standard deviations. Control streams never change. Every
detector runs with its defaults (SPRT has none for p0 and p1; CUSUM also runs with a wider
decision interval, threshold = 10), and River's ADWIN, DDM, EDDM and Page-Hinkley read the
very same streams.

For each detector and scenario:

* **delay**: values read from the change point up to and including the first detection at
  or after it (mean over the streams where it fired);
* **miss**: share of changed streams with no detection in the 5,000 values after the change;
* **false alarms / 10k**: detections before the change point, and anywhere in the control
  streams, per 10,000 values read there.

``agree`` says whether driftline's detector reported exactly River's detection indices on
every stream (for the four detectors River has).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "core"))

from driftline.detectors import make_detector

N, CHANGE, RAMP = 10_000, 5_000, 1_000
BASE_ERROR_RATE = 0.10
MAGNITUDES = {"bernoulli": (0.05, 0.10, 0.20), "gaussian": (0.5, 1.0, 2.0)}
KINDS = ("abrupt", "gradual")
SPRT_PARAMS = {"p0": 0.10, "p1": 0.20, "alpha": 0.001, "beta": 0.1}


def _river(path: str, **params: Any) -> Callable[[], Any]:
    def build() -> Any:
        import importlib

        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)(**params)

    return build


def _ours(name: str, **params: Any) -> Callable[[], Any]:
    return lambda: make_detector(name, **params)


#: (label, factory, River twin's label or None) per stream family, in table order.
CONTENDERS: dict[str, list[tuple[str, Callable[[], Any], str | None]]] = {
    "bernoulli": [
        ("ddm", _ours("ddm"), "river DDM"),
        ("river DDM", _river("river.drift.binary.DDM"), None),
        ("eddm", _ours("eddm"), "river EDDM"),
        ("river EDDM", _river("river.drift.binary.EDDM"), None),
        ("adwin", _ours("adwin"), "river ADWIN"),
        ("river ADWIN", _river("river.drift.ADWIN"), None),
        ("page_hinkley", _ours("page_hinkley"), "river PageHinkley"),
        ("river PageHinkley", _river("river.drift.PageHinkley"), None),
        ("sprt", _ours("sprt", **SPRT_PARAMS), None),
    ],
    "gaussian": [
        ("adwin", _ours("adwin"), "river ADWIN"),
        ("river ADWIN", _river("river.drift.ADWIN"), None),
        ("page_hinkley", _ours("page_hinkley"), "river PageHinkley"),
        ("river PageHinkley", _river("river.drift.PageHinkley"), None),
        ("cusum", _ours("cusum"), None),
        ("cusum threshold=10", _ours("cusum", threshold=10.0), None),
    ],
}


@dataclass(frozen=True)
class Scenario:
    family: str  # "bernoulli" or "gaussian"
    kind: str  # "abrupt", "gradual" or "control"
    magnitude: float  # 0 for control streams

    @property
    def label(self) -> str:
        if self.kind == "control":
            return "control"
        return f"{self.kind} +{self.magnitude:g}"


def scenarios(family: str) -> list[Scenario]:
    changed = [Scenario(family, k, m) for k in KINDS for m in MAGNITUDES[family]]
    return [*changed, Scenario(family, "control", 0.0)]


def stream(scenario: Scenario, seed: int) -> list[float]:
    """One seeded stream of the scenario (the same for every detector)."""
    family_id = 0 if scenario.family == "bernoulli" else 1
    kind_id = ("abrupt", "gradual", "control").index(scenario.kind)
    rng = np.random.default_rng([family_id, kind_id, int(scenario.magnitude * 100), seed])
    position = np.arange(N)
    if scenario.kind == "abrupt":
        profile = (position >= CHANGE).astype(float)
    elif scenario.kind == "gradual":
        profile = np.clip((position - CHANGE + 1) / RAMP, 0.0, 1.0)
    else:
        profile = np.zeros(N)
    if scenario.family == "bernoulli":
        rate = BASE_ERROR_RATE + scenario.magnitude * profile
        return [float(x) for x in (rng.random(N) < rate).astype(float)]
    return [float(x) for x in rng.normal(scenario.magnitude * profile, 1.0)]


def detections(detector: Any, values: Iterable[float]) -> list[int]:
    found = []
    for i, x in enumerate(values):
        detector.update(x)
        if detector.drift_detected:
            found.append(i)
    return found


@dataclass(frozen=True)
class Outcome:
    contender: str
    scenario: Scenario
    seed: int
    delay: int | None  # None: missed (or a control stream)
    false_alarms: int
    clean_values: int  # values before the change (all of a control stream)
    seconds: float
    indices: tuple[int, ...]


def run_stream(task: tuple[Scenario, int]) -> list[Outcome]:
    """Every contender of the family on one stream."""
    scenario, seed = task
    values = stream(scenario, seed)
    outcomes = []
    for label, factory, _ in CONTENDERS[scenario.family]:
        detector = factory()
        started = time.perf_counter()
        found = detections(detector, values)
        seconds = time.perf_counter() - started
        if scenario.kind == "control":
            delay, alarms, clean = None, len(found), N
        else:
            after = [i for i in found if i >= CHANGE]
            delay = after[0] - CHANGE + 1 if after else None
            alarms, clean = len(found) - len(after), CHANGE
        outcomes.append(Outcome(label, scenario, seed, delay, alarms, clean, seconds, tuple(found)))
    return outcomes


def summarise(family: str, outcomes: list[Outcome]) -> str:
    """The family's markdown table: delay (miss rate) per scenario, false alarms, speed."""
    by: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by[outcome.contender, outcome.scenario.label].append(outcome)
    changed = [s for s in scenarios(family) if s.kind != "control"]
    header = ["detector", *(s.label for s in changed), "false alarms / 10k", "µs / value"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, _, _ in CONTENDERS[family]:
        cells = [label]
        for scenario in changed:
            runs = by[label, scenario.label]
            delays = [r.delay for r in runs if r.delay is not None]
            miss = 1 - len(delays) / len(runs)
            mean = f"{np.mean(delays):,.0f}" if delays else "-"
            cells.append(f"{mean} ({miss:.0%})")
        mine = [o for o in outcomes if o.contender == label]
        alarms = sum(o.false_alarms for o in mine)
        clean = sum(o.clean_values for o in mine)
        cells.append(f"{alarms / clean * 10_000:.2f}")
        values = N * len(mine)
        cells.append(f"{sum(o.seconds for o in mine) / values * 1e6:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def agreement(family: str, outcomes: list[Outcome]) -> str:
    """Whether each driftline detector reported River's detection indices on every stream."""
    indices = {(o.contender, o.scenario, o.seed): o.indices for o in outcomes}
    parts = []
    for label, _, twin in CONTENDERS[family]:
        if twin is None:
            continue
        keys = [(s, seed) for (c, s, seed) in indices if c == label]
        same = sum(indices[label, s, seed] == indices[twin, s, seed] for s, seed in keys)
        parts.append(f"{label} = {twin} on {same}/{len(keys)} streams")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 seeds per scenario")
    parser.add_argument("--seeds", type=int, help="streams per scenario (default 100, quick 5)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args(argv)
    seeds = args.seeds or (5 if args.quick else 100)
    import river

    print(
        f"# {seeds} streams of {N:,} values per scenario, change at {CHANGE:,}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, river {river.__version__}"
    )
    started = time.perf_counter()
    for family in ("bernoulli", "gaussian"):
        tasks = [(scenario, seed) for scenario in scenarios(family) for seed in range(seeds)]
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            outcomes = [o for chunk in pool.map(run_stream, tasks, chunksize=4) for o in chunk]
        title = (
            f"Bernoulli error streams (rate {BASE_ERROR_RATE:g} before the change)"
            if family == "bernoulli"
            else "Gaussian streams (mean 0, sd 1 before the change)"
        )
        print(f"\n## {title}: mean delay (miss rate)\n")
        print(summarise(family, outcomes))
        print(f"\nagree: {agreement(family, outcomes)}")
    print(f"\n# {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
