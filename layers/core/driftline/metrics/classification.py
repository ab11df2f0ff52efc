"""Classification metrics: exact functions on arrays, and mergeable confusion counts.

Every count-based metric is a formula on a confusion matrix, so each exact function builds
:class:`ConfusionCounts` from the raw labels and reads the metric off it; a profile merges
the same counts across batches and reads the same formula, so the two agree exactly.

Conventions follow scikit-learn (the tests use it as the oracle):

* Binary metrics (``average="binary"``) are one-vs-rest on ``positive_class``; with two
  classes that is scikit-learn's ``average="binary"``.
* ``average="macro"`` is the unweighted mean over the classes seen in ``y_true`` or
  ``y_pred``; ``average="micro"`` pools the counts (for single-label data it equals
  accuracy).
* A ratio with a zero denominator (precision with no predicted positives, recall with no
  actual positives) is ``zero_division``: 0.0 by default as in scikit-learn, or 1.0, or NaN,
  which macro averages leave out and :func:`~driftline.metrics.computation.compute_metric`
  turns into :class:`~driftline.errors.InsufficientDataError`.
* AUC is the trapezoid under the ROC curve over the distinct score thresholds, so tied
  scores count half, exactly as scikit-learn's ``roc_auc_score``. It is computed in integer
  arithmetic and divided once, so it is the correctly rounded value.

>>> y_true = [0, 1, 1, 0, 1]
>>> y_pred = [0, 1, 0, 0, 1]
>>> accuracy_score(y_true, y_pred), precision_score(y_true, y_pred), recall_score(y_true, y_pred)
(0.8, 1.0, 0.6666666666666666)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.numbers import coerce_numbers

#: A class label as it appears in JSON: a bool, an int, a non-integral float or a string.
Label = bool | int | float | str
Average = Literal["binary", "macro", "micro"]
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

_AVERAGES = ("binary", "macro", "micro")


# -- labels ------------------------------------------------------------------------------


def normalise_label(value: object) -> Label:
    """The canonical form of a class label, so batches of different dtypes agree.

    A numpy scalar becomes its Python value and an integral float an int (a label column
    holding a missing value is read as floats, ``1.0`` for ``1``). Other objects become
    their string.

    >>> normalise_label(np.float64(1.0)), normalise_label("yes"), normalise_label(0.5)
    (1, 'yes', 0.5)
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return str(value)


def label_sort_key(label: Label) -> tuple[int, float | str]:
    """Sort key putting numbers (in numeric order) before strings (in text order).

    >>> sorted(["b", 10, "a", 2.5, True], key=label_sort_key)
    [True, 2.5, 10, 'a', 'b']
    """
    if isinstance(label, str):
        return (1, label)
    return (0, float(label))


def describe_classes(classes: Sequence[Label]) -> str:
    """How many classes there are and of which kinds, without their values.

    A class is a label from the data, which may be sensitive, so error messages and
    rejection reasons describe classes with this instead of listing them; the kinds show
    the usual culprit, numbers and text mixed (``1`` and ``"1"`` are two classes).

    >>> describe_classes((0, 1, "0", "1", "unknown"))
    '5 classes (2 numeric, 3 text)'
    >>> describe_classes((True,))
    '1 class (1 boolean)'
    """
    kinds = [_kind_of(label) for label in classes]
    shown = ", ".join(f"{kinds.count(kind)} {kind}" for kind in _KINDS if kind in kinds)
    return f"{len(classes)} class{'' if len(classes) == 1 else 'es'} ({shown})"


_KINDS = ("boolean", "numeric", "text")


def _kind_of(label: Label) -> str:
    if isinstance(label, bool):
        return "boolean"
    return "text" if isinstance(label, str) else "numeric"


