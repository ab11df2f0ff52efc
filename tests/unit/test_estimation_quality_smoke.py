"""The estimation-quality benchmark (benchmarks/estimation_quality.py) on a tiny data set.

NannyML is not run here (it needs its own virtual environment); its part of the summary is
checked on made-up peer figures. The data is made in the test with the shape the wheel's
loaders give: a reference with labels, an analysis part with its labels joined.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk
from statsmodels.stats.proportion import proportion_confint

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import estimation_quality  # noqa: E402
from estimation_quality import Dataset  # noqa: E402

TINY = Dataset(
    "tiny",
    "-",
    "-",
    "-",
    "score",
    "predicted",
    "label",
    {"x": "numeric"},
    "made in the test: P(y = 1 | score) = score²",
)


def rows(count: int, seed: int) -> pd.DataFrame:
    """A miscalibrated but steady model: the calibrator fitted on the reference is right."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(size=count)
    return pd.DataFrame(
        {
            "id": np.arange(count),
            "x": rng.normal(size=count),
            "score": score,
            "predicted": (score >= 0.5).astype(int),
            "label": (rng.uniform(size=count) < score**2).astype(int),
        }
    )


def test_the_benchmark_runs_and_its_coverage_counts_add_up() -> None:
    # GIVEN a steady tiny data set: 20,000 reference rows, 20,000 analysis rows
    loaded = {"tiny": (TINY, rows(20_000, seed=1), rows(20_000, seed=2))}

    # WHEN driftline alone estimates 20 consecutive and 40 random chunks of 1,000 rows
    result = estimation_quality.run(
        datasets=["tiny"],
        sizes=[1_000],
        random_chunks={1_000: 40},
        use_nannyml=False,
        progress=lambda line: None,
        loaded=loaded,
    )

    # THEN there is a row per part (analysis; the control: the reference's second half
    # estimated with a baseline of its first half), kind of chunk and metric, each counting
    # its chunks, with the Wilson interval of its coverage
    table = {(row["part"], row["mode"], row["metric"]): row for row in result["rows"]}
    assert set(table) == {
        (part, mode, metric)
        for part in ("analysis", "held-out reference")
        for mode in ("consecutive", "random")
        for metric in estimation_quality.ESTIMATED_METRICS
    }
    consecutive = {"analysis": 20, "held-out reference": 10}
    for (part, mode, _), row in table.items():
        assert row["chunks"] == (consecutive[part] if mode == "consecutive" else 40)
        assert row["coverage"] == row["inside"] / row["chunks"]
        low, high = proportion_confint(row["inside"], row["chunks"], alpha=0.05, method="wilson")
        assert row["wilson"] == pytest.approx((low, high), abs=1e-12)
        assert row["mean_width"] > 0 and row["mean_abs_error"] >= abs(row["mean_error"])
        # the model-error term only widens the interval: it covers at least what sampling
        # alone covers
        assert row["coverage"] >= row["sampling_coverage"]
        # steady, calibrated data: the intervals cover most chunks (a loose floor: 10 to 40
        # chunks, and random chunks overlap)
        assert row["coverage"] >= 0.8, row
        if mode == "consecutive":
            first, second = row["halves"]
            half = row["chunks"] // 2
            assert first * half + second * half == pytest.approx(row["inside"])
            # the reconciled chunks only widen: they cover at least what the baseline's
            # term covers, and no chunk before LABEL_LAG + MIN_RECONCILED can be widened
            assert row["widened_coverage"] >= row["coverage"]
            first_widened = estimation_quality.LABEL_LAG + estimation_quality.MIN_RECONCILED
            can_widen = row["chunks"] - first_widened
            assert 0 <= row["widened_chunks"] <= max(0, can_widen)
        else:
            assert "widened_coverage" not in row
    # AND the baseline was built by driftline (isotonic: the scores are miscalibrated) with
    # its model-error terms
    detail = result["datasets"]["tiny"]
    assert detail["calibrator"] == "isotonic"
    assert set(detail["model_error"]["terms"]) == set(estimation_quality.ESTIMATED_METRICS)
    assert result["setup"]["nannyml"] == "not asked for"
    # AND the report holds the table and the verdicts
    text = estimation_quality.render(result)
    assert "## tiny" in text and "| tiny | held-out reference | 1,000 random |" in text
    assert "## Intervals widened by the reconciled chunks" in text
    assert "| tiny | analysis | 1,000 | accuracy | 20 |" in text


