"""The expected calibration error by hand, and the decision whether to calibrate: yes for a
clearly miscalibrated score, no for a calibrated one, the same for the same rows in any
order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.estimation import (
    IdentityCalibrator,
    build_calibrator,
    calibration_error,
    fit_isotonic,
    needs_calibration,
)


def test_calibration_error_by_hand_on_equal_bins() -> None:
    # GIVEN six rows in three bins of two (sorted by probability)
    probabilities = [0.4, 0.1, 0.9, 0.2, 0.6, 0.3]
    labels = [0, 0, 1, 0, 1, 1]
    # bins: {0.1, 0.2} mean p 0.15, mean y 0; {0.3, 0.4} 0.35 vs 0.5; {0.6, 0.9} 0.75 vs 1
    by_hand = (2 * 0.15 + 2 * 0.15 + 2 * 0.25) / 6
    # WHEN the error is computed THEN it is the weighted mean gap
    assert calibration_error(probabilities, labels, bins=3) == pytest.approx(by_hand, abs=1e-15)


def test_calibration_error_puts_the_remainder_in_the_last_bin() -> None:
    # GIVEN 7 rows and 3 bins: width 7 // 3 = 2, so bins of 2, 2 and 3 rows
    probabilities = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    labels = [1, 0, 0, 0, 1, 1, 1]
    by_hand = (2 * abs(0.15 - 0.5) + 2 * abs(0.35 - 0.0) + 3 * abs(0.6 - 1.0)) / 7
    assert calibration_error(probabilities, labels, bins=3) == pytest.approx(by_hand, abs=1e-15)
    # and with fewer rows than bins every row is in one bin
    assert calibration_error([0.2, 0.4], [1, 1], bins=10) == pytest.approx(0.7, abs=1e-15)


def test_calibration_error_gives_rows_of_one_score_their_mean_label_across_a_boundary() -> None:
    # GIVEN four rows of one score, one positive, split by the boundary of two bins
    for labels in ([1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]):
        # WHEN the error is computed THEN each bin compares 0.5 with the group's 0.25,
        # wherever the positive row stands
        assert calibration_error([0.5] * 4, labels, bins=2) == 0.25


ties = st.lists(
    st.tuples(st.sampled_from([0.1, 0.3, 0.3, 0.5, 0.8]), st.integers(0, 5), st.integers(0, 1)),
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(ties, st.randoms(use_true_random=False), st.integers(1, 12))
def test_calibration_error_does_not_depend_on_the_row_order(
    rows: list[tuple[float, int, int]], rng: Any, bins: int
) -> None:
    # GIVEN probabilities with many ties (a flat calibrator), the scores they came from,
    # labels, and the same rows shuffled
    shuffled = list(rows)
    rng.shuffle(shuffled)

    def error(rows: list[tuple[float, int, int]]) -> float:
        probabilities, scores, labels = (np.array(column) for column in zip(*rows, strict=True))
        return calibration_error(probabilities, labels, bins, scores=scores / 5)

    # WHEN the error is computed on each THEN it is the same to the bit
    assert error(shuffled) == error(rows)


def test_calibration_error_refuses_bad_input() -> None:
    with pytest.raises(InvalidInputError):
        calibration_error([0.1, np.nan], [0, 1])
    with pytest.raises(InvalidInputError):
        calibration_error([0.1, 0.2], [0, 1], scores=[0.1])
    with pytest.raises(InsufficientDataError):
        calibration_error([], [])
    with pytest.raises(ValueError, match="bins"):
        calibration_error([0.1], [1], bins=0)


def squared_probability_rows(n: int, seed: int) -> tuple[np.ndarray[Any, Any], ...]:
    """Uniform scores whose true probability of a positive is the score squared."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(size=n)
    return scores, (rng.uniform(size=n) < scores**2).astype(int)


