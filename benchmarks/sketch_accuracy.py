"""Accuracy of KS and Wasserstein computed from merged numeric profiles past the exact limit.

Run from the repository root: ``python benchmarks/sketch_accuracy.py`` (``--k 1000`` for
another top-level capacity). For 5 seeds x 3 distribution families (normal, lognormal σ = 1,
and lognormal rounded to integers: ties, and more distinct values than an exact sample
keeps), 300,000 values per side are profiled in 30 parts and merged in order, and the
statistics from the merged samples compared with scipy on the raw data. Then a window:
720 hourly parts of 2,000 values (1.44 M) per side. Each line also shows the bound the
profiles report (the sum of both ``rank_error()``, which KS must stay within), the largest
rank error actually found over every retained item, and the sketch's size.

The sketch is deterministic: the same run prints the same figures on any machine.
"""

from __future__ import annotations

import argparse
import json
from functools import reduce

import numpy as np
import scipy.stats

from driftline.profile.numeric import NumericProfile
from driftline.stats import ks_statistic, wasserstein_distance


def merged(values: np.ndarray, parts: int, k: int) -> NumericProfile:
    pieces = [NumericProfile.from_values(p, sketch_k=k) for p in np.array_split(values, parts)]
    return reduce(NumericProfile.merge, pieces)


def worst_rank_error(profile: NumericProfile, values: np.ndarray) -> float:
    sample = profile.sample()
    estimated = np.cumsum(sample.weights) / profile.n
    true = np.searchsorted(np.sort(values), sample.values, side="right") / values.size
    return float(np.abs(estimated - true).max())


def draw(family: str, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if family == "normal":
        return rng.normal(0, 1, size), rng.normal(0.05, 1.1, size)
    if family == "lognormal":
        return rng.lognormal(0, 1, size), rng.lognormal(0.05, 1, size)
    return np.round(rng.lognormal(0, 1, size) * 1000), np.round(rng.lognormal(0.05, 1, size) * 1000)


def line(label: str, a: np.ndarray, b: np.ndarray, parts: int, k: int) -> tuple[float, float]:
    pa, pb = merged(a, parts, k), merged(b, parts, k)
    d_ks = abs(ks_statistic(pa.sample(), pb.sample()) - scipy.stats.ks_2samp(a, b).statistic)
    exact_w = scipy.stats.wasserstein_distance(a, b)
    d_w = abs(wasserstein_distance(pa.sample(), pb.sample()) - exact_w) / a.std()
    bound = pa.rank_error() + pb.rank_error()
    found = max(worst_rank_error(pa, a), worst_rank_error(pb, b))
    size = len(json.dumps(pa.to_dict()["values"]))
    print(
        f"{label:<22} {d_ks:>9.5f} {bound:>9.5f} {found:>10.5f} {d_w:>9.5f} "
        f"{pa.sketch.retained:>9,} {size / 1024:>8.1f}"
    )
    assert d_ks <= bound, "KS outside the profiles' own bound"
    return d_ks, d_w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=NumericProfile.empty().sketch.k)
    args = parser.parse_args()
    worst: dict[str, tuple[float, float]] = {}
    print(
        f"{'seed / family':<22} {'|dKS|':>9} {'KS bound':>9} {'rank err':>10} {'|dW|/std':>9} "
        f"{'items':>9} {'KiB JSON':>8}"
    )
    for seed in range(5):
        rng = np.random.default_rng(seed)
        for family in ("normal", "lognormal", "rounded"):
            d_ks, d_w = line(f"{seed} {family}", *draw(family, 300_000, rng), 30, args.k)
            ks, w = worst.get(family, (0.0, 0.0))
            worst[family] = (max(ks, d_ks), max(w, d_w))
    rng = np.random.default_rng(99)
    a, b = rng.normal(0, 1, 1_440_000), rng.normal(0.01, 1, 1_440_000)
    line("window 720 x 2,000", a, b, 720, args.k)
    print()
    for family, (ks, w) in worst.items():
        print(f"worst {family:<10} |dKS| {ks:.5f}  |dW|/std {w:.5f}")


if __name__ == "__main__":
    main()
