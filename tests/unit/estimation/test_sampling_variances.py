"""The sampling variance of every estimated metric against a brute-force simulation over rows.

The oracle draws every row's label as a Bernoulli of its cell's calibrated probability, many
times over, and measures the metrics of each draw with their textbook formulas: counts of the
confusion matrix, and ROC AUC from the midranks of the scores (Mann-Whitney). It shares no code
with :func:`sampling_variances`, which works on cells and, for the ratio metrics, linearises.
Accuracy and precision are exact; the others are held to the linearisation's accuracy plus the
simulation's own error (20,000 draws: 0.5 % on a standard deviation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import rankdata

from driftline.estimation import (
    Calibrator,
    IdentityCalibrator,
    ScoreCells,
    estimate_binary,
    fit_isotonic,
)
from driftline.estimation.sampling import sampling_variances
from driftline.metrics.score_histograms import score_bin

DRAWS = 20_000


def row_probabilities(
    scores: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any], calibrator: Calibrator
) -> np.ndarray[Any, Any]:
    """Each row's probability: the calibrator at the mean score of the row's cell."""
    cell = predicted.astype(np.int64) * 10**6 + score_bin(scores)
    _, group = np.unique(cell, return_inverse=True)
    means = np.bincount(group, weights=scores) / np.bincount(group)
    return np.asarray(calibrator.apply(means[group]), dtype=np.float64)


def simulated_sds(
    scores: np.ndarray[Any, Any],
    predicted: np.ndarray[Any, Any],
    probabilities: np.ndarray[Any, Any],
    seed: int,
) -> dict[str, float]:
    """The standard deviation of each metric over DRAWS label draws, row by row (draws where
    a metric is undefined are left out of its figure)."""
    rng = np.random.default_rng(seed)
    labels = rng.uniform(size=(DRAWS, scores.size)) < probabilities
    as_positive = predicted == 1
    tp = (labels & as_positive).sum(axis=1).astype(float)
    fn = (labels & ~as_positive).sum(axis=1).astype(float)
    fp = as_positive.sum() - tp
    tn = (~as_positive).sum() - fn
    positives = tp + fn
    negatives = scores.size - positives
    ranks = rankdata(scores)  # midranks: ties count half
    with np.errstate(divide="ignore", invalid="ignore"):
        metrics = {
            "accuracy": (tp + tn) / scores.size,
            "precision": tp / (tp + fp),
            "recall": tp / positives,
            "specificity": tn / (tn + fp),
            "f1": 2 * tp / (2 * tp + fp + fn),
            "auc": (labels @ ranks - positives * (positives + 1) / 2) / (positives * negatives),
        }
    return {name: float(np.nanstd(values)) for name, values in metrics.items()}


def case(kind: str, rows: int, seed: int) -> tuple[Any, Any, Calibrator]:
    rng = np.random.default_rng(seed)
    if kind == "continuous, isotonic":
        scores = rng.beta(2.0, 3.0, rows)
        truth = rng.uniform(size=rows) < scores**1.5
        return scores, (scores >= 0.4).astype(int), fit_isotonic(scores, truth)
    if kind == "two decimals, heavy ties":
        scores = np.round(rng.uniform(size=rows), 2)
        return scores, (scores >= 0.48).astype(int), IdentityCalibrator()
    # a rare positive class: few expected positives, the ratios' denominators small
    scores = rng.beta(0.5, 6.0, rows)
    return scores, (scores >= 0.2).astype(int), IdentityCalibrator()


@pytest.mark.parametrize(
    ("kind", "rows", "tolerance"),
    [
        ("continuous, isotonic", 2_000, 0.02),
        ("two decimals, heavy ties", 500, 0.03),
        ("rare positives", 3_000, 0.02),
    ],
)
def test_standard_deviations_match_a_simulation_of_the_labels_row_by_row(
    kind: str, rows: int, tolerance: float
) -> None:
    # GIVEN scored rows, their predicted classes and a calibrator
    scores, predicted, calibrator = case(kind, rows, seed=rows)
    cells = ScoreCells.from_arrays(scores, predicted)
    # WHEN the sampling variances are computed from the cells, and the labels are drawn row
    # by row 20,000 times
    variances = sampling_variances(cells, calibrator)
    probabilities = row_probabilities(scores, predicted, calibrator)
    simulated = simulated_sds(scores, predicted, probabilities, seed=1)
    # THEN every metric's standard deviation is the simulation's, within the tolerance
    assert set(variances) == set(simulated)
    for name, sd in simulated.items():
        assert np.sqrt(variances[name]) == pytest.approx(sd, rel=tolerance), name


def test_accuracy_and_precision_are_exact_sums_over_rows() -> None:
    # GIVEN rows whose probabilities are known
    scores, predicted, calibrator = case("continuous, isotonic", 3_000, seed=4)
    p = row_probabilities(scores, predicted, calibrator)
    # WHEN their variances are computed from the cells
    variances = sampling_variances(ScoreCells.from_arrays(scores, predicted), calibrator)
    # THEN they are the binomial sums over rows: Σ p (1 − p) / n² and over the rows predicted
    # positive, / N₁²
    spread = p * (1 - p)
    assert variances["accuracy"] == pytest.approx(spread.sum() / p.size**2, rel=1e-12)
    positive = predicted == 1
    assert variances["precision"] == pytest.approx(
        spread[positive].sum() / positive.sum() ** 2, rel=1e-12
    )


def test_only_the_estimates_defined_metrics_get_a_variance() -> None:
    # GIVEN rows all predicted negative (no precision), and rows whose probabilities are all
    # 0 (no recall, F1 only through the predicted positives, no AUC)
    none_predicted = ScoreCells.from_arrays([0.2, 0.6, 0.9], [0, 0, 0])
    all_zero = ScoreCells.from_arrays([0.0, 0.0, 0.0], [1, 0, 0])
    for cells in (none_predicted, all_zero, ScoreCells.empty()):
        # WHEN the variances and the estimate are computed
        variances = sampling_variances(cells, IdentityCalibrator())
        estimate = estimate_binary(cells, IdentityCalibrator())
        # THEN the variances are those of the defined metrics, and none is negative
        assert set(variances) == set(estimate.metrics)
        assert all(value >= 0 for value in variances.values())
    # AND probabilities of 0 and 1 only leave nothing to chance
    certain = ScoreCells.from_arrays([0.0, 1.0, 1.0, 0.0], [0, 1, 0, 1])
    assert set(sampling_variances(certain, IdentityCalibrator()).values()) == {0.0}


def test_the_same_cells_give_the_same_variances_to_the_bit() -> None:
    # GIVEN one batch's cells, built twice, and the same rows in another order
    scores, predicted, calibrator = case("continuous, isotonic", 2_000, seed=9)
    first = sampling_variances(ScoreCells.from_arrays(scores, predicted), calibrator)
    again = sampling_variances(ScoreCells.from_arrays(scores, predicted), calibrator)
    order = np.random.default_rng(0).permutation(scores.size)
    shuffled = sampling_variances(
        ScoreCells.from_arrays(scores[order], predicted[order]), calibrator
    )
    # THEN nothing is drawn: the same cells give the same figures, and the rows in another
    # order the same to the rounding of the score sums
    assert first == again
    assert shuffled == pytest.approx(first, rel=1e-9)