def test_a_clearly_miscalibrated_score_needs_calibration() -> None:
    # GIVEN 20,000 rows whose true probability is the score squared (scores too high)
    scores, labels = squared_probability_rows(20_000, seed=11)

    # WHEN the decision is taken
    decision = needs_calibration(scores, labels)

    # THEN calibrate: the raw error is about E[s - s^2] = 1/6 (s >= s^2 in every bin), the
    # cross-fitted calibrated one is near zero
    assert decision.calibrate and decision.reason == "lower_error"
    assert decision.raw_error == pytest.approx(1 / 6, abs=0.01)
    assert decision.calibrated_error is not None and decision.calibrated_error < 0.02
    assert decision.auc == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def exactly_calibrated_rows() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Scores 1/16, 3/16, ..., 15/16, 592 rows each, of which exactly the share ``score``
    are positive (37 * (2k + 1) of 592): calibrated in every bin, to the bit."""
    scores, labels = [], []
    for k in range(8):
        positives = 37 * (2 * k + 1)
        scores += [(2 * k + 1) / 16] * 592
        labels += [1] * positives + [0] * (592 - positives)
    return np.array(scores), np.array(labels)


def test_an_exactly_calibrated_score_does_not_need_calibration() -> None:
    # GIVEN scores whose share of positives at every score is the score itself
    scores, labels = exactly_calibrated_rows()

    # WHEN the decision is taken
    decision = needs_calibration(scores, labels)

    # THEN do not calibrate: the raw error is 0, a calibrator fitted on the other folds
    # (whose shares differ by a row here and there) can only add error
    assert not decision.calibrate and decision.reason == "no_lower_error"
    assert decision.raw_error == 0.0
    assert decision.calibrated_error is not None and decision.calibrated_error > 0.0
    calibrator, same = build_calibrator(scores, labels)
    assert isinstance(calibrator, IdentityCalibrator) and same == decision


@pytest.mark.parametrize("rounded", [False, True])
def test_the_same_rows_in_another_order_give_the_same_decision(rounded: bool) -> None:
    # GIVEN miscalibrated rows (continuous, or rounded to 2 decimals: many ties) and the
    # same rows shuffled
    scores, labels = squared_probability_rows(5_000, seed=2)
    if rounded:
        scores = np.round(scores, 2)
    order = np.random.default_rng(9).permutation(scores.size)

    # WHEN the decision is taken on each
    decision = needs_calibration(scores, labels)
    shuffled = needs_calibration(scores[order], labels[order])

    # THEN it is the same, errors included, to the bit
    assert shuffled == decision
    assert decision.calibrate


def test_one_class_or_separated_scores_need_no_calibration() -> None:
    # GIVEN labels of one class WHEN decided THEN no: there is nothing to fit
    single = needs_calibration([0.2, 0.4, 0.7], [1, 1, 1])
    assert (single.calibrate, single.reason, single.calibrated_error, single.auc) == (
        False,
        "single_class",
        None,
        None,
    )
    # GIVEN scores that separate the classes (AUC 1) WHEN decided THEN no
    scores = np.linspace(0.0, 1.0, 200)
    separated = needs_calibration(scores, (scores > 0.5).astype(int))
    assert (separated.calibrate, separated.reason, separated.auc) == (False, "separated", 1.0)
    assert separated.calibrated_error is None


def test_build_calibrator_fits_on_all_rows_when_calibration_helps() -> None:
    # GIVEN miscalibrated rows WHEN the calibrator is built
    scores, labels = squared_probability_rows(5_000, seed=4)
    calibrator, decision = build_calibrator(scores, labels)
    # THEN it is the isotonic fit on every row, and the decision says why
    assert decision.calibrate
    assert calibrator == fit_isotonic(scores, labels)
    assert calibrator.apply([0.5])[0] == pytest.approx(0.25, abs=0.05)


def test_needs_calibration_refuses_too_few_folds() -> None:
    with pytest.raises(ValueError, match="folds"):
        needs_calibration([0.1, 0.9], [0, 1], folds=1)


def test_the_cross_fit_does_not_leak_the_held_out_labels() -> None:
    # GIVEN calibrated scores with sampling noise (labels drawn from the scores), 5 samples
    errors = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        scores = rng.uniform(size=20_000)
        labels = (rng.uniform(size=scores.size) < scores).astype(int)
        # WHEN the decision cross-fits a calibrator
        decision = needs_calibration(scores, labels)
        assert decision.calibrated_error is not None
        errors.append(decision.calibrated_error)
    # THEN the calibrated scores' error stays at the level of the labels' sampling noise
    # (about 0.0045 here): folds dealt in score order within each class, so that each
    # fold's labels mirror its neighbours', gave 0.0011-0.0015, well below that
    assert float(np.mean(errors)) > 0.003
