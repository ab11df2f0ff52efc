"""The per-class calibrators a multiclass baseline stores, and the estimator's error on it.

A multiclass classifier's probability of class ``k`` is calibrated one class against the
rest, as NannyML's CBPE does: on the baseline's labelled rows, the class's score against
whether the label is ``k``, with the binary rule and fit (:class:`~driftline.estimation.
baseline.BaselineCalibration`: :func:`~driftline.estimation.calibration.needs_calibration`
decides per class, an isotonic calibrator or the identity, fitted on at most
:data:`~driftline.estimation.baseline.MAX_CALIBRATION_ROWS` rows). :class:`ClassCalibration`
holds one per class, in the order of ``schema.class_scores``.

The rows gathered (:class:`ClassCalibrationRows`) are the baseline's labelled rows whose
label is a declared class and whose every class score is in [0, 1]: ``8 K + 16`` bytes a row
for ``K`` classes.

**The estimator's error** (:func:`measure_class_model_error`) is measured as the binary one
is (:mod:`~driftline.estimation.model_error`): the rows with a predicted class, in the order
of the file, cut into 10 consecutive blocks, each estimated with per-class calibrators fitted
on the other nine (the identity for a class the baseline does not calibrate) in 5 chunks,
and compared with the metrics its labels give (:func:`realised_class_metrics`). The excess
variance of each multiclass metric is stored and widens every interval.

>>> rng = np.random.default_rng(3)
>>> scores = rng.dirichlet([2.0, 2.0, 2.0], size=3000)
>>> truth = np.array([rng.choice(3, p=row) for row in scores])
>>> calibration = ClassCalibration.fitted(scores, truth, scores.argmax(axis=1), classes=(0, 1, 2))
>>> calibration.rows, len(calibration.calibrators), calibration.model_error.chunk_rows
(3000, 3, 60)
>>> ClassCalibration.from_dict(calibration.to_dict()) == calibration
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftline.errors import InvalidInputError
from driftline.estimation.baseline import (
    MAX_CALIBRATION_ROWS,
    NO_LABEL_COLUMN,
    BaselineCalibration,
    stored_rows,
)
from driftline.estimation.calibration import Calibrator, IdentityCalibrator, fit_isotonic
from driftline.estimation.columns import ClassEstimationColumns, labelled_class_rows_of
from driftline.estimation.model_error import (
    BLOCKS,
    CHUNKS_PER_BLOCK,
    MIN_CHUNK_ROWS,
    ModelError,
    error_terms,
    held_out_blocks,
)
from driftline.estimation.multiclass import (
    MULTICLASS_METRICS,
    ClassScoreCells,
    estimate_multiclass,
    multiclass_sampling_variances,
)
from driftline.metrics.classification import trapezoid_auc
from driftline.metrics.encoding import FloatArray, IntArray, Label, normalise_label

#: Why a multiclass baseline has no calibrators: no labelled row to fit them on.
NO_LABELLED_CLASS_SCORES = (
    "the baseline has no labelled row of a declared class with every class score in [0, 1] "
    "to calibrate on"
)


@dataclass(frozen=True)
class ClassCalibration:
    """A multiclass baseline's calibrators, one per class, or why there are none.

    Attributes:
        rows: the baseline's labelled rows of a declared class with every score in [0, 1].
        classes: the declared classes, in order (empty when skipped).
        per_class: per class, its one-vs-rest :class:`BaselineCalibration` (its calibrator,
            the decision that chose it and the rows fitted on; no model-error terms).
        skipped: why there are no calibrators (None when there are).
        model_error: the estimator's error beyond sampling for the multiclass metrics
            (:func:`measure_class_model_error`); None when not measured.
    """

    rows: int
    classes: tuple[Label, ...] = ()
    per_class: tuple[BaselineCalibration, ...] = ()
    skipped: str | None = None
    model_error: ModelError | None = None

    @property
    def calibrators(self) -> tuple[Calibrator, ...] | None:
        """Each class's calibrator, or None when there are none."""
        found = tuple(calibration.calibrator for calibration in self.per_class)
        if self.skipped is not None or not found or any(c is None for c in found):
            return None
        return tuple(c for c in found if c is not None)

    @classmethod
    def fitted(
        cls,
        scores: FloatArray,
        truth: IntArray,
        predicted: IntArray | None = None,
        *,
        classes: Sequence[Label],
        max_rows: int = MAX_CALIBRATION_ROWS,
    ) -> ClassCalibration:
        """The calibrators of these rows: ``scores`` one column per class (in [0, 1]),
        ``truth`` each row's label as a position in ``classes``; with ``predicted`` (each
        row's predicted class as a position, -1 for none, rows in the order of the file),
        the model-error terms too."""
        labels = tuple(normalise_label(label) for label in classes)
        rows = int(truth.size)
        if rows == 0:
            return cls(0, skipped=NO_LABELLED_CLASS_SCORES)
        per_class = tuple(
            BaselineCalibration.fitted(scores[:, k], truth == k, max_rows=max_rows)
            for k in range(len(labels))
        )
        model_error = None
        if predicted is not None:
            calibrate = [c.decision is not None and c.decision.calibrate for c in per_class]
            model_error = measure_class_model_error(
                scores, truth, predicted, calibrate=calibrate, max_rows=max_rows
            )
        return cls(rows, labels, per_class, model_error=model_error)

    def to_dict(self) -> dict[str, object]:
        """``{"rows", "classes", "per_class": [...], "model_error"}`` (the last only when
        measured), or ``{"rows": 0, "skipped"}``."""
        if self.skipped is not None:
            return {"rows": self.rows, "skipped": self.skipped}
        document: dict[str, object] = {
            "rows": self.rows,
            "classes": list(self.classes),
            "per_class": [calibration.to_dict() for calibration in self.per_class],
        }
        if self.model_error is not None:
            document["model_error"] = self.model_error.to_dict()
        return document

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ClassCalibration:
        """Inverse of :meth:`to_dict`, validated.

        Raises:
            InvalidInputError: ``reason="invalid_calibrator"``, naming the key.
        """
        rows, skipped = stored_rows(data, _invalid)
        if skipped is not None:
            return cls(rows, skipped=skipped)
        classes = data.get("classes")
        if not isinstance(classes, list) or len(classes) < 2:
            raise _invalid("classes", "must be a list of two or more classes")
        if not all(isinstance(label, bool | int | float | str) for label in classes):
            raise _invalid("classes", "must hold numbers or texts")
        if len({normalise_label(label) for label in classes}) != len(classes):
            raise _invalid("classes", "must not name a class twice")
        per_class = data.get("per_class")
        if not isinstance(per_class, list) or len(per_class) != len(classes):
            raise _invalid(
                "per_class", f"must be a list of one calibration per class ({len(classes)})"
            )
        calibrations = tuple(BaselineCalibration.from_dict(item) for item in per_class)
        if any(calibration.calibrator is None for calibration in calibrations):
            raise _invalid("per_class", "must hold a calibrator for every class")
        model_error = data.get("model_error")
        if model_error is not None and not isinstance(model_error, Mapping):
            raise _invalid("model_error", "must be a mapping")
        return cls(
            rows,
            tuple(normalise_label(label) for label in classes),
            calibrations,
            model_error=(
                None
                if model_error is None
                else ModelError.from_dict(model_error, MULTICLASS_METRICS)
            ),
        )


