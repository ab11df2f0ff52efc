"""Classification metrics: exact functions on arrays.

Every count-based metric is a formula on a confusion matrix, so each exact function builds
:class:`~driftline.metrics.confusion.ConfusionCounts` from the raw labels and reads the
metric off it; a profile merges the same counts across batches and reads the same formula,
so the two agree exactly.

Conventions follow scikit-learn (the tests use it as the oracle): averages and
``zero_division`` as in :mod:`driftline.metrics.confusion`, and

* AUC is the trapezoid under the ROC curve over the distinct score thresholds, so tied
  scores count half, exactly as scikit-learn's ``roc_auc_score``. It is computed in integer
  arithmetic and divided once, so it is the correctly rounded value.

>>> y_true = [0, 1, 1, 0, 1]
>>> y_pred = [0, 1, 0, 0, 1]
>>> accuracy_score(y_true, y_pred), precision_score(y_true, y_pred), recall_score(y_true, y_pred)
(0.8, 1.0, 0.6666666666666666)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.metrics.confusion import Average, ConfusionCounts
from driftline.metrics.encoding import (
    FloatArray,
    IntArray,
    Label,
    as_scores,
    check_positive_class,
    encode_labels,
    normalise_label,
)


def trapezoid_auc(positives: ArrayLike, negatives: ArrayLike) -> float:
    """ROC AUC from positive and negative counts per score threshold, highest score first.

    Rows sharing a threshold (a distinct score, or a histogram bin) count as ties, worth
    half. The area ``sum(neg_i * (2 * pos_before_i + pos_i)) / (2 P N)`` is summed in
    integers and divided once.

    Raises:
        InsufficientDataError: no positive or no negative rows.

    >>> trapezoid_auc([1, 1, 0], [0, 1, 1])
    0.875
    """
    pos = np.asarray(positives, dtype=np.int64)
    neg = np.asarray(negatives, dtype=np.int64)
    total_pos, total_neg = int(pos.sum()), int(neg.sum())
    if total_pos == 0 or total_neg == 0:
        raise InsufficientDataError(
            "AUC needs both classes; only "
            + ("negatives" if total_pos == 0 else "positives")
            + " present",
            reason="single_class",
        )
    before = np.cumsum(pos) - pos
    doubled_area = int(np.sum(neg * (2 * before + pos)))
    return doubled_area / (2 * total_pos * total_neg)


# -- exact functions on arrays -------------------------------------------------------------


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[tuple[Label, ...], IntArray]:
    """The confusion matrix with its classes: truths in rows, predictions in columns.

    Returns:
        ``(classes, matrix)``; ``classes`` is the sorted union of the labels in ``y_true``
        and ``y_pred`` (numbers before strings), as scikit-learn's default ``labels``.

    Raises:
        InvalidInputError: missing labels or columns of different lengths.

    >>> classes, matrix = confusion_matrix(["a", "b", "b"], ["a", "a", "b"])
    >>> classes, matrix.tolist()
    (('a', 'b'), [[1, 0], [1, 1]])
    """
    return ConfusionCounts.from_labels(y_true, y_pred).matrix()


def accuracy_score(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of rows whose prediction equals the truth; higher is better.

    Raises:
        InsufficientDataError: no rows.
        InvalidInputError: missing labels or columns of different lengths.

    >>> accuracy_score([1, 0, 1, 1], [1, 1, 1, 0])
    0.5
    """
    return ConfusionCounts.from_labels(y_true, y_pred).accuracy()


