"""Binary performance estimated without labels: the expected confusion matrix of the cells.

If the calibrated probability ``p`` of a row is right, the row is a positive with
probability ``p``. Summed over the rows, with each row's predicted class ``ŷ`` as given, the
expected confusion matrix is

    TP = Σ_{ŷ=1} p,   FP = Σ_{ŷ=1} (1 − p),   FN = Σ_{ŷ=0} p,   TN = Σ_{ŷ=0} (1 − p),

and the estimates are the metrics' formulas on it: accuracy ``(TP + TN) / n``, precision
``TP / (TP + FP)``, recall ``TP / (TP + FN)``, specificity ``TN / (TN + FP)`` and F1
``2 TP / (2 TP + FP + FN)``. Estimated ROC AUC is the probability that a positive is
scored above a negative when each row is a positive with weight ``p`` and a negative with
weight ``1 − p``; pairs of equal score count half.

Here the rows are :class:`~driftline.estimation.score_cells.ScoreCells`: every row of a
cell takes the calibrated probability of the cell's mean score, ``p = calibrator(Σs / n)``,
so a cell of ``n`` rows adds ``n·p`` to TP (or FN) and ``n·(1 − p)`` to FP (or TN), and for
AUC the cells are ordered by their mean score, cells of equal mean score tied. The two cells
of one bin (predicted 0 and predicted 1) are ordered by their means too, not tied: where the
class is predicted at a threshold inside the bin, every row predicted 1 is indeed scored
above every row predicted 0. The estimates are exactly those metrics on the rows with their
scores replaced by their cell's mean: the tests check them against scikit-learn's metrics
with sample weights (to 1e-9; measured 2e-13).

A metric whose denominator is zero (precision with no row predicted positive, recall when no
positive is expected, AUC when every probability is 0, or every one 1) is not a number but
a reason, under :attr:`BinaryEstimate.undefined`.

>>> from driftline.estimation.calibration import IdentityCalibrator
>>> cells = ScoreCells.from_arrays([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])
>>> estimate = estimate_binary(cells, IdentityCalibrator())
>>> estimate.expected_positives, estimate.metrics["accuracy"], estimate.metrics["precision"]
(2.1, 0.825, 0.85)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from driftline.estimation.calibration import Calibrator
from driftline.estimation.score_cells import ScoreCells
from driftline.metrics.encoding import FloatArray, IntArray

#: The metrics :func:`estimate_binary` estimates, in the order it reports them.
ESTIMATED_METRICS = ("accuracy", "precision", "recall", "specificity", "f1", "auc")


@dataclass(frozen=True)
class BinaryEstimate:
    """Estimated performance of one set of cells.

    Attributes:
        rows: the binned rows the estimate is made on.
        expected_positives: ``Σ p``, the expected number of actual positives among them
            (the estimated prior is ``expected_positives / rows``).
        true_positives, false_positives, false_negatives, true_negatives: the expected
            confusion matrix.
        metrics: each of :data:`ESTIMATED_METRICS` that is defined, by name.
        undefined: each one that is not, with the reason.
    """

    rows: int
    expected_positives: float
    true_positives: float
    false_positives: float
    false_negatives: float
    true_negatives: float
    metrics: dict[str, float] = field(default_factory=dict)
    undefined: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, every field by name."""
        return {
            "rows": self.rows,
            "expected_positives": self.expected_positives,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "true_negatives": self.true_negatives,
            "metrics": dict(self.metrics),
            "undefined": dict(self.undefined),
        }


