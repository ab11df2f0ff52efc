"""The columns the estimate reads, and reading them from a chunk of rows.

A binary classifier's performance is estimated from two columns of every row, its score
(the probability of the positive class) and its predicted class, and calibrated on a third
of the baseline's rows, the label. :class:`EstimationColumns` names them;
:func:`score_cells_of` reduces a chunk (inference logs, labelled or not) to
:class:`~driftline.estimation.score_cells.ScoreCells`, and :func:`labelled_scores_of`
takes a baseline chunk's labelled, scored rows for the calibrator (:func:`labelled_rows_of`
with their predicted classes too, for measuring the estimator's error).

A multiclass classifier's estimate reads a probability column per class (``schema.
class_scores``) and the predicted class (:class:`ClassEstimationColumns`,
:func:`class_score_cells_of`; the baseline's labelled rows for the per-class calibrators with
:func:`labelled_class_rows_of`). A predicted class or a label is matched to a declared class
the same way, normalised.

Reading is lenient, as profiling is: a score that is not a number counts as a missing score
(data quality reports it as a type violation), and a row without a predicted class is left
out of the cells (its count is the rows less the cells' rows and unbinned scores). A
predicted class or a label is positive when it equals the positive class (``schema.
positive_class``; 1 when unset, as for the measured metrics), compared the way the measured
metrics compare classes (:func:`~driftline.metrics.encoding.normalise_label`: ``1.0`` is
``1``, the text ``"1"`` is not).

>>> import pandas as pd
>>> columns = EstimationColumns(score="p", prediction="yhat", label="y")
>>> frame = pd.DataFrame({"p": [0.9, 0.2, "x", 0.7], "yhat": [1, 0, 1, None],
...                       "y": [1.0, None, 0.0, 0.0]})
>>> cells = score_cells_of(frame, columns)
>>> cells.n, cells.missing          # the 4th row has no predicted class
(2, 1)
>>> scores, positive = labelled_scores_of(frame, columns)
>>> scores.tolist(), positive.tolist()
([0.9, 0.7], [True, False])
>>> labelled_rows_of(frame, columns)[2].tolist()    # the predicted classes; -1: none
[1, -1]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftline.estimation.multiclass import ClassScoreCells
from driftline.estimation.score_cells import ScoreCells
from driftline.metrics.encoding import FloatArray, IntArray, Label, is_hashable, normalise_label
from driftline.numbers import coerce_numbers


@dataclass(frozen=True)
class EstimationColumns:
    """The columns a binary classifier's estimate reads.

    Attributes:
        score: the probability of the positive class.
        prediction: the predicted class.
        label: the true class (read on the baseline only, to calibrate); None when the
            model has no label column.
        positive_class: the class the score is the probability of; None: 1.
    """

    score: str
    prediction: str
    label: str | None = None
    positive_class: Label | None = None

    @property
    def positive(self) -> Label:
        """The positive class, normalised (1 when unset)."""
        return 1 if self.positive_class is None else normalise_label(self.positive_class)


def score_cells_of(frame: pd.DataFrame, columns: EstimationColumns) -> ScoreCells:
    """The score cells of a chunk's rows that have a predicted class; an absent column is
    read as missing on every row."""
    rows = len(frame)
    predicted, present = _is_positive(_column(frame, columns.prediction, rows), columns.positive)
    scores = _numbers(_column(frame, columns.score, rows))
    return ScoreCells.from_arrays(scores[present], predicted[present])


def labelled_scores_of(
    frame: pd.DataFrame, columns: EstimationColumns
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """The scores of a chunk's labelled rows whose score is in [0, 1] (the rows the cells
    bin), and whether each such row's label is the positive class.

    Raises:
        ValueError: ``columns`` names no label column.
    """
    if columns.label is None:
        raise ValueError("labelled_scores_of needs columns.label")
    scores, positive, _ = labelled_rows_of(frame, columns)
    return scores, positive


def labelled_rows_of(
    frame: pd.DataFrame, columns: EstimationColumns
) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.int8]]:
    """As :func:`labelled_scores_of`, with each row's predicted class: 1 (the positive
    class), 0, or -1 when the row has none.

    Raises:
        ValueError: ``columns`` names no label column.
    """
    if columns.label is None:
        raise ValueError("labelled_rows_of needs columns.label")
    rows = len(frame)
    positive, labelled = _is_positive(_column(frame, columns.label, rows), columns.positive)
    scores = _numbers(_column(frame, columns.score, rows))
    kept = labelled & (scores >= 0.0) & (scores <= 1.0)  # NaN compares False
    as_positive, present = _is_positive(_column(frame, columns.prediction, rows), columns.positive)
    predicted = np.where(present, as_positive.astype(np.int8), np.int8(-1)).astype(np.int8)
    return scores[kept], positive[kept], predicted[kept]


@dataclass(frozen=True)
class ClassEstimationColumns:
    """The columns a multiclass classifier's estimate reads.

    Attributes:
        classes: the declared classes (``schema.class_scores``' keys), normalised.
        scores: per class, in the same order, the column of its probability.
        prediction: the predicted class.
        label: the true class (read on the baseline only, to calibrate); None when the
            model has no label column.
    """

    classes: tuple[Label, ...]
    scores: tuple[str, ...]
    prediction: str
    label: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(normalise_label(c) for c in self.classes))
        if len(self.scores) != len(self.classes):
            raise ValueError(
                f"expected one score column per class ({len(self.classes)}); got {len(self.scores)}"
            )


def class_score_cells_of(frame: pd.DataFrame, columns: ClassEstimationColumns) -> ClassScoreCells:
    """The class score cells of a chunk's rows that have a predicted class (a class none of
    the declared ones counts as ``prediction_unknown``); an absent column is read as missing
    on every row.

    >>> columns = ClassEstimationColumns(("a", "b"), ("pa", "pb"), "yhat")
    >>> frame = pd.DataFrame({"pa": [0.9, 0.2, 0.5, 0.6], "pb": [0.1, 0.8, None, 0.4],
    ...                       "yhat": ["a", "b", "a", "z"]})
    >>> cells = class_score_cells_of(frame, columns)
    >>> cells.n, cells.left_out["score_missing"], cells.left_out["prediction_unknown"]
    (2, 1, 1)
    """
    rows = len(frame)
    predicted, present = _class_positions(_column(frame, columns.prediction, rows), columns.classes)
    scores = _class_scores(frame, columns, rows)
    return ClassScoreCells.from_arrays(scores[present], predicted[present], classes=columns.classes)


def labelled_class_rows_of(
    frame: pd.DataFrame, columns: ClassEstimationColumns
) -> tuple[FloatArray, IntArray, IntArray]:
    """A chunk's labelled rows whose label is a declared class and whose every class score
    is in [0, 1]: their scores (one column per class), the position of each label in the
    classes, and of each predicted class (-1 for none, or a class not declared).

    Raises:
        ValueError: ``columns`` names no label column.

    >>> columns = ClassEstimationColumns((0, 1, 2), ("p0", "p1", "p2"), "yhat", "y")
    >>> frame = pd.DataFrame({"p0": [0.6, 0.1, 0.3], "p1": [0.3, 0.1, 0.3],
    ...                       "p2": [0.1, 0.8, 0.4], "yhat": [0, 2, None], "y": [1, 2, 7]})
    >>> scores, truth, predicted = labelled_class_rows_of(frame, columns)
    >>> scores.shape, truth.tolist(), predicted.tolist()      # label 7 is not a class
    ((2, 3), [1, 2], [0, 2])
    """
    if columns.label is None:
        raise ValueError("labelled_class_rows_of needs columns.label")
    rows = len(frame)
    truth, labelled = _class_positions(_column(frame, columns.label, rows), columns.classes)
    scores = _class_scores(frame, columns, rows)
    in_range = np.all((scores >= 0.0) & (scores <= 1.0), axis=1)  # NaN compares False
    predicted, present = _class_positions(_column(frame, columns.prediction, rows), columns.classes)
    kept = labelled & (truth >= 0) & in_range
    predicted = np.where(present, predicted, -1)
    return scores[kept], truth[kept], predicted[kept]


def _class_scores(frame: pd.DataFrame, columns: ClassEstimationColumns, rows: int) -> FloatArray:
    """The class score columns as one array, a column per class (NaN: missing or not a
    number)."""
    if not columns.scores:
        return np.empty((rows, 0))
    return np.column_stack([_numbers(_column(frame, name, rows)) for name in columns.scores])


def _class_positions(
    values: pd.Series[Any], classes: tuple[Label, ...]
) -> tuple[IntArray, NDArray[np.bool_]]:
    """Each value's position in ``classes`` (-1 when it is none of them), and whether it is
    a class at all (not missing). Only the distinct values are compared in Python."""
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # an unhashable value: a JSON array or object
        hashable = values.map(lambda value: value if is_hashable(value) else None)
        codes, uniques = pd.factorize(hashable, use_na_sentinel=True)
    present = codes >= 0
    where = {label: position for position, label in enumerate(classes)}
    found = np.array([where.get(normalise_label(value), -1) for value in uniques], dtype=np.int64)
    positions = np.full(codes.size, -1, dtype=np.int64)
    positions[present] = found[codes[present]]
    return positions, present


def _column(frame: pd.DataFrame, name: str, rows: int) -> pd.Series[Any]:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * rows, index=frame.index, dtype=object)


def _numbers(values: pd.Series[Any]) -> FloatArray:
    """The values as floats: NaN for a missing value and for one that is not a number."""
    numbers = coerce_numbers(values)
    return np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _is_positive(values: pd.Series[Any], positive: Label) -> tuple[NDArray[np.bool_], ...]:
    """Whether each value is the positive class, and whether it is a class at all (not
    missing; a list or a mapping, which no class can be, counts as missing). Only the
    distinct values are compared in Python."""
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # an unhashable value: a JSON array or object
        hashable = values.map(lambda value: value if is_hashable(value) else None)
        codes, uniques = pd.factorize(hashable, use_na_sentinel=True)
    present = codes >= 0
    matches = np.array([normalise_label(value) == positive for value in uniques], dtype=bool)
    is_positive = np.zeros(codes.size, dtype=bool)
    is_positive[present] = matches[codes[present]]
    return is_positive, present
