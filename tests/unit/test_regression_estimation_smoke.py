"""The regression estimation benchmark (benchmarks/regression_estimation.py) on a small data
set made in the test with the columns of NannyML's car-price data (NannyML itself is not run
here: it needs its own virtual environment)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import regression_estimation as bench  # noqa: E402


def rows(count: int, seed: int) -> pd.DataFrame:
    """Cars whose price error grows with the predicted price and the car's age."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "car_age": rng.integers(0, 20, count).astype(float),
            "km_driven": rng.uniform(0, 200_000, count),
            "price_new": rng.uniform(10_000, 50_000, count),
            "accident_count": rng.integers(0, 5, count).astype(float),
            "door_count": rng.choice([2.0, 4.0, 5.0], count),
            "fuel": rng.choice(["gas", "diesel", "electric"], count),
            "transmission": rng.choice(["manual", "automatic"], count),
        }
    )
    frame["y_pred"] = rng.uniform(500, 10_000, count)
    scale = 0.1 * frame["y_pred"] * (1 + frame["car_age"] / 20)
    frame["y_true"] = frame["y_pred"] + rng.normal(size=count) * scale
    return frame


def test_the_benchmark_runs_and_reports_every_setting_size_and_metric() -> None:
    # GIVEN a small reference and analysis part of the data set's shape, the same process
    small = bench.Dataset(
        "small", bench.FEATURES, lambda: (rows(20_000, 1), rows(20_000, 2)), "made here"
    )

    # WHEN the benchmark runs without NannyML
    result = bench.run(use_nannyml=False, dataset=small)
    summary = bench.summarise(result)

    # THEN every setting, size and metric has a row, and the steady model's intervals cover
    assert {(row["setting"], row["size"], row["metric"]) for row in summary} == {
        (setting, size, metric)
        for setting in ("reference", "analysis")
        for size in bench.SIZES
        for metric in bench.METRICS
    }
    assert all(row["coverage"] >= 0.5 for row in summary if row["size"] == 1_000)
    # AND the intervals widened by the chunks reconciled before them cover at least as much
    assert all(row["widened_coverage"] >= row["coverage"] for row in summary)
    assert all(row["widened_width"] >= row["width"] for row in summary)
    rendered = bench.render(result)
    assert rendered.startswith("## small\n\nmade here.")
    assert "| analysis | 1,000 | mae |" in rendered


def test_an_unknown_data_set_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN the benchmark is asked for a data set it does not have
    with pytest.raises(SystemExit):
        bench.main(["--no-nannyml", "--datasets", "flights,housing"])

    # THEN it names it, and the ones it has
    error = capsys.readouterr().err
    assert "['housing']" in error and "car_prices, flights" in error
