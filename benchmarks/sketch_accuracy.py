"""Accuracy of KS and Wasserstein computed from merged profiles (KLL sketches, k=1000).

Run from the repository root: ``python benchmarks/sketch_accuracy.py``. For 5 seeds x 3
distribution families, 300,000 values per side are profiled in 30 parts, the parts merged,
and the statistics from the merged sketches compared with scipy on the raw data.
"""

from __future__ import annotations

from functools import reduce

import numpy as np
import scipy.stats

from driftline.profile.numeric import NumericProfile
from driftline.stats import ks_statistic, wasserstein_distance


def merged(values: np.ndarray) -> NumericProfile:
    parts = [NumericProfile.from_values(p) for p in np.array_split(values, 30)]
    return reduce(NumericProfile.merge, parts)


def main() -> None:
    worst_ks = worst_w = 0.0
    print(f"{'seed':>4} {'family':<10} {'|dKS|':>9} {'|dW|/std':>9}")
    for seed in range(5):
        rng = np.random.default_rng(seed)
        for family in ("normal", "lognormal", "poisson"):
            if family == "normal":
                a, b = rng.normal(0, 1, 300_000), rng.normal(0.05, 1.1, 300_000)
            elif family == "lognormal":
                a, b = rng.lognormal(0, 1, 300_000), rng.lognormal(0.05, 1, 300_000)
            else:
                a = rng.poisson(3, 300_000).astype(float)
                b = rng.poisson(3.2, 300_000).astype(float)
            pa, pb = merged(a), merged(b)
            d_ks = abs(
                ks_statistic(pa.sample(), pb.sample()) - scipy.stats.ks_2samp(a, b).statistic
            )
            d_w = (
                abs(
                    wasserstein_distance(pa.sample(), pb.sample())
                    - scipy.stats.wasserstein_distance(a, b)
                )
                / a.std()
            )
            worst_ks, worst_w = max(worst_ks, d_ks), max(worst_w, d_w)
            print(f"{seed:>4} {family:<10} {d_ks:>9.5f} {d_w:>9.5f}")
    rank_error = pa.sketch.normalized_rank_error(False)
    print(
        f"\nworst |dKS| {worst_ks:.5f}  worst |dW|/std {worst_w:.5f}  "
        f"KLL normalised rank error (k=1000, 99% confidence) {rank_error:.5f}"
    )


if __name__ == "__main__":
    main()
