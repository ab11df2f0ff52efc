"""The interval of every estimate in ``performance.estimated``: the scope's sampling variance
plus the baseline's model-error term, 95 %, clipped to [0, 1], and what it covers named."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import norm

from driftline.estimation import ESTIMATED_METRICS, IdentityCalibrator, ScoreCells
from driftline.estimation.baseline import BaselineCalibration
from driftline.estimation.calibration import CalibrationDecision
from driftline.estimation.model_error import ModelError, ModelErrorTerm
from driftline.estimation.performance import (
    MODEL_ERROR_PREDATES,
    EstimatedPerformance,
    ScopeCells,
)
from driftline.estimation.sampling import sampling_variances

DECISION = CalibrationDecision(False, "no_lower_error", 0.02, 0.03, 0.8)


def cells(rows: int, seed: int) -> ScoreCells:
    rng = np.random.default_rng(seed)
    scores = rng.beta(2.0, 2.0, rows)
    return ScoreCells.from_arrays(scores, (scores >= 0.5).astype(int))


def calibration(model_error: ModelError | None) -> BaselineCalibration:
    return BaselineCalibration(
        10_000, IdentityCalibrator(), DECISION, fitted_rows=10_000, model_error=model_error
    )


def test_each_interval_adds_the_metrics_term_to_the_scopes_sampling_variance() -> None:
    # GIVEN a baseline with terms for accuracy and AUC only, and a window with two segments
    terms = {"accuracy": ModelErrorTerm(0.001, 4e-5, 50), "auc": ModelErrorTerm(0.0, 1e-5, 48)}
    stored = calibration(ModelError(10_000, 200, terms))
    overall, segments = cells(3_000, 1), {"s=a": cells(400, 2), "s=b": cells(2_600, 3)}
    # WHEN estimated
    document = EstimatedPerformance.of(
        stored,
        ScopeCells(3_000, overall),
        {key: ScopeCells(scope.n, scope) for key, scope in segments.items()},
    ).to_dict()
    # THEN every metric of every scope is value ± z(0.975)·√(sampling variance + term)
    z = norm.ppf(0.975)
    for key, scope_cells in [("overall", overall), *segments.items()]:
        section = document["overall"] if key == "overall" else document["segments"][key]
        variances = sampling_variances(scope_cells, IdentityCalibrator())
        for name in ESTIMATED_METRICS:
            value = section[name]["value"]
            excess = terms[name].excess_variance if name in terms else 0.0
            half = z * math.sqrt(variances[name] + excess)
            assert section[name]["lower"] == pytest.approx(max(0.0, value - half), abs=1e-12)
            assert section[name]["upper"] == pytest.approx(min(1.0, value + half), abs=1e-12)
            assert section[name]["method"] == "cbpe"
    # AND the result names what each interval covers, with the terms it used
    interval = document["interval"]
    assert interval["level"] == 0.95
    assert interval["covers"] == {
        name: "sampling_and_model_error" if name in terms else "sampling"
        for name in ESTIMATED_METRICS
    } | {"gini": "sampling_and_model_error"}  # as AUC's
    assert interval["model_error"]["terms"]["accuracy"] == {
        "sd": math.sqrt(4e-5),
        "mean_error": 0.001,
        "chunks": 50,
    }
    # AND the section is JSON as it stands
    assert json.loads(json.dumps(document)) == document


def test_a_baseline_stored_before_the_terms_gives_intervals_of_sampling_error_alone() -> None:
    # GIVEN a calibration read from a baseline profiled before model-error terms existed
    document = EstimatedPerformance.of(
        calibration(None), ScopeCells(1_000, cells(1_000, 4)), {}
    ).to_dict()
    # THEN the intervals are the sampling error's, and the result says so and why
    assert set(document["interval"]["covers"].values()) == {"sampling"}
    assert document["interval"]["model_error"] == {"skip": MODEL_ERROR_PREDATES}
    variance = sampling_variances(cells(1_000, 4), IdentityCalibrator())["f1"]
    f1 = document["overall"]["f1"]
    assert f1["upper"] - f1["value"] == pytest.approx(norm.ppf(0.975) * math.sqrt(variance))


def test_a_baseline_too_small_to_measure_the_terms_says_why() -> None:
    skipped = ModelError(900, skipped="too few rows")
    document = EstimatedPerformance.of(
        calibration(skipped), ScopeCells(500, cells(500, 5)), {}
    ).to_dict()
    assert document["interval"]["model_error"] == {"skip": "too few rows"}
    assert set(document["interval"]["covers"].values()) == {"sampling"}


def test_intervals_are_clipped_to_the_metrics_range() -> None:
    # GIVEN a near-perfect window (scores 0.99 predicted 1, 0.01 predicted 0) and a large term
    near = ScoreCells.from_arrays([0.99] * 40 + [0.01] * 40, [1] * 40 + [0] * 40)
    terms = {name: ModelErrorTerm(0.0, 0.01, 50) for name in ESTIMATED_METRICS}
    document = EstimatedPerformance.of(
        calibration(ModelError(10_000, 200, terms)), ScopeCells(80, near), {}
    ).to_dict()
    # THEN no bound leaves [0, 1]
    for name in ESTIMATED_METRICS:
        section = document["overall"][name]
        assert 0.0 <= section["lower"] <= section["value"] <= section["upper"] == 1.0


def test_gini_is_two_auc_minus_one_with_the_auc_interval_mapped_alike() -> None:
    # GIVEN a baseline with an AUC term and a window of 2,000 rows in two segments
    terms = {"auc": ModelErrorTerm(0.0, 2e-4, 50)}
    overall, segment = cells(2_000, 6), cells(300, 7)
    document = EstimatedPerformance.of(
        calibration(ModelError(10_000, 200, terms)),
        ScopeCells(2_000, overall),
        {"s=a": ScopeCells(300, segment)},
    ).to_dict()
    # THEN every scope reports gini = 2 AUC - 1, with the AUC interval's ends mapped the same
    for section in (document["overall"], document["segments"]["s=a"]):
        auc, gini = section["auc"], section["gini"]
        assert gini["value"] == pytest.approx(2 * auc["value"] - 1, abs=1e-15)
        assert gini["lower"] == pytest.approx(2 * auc["lower"] - 1, abs=1e-15)
        assert gini["upper"] == pytest.approx(2 * auc["upper"] - 1, abs=1e-15)
        assert gini["method"] == "cbpe"
    # AND (independently of the mapping) the AUC interval holds the term: half-width
    # z·√(sampling variance + term), so Gini's half-width is twice that
    variance = sampling_variances(overall, IdentityCalibrator())["auc"]
    half = norm.ppf(0.975) * math.sqrt(variance + 2e-4)
    gini = document["overall"]["gini"]
    assert gini["upper"] - gini["value"] == pytest.approx(2 * half, rel=1e-9)
    # AND the interval covers what AUC's covers, and gini comes last, after the estimated
    assert document["interval"]["covers"]["gini"] == "sampling_and_model_error"
    assert list(document["overall"]) == [*ESTIMATED_METRICS, "gini"]


def test_gini_is_undefined_with_the_reason_when_auc_is() -> None:
    # GIVEN a window whose every probability is 1: no negative is expected, AUC is undefined
    certain = ScoreCells.from_arrays([1.0] * 50, [1] * 50)
    document = EstimatedPerformance.of(calibration(None), ScopeCells(50, certain), {}).to_dict()
    # THEN gini is not a number but AUC's reason
    assert "gini" not in document["overall"]
    undefined = document["undefined"]["overall"]
    assert undefined["gini"] == (
        "gini is undefined (auc is): no negative is expected (every probability is 1)"
    )
    assert undefined["auc"].endswith("no negative is expected (every probability is 1)")