def encode_labels(
    *columns: tuple[str, ArrayLike],
) -> tuple[tuple[Label, ...], list[IntArray]]:
    """Encode label columns against one sorted tuple of classes.

    Each column is ``(role, values)``; the role names the column in errors. Missing values
    (None, NaN) are refused: drop unlabelled rows first. Only the distinct values are
    visited in Python; the rows are encoded by numpy.

    Returns:
        ``(classes, codes)``: the sorted union of the normalised values, and for each column
        an int64 array of indices into ``classes``.

    Raises:
        InvalidInputError: a column holds missing values (``missing_labels``), a value that
            cannot be a class such as a JSON array or object (``invalid_label``, naming the
            column when ``values`` is a named Series), or two columns differ in length.

    >>> classes, (codes,) = encode_labels(("y_true", ["b", "a", "b"]))
    >>> classes, codes.tolist()
    (('a', 'b'), [1, 0, 1])
    >>> try:
    ...     encode_labels(("label", pd.Series([1, [0, 1]], name="defaulted")))
    ... except InvalidInputError as error:
    ...     print(error.reason, error.details["column"], error.details["rows"])
    invalid_label defaulted 1
    """
    factorised: list[tuple[IntArray, list[Label]]] = []
    lengths: dict[str, int] = {}
    for role, values in columns:
        series = _as_series(values)
        try:
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
        except TypeError as exc:  # an unhashable value: a JSON array or object
            raise _not_a_label(role, series) from exc
        missing = int(np.count_nonzero(codes < 0))
        if missing:
            raise InvalidInputError(
                f"{role} has {missing} missing values; expected a label on every row "
                "(drop unlabelled rows first)",
                reason="missing_labels",
            )
        lengths[role] = int(codes.size)
        factorised.append((codes.astype(np.int64), [normalise_label(u) for u in uniques]))
    if len(set(lengths.values())) > 1:
        sizes = ", ".join(f"{role} has {n}" for role, n in lengths.items())
        raise InvalidInputError(
            f"expected columns of one length; {sizes} rows", reason="length_mismatch"
        )
    classes = tuple(
        sorted({label for _, uniques in factorised for label in uniques}, key=label_sort_key)
    )
    index = {label: position for position, label in enumerate(classes)}
    encoded = []
    for codes, labels in factorised:
        lookup = np.array([index[label] for label in labels], dtype=np.int64)
        encoded.append(lookup[codes] if codes.size else codes)
    return classes, encoded


def _not_a_label(role: str, values: pd.Series[Any]) -> InvalidInputError:
    """The error for label values that are containers (lists, dicts, ...), which no class
    can be; it counts them and names the column, never quoting a value."""
    count = sum(1 for value in values.array if not _hashable(value))
    column = values.name if isinstance(values.name, str) else None
    where = f"{role} column {column!r}" if column is not None else role
    return InvalidInputError(
        f"{where} holds {count} value{'' if count == 1 else 's'} that "
        f"{'is' if count == 1 else 'are'} a list, a dict or another container; "
        "expected a class label: a number, a string or a bool",
        reason="invalid_label",
        role=role,
        column=column,
        rows=count,
    )


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _as_series(values: ArrayLike) -> pd.Series[Any]:
    if isinstance(values, pd.Series):
        return values
    return pd.Series(values)


def as_float_array(values: ArrayLike, *, role: str) -> FloatArray:
    """Numbers as float64 with NaN for missing values (an object column of numbers is fine).

    Raises:
        InvalidInputError: a value is neither a number nor missing.

    >>> as_float_array([1, None, True], role="y").tolist()
    [1.0, nan, 1.0]
    """
    series = _as_series(values)
    if not (pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series)):
        coerced = coerce_numbers(series)
        wrong = int(np.count_nonzero(coerced.isna().to_numpy() & series.notna().to_numpy()))
        if wrong:
            raise InvalidInputError(
                f"{role} must be numeric; got {wrong} values that are not numbers "
                f"(dtype {series.dtype})",
                reason="non_numeric_values",
            )
        series = coerced
    return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def as_scores(values: ArrayLike, *, role: str = "y_score") -> FloatArray:
    """Scores as a float64 array, refusing missing, infinite and non-numeric values.

    Raises:
        InvalidInputError: the values are not all finite numbers.

    >>> as_scores([0.25, 1]).tolist()
    [0.25, 1.0]
    """
    array = as_float_array(values, role=role)
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise InvalidInputError(
            f"{role} has {bad} missing or infinite values; expected finite numbers",
            reason="non_finite_scores",
        )
    return array


