"""Estimated performance before labels arrive: confidence-based performance estimation.

A binary classifier's performance can be estimated on unlabelled rows when its scores are
calibrated probabilities: a row scored ``p`` is a positive with probability ``p``, so the
expected confusion matrix, and every metric read off it, follows from the scores and the
predicted classes alone (NannyML calls this CBPE; average confidence as an estimate of
accuracy is studied by Guillory et al. 2021). The package's rooms:

- :mod:`~driftline.estimation.calibration`: fitting an isotonic calibrator on the baseline's
  labelled rows, the expected calibration error, and the out-of-sample decision whether
  calibrating helps;
- :mod:`~driftline.estimation.score_cells`: a batch's scored rows as a mergeable summary,
  rows and score sums per (score bin, predicted class);
- :mod:`~driftline.estimation.binary`: the expected confusion matrix and the estimated
  accuracy, precision, recall, specificity, F1 and ROC AUC of those cells;
- :mod:`~driftline.estimation.sampling`: how far the realised metrics may fall from the
  estimates by chance, if the calibrated probabilities are right (each metric's variance,
  from the cells alone);
- :mod:`~driftline.estimation.model_error`: the estimator's own error beyond that, measured
  once on the baseline's labelled rows (consecutive blocks, each estimated with a calibrator
  fitted on the others), which widens every interval;
- :mod:`~driftline.estimation.reconciled_error`: the same error measured on the batches
  reconciled with their labels in production, which widens the intervals further where it
  is wider than the baseline's;
- :mod:`~driftline.estimation.label_shift`: the class prior of the current rows from their
  predicted classes and the baseline's confusion counts (black-box shift estimation), for
  when the prior itself moves, which breaks the assumption below;
- :mod:`~driftline.estimation.multiclass` and :mod:`~driftline.estimation.
  class_calibration`: a multiclass classifier's estimate, one class against the rest: per
  class the score cells of its probability and a calibrator, and from them accuracy and the
  macro precision, recall, F1 and ROC AUC with their intervals;
- :mod:`~driftline.estimation.loss_model`: a regression model's estimated MAE and RMSE, from
  a loss model fitted on the baseline (additive over pairs of bins of the prediction and
  each feature) and the loss cells every profile counts.

The estimate is only as good as the calibrator: it assumes that ``P(y = 1 | score)`` is the
same in the estimated rows as in the baseline (no concept drift, no shift of the class
prior at a given score).

References:
    Guillory, D., Shankar, V., Ebrahimi, S., Darrell, T., Schmidt, L. (2021). Predicting
    with confidence on unseen distributions. *ICCV '21*.
    Lipton, Z., Wang, Y.-X., Smola, A. (2018). Detecting and correcting for label shift with
    black box predictors. *ICML '18*.
"""

from __future__ import annotations

from driftline.estimation.binary import ESTIMATED_METRICS, BinaryEstimate, estimate_binary
from driftline.estimation.calibration import (
    SEPARATED_AUC,
    CalibrationDecision,
    Calibrator,
    IdentityCalibrator,
    IsotonicCalibrator,
    build_calibrator,
    calibration_error,
    calibrator_from_dict,
    fit_isotonic,
    needs_calibration,
)
from driftline.estimation.class_calibration import ClassCalibration
from driftline.estimation.label_shift import LabelShift, PriorEstimate, estimate_prior
from driftline.estimation.model_error import ModelError, ModelErrorTerm, measure_model_error
from driftline.estimation.multiclass import (
    MULTICLASS_METRICS,
    ClassScoreCells,
    MulticlassEstimate,
    estimate_multiclass,
)
from driftline.estimation.sampling import sampling_variances
from driftline.estimation.score_cells import ScoreCells

__all__ = [
    "ESTIMATED_METRICS",
    "MULTICLASS_METRICS",
    "SEPARATED_AUC",
    "BinaryEstimate",
    "CalibrationDecision",
    "Calibrator",
    "ClassCalibration",
    "ClassScoreCells",
    "IdentityCalibrator",
    "IsotonicCalibrator",
    "LabelShift",
    "ModelError",
    "ModelErrorTerm",
    "MulticlassEstimate",
    "PriorEstimate",
    "ScoreCells",
    "build_calibrator",
    "calibration_error",
    "calibrator_from_dict",
    "estimate_binary",
    "estimate_multiclass",
    "estimate_prior",
    "fit_isotonic",
    "measure_model_error",
    "needs_calibration",
    "sampling_variances",
]
