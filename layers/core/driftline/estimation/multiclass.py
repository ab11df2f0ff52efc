"""Multiclass performance estimated without labels, one class against the rest.

A multiclass model gives each row a probability per class (``schema.class_scores``) and a
predicted class. Read one class ``k`` against the rest, a row is a binary case: its score is
the class's probability and it is "predicted positive" when the predicted class is ``k``.
So the binary machinery serves every class unchanged: :class:`ClassScoreCells` keeps, per
class, the :class:`~driftline.estimation.score_cells.ScoreCells` of the class's probability
split by whether the row was predicted ``k``; every class has its own calibrator, fitted on
the baseline one-vs-rest (:mod:`~driftline.estimation.class_calibration`); and
:func:`estimate_multiclass` reads each class's expected one-vs-rest confusion counts with
:func:`~driftline.estimation.binary.estimate_binary`:

    TP_k = Σ_{ŷ=k} p_k,   FP_k = Σ_{ŷ=k} (1 − p_k),   FN_k = Σ_{ŷ≠k} p_k,

``p_k`` the calibrated probability of class ``k`` at the cell's mean score. From them:

- ``accuracy``: the expected share of rows whose predicted class is the true one,
  ``Σ_k TP_k / n`` (each row adds the calibrated probability of the class it was predicted);
- ``precision_macro``, ``recall_macro``, ``f1_macro``: the mean over the classes of each
  class's precision ``TP/(TP+FP)``, recall ``TP/(TP+FN)`` and F1 ``2TP/(2TP+FP+FN)``, a
  class whose denominator is zero counting 0, as the measured macro metrics count it (and
  scikit-learn's ``zero_division=0``, and NannyML's estimates);
- ``auc_macro``: the mean over the classes of the one-vs-rest ROC AUC of the class's score
  with every row a positive of weight ``p_k`` and a negative of weight ``1 − p_k``
  (scikit-learn's ``roc_auc_score(multi_class="ovr", average="macro")`` on the labels).

The names are those of the measured multiclass metrics (docs/performance.md), so checks and
the reconciliation line up; ``auc_macro`` is estimated only (the profiles measure no
multiclass AUC).

**Row by row, the classes' probabilities are not renormalised.** NannyML's CBPE divides a
row's calibrated probabilities by their sum, so that they add up to 1. That couples the
classes row by row, which a summary per class cannot hold (the sum is of the row's other
classes' scores), so here each class keeps its own calibrated one-vs-rest probability. Where
the raw scores add up to 1 and no class is calibrated the two agree exactly; otherwise they
differ by the calibrators' disagreement on a row's sum (benchmarks/README.md measures it on
NannyML's own multiclass data).

Rows are kept in the cells when every class's score is a number in [0, 1] and the predicted
class is one of the declared classes; the others are counted by why (``score_missing``,
``score_out_of_range``, ``prediction_unknown``), so every class's cells hold the same rows.

>>> from driftline.estimation.calibration import IdentityCalibrator
>>> scores = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]]
>>> cells = ClassScoreCells.from_arrays(scores, [0, 1, 2, 0], classes=("a", "b", "c"))
>>> estimate = estimate_multiclass(cells, [IdentityCalibrator()] * 3)
>>> round(estimate.metrics["accuracy"], 6)          # (0.7 + 0.8 + 0.4 + 0.5) / 4
0.6
>>> [round(share, 3) for share in estimate.expected_shares]
[0.4, 0.425, 0.175]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from driftline.errors import IncompatibleProfilesError, InvalidInputError
from driftline.estimation.binary import BinaryEstimate, cell_probabilities, estimate_binary
from driftline.estimation.calibration import Calibrator
from driftline.estimation.sampling import sampling_variances
from driftline.estimation.score_cells import ScoreCells
from driftline.metrics.encoding import Label, normalise_label

#: The metrics :func:`estimate_multiclass` estimates, in the order it reports them.
MULTICLASS_METRICS = ("accuracy", "precision_macro", "recall_macro", "f1_macro", "auc_macro")
#: Each macro metric and the one-vs-rest binary metric it averages.
MACRO_OF = {
    "precision_macro": "precision",
    "recall_macro": "recall",
    "f1_macro": "f1",
    "auc_macro": "auc",
}
_LEFT_OUT = ("score_missing", "score_out_of_range", "prediction_unknown")


@dataclass(frozen=True, eq=False)
class ClassScoreCells:
    """Per class, the score cells of that class's probability, one class against the rest.

    Attributes:
        classes: the declared classes (``schema.class_scores``' keys, normalised), in order.
        cells: per class, :class:`ScoreCells` of its probability with the rows predicted
            that class as "predicted positive"; every class's cells hold the same rows.
        score_missing: rows left out because a class's score was missing or not a number.
        score_out_of_range: rows left out because a class's score was outside [0, 1].
        prediction_unknown: rows left out because their predicted class is none of
            ``classes``.

    Raises:
        IncompatibleProfilesError: fewer than two classes, or not one cells per class.
    """

    classes: tuple[Label, ...]
    cells: tuple[ScoreCells, ...]
    score_missing: int = 0
    score_out_of_range: int = 0
    prediction_unknown: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(normalise_label(c) for c in self.classes))
        object.__setattr__(self, "cells", tuple(self.cells))
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise IncompatibleProfilesError(
                f"class score cells need two or more distinct classes; got {len(self.classes)}"
                f" ({len(set(self.classes))} distinct)",
                reason="different_classes",
            )
        if len(self.cells) != len(self.classes):
            raise IncompatibleProfilesError(
                f"class score cells need one set of cells per class ({len(self.classes)}); got "
                f"{len(self.cells)}",
                reason="different_classes",
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClassScoreCells):
            return NotImplemented
        return (self.classes, self.cells, self.left_out) == (
            other.classes,
            other.cells,
            other.left_out,
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def empty(cls, classes: Sequence[Label]) -> ClassScoreCells:
        """No rows: the identity of :meth:`merge` for these classes."""
        return cls(tuple(classes), tuple(ScoreCells.empty() for _ in classes))

    @classmethod
    def from_arrays(
        cls, scores: ArrayLike, predicted: ArrayLike, *, classes: Sequence[Label]
    ) -> ClassScoreCells:
        """The cells of one batch (vectorised).

        Args:
            scores: one row per row of the batch, one column per class (in ``classes``
                order): the class's probability; NaN for a missing score.
            predicted: each row's predicted class as its position in ``classes``, or -1 for
                a class that is none of them.
            classes: the declared classes.

        Raises:
            InvalidInputError: the shapes do not fit (the message counts, never quotes).
        """
        width = len(classes)
        try:
            values = np.asarray(scores, dtype=np.float64).reshape(-1, width)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"class scores must be numbers, one column per class ({width})",
                reason="invalid_scores",
            ) from None
        index = np.asarray(predicted, dtype=np.int64).reshape(-1)
        if index.size != values.shape[0]:
            raise InvalidInputError(
                f"predicted must hold one class per row ({values.shape[0]}); got {index.size}",
                reason="invalid_prediction",
            )
        if np.any((index < -1) | (index >= width)):
            raise InvalidInputError(
                f"predicted classes must be positions in the {width} classes or -1",
                reason="invalid_prediction",
            )
        missing = np.isnan(values).any(axis=1)
        outside = ~missing & ((values < 0.0) | (values > 1.0)).any(axis=1)
        unknown = ~missing & ~outside & (index < 0)
        kept = ~(missing | outside | unknown)
        rows, chosen = values[kept], index[kept]
        return cls(
            tuple(classes),
            tuple(ScoreCells.from_arrays(rows[:, k], chosen == k) for k in range(width)),
            score_missing=int(np.count_nonzero(missing)),
            score_out_of_range=int(np.count_nonzero(outside)),
            prediction_unknown=int(np.count_nonzero(unknown)),
        )

    def merge(self, other: ClassScoreCells) -> ClassScoreCells:
        """The cells of both: every class's cells and every count added.

        Raises:
            IncompatibleProfilesError: ``reason="different_classes"``: the two declare
                other classes (or another order).
        """
        if self.classes != other.classes:
            raise IncompatibleProfilesError(
                f"class score cells of {len(other.classes)} classes do not merge with cells of "
                f"{len(self.classes)} other classes (schema.class_scores changed)",
                reason="different_classes",
            )
        return ClassScoreCells(
            self.classes,
            tuple(mine.merge(theirs) for mine, theirs in zip(self.cells, other.cells, strict=True)),
            self.score_missing + other.score_missing,
            self.score_out_of_range + other.score_out_of_range,
            self.prediction_unknown + other.prediction_unknown,
        )

    @property
    def n(self) -> int:
        """The rows in the cells (every class's cells hold the same rows)."""
        return self.cells[0].n

    @property
    def left_out(self) -> dict[str, int]:
        """The rows left out, by why."""
        return {
            "score_missing": self.score_missing,
            "score_out_of_range": self.score_out_of_range,
            "prediction_unknown": self.prediction_unknown,
        }

    @property
    def unbinned(self) -> int:
        """Every row left out (the counts of :attr:`left_out` added)."""
        return self.score_missing + self.score_out_of_range + self.prediction_unknown

    def to_dict(self) -> dict[str, Any]:
        """``{"classes": [...], "cells": [per class ScoreCells.to_dict()], <left out>}``."""
        return {
            "classes": list(self.classes),
            "cells": [cells.to_dict() for cells in self.cells],
            **self.left_out,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClassScoreCells:
        """Inverse of :meth:`to_dict`, validated.

        Raises:
            InvalidInputError: ``reason="invalid_score_cells"``, naming the key: a key
                missing or of the wrong type, not one set of cells per class, classes whose
                cells hold different rows, or rows predicted more than one class.
            IncompatibleProfilesError: cells on another score grid.
        """
        if not isinstance(data, Mapping):
            raise _invalid("", f"must be a mapping; got {type(data).__name__}")
        classes = data.get("classes")
        if not isinstance(classes, list) or not all(
            isinstance(label, bool | int | float | str) for label in classes
        ):
            raise _invalid("classes", "must be a list of classes (numbers or texts)")
        stored = data.get("cells")
        if not isinstance(stored, list) or len(stored) != len(classes):
            raise _invalid(
                "cells", f"must be a list of one set of cells per class ({len(classes)})"
            )
        cells = tuple(ScoreCells.from_dict(item) for item in stored)
        counts = {}
        for key in _LEFT_OUT:
            value = data.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise _invalid(key, "must be a count (an integer >= 0)")
            counts[key] = value
        if len({item.n for item in cells}) > 1 or any(item.unbinned for item in cells):
            raise _invalid("cells", "must hold the same rows for every class, all binned")
        if cells and sum(int(item.counts[1].sum()) for item in cells) != cells[0].n:
            raise _invalid("cells", "must have every row predicted exactly one class")
        try:
            return cls(tuple(classes), cells, **counts)
        except IncompatibleProfilesError as exc:
            raise _invalid("classes", str(exc)) from None


@dataclass(frozen=True)
class MulticlassEstimate:
    """Estimated multiclass performance of one set of class cells.

    Attributes:
        rows: the rows the estimate is made on.
        classes: the declared classes.
        per_class: each class's one-vs-rest estimate (its expected confusion counts and
            binary metrics, a zero denominator under its ``undefined``).
        metrics: each of :data:`MULTICLASS_METRICS` that is defined, by name.
        undefined: each one that is not, with the reason.
    """

    rows: int
    classes: tuple[Label, ...]
    per_class: tuple[BinaryEstimate, ...]
    metrics: dict[str, float] = field(default_factory=dict)
    undefined: dict[str, str] = field(default_factory=dict)

    @property
    def expected_shares(self) -> tuple[float, ...]:
        """Each class's expected share of the rows, ``Σ p_k / n`` (the estimated prior;
        empty without rows). The shares need not add up to 1: each class has its own
        calibrator."""
        if not self.rows:
            return ()
        return tuple(estimate.expected_positives / self.rows for estimate in self.per_class)


def estimate_multiclass(
    cells: ClassScoreCells, calibrators: Sequence[Calibrator]
) -> MulticlassEstimate:
    """The expected one-vs-rest confusion counts of every class and the multiclass metrics
    of ``cells``, each class's cells under its own calibrator (see the module's description).

    Raises:
        ValueError: not one calibrator per class.
    """
    if len(calibrators) != len(cells.classes):
        raise ValueError(
            f"expected one calibrator per class ({len(cells.classes)}); got {len(calibrators)}"
        )
    per_class = tuple(
        estimate_binary(class_cells, calibrator)
        for class_cells, calibrator in zip(cells.cells, calibrators, strict=True)
    )
    rows = cells.n
    if rows == 0:
        why = "there are no scored rows"
        reasons = {name: f"{name} is undefined: {why}" for name in MULTICLASS_METRICS}
        return MulticlassEstimate(0, cells.classes, per_class, {}, reasons)
    metrics = {"accuracy": sum(estimate.true_positives for estimate in per_class) / rows}
    undefined: dict[str, str] = {}
    for name, binary in MACRO_OF.items():
        if binary == "auc":
            lacking = sum(1 for estimate in per_class if "auc" in estimate.undefined)
            if lacking:
                undefined[name] = (
                    f"{name} is undefined: the one-vs-rest auc of {lacking} of "
                    f"{len(per_class)} classes is (no row is expected in the class, or every "
                    "row is)"
                )
                continue
        metrics[name] = float(
            np.mean([estimate.metrics.get(binary, 0.0) for estimate in per_class])
        )
    return MulticlassEstimate(
        rows,
        cells.classes,
        per_class,
        {name: metrics[name] for name in MULTICLASS_METRICS if name in metrics},
        undefined,
    )


def multiclass_sampling_variances(
    cells: ClassScoreCells, calibrators: Sequence[Calibrator]
) -> dict[str, float]:
    """The variance of each realised multiclass metric when every row of a class's cell is
    of that class with the cell's calibrated probability, independently of other rows.

    - ``accuracy``: exact, ``Σ_k Σ_{ŷ=k} n p_k (1 − p_k) / n²`` (a row is right with the
      probability of the class it was predicted).
    - ``precision_macro``: ``Σ_k Var(precision_k) / K²``, exact: the rows predicted ``k``
      are each class's own, so the classes' true positives are independent (a class none
      is predicted is a constant 0).
    - ``recall_macro``, ``f1_macro``, ``auc_macro``: ``Σ_k Var(metric_k) / K²``, each
      class's variance from :func:`~driftline.estimation.sampling.sampling_variances`.
      This leaves out the covariance between classes (a row that is of class ``j`` is not
      of class ``k``), which per-class cells cannot give: it needs a row's probabilities of
      two classes together. It makes the standard deviations too small: measured against
      simulated labels (3 to 5 classes, 1,000 to 3,000 rows), 0.78 to 0.85 of the simulated
      ones. The baseline's model-error term, measured against realised metrics, holds what
      it leaves out at the size of a baseline chunk (so for much larger windows the interval
      is on the wide side, for much smaller ones on the narrow side).

    Returns:
        By name, the metrics the estimate defines; an empty mapping without rows.
    """
    rows = cells.n
    if rows == 0:
        return {}
    classes = len(cells.classes)
    per_class = [
        sampling_variances(class_cells, calibrator)
        for class_cells, calibrator in zip(cells.cells, calibrators, strict=True)
    ]
    right = 0.0
    for class_cells, calibrator in zip(cells.cells, calibrators, strict=True):
        predicted, sizes, _, probabilities = cell_probabilities(class_cells, calibrator)
        as_class = predicted == 1
        right += float(np.sum((sizes * probabilities * (1.0 - probabilities))[as_class]))
    variances = {"accuracy": right / rows**2}
    for name, binary in MACRO_OF.items():
        if binary == "auc" and not all("auc" in variance for variance in per_class):
            continue
        variances[name] = sum(variance.get(binary, 0.0) for variance in per_class) / classes**2
    return variances


def _invalid(key: str, problem: str) -> InvalidInputError:
    where = f"class score cells key {key!r}" if key else "class score cells"
    return InvalidInputError(f"{where} {problem}", reason="invalid_score_cells", key=key)
