"""Confusion counts: the mergeable summary every count-based classification metric reads.

:class:`ConfusionCounts` keeps the non-zero cells of a confusion matrix, so the counts of
two batches merge exactly; the exact functions of :mod:`driftline.metrics.classification`
and a profile read the same formulas off them.

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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from driftline.errors import InsufficientDataError
from driftline.metrics.encoding import (
    FloatArray,
    IntArray,
    Label,
    check_positive_class,
    encode_labels,
    label_sort_key,
    normalise_label,
)

Average = Literal["binary", "macro", "micro"]

_AVERAGES = ("binary", "macro", "micro")


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
        positive = check_positive_class(self.classes, positive_class)
        predicted = sum(count for (_, guess), count in self.cells.items() if guess == positive)
        return predicted / self.n

    def _binary(self, positive_class: Label) -> tuple[float, float, float]:
        positive = check_positive_class(self.classes, positive_class)
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
