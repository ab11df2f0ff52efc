"""The demo's credit data through ``driftline evaluate``: the estimate sees the planted drop.

The credit scenario of ``driftline demo`` (:mod:`driftline.demo.scenarios`) pages on an
*estimated* subprime Gini before the labels land, so its data must let confidence-based
estimation see the drop: the day's subprime scores are calibrated (a row scored ``p``
defaults with probability ``p``) but pulled towards the segment's default rate, so they
rank the defaulters less well. Here the scores' calibration is checked against their labels,
and the estimate made without the labels against the Gini scikit-learn measures on them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from driftline.cli import main
from driftline.demo.scenarios import CREDIT, SUBPRIME_GINI_KEPT, credit_applications

SEGMENTS = ("subprime", "prime")


@pytest.fixture(scope="module")
def applications() -> tuple[pd.DataFrame, pd.DataFrame]:
    return credit_applications()


def _gini(rows: pd.DataFrame) -> float:
    return float(2 * roc_auc_score(rows["defaulted"], rows["default_probability"]) - 1)


def _evaluate(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    training: pd.DataFrame,
    today: pd.DataFrame,
    *,
    labels: bool,
) -> dict[str, Any]:
    (tmp_path / "credit.yaml").write_text(CREDIT)
    training.to_csv(tmp_path / "training.csv", index=False)
    today.drop(columns="defaulted").to_csv(tmp_path / "applications.csv", index=False)
    today[["request_id", "defaulted"]].to_csv(tmp_path / "defaults.csv", index=False)
    args = ["evaluate", "--config", str(tmp_path / "credit.yaml")]
    args += ["--reference", str(tmp_path / "training.csv")]
    args += ["--current", str(tmp_path / "applications.csv")]
    if labels:
        args += ["--labels", str(tmp_path / "defaults.csv")]
    main(args)
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_credit_scores_are_calibrated_in_each_segment_before_and_after_the_drop(
    applications: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    # GIVEN the baseline and the day's applications of the demo
    for rows in applications:
        for segment in SEGMENTS:
            part = rows[rows["risk_segment"] == segment]
            # WHEN the rows are cut into ten bins of equal count by score
            bins = pd.qcut(part["default_probability"], 10)
            grouped = part.groupby(bins, observed=True)
            expected = grouped["default_probability"].mean().to_numpy()
            observed = grouped["defaulted"].mean().to_numpy()
            counts = grouped.size().to_numpy()
            # THEN each bin's default rate is its mean score, within 3.5 binomial standard
            # errors (20 bins per data set: a wider bound than one bin's 95 %)
            error = np.sqrt(expected * (1 - expected) / counts)
            assert np.all(np.abs(observed - expected) <= 3.5 * error), (segment, observed, expected)


def test_the_subprime_scores_rank_defaulters_less_well_and_prime_is_unchanged(
    applications: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    training, today = applications
    by_segment = {
        (name, segment): _gini(rows[rows["risk_segment"] == segment])
        for name, rows in (("training", training), ("today", today))
        for segment in SEGMENTS
    }
    assert by_segment["training", "subprime"] == pytest.approx(0.5, abs=1e-3)
    assert by_segment["today", "subprime"] == pytest.approx(0.5 * SUBPRIME_GINI_KEPT, abs=1e-3)
    assert by_segment["training", "prime"] == pytest.approx(0.7, abs=1e-3)
    assert by_segment["today", "prime"] == pytest.approx(0.7, abs=1e-3)
    # ... and the flatter scores sit closer to the segment's default rate
    subprime = [rows[rows["risk_segment"] == "subprime"] for rows in applications]
    spread = [float(rows["default_probability"].std()) for rows in subprime]
    assert spread[1] < spread[0]


def test_estimated_subprime_gini_pages_without_labels_and_is_near_the_realised_one(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    applications: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    training, today = applications
    realised = {segment: _gini(today[today["risk_segment"] == segment]) for segment in SEGMENTS}

    # WHEN the day's applications are evaluated before any label
    result = _evaluate(tmp_path, capsys, training, today, labels=False)

    # THEN the estimated check fails and the measured ones have nothing to decide on
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["subprime-gini-est"]["status"] == "fail"
    assert checks["subprime-gini"]["status"] == "skip"
    assert checks["prime-gini"]["status"] == "skip"
    assert checks["subprime-gini-est"]["estimate"]["labels"]["labelled"] == 0
    # ... and each segment's estimated Gini is within 0.02 of the Gini its held-back labels
    # give, inside its 95 % interval; subprime's interval lies wholly under the threshold
    for segment in SEGMENTS:
        estimate = result["performance"]["estimated"]["segments"][f"risk_segment={segment}"]
        gini = estimate["gini"]
        assert abs(gini["value"] - realised[segment]) < 0.02, (segment, gini, realised)
        assert gini["lower"] <= realised[segment] <= gini["upper"]
    subprime = result["performance"]["estimated"]["segments"]["risk_segment=subprime"]["gini"]
    assert subprime["upper"] < checks["subprime-gini-est"]["threshold"]


def test_labels_confirm_the_drop_and_reconcile_the_same_estimate(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    applications: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    training, today = applications
    before = _evaluate(tmp_path, capsys, training, today, labels=False)

    # WHEN the labels are joined
    after = _evaluate(tmp_path, capsys, training, today, labels=True)

    # THEN the measured subprime check fails, prime's passes, and the estimate is the one
    # made before the labels, reconciled with them: the realised AUC inside its interval
    checks = {c["name"]: c["status"] for c in after["checks"]}
    assert checks["subprime-gini"] == "fail"
    assert checks["prime-gini"] == "pass"
    assert checks["subprime-gini-est"] == "fail"
    segment = "risk_segment=subprime"
    estimated = before["performance"]["estimated"]["segments"][segment]["auc"]
    reconciled = after["performance"]["reconciled"]["segments"][segment]["auc"]
    assert reconciled["estimated"] == estimated["value"]
    subprime = today[today["risk_segment"] == "subprime"]
    auc = roc_auc_score(subprime["defaulted"], subprime["default_probability"])
    assert reconciled["realised"] == pytest.approx(auc, abs=1e-3)
    assert reconciled["inside"] is True