def error_rate(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of misclassified rows, ``1 - accuracy`` (scikit-learn's ``zero_one_loss``).

    Lower is better.

    Raises:
        InsufficientDataError: no rows.
        InvalidInputError: missing labels or columns of different lengths.

    >>> error_rate([1, 0, 1, 1], [1, 1, 1, 1])
    0.25
    """
    return 1.0 - accuracy_score(y_true, y_pred)


def positive_rate(y_true: ArrayLike, y_pred: ArrayLike, *, positive_class: Label = 1) -> float:
    """Share of rows predicted as ``positive_class``.

    Neither direction is better: a change in the positive rate is what matters.
    ``y_true`` is taken so the rows are exactly the labelled ones a profile counts.

    Raises:
        InsufficientDataError: no rows.
        InvalidInputError: missing labels, lengths differ, or ``positive_class`` is not one of
            the two classes present.

    >>> positive_rate([0, 0, 1, 1], [0, 1, 1, 1])
    0.75
    """
    counts = ConfusionCounts.from_labels(y_true, y_pred)
    return counts.positive_rate(positive_class=positive_class)


def precision_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: Average = "binary",
    positive_class: Label = 1,
    zero_division: float = 0.0,
) -> float:
    """Precision, ``tp / (tp + fp)``; higher is better.

    Args:
        y_true, y_pred: true and predicted class labels.
        average: ``"binary"`` (one-vs-rest on ``positive_class``), ``"macro"`` or ``"micro"``.
        positive_class: the class a binary precision is about.
        zero_division: the value when nothing is predicted positive: 0.0, 1.0 or NaN.

    Raises:
        InsufficientDataError: no rows.
        InvalidInputError: missing labels, lengths differ, or ``positive_class`` is not one of
            the two classes present.
        ValueError: an unknown ``average`` or ``zero_division``.

    >>> precision_score([0, 1, 1, 0], [1, 1, 1, 0])
    0.6666666666666666
    >>> precision_score([0, 1], [0, 0]), precision_score([0, 1], [0, 0], zero_division=1.0)
    (0.0, 1.0)
    """
    counts = ConfusionCounts.from_labels(y_true, y_pred)
    return counts.precision(
        average=average, positive_class=positive_class, zero_division=zero_division
    )


def recall_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: Average = "binary",
    positive_class: Label = 1,
    zero_division: float = 0.0,
) -> float:
    """Recall (true positive rate), ``tp / (tp + fn)``; higher is better.

    Args and Raises: as :func:`precision_score`; ``zero_division`` applies when no row is
    actually positive.

    >>> recall_score([0, 1, 1, 1], [1, 1, 0, 1])
    0.6666666666666666
    """
    counts = ConfusionCounts.from_labels(y_true, y_pred)
    return counts.recall(
        average=average, positive_class=positive_class, zero_division=zero_division
    )


def f1_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: Average = "binary",
    positive_class: Label = 1,
    zero_division: float = 0.0,
) -> float:
    """F1, the harmonic mean of precision and recall, ``2 tp / (2 tp + fp + fn)``.

    Higher is better. Args and Raises: as :func:`precision_score`; ``zero_division`` applies
    when there are no true positives, false positives or false negatives at all.

    >>> f1_score([0, 1, 1, 1], [1, 1, 0, 1])
    0.6666666666666666
    >>> f1_score([0, 1, 2, 2], [0, 2, 1, 2], average="macro")
    0.5
    """
    counts = ConfusionCounts.from_labels(y_true, y_pred)
    return counts.f1(average=average, positive_class=positive_class, zero_division=zero_division)


def _binary_truth(y_true: ArrayLike, positive_class: Label) -> NDArray[np.bool_]:
    classes, (codes,) = encode_labels(("y_true", y_true))
    positive = check_positive_class(classes, positive_class)
    if positive not in classes:
        return np.zeros(codes.size, dtype=bool)
    return np.asarray(codes == classes.index(positive))


def _check_lengths(truth: NDArray[np.bool_], scores: FloatArray) -> None:
    if truth.size != scores.size:
        raise InvalidInputError(
            f"expected columns of one length; y_true has {truth.size}, "
            f"y_score has {scores.size} rows",
            reason="length_mismatch",
        )


def _check_probabilities(scores: FloatArray) -> None:
    outside = int(np.count_nonzero((scores < 0.0) | (scores > 1.0)))
    if outside:
        raise InvalidInputError(
            f"y_score must be probabilities in [0, 1]; got {outside} of {scores.size} values "
            "outside that range",
            reason="scores_out_of_range",
        )


def roc_auc_score(y_true: ArrayLike, y_score: ArrayLike, *, positive_class: Label = 1) -> float:
    """Area under the ROC curve; higher is better (0.5 is chance).

    ``y_score`` ranks rows (a probability or any real decision value), higher meaning more
    likely ``positive_class``. Ties are handled as in scikit-learn (trapezoid over distinct
    thresholds, see :func:`trapezoid_auc`).

    Raises:
        InsufficientDataError: only one class is present (the message names it).
        InvalidInputError: missing labels or scores, lengths differ, or ``positive_class`` is
            not one of the two classes present.

    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc_score([1, 1], [0.2, 0.9])
    Traceback (most recent call last):
    ...
    driftline.errors.InsufficientDataError: AUC needs both classes; only class 1 present
    """
    truth = _binary_truth(y_true, positive_class)
    scores = as_scores(y_score)
    _check_lengths(truth, scores)
    if truth.size == 0:
        raise InsufficientDataError("AUC needs scored rows; got none", reason="no_rows")
    if truth.all() or not truth.any():
        present = f"class {normalise_label(positive_class)}" if truth.all() else "negatives"
        raise InsufficientDataError(
            f"AUC needs both classes; only {present} present", reason="single_class"
        )
    _, inverse = np.unique(scores, return_inverse=True)
    positives = np.bincount(inverse[truth], minlength=inverse.max(initial=-1) + 1)
    negatives = np.bincount(inverse[~truth], minlength=positives.size)
    return trapezoid_auc(positives[::-1], negatives[::-1])


def gini_score(y_true: ArrayLike, y_score: ArrayLike, *, positive_class: Label = 1) -> float:
    """Gini coefficient ``2 AUC - 1``; higher is better (0 is chance, 1 perfect).

    Raises: as :func:`roc_auc_score`.

    >>> gini_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.5
    """
    return 2.0 * roc_auc_score(y_true, y_score, positive_class=positive_class) - 1.0


#: Probabilities are clipped to [eps, 1 - eps] before the logarithm, eps the float64
#: machine epsilon (scikit-learn's behaviour since 1.5 for float64 input).
LOG_LOSS_EPS = float(np.finfo(np.float64).eps)


def log_loss_terms(is_positive: NDArray[np.bool_], scores: FloatArray) -> FloatArray:
    """Per-row cross-entropy ``-ln p`` (positives) or ``-ln(1 - p)`` (negatives).

    Both ``p`` and ``1 - p`` are clipped to ``[eps, 1 - eps]`` (:data:`LOG_LOSS_EPS`), as
    scikit-learn clips each column of ``[1 - p, p]``.

    >>> log_loss_terms(np.array([True, False]), np.array([1.0, 0.5])).round(4).tolist()
    [0.0, 0.6931]
    """
    chosen = np.where(is_positive, scores, 1.0 - scores)
    return np.asarray(-np.log(np.clip(chosen, LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)))


def log_loss(y_true: ArrayLike, y_score: ArrayLike, *, positive_class: Label = 1) -> float:
    """Mean cross-entropy of the positive-class probability; lower is better.

    Unlike scikit-learn, one class present is fine (the probabilities still have a
    likelihood), since a window may hold only negatives.

    Raises:
        InsufficientDataError: no rows.
        InvalidInputError: missing values, lengths differ, scores outside [0, 1], or
            ``positive_class`` is not one of the two classes present.

    >>> round(log_loss([1, 0], [0.8, 0.4]), 6)
    0.366985
    """
    truth = _binary_truth(y_true, positive_class)
    scores = as_scores(y_score)
    _check_lengths(truth, scores)
    _check_probabilities(scores)
    if truth.size == 0:
        raise InsufficientDataError("log_loss needs scored rows; got none")
    return float(log_loss_terms(truth, scores).mean())


def brier_score_loss(y_true: ArrayLike, y_score: ArrayLike, *, positive_class: Label = 1) -> float:
    """Brier score, the mean squared difference between probability and outcome (0 or 1).

    Lower is better.

    Raises: as :func:`log_loss`.

    >>> round(brier_score_loss([1, 0], [0.8, 0.4]), 6)
    0.1
    """
    truth = _binary_truth(y_true, positive_class)
    scores = as_scores(y_score)
    _check_lengths(truth, scores)
    _check_probabilities(scores)
    if truth.size == 0:
        raise InsufficientDataError("brier needs scored rows; got none")
    return float(np.mean(np.square(truth.astype(np.float64) - scores)))
