"""The estimator's error on reconciled batches (driftline.estimation.reconciled_error): its
terms against a direct computation, which pairs count, and what it does to an interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.estimation.baseline import BaselineCalibration
from driftline.estimation.calibration import CalibrationDecision, IdentityCalibrator
from driftline.estimation.model_error import MIN_CHUNKS, ModelError, ModelErrorTerm
from driftline.estimation.performance import (
    SAMPLING_AND_MODEL_ERROR,
    SAMPLING_AND_RECONCILED_ERROR,
    EstimatedPerformance,
    ScopeCells,
    Z,
)
from driftline.estimation.reconciled_error import ReconciledError, ReconciledPair
from driftline.estimation.score_cells import ScoreCells


def pairs_of(
    errors: np.ndarray, variances: np.ndarray, metric: str = "auc", start: int = 0
) -> list[ReconciledPair]:
    return [
        ReconciledPair(f"b{start + i:04d}", metric, 0.8 + float(e), 0.8, float(v))
        for i, (e, v) in enumerate(zip(errors, variances, strict=True))
    ]


def test_the_term_is_the_mean_squared_error_beyond_the_mean_sampling_variance() -> None:
    # GIVEN 40 reconciled batches of two metrics, their errors and sampling variances
    rng = np.random.default_rng(3)
    errors, variances = rng.normal(0.01, 0.03, 40), rng.uniform(1e-4, 4e-4, 40)
    pairs = pairs_of(errors, variances) + pairs_of(errors[:12] / 2, variances[:12], "f1")

    # WHEN their error is measured
    error = ReconciledError.of(pairs, trailing=100)

    # THEN each metric's term is computed directly from its pairs
    realised_errors = np.array([p.estimated - p.realised for p in pairs[:40]])
    expected = float(np.mean(realised_errors**2) - np.mean(variances))
    assert error.terms["auc"].excess_variance == pytest.approx(expected, rel=1e-12)
    assert error.terms["auc"].mean_error == pytest.approx(float(realised_errors.mean()), rel=1e-12)
    assert error.terms["auc"].chunks == 40
    assert error.terms["f1"].chunks == 12
    assert error.batches == 40 and error.trailing == 100


def test_the_latest_pairs_count_once_each_and_too_few_give_no_term() -> None:
    # GIVEN 30 batches, the first delivered twice (the later figures stand), one with a
    # figure that is not a number, and a metric with fewer batches than a term needs
    errors, variances = np.linspace(-0.05, 0.05, 30), np.full(30, 1e-4)
    pairs = pairs_of(errors, variances)
    pairs.append(ReconciledPair("b0000", "auc", 0.9, 0.8, 1e-4))  # b0000 again, error 0.1
    pairs.append(ReconciledPair("b9999", "auc", math.nan, 0.8, 1e-4))
    pairs += pairs_of(np.zeros(MIN_CHUNKS - 1), np.full(MIN_CHUNKS - 1, 1e-4), "recall")

    # WHEN the latest 20 of each metric count
    error = ReconciledError.of(pairs, trailing=20)

    # THEN the repeated batch counts once, as its latest figures, among the latest 20
    kept = np.append(errors[11:30], 0.1)
    expected = float(np.mean(kept**2) - 1e-4)
    assert error.terms["auc"].excess_variance == pytest.approx(expected, rel=1e-9)
    assert error.terms["auc"].chunks == 20
    # AND a metric with fewer than MIN_CHUNKS batches has no term
    assert "recall" not in error.terms
    # AND a trailing count below 1 is refused
    with pytest.raises(ValueError, match="trailing >= 1"):
        ReconciledError.of(pairs, trailing=0)


@settings(max_examples=50, deadline=None)
@given(st.permutations(list(range(25))))
def test_the_terms_do_not_depend_on_the_order_of_the_batches_when_all_count(
    order: list[int],
) -> None:
    # GIVEN the same 25 batches in any order, all counted
    rng = np.random.default_rng(11)
    pairs = pairs_of(rng.normal(0, 0.02, 25), rng.uniform(1e-4, 2e-4, 25))
    shuffled = [pairs[i] for i in order]
    # THEN the terms are the same (up to the rounding of a sum in another order)
    ours = ReconciledError.of(shuffled, trailing=100).terms["auc"]
    reference = ReconciledError.of(pairs, trailing=100).terms["auc"]
    assert ours.excess_variance == pytest.approx(reference.excess_variance, rel=1e-12)
    assert ours.chunks == reference.chunks == 25


def test_the_wider_term_stands_per_metric() -> None:
    # GIVEN a baseline's terms and reconciled ones wider for auc, narrower for f1, and one
    # for a metric the baseline has none of
    rng = np.random.default_rng(5)
    wide = pairs_of(rng.normal(0, 0.05, 20), np.full(20, 1e-4), "auc")
    narrow = pairs_of(np.zeros(20), np.full(20, 1e-4), "f1")
    new = pairs_of(rng.normal(0, 0.05, 20), np.full(20, 1e-4), "recall")
    error = ReconciledError.of(wide + narrow + new, trailing=100)
    baseline = {"auc": ModelErrorTerm(0, 1e-4, 50), "f1": ModelErrorTerm(0, 1e-4, 50)}

    # WHEN the baseline's terms are widened
    terms = error.widen(baseline)

    # THEN auc and recall take the reconciled term, f1 keeps the baseline's
    assert terms["auc"] == error.terms["auc"] and terms["recall"] == error.terms["recall"]
    assert terms["f1"] == baseline["f1"]
    assert error.widens(baseline) == ("auc", "recall")
    assert error.to_dict(baseline)["widens"] == ["auc", "recall"]


def test_an_interval_widened_by_the_reconciled_error_covers_what_the_baseline_missed() -> None:
    # GIVEN a calibrated model whose baseline measured no error beyond sampling, and
    # production batches each off by a period effect of sd 0.03 in accuracy (the labels of
    # a period are not as the baseline's): 60 reconciled, 200 estimated after them
    rng = np.random.default_rng(21)
    scores = rng.uniform(size=2_000)
    cells = ScoreCells.from_arrays(scores, (scores >= 0.5).astype(int))
    calibration = BaselineCalibration(
        10_000,
        IdentityCalibrator(),
        CalibrationDecision(False, "no_lower_error", 0.01, 0.01, 0.75),
        model_error=ModelError(10_000, 200, {"accuracy": ModelErrorTerm(0.0, 0.0, 50)}),
    )
    plain = EstimatedPerformance.of(calibration, ScopeCells(2_000, cells), {})
    assert plain.overall is not None
    value = plain.overall.metrics["accuracy"]
    variance = plain.overall.intervals["accuracy"].sampling_variance

    def realised(count: int) -> np.ndarray:
        return value + rng.normal(0, 0.03, count) + rng.normal(0, math.sqrt(variance), count)

    history = [
        ReconciledPair(f"b{i:03d}", "accuracy", value, float(r), variance)
        for i, r in enumerate(realised(60))
    ]
    error = ReconciledError.of(history, trailing=100)

    # WHEN the next batches are estimated with and without it
    widened = EstimatedPerformance.of(
        calibration, ScopeCells(2_000, cells), {}, reconciled_error=error
    )
    assert widened.overall is not None
    later = realised(200)

    # THEN the widened interval is value ± Z √(sampling variance + the reconciled term)
    interval = widened.overall.intervals["accuracy"]
    half = Z * math.sqrt(variance + error.terms["accuracy"].excess_variance)
    assert (interval.lower, interval.upper) == pytest.approx((value - half, value + half))
    # AND it covers about 95 % of the later batches, where the baseline's missed most
    narrow = plain.overall.intervals["accuracy"]
    inside_narrow = np.mean((later >= narrow.lower) & (later <= narrow.upper))
    inside_wide = np.mean((later >= interval.lower) & (later <= interval.upper))
    assert inside_narrow < 0.6
    assert 0.9 <= inside_wide <= 0.99
    # AND the result says which metric's interval the labels widened, and from what
    section = widened.to_dict()["interval"]
    assert section["covers"]["accuracy"] == SAMPLING_AND_RECONCILED_ERROR
    assert section["covers"]["auc"] != SAMPLING_AND_RECONCILED_ERROR
    assert section["reconciled_error"]["batches"] == 60
    assert section["reconciled_error"]["widens"] == ["accuracy"]
    assert section["reconciled_error"]["terms"]["accuracy"]["sd"] == pytest.approx(
        error.terms["accuracy"].sd
    )
    # AND without a reconciled error the section is as before: no key, the baseline's cover
    assert "reconciled_error" not in plain.to_dict()["interval"]
    assert plain.to_dict()["interval"]["covers"]["accuracy"] == SAMPLING_AND_MODEL_ERROR


def test_too_few_reconciled_batches_leave_the_intervals_as_the_baseline_made_them() -> None:
    # GIVEN fewer reconciled batches than a term needs
    error = ReconciledError.of(
        pairs_of(np.full(MIN_CHUNKS - 1, 0.2), np.full(MIN_CHUNKS - 1, 1e-4), "accuracy"),
        trailing=100,
    )
    # THEN nothing is widened and the result says why
    assert error.terms == {} and error.widens({}) == ()
    document = error.to_dict({})
    assert document["batches"] == MIN_CHUNKS - 1
    assert document["skip"].startswith(f"fewer than {MIN_CHUNKS} reconciled batches")