class ClassCalibrationRows:
    """A multiclass baseline's labelled rows with every class score in [0, 1], gathered
    chunk by chunk, in the order of the file."""

    def __init__(self, columns: ClassEstimationColumns) -> None:
        self.columns = columns
        self._scores: list[FloatArray] = []
        self._truth: list[IntArray] = []
        self._predicted: list[IntArray] = []

    def add(self, frame: pd.DataFrame) -> None:
        """Keep the labelled, scored rows of one chunk (none without a label column)."""
        if self.columns.label is None:
            return
        scores, truth, predicted = labelled_class_rows_of(frame, self.columns)
        self._scores.append(scores)
        self._truth.append(truth.astype(np.int32))
        self._predicted.append(predicted.astype(np.int32))

    def gathering(self, frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """The chunks, passed on unchanged, each kept as it goes by."""
        for frame in frames:
            self.add(frame)
            yield frame

    def calibration(self) -> ClassCalibration:
        """The calibrators fitted on the rows gathered, or the reason there are none."""
        if self.columns.label is None:
            return ClassCalibration(0, skipped=NO_LABEL_COLUMN)
        width = len(self.columns.classes)
        scores = np.concatenate(self._scores) if self._scores else np.empty((0, width))
        truth = np.concatenate(self._truth) if self._truth else np.empty(0, np.int32)
        predicted = np.concatenate(self._predicted) if self._predicted else np.empty(0, np.int32)
        self._scores, self._truth, self._predicted = [], [], []
        return ClassCalibration.fitted(
            scores,
            truth.astype(np.int64),
            predicted.astype(np.int64),
            classes=self.columns.classes,
        )


def measure_class_model_error(
    scores: FloatArray,
    truth: IntArray,
    predicted: IntArray,
    *,
    calibrate: Sequence[bool],
    max_rows: int | None = None,
    blocks: int = BLOCKS,
    chunks_per_block: int = CHUNKS_PER_BLOCK,
) -> ModelError:
    """The model-error terms of the multiclass metrics on a baseline's rows, in the order
    of the file, as :func:`~driftline.estimation.model_error.measure_model_error` measures
    the binary ones.

    Args:
        scores: one row per row, one column per class, in [0, 1].
        truth: each row's label as a position in the classes.
        predicted: each row's predicted class as a position, or -1 (left out).
        calibrate: per class, whether to fit an isotonic calibrator on the other blocks
            (the baseline's decision for that class) or take the scores as they are.
        max_rows, blocks, chunks_per_block: as for the binary terms.
    """
    kept = predicted >= 0
    scores, truth, predicted = scores[kept], truth[kept], predicted[kept]
    if max_rows is not None and truth.size > max_rows:
        spaced = np.arange(max_rows, dtype=np.int64) * truth.size // max_rows
        scores, truth, predicted = scores[spaced], truth[spaced], predicted[spaced]
    rows = int(truth.size)
    chunks = blocks * chunks_per_block
    if rows < chunks * MIN_CHUNK_ROWS:
        return ModelError(
            rows,
            skipped=(
                f"the baseline has {rows} labelled rows with class scores and a predicted "
                f"class; measuring the estimator's error takes at least {chunks * MIN_CHUNK_ROWS}"
            ),
        )
    classes = tuple(range(len(calibrate)))
    errors: dict[str, list[float]] = {name: [] for name in MULTICLASS_METRICS}
    variances: dict[str, list[float]] = {name: [] for name in MULTICLASS_METRICS}
    for start, end in held_out_blocks(rows, blocks):
        others = np.ones(rows, dtype=bool)
        others[start:end] = False
        calibrators: list[Calibrator] = [
            fit_isotonic(scores[others, k], truth[others] == k) if fit else IdentityCalibrator()
            for k, fit in enumerate(calibrate)
        ]
        for chunk in np.array_split(np.arange(start, end), chunks_per_block):
            cells = ClassScoreCells.from_arrays(scores[chunk], predicted[chunk], classes=classes)
            estimated = estimate_multiclass(cells, calibrators).metrics
            spread = multiclass_sampling_variances(cells, calibrators)
            realised = realised_class_metrics(scores[chunk], truth[chunk], predicted[chunk])
            for name in MULTICLASS_METRICS:
                if name in estimated and name in realised:
                    errors[name].append(estimated[name] - realised[name])
                    variances[name].append(spread[name])
    return ModelError(rows, rows // chunks, error_terms(errors, variances))


def realised_class_metrics(
    scores: FloatArray, truth: IntArray, predicted: IntArray
) -> dict[str, float]:
    """The multiclass metrics the labels give, over every declared class (a column of
    ``scores``): accuracy; the macro means of precision, recall and F1 (a zero denominator
    counting 0, as the estimate counts it); and the macro one-vs-rest ROC AUC of the raw
    scores (ties half), left out when a class has no row, or every row, in the labels.

    >>> scores = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]])
    >>> metrics = realised_class_metrics(scores, np.array([0, 1, 2, 0]), np.array([0, 1, 2, 1]))
    >>> metrics["accuracy"], round(metrics["precision_macro"], 4), metrics["auc_macro"]
    (0.75, 0.8333, 1.0)
    """
    rows, width = scores.shape
    if rows == 0:
        return {}
    metrics = {"accuracy": float(np.mean(truth == predicted))}
    precision, recall, f1, auc = [], [], [], []
    for k in range(width):
        actual, chosen = truth == k, predicted == k
        tp = int(np.count_nonzero(actual & chosen))
        n_chosen, n_actual = int(np.count_nonzero(chosen)), int(np.count_nonzero(actual))
        precision.append(tp / n_chosen if n_chosen else 0.0)
        recall.append(tp / n_actual if n_actual else 0.0)
        f1.append(2 * tp / (n_chosen + n_actual) if n_chosen + n_actual else 0.0)
        if 0 < n_actual < rows:
            distinct, group = np.unique(scores[:, k], return_inverse=True)
            positives = np.bincount(
                group, weights=actual.astype(np.float64), minlength=distinct.size
            )
            totals = np.bincount(group, minlength=distinct.size)
            auc.append(trapezoid_auc(positives[::-1], (totals - positives)[::-1]))
    metrics["precision_macro"] = float(np.mean(precision))
    metrics["recall_macro"] = float(np.mean(recall))
    metrics["f1_macro"] = float(np.mean(f1))
    if len(auc) == width:
        metrics["auc_macro"] = float(np.mean(auc))
    return metrics


def _invalid(key: str, problem: str) -> InvalidInputError:
    where = f"class calibration key {key!r}" if key else "a class calibration"
    return InvalidInputError(f"{where} {problem}", reason="invalid_calibrator", key=key)
