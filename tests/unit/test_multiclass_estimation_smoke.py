"""The multiclass estimation benchmark (benchmarks/multiclass_estimation.py) on a tiny data
set made in the test with the columns of NannyML's multiclass data (NannyML itself is not
run here: it needs its own virtual environment)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import multiclass_estimation as bench  # noqa: E402


def rows(count: int, seed: int) -> pd.DataFrame:
    """Scores on a grid of 0.01 adding up to 1; true class drawn from the scores squared."""
    rng = np.random.default_rng(seed)
    hundredths = np.array([rng.multinomial(100, p) for p in rng.dirichlet([1, 1, 1], count)])
    scores = hundredths / 100.0
    weights = scores**2 / (scores**2).sum(axis=1, keepdims=True)
    truth = (rng.uniform(size=(count, 1)) > weights.cumsum(axis=1)).sum(axis=1)
    classes = np.array(bench.CLASSES)
    frame = pd.DataFrame({bench.SCORES[c]: scores[:, k] for k, c in enumerate(bench.CLASSES)})
    frame["y_pred"] = classes[scores.argmax(axis=1)]
    frame["y_true"] = classes[truth]
    frame["app_behavioral_score"] = rng.normal(size=count)
    frame["app_channel"] = rng.choice(["web", "mobile"], size=count)
    return frame


def test_the_benchmark_runs_and_reports_every_chunk_size_and_metric(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a small reference and analysis part of the data set's shape
    monkeypatch.setattr(bench, "load", lambda: (rows(6_000, 1), rows(12_000, 2)))

    # WHEN the benchmark runs without NannyML
    result = bench.run(use_nannyml=False)
    summary = bench.summarise(result)

    # THEN every size and metric has a row, and the steady model's intervals mostly cover
    assert {(row["size"], row["metric"]) for row in summary} == {
        (size, metric) for size in bench.SIZES for metric in bench.PEER_METRICS.values()
    }
    assert all(row["coverage"] >= 0.5 for row in summary)
    assert "| 6,000 | auc_macro | 2 |" in bench.render(result)


def test_the_row_level_method_without_renormalising_is_driftlines_estimate() -> None:
    # GIVEN a baseline's calibrators and a chunk (scores on a 0.01 grid: a bin per score)
    reference, chunk = rows(6_000, 3), rows(2_000, 4)
    built = bench.build_reference(lambda: [reference], bench.profile_spec(bench.definition()))
    calibration = built.class_calibration
    assert calibration is not None and calibration.calibrators is not None
    columns = bench.estimation_columns(bench.definition())
    cells = bench.class_score_cells_of(chunk, columns)  # type: ignore[arg-type]
    ours = bench.EstimatedPerformance.of_classes(
        calibration, bench.ScopeCells(len(chunk), cells), {}
    ).to_dict()["overall"]

    # WHEN the benchmark's row-level computation runs with the same calibrators, rows as
    # they are
    theirs = bench.row_level(chunk, calibration.calibrators, renormalise=False)

    # THEN it gives driftline's estimates: the step to NannyML's method is only the
    # renormalising (and the choice of classes to calibrate)
    for name, value in theirs.items():
        assert ours[name]["value"] == pytest.approx(value, abs=1e-9), name