def _check_positive_class(classes: Sequence[Label], positive_class: Label) -> Label:
    positive = normalise_label(positive_class)
    if len(classes) == 2 and positive not in classes:
        raise InvalidInputError(
            f"positive_class {positive!r} is not one of the {describe_classes(classes)} "
            "present; set positive_class to one of them",
            reason="unknown_positive_class",
        )
    return positive


def _check_zero_division(zero_division: float) -> None:
    if not (math.isnan(zero_division) or zero_division in (0.0, 1.0)):
        raise ValueError(f"expected zero_division 0.0, 1.0 or nan, got {zero_division!r}")


def _check_average(average: str) -> None:
    if average not in _AVERAGES:
        raise ValueError(f"expected average in {_AVERAGES}, got {average!r}")


def _ratio(numerator: float, denominator: float, zero_division: float) -> float:
    return numerator / denominator if denominator else zero_division


def _nan_mean(values: FloatArray) -> float:
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else math.nan


# -- the mergeable summary ---------------------------------------------------------------


@dataclass(frozen=True)
class ConfusionCounts:
    """A sparse confusion matrix: ``cells[(true_label, predicted_label)] = count``.

    Only non-zero cells are kept, so a merge is the sum of two mappings, exactly
    associative and commutative. The classes are every label seen as a truth or as a
    prediction.

    >>> counts = ConfusionCounts.from_labels([0, 1, 1], [0, 1, 0])
    >>> counts.merge(ConfusionCounts.from_labels([1], [1])).cells
    {(0, 0): 1, (1, 0): 1, (1, 1): 2}
    """

    cells: Mapping[tuple[Label, Label], int]

    @classmethod
    def from_labels(cls, y_true: ArrayLike, y_pred: ArrayLike) -> ConfusionCounts:
        """Count (truth, prediction) pairs; vectorised, one pass over the rows.

        Raises:
            InvalidInputError: missing labels or columns of different lengths.
        """
        classes, (truth, predicted) = encode_labels(("y_true", y_true), ("y_pred", y_pred))
        width = max(len(classes), 1)
        pairs, counts = np.unique(truth * width + predicted, return_counts=True)
        cells = {
            (classes[int(pair) // width], classes[int(pair) % width]): int(count)
            for pair, count in zip(pairs, counts, strict=True)
        }
        return cls(dict(sorted(cells.items(), key=_cell_key)))

    def merge(self, other: ConfusionCounts) -> ConfusionCounts:
        """The counts of both batches."""
        cells = dict(self.cells)
        for cell, count in other.cells.items():
            cells[cell] = cells.get(cell, 0) + count
        return ConfusionCounts(dict(sorted(cells.items(), key=_cell_key)))

    @property
    def n(self) -> int:
        """Rows counted."""
        return sum(self.cells.values())

    @property
    def classes(self) -> tuple[Label, ...]:
        """Every label seen as a truth or a prediction, sorted."""
        seen = {label for cell in self.cells for label in cell}
        return tuple(sorted(seen, key=label_sort_key))

    def matrix(self) -> tuple[tuple[Label, ...], IntArray]:
        """``(classes, matrix)`` with truths in rows and predictions in columns."""
        classes = self.classes
        index = {label: position for position, label in enumerate(classes)}
        matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
        for (truth, predicted), count in self.cells.items():
            matrix[index[truth], index[predicted]] = count
        return classes, matrix

    def _per_class(self) -> tuple[tuple[Label, ...], FloatArray, FloatArray, FloatArray]:
        """``(classes, true positives, predicted, actual)`` per class."""
        classes = self.classes
        index = {label: position for position, label in enumerate(classes)}
        tp = np.zeros(len(classes))
        predicted = np.zeros(len(classes))
        actual = np.zeros(len(classes))
        for (truth, guess), count in self.cells.items():
            actual[index[truth]] += count
            predicted[index[guess]] += count
            if truth == guess:
                tp[index[truth]] += count
        return classes, tp, predicted, actual

    def _require_rows(self, metric: str) -> None:
        if self.n == 0:
            raise InsufficientDataError(f"{metric} needs labelled rows; got none")

    def accuracy(self) -> float:
        """Share of rows whose prediction equals the truth."""
        self._require_rows("accuracy")
        correct = sum(count for (truth, guess), count in self.cells.items() if truth == guess)
        return correct / self.n

    def positive_rate(self, *, positive_class: Label = 1) -> float:
        """Share of rows predicted as ``positive_class``."""
        self._require_rows("positive_rate")
        positive = _check_positive_class(self.classes, positive_class)
        predicted = sum(count for (_, guess), count in self.cells.items() if guess == positive)
        return predicted / self.n

    def _binary(self, positive_class: Label) -> tuple[float, float, float]:
        positive = _check_positive_class(self.classes, positive_class)
        tp = predicted = actual = 0
        for (truth, guess), count in self.cells.items():
            tp += count if truth == positive and guess == positive else 0
            predicted += count if guess == positive else 0
            actual += count if truth == positive else 0
        return float(tp), float(predicted), float(actual)

    def precision(
        self, *, average: Average = "binary", positive_class: Label = 1, zero_division: float = 0.0
    ) -> float:
        """Precision: true positives over predicted positives (see the module's conventions)."""
        _check_average(average)
        _check_zero_division(zero_division)
        self._require_rows("precision")
        if average == "binary":
            tp, predicted, _ = self._binary(positive_class)
            return _ratio(tp, predicted, zero_division)
        _, tp_all, predicted_all, _ = self._per_class()
        if average == "micro":
            return _ratio(float(tp_all.sum()), float(predicted_all.sum()), zero_division)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_class = np.where(predicted_all > 0, tp_all / predicted_all, zero_division)
        return _nan_mean(per_class)

    def recall(
        self, *, average: Average = "binary", positive_class: Label = 1, zero_division: float = 0.0
    ) -> float:
        """Recall: true positives over actual positives (see the module's conventions)."""
        _check_average(average)
        _check_zero_division(zero_division)
        self._require_rows("recall")
        if average == "binary":
            tp, _, actual = self._binary(positive_class)
            return _ratio(tp, actual, zero_division)
        _, tp_all, _, actual_all = self._per_class()
        if average == "micro":
            return _ratio(float(tp_all.sum()), float(actual_all.sum()), zero_division)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_class = np.where(actual_all > 0, tp_all / actual_all, zero_division)
        return _nan_mean(per_class)

    def f1(
        self, *, average: Average = "binary", positive_class: Label = 1, zero_division: float = 0.0
    ) -> float:
        """F1: ``2 tp / (2 tp + fp + fn)``, which is ``zero_division`` when that is 0 / 0."""
        _check_average(average)
        _check_zero_division(zero_division)
        self._require_rows("f1")
        if average == "binary":
            tp, predicted, actual = self._binary(positive_class)
            return _ratio(2 * tp, predicted + actual, zero_division)
        _, tp_all, predicted_all, actual_all = self._per_class()
        if average == "micro":
            total = float(predicted_all.sum() + actual_all.sum())
            return _ratio(2 * float(tp_all.sum()), total, zero_division)
        denominator = predicted_all + actual_all
        with np.errstate(divide="ignore", invalid="ignore"):
            per_class = np.where(denominator > 0, 2 * tp_all / denominator, zero_division)
        return _nan_mean(per_class)

    def to_dict(self) -> dict[str, Any]:
        """``{"classes": [...], "cells": [[true index, predicted index, count], ...]}``."""
        classes = self.classes
        index = {label: position for position, label in enumerate(classes)}
        cells = [
            [index[truth], index[guess], count] for (truth, guess), count in self.cells.items()
        ]
        return {"classes": list(classes), "cells": cells}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfusionCounts:
        """Inverse of :meth:`to_dict`."""
        classes = [normalise_label(label) for label in data["classes"]]
        cells = {(classes[i], classes[j]): int(count) for i, j, count in data["cells"]}
        return cls(dict(sorted(cells.items(), key=_cell_key)))


def _cell_key(item: tuple[tuple[Label, Label], int]) -> tuple[Any, ...]:
    (truth, guess), _ = item
    return (label_sort_key(truth), label_sort_key(guess))


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
    positive = _check_positive_class(classes, positive_class)
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
