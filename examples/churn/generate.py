"""Generate the churn example: a baseline month and a drifted month (seeded, reproducible).

Run from the repository root: ``python examples/churn/generate.py``. The files it writes are
committed, so the quickstart needs no generation step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def month(rng: np.random.Generator, rows: int, *, drifted: bool) -> pd.DataFrame:
    tenure = rng.gamma(2.0, 12.0, rows).round(1)
    charges = rng.normal(70 if not drifted else 82, 15, rows).round(2)
    plans = rng.choice(["basic", "plus", "premium"], rows, p=[0.5, 0.3, 0.2])
    regions = ["north", "south", "east", "west"] + (["online-only"] if drifted else [])
    weights = [0.3, 0.3, 0.2, 0.2] if not drifted else [0.25, 0.25, 0.15, 0.15, 0.2]
    region = rng.choice(regions, rows, p=weights)
    logit = -1.5 - 0.04 * tenure + 0.03 * (charges - 70) + (plans == "basic") * 0.6
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    score = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.5, rows))))
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{index:06d}" for index in range(rows)],
            "tenure_months": tenure,
            "monthly_charges": charges,
            "plan": plans,
            "region": region,
            "churn_score": score.round(4),
            "churn_predicted": (score >= 0.5).astype(int),
            "churned": churned.astype(int),
        }
    )
    if drifted:
        frame.loc[rng.random(rows) < 0.08, "tenure_months"] = np.nan
    return frame


def main() -> None:
    rng = np.random.default_rng(20261125)
    month(rng, 5000, drifted=False).to_csv(HERE / "reference.csv", index=False)
    month(rng, 4000, drifted=True).to_csv(HERE / "current.csv", index=False)


if __name__ == "__main__":
    main()