def estimate_binary(cells: ScoreCells, calibrator: Calibrator) -> BinaryEstimate:
    """The expected confusion matrix and metrics of ``cells`` under ``calibrator``.

    Args:
        cells: the scored rows of a batch or window (rows whose score could not be binned
            are not part of the estimate; ``cells.unbinned`` counts them).
        calibrator: maps a cell's mean score to the probability its rows are positive.

    Returns:
        The estimate; a metric with a zero denominator is under ``undefined`` with its
        reason, never 0 or NaN.
    """
    predicted, sizes, means, probabilities = cell_probabilities(cells, calibrator)
    positives = sizes * probabilities
    negatives = sizes * (1.0 - probabilities)
    as_positive = predicted == 1
    tp, fp = float(positives[as_positive].sum()), float(negatives[as_positive].sum())
    fn, tn = float(positives[~as_positive].sum()), float(negatives[~as_positive].sum())
    rows = cells.n

    ratios = {
        "accuracy": (tp + tn, float(rows), "there are no scored rows"),
        "precision": (tp, tp + fp, "no row is predicted positive"),
        "recall": (tp, tp + fn, "no positive is expected (every probability is 0)"),
        "specificity": (tn, tn + fp, "no negative is expected (every probability is 1)"),
        "f1": (2 * tp, 2 * tp + fp + fn, "no row is predicted positive and none is expected"),
    }
    metrics: dict[str, float] = {}
    undefined: dict[str, str] = {}
    for name, (numerator, denominator, why) in ratios.items():
        if denominator == 0:
            undefined[name] = f"{name} is undefined: {why}"
        else:
            metrics[name] = numerator / denominator
    expected_positives = tp + fn
    if expected_positives == 0 or fp + tn == 0:
        kind = "positive" if expected_positives == 0 else "negative"
        undefined["auc"] = (
            f"auc is undefined: no {kind} is expected (every probability is "
            f"{0 if kind == 'positive' else 1})"
        )
    else:
        metrics["auc"] = _expected_auc(means, positives, negatives)
    return BinaryEstimate(
        rows=rows,
        expected_positives=expected_positives,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
        true_negatives=tn,
        metrics={name: metrics[name] for name in ESTIMATED_METRICS if name in metrics},
        undefined={name: undefined[name] for name in ESTIMATED_METRICS if name in undefined},
    )


def cell_probabilities(
    cells: ScoreCells, calibrator: Calibrator
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """The non-empty cells as four arrays, one value a cell: the predicted class (0/1), the
    rows, the mean score and the calibrated probability of that mean score.

    >>> from driftline.estimation.calibration import IdentityCalibrator
    >>> cells = ScoreCells.from_arrays([0.9, 0.9, 0.3], [1, 1, 0])
    >>> [values.tolist() for values in cell_probabilities(cells, IdentityCalibrator())]
    [[0, 1], [1.0, 2.0], [0.3, 0.9], [0.3, 0.9]]
    """
    occupied = cells.counts > 0
    predicted = np.nonzero(occupied)[0].astype(np.int64)
    sizes = cells.counts[occupied].astype(np.float64)
    means = cells.score_sums[occupied] / sizes
    return predicted, sizes, means, calibrator.apply(means)


def _expected_auc(means: FloatArray, positives: FloatArray, negatives: FloatArray) -> float:
    """``[Σ_g N_g · P_{>g} + ½ Σ_g P_g · N_g] / (P · N)`` over the groups ``g`` of cells of
    equal mean score, where ``P_g``, ``N_g`` are a group's expected positives and negatives
    and ``P_{>g}`` the expected positives of the groups scored above it.

    >>> auc = _expected_auc(np.array([0.2, 0.8]), np.array([0.2, 0.8]), np.array([0.8, 0.2]))
    >>> round(auc, 12)          # (0.8 * 0.8 + (0.2 * 0.8 + 0.8 * 0.2) / 2) / (1 * 1)
    0.8
    """
    order = np.argsort(means, kind="stable")
    means = means[order]
    starts = np.flatnonzero(np.diff(means, prepend=-np.inf))
    group_positives = np.add.reduceat(positives[order], starts)
    group_negatives = np.add.reduceat(negatives[order], starts)
    # Shares of P and N before the products: P * N underflows when P is subnormal.
    group_positives = group_positives / group_positives.sum()
    group_negatives = group_negatives / group_negatives.sum()
    above = np.append(np.cumsum(group_positives[::-1])[::-1][1:], 0.0)  # P of higher groups
    return float(np.dot(group_negatives, above) + 0.5 * np.dot(group_positives, group_negatives))