def test_a_chunks_interval_is_widened_by_the_chunks_reconciled_before_it() -> None:
    # GIVEN 30 consecutive chunks, each 0.05 off in accuracy (alternately above and below),
    # with the sampling variance 1e-4
    chunks = [
        {
            "estimate": {"accuracy": {"value": 0.8, "sampling_variance": 1e-4}},
            "realised": {"accuracy": 0.8 + (0.05 if i % 2 else -0.05)},
        }
        for i in range(30)
    ]
    # WHEN the error known at chunk 20 is read (labels 5 chunks late: chunks 0 to 14)
    error = estimation_quality.reconciled_so_far(chunks, 20)
    # THEN it holds those 15 chunks: a term of 0.05² − 1e-4
    assert error.terms["accuracy"].chunks == 15
    assert error.terms["accuracy"].excess_variance == pytest.approx(0.05**2 - 1e-4)
    # AND at chunk 14 only 9 are known, too few for a term
    assert estimation_quality.reconciled_so_far(chunks, 14).terms == {}


def test_a_chunks_realised_metrics_hide_nothing_from_the_estimate() -> None:
    # GIVEN one chunk of analysis rows
    frame = rows(1_000, seed=3)
    # WHEN it is realised and estimated with the labels dropped
    realised = estimation_quality.realised(frame, TINY)
    # THEN the realised metrics are scikit-learn's on the labels
    assert realised["auc"] == sk.roc_auc_score(frame["label"], frame["score"])
    assert realised["specificity"] == sk.recall_score(
        frame["label"], frame["predicted"], pos_label=0
    )


def test_peer_figures_are_matched_to_driftlines_chunks_by_their_first_row() -> None:
    # GIVEN two chunks of 1,000 rows and a peer's figures for them, second chunk first
    def chunk(value: float, realised: float) -> dict[str, Any]:
        figures = {"value": value, "lower": value - 0.01, "upper": value + 0.01}
        return {
            "estimate": {"auc": {**figures, "sampling": (figures["lower"], figures["upper"])}},
            "realised": {name: np.nan for name in estimation_quality.ESTIMATED_METRICS}
            | {"auc": realised},
        }

    result = {
        "dataset": "tiny",
        "sets": {
            "analysis:consecutive-1000": {
                "size": 1_000,
                "mode": "consecutive",
                "chunks": [chunk(0.80, 0.805), chunk(0.90, 0.93)],
            }
        },
        "nannyml": {
            "sets": {
                "analysis:consecutive-1000": [
                    {"start": 1_000, "roc_auc": {"value": 0.9005, "lower": 0.85, "upper": 0.95}},
                    {"start": 0, "roc_auc": {"value": 0.8, "lower": 0.81, "upper": 0.9}},
                ]
            }
        },
    }
    # WHEN summarised
    (auc,) = [row for row in estimation_quality.summarise(result) if row["chunks"]]
    # THEN driftline covers the first chunk only, the peer the second only, and the largest
    # difference of the estimates is the second chunk's
    assert (auc["metric"], auc["inside"], auc["chunks"]) == ("auc", 1, 2)
    assert auc["peer_coverage"] == 0.5 and auc["peer_chunks"] == 2
    assert auc["peer_max_difference"] == pytest.approx(0.0005)
    assert auc["peer_mean_difference"] == pytest.approx(0.0005 / 2)
    assert auc["peer_mean_width"] == pytest.approx((0.1 + 0.09) / 2)


def test_a_data_set_made_by_code_is_loaded_by_its_own_function() -> None:
    # GIVEN a data set whose rows are made by a function rather than read from the wheel
    reference, analysis = rows(20_000, seed=4), rows(10_000, seed=5)
    asked: list[Path] = []

    def make(packages: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
        asked.append(packages)
        return reference, analysis

    made = Dataset("made", "", "", "", "score", "predicted", "label", {"x": "numeric"}, "-", make)

    # WHEN the benchmark loads it
    loaded = estimation_quality.load(made, Path("packages"))

    # THEN the rows are the function's, made from the packages folder it was given
    assert loaded[0] is reference and loaded[1] is analysis
    assert asked == [Path("packages")]
