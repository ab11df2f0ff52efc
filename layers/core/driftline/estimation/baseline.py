"""The calibrator a baseline stores for estimating performance, and how it is gathered.

When a binary classifier's baseline is profiled, its labelled rows with a score in [0, 1]
are gathered chunk by chunk (:class:`CalibrationRows`: a float64 score, a boolean label and
the predicted class per row, 10 bytes, so at most 50 MB for the largest baseline a
deployment accepts by default) and :func:`~driftline.estimation.calibration.
build_calibrator` fits the calibrator on them once the pass is over; then the estimator's
error beyond sampling is measured on the same rows in the order of the file
(:func:`~driftline.estimation.model_error.measure_model_error`, ten more isotonic fits).
:class:`BaselineCalibration` is what the baseline stores: the calibrator with the decision
that chose it and the model-error terms, or the reason there is no calibrator.

**At most** :data:`MAX_CALIBRATION_ROWS` **rows are fitted on.** Fitting allocates about
150 bytes a row at its peak (the pool-adjacent-violators pass holds Python floats), so
5,000,000 rows would take about 800 MB, too close to the functions' 1,024 MB. A larger
baseline is thinned first (:func:`thin_rows`): its rows sorted by score, then label, and
:data:`MAX_CALIBRATION_ROWS` of them taken at evenly spaced positions. Rows of equal score
and label are interchangeable, so the rows kept do not depend on the order of the file, and
each run of equal scores keeps its share of each label (to a row). The model-error terms,
which read the order of the file, are measured on :data:`MAX_CALIBRATION_ROWS` rows at
evenly spaced positions of the file.

>>> import pandas as pd
>>> from driftline.estimation.columns import EstimationColumns
>>> rows = CalibrationRows(EstimationColumns(score="p", prediction="yhat", label="y"))
>>> rows.add(pd.DataFrame({"p": [0.1, 0.4, 0.35, 0.8, None, 0.5], "y": [0, 0, 1, 1, 1, None]}))
>>> calibration = rows.calibration()       # the last two rows: no score, no label
>>> calibration.rows, calibration.calibrator.kind, calibration.decision.reason
(4, 'isotonic', 'lower_error')
>>> BaselineCalibration.from_dict(calibration.to_dict()) == calibration
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftline.errors import InvalidInputError
from driftline.estimation.calibration import (
    CalibrationDecision,
    Calibrator,
    build_calibrator,
    calibrator_from_dict,
)
from driftline.estimation.columns import EstimationColumns, labelled_rows_of
from driftline.estimation.model_error import ModelError, measure_model_error
from driftline.metrics.encoding import FloatArray

#: Why a baseline of a model without a label column has no calibrator.
NO_LABEL_COLUMN = "schema.label is not set: the baseline has no labels to calibrate on"
#: Why a baseline without a labelled, scored row has none.
NO_LABELLED_SCORES = "the baseline has no labelled row with a score in [0, 1] to calibrate on"
#: The most rows a calibrator is fitted on (about 6 s and 150 MB; more are thinned).
MAX_CALIBRATION_ROWS = 1_000_000


@dataclass(frozen=True)
class BaselineCalibration:
    """The baseline's calibrator and the decision that chose it, or why there is none.

    Attributes:
        rows: the baseline's labelled rows with a score in [0, 1] (0 when skipped).
        fitted_rows: the rows the calibrator was fitted on: ``rows``, or
            :data:`MAX_CALIBRATION_ROWS` of them when there are more (:func:`thin_rows`).
        calibrator: isotonic, or the identity when calibrating does not help; None when
            skipped.
        decision: :func:`~driftline.estimation.calibration.needs_calibration`'s decision
            with both expected calibration errors; None when skipped.
        skipped: why there is no calibrator (None when there is one).
        model_error: the estimator's error beyond sampling, measured on the baseline's
            rows in file order (:func:`~driftline.estimation.model_error.
            measure_model_error`); None for a baseline stored before it was measured, whose
            intervals cover sampling error alone.
    """

    rows: int
    calibrator: Calibrator | None = None
    decision: CalibrationDecision | None = None
    skipped: str | None = None
    fitted_rows: int = 0
    model_error: ModelError | None = None

    @classmethod
    def fitted(
        cls,
        scores: FloatArray,
        positive: NDArray[np.bool_],
        predicted: NDArray[np.int8] | None = None,
        *,
        max_rows: int = MAX_CALIBRATION_ROWS,
    ) -> BaselineCalibration:
        """The calibrator of these rows (scores in [0, 1], labels as booleans), fitted on
        at most ``max_rows`` of them (:func:`thin_rows`); with ``predicted`` (each row's
        predicted class, -1 for none, rows in the order of the file), the model-error
        terms measured on at most ``max_rows`` of them too."""
        if scores.size == 0:
            return cls(0, skipped=NO_LABELLED_SCORES)
        kept_scores, kept_positive = thin_rows(scores, positive, max_rows)
        calibrator, decision = build_calibrator(kept_scores, kept_positive)
        model_error = None
        if predicted is not None:
            model_error = measure_model_error(
                scores, positive, predicted, calibrate=decision.calibrate, max_rows=max_rows
            )
        return cls(
            int(scores.size),
            calibrator,
            decision,
            fitted_rows=int(kept_scores.size),
            model_error=model_error,
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"rows", "fitted_rows", "calibrator", "decision", "model_error"}`` (the last
        only when measured), or ``{"rows": 0, "skipped"}``."""
        if self.calibrator is None or self.decision is None:
            return {"rows": self.rows, "skipped": self.skipped}
        document = {
            "rows": self.rows,
            "fitted_rows": self.fitted_rows,
            "calibrator": self.calibrator.to_dict(),
            "decision": self.decision.to_dict(),
        }
        if self.model_error is not None:
            document["model_error"] = self.model_error.to_dict()
        return document

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BaselineCalibration:
        """Inverse of :meth:`to_dict`, validated.

        Raises:
            InvalidInputError: ``reason="invalid_calibrator"``, naming the key.
        """
        rows, skipped = stored_rows(data)
        if skipped is not None:
            return cls(rows, skipped=skipped)
        fitted_rows = data.get("fitted_rows")
        if not isinstance(fitted_rows, int) or isinstance(fitted_rows, bool):
            raise _invalid("fitted_rows", "must be a count (an integer >= 1)")
        if not 1 <= fitted_rows <= rows:
            raise _invalid("fitted_rows", "must be between 1 and rows")
        calibrator = data.get("calibrator")
        if not isinstance(calibrator, Mapping):
            raise _invalid("calibrator", f"must be a mapping; got {type(calibrator).__name__}")
        model_error = data.get("model_error")
        return cls(
            rows,
            calibrator_from_dict(calibrator),
            _decision(data),
            fitted_rows=fitted_rows,
            model_error=None if model_error is None else ModelError.from_dict(model_error),
        )


def _decision(data: Mapping[str, Any]) -> CalibrationDecision:
    decision = data.get("decision")
    if not isinstance(decision, Mapping):
        raise _invalid("decision", "must be a mapping")
    reasons = ("single_class", "separated", "lower_error", "no_lower_error")
    if decision.get("reason") not in reasons:
        raise _invalid("decision.reason", f"must be one of {', '.join(reasons)}")
    if not isinstance(decision.get("calibrate"), bool):
        raise _invalid("decision.calibrate", "must be true or false")
    raw_error = decision.get("raw_error")
    if not isinstance(raw_error, int | float) or isinstance(raw_error, bool):
        raise _invalid("decision.raw_error", "must be a number")
    optional: dict[str, float | None] = {}
    for key in ("calibrated_error", "auc"):
        value = decision.get(key)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise _invalid(f"decision.{key}", "must be a number or null")
        optional[key] = None if value is None else float(value)
    return CalibrationDecision(
        decision["calibrate"],
        decision["reason"],
        float(raw_error),
        optional["calibrated_error"],
        optional["auc"],
    )


def thin_rows(
    scores: FloatArray, positive: NDArray[np.bool_], max_rows: int
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """At most ``max_rows`` of the rows, the same whatever their order: sorted by score,
    then label, the rows at positions ``i * n // max_rows`` for ``i < max_rows``.

    Raises:
        ValueError: ``max_rows`` below 1.

    >>> scores, positive = thin_rows(np.array([0.3, 0.1, 0.3, 0.2, 0.3, 0.1]),
    ...                              np.array([1, 0, 0, 1, 1, 0], dtype=bool), 3)
    >>> scores.tolist(), positive.tolist()
    ([0.1, 0.2, 0.3], [False, True, True])
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1; got {max_rows}")
    if scores.size <= max_rows:
        return scores, positive
    order = np.lexsort((positive, scores))
    kept = order[np.arange(max_rows, dtype=np.int64) * scores.size // max_rows]
    return scores[kept], positive[kept]


class CalibrationRows:
    """A baseline's labelled rows with a score in [0, 1], gathered chunk by chunk, in the
    order of the file.

    Each chunk keeps only three arrays (the scores, whether the label is positive and the
    predicted class), so the memory is 10 bytes a gathered row, bounded by the baseline's
    row limit.
    """

    def __init__(self, columns: EstimationColumns) -> None:
        self.columns = columns
        self._scores: list[FloatArray] = []
        self._positive: list[NDArray[np.bool_]] = []
        self._predicted: list[NDArray[np.int8]] = []

    def add(self, frame: pd.DataFrame) -> None:
        """Keep the labelled, scored rows of one chunk (none without a label column)."""
        if self.columns.label is None:
            return
        scores, positive, predicted = labelled_rows_of(frame, self.columns)
        self._scores.append(scores)
        self._positive.append(positive)
        self._predicted.append(predicted)

    def gathering(self, frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """The chunks, passed on unchanged, each kept as it goes by."""
        for frame in frames:
            self.add(frame)
            yield frame

    def calibration(self) -> BaselineCalibration:
        """The calibrator fitted on the rows gathered, or the reason there is none."""
        if self.columns.label is None:
            return BaselineCalibration(0, skipped=NO_LABEL_COLUMN)
        scores = np.concatenate(self._scores) if self._scores else np.empty(0)
        positive = np.concatenate(self._positive) if self._positive else np.empty(0, bool)
        predicted = np.concatenate(self._predicted) if self._predicted else np.empty(0, np.int8)
        self._scores, self._positive, self._predicted = [], [], []
        return BaselineCalibration.fitted(scores, positive, predicted)


def stored_rows(
    data: object, invalid: Callable[[str, str], InvalidInputError] | None = None
) -> tuple[int, str | None]:
    """A stored calibration's ``rows`` and, when it was not fitted, why (``skipped``),
    validated: the part every stored calibration (one score, one per class) shares.
    ``invalid(key, problem)`` makes the error (default: this module's wording).

    Raises:
        InvalidInputError: ``reason="invalid_calibrator"``, naming the key.
    """
    error = invalid or _invalid
    if not isinstance(data, Mapping):
        raise error("", f"must be a mapping; got {type(data).__name__}")
    rows = data.get("rows")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise error("rows", "must be a count (an integer >= 0)")
    if "skipped" not in data:
        return rows, None
    if not isinstance(data["skipped"], str):
        raise error("skipped", "must be a text")
    return rows, data["skipped"]


def _invalid(key: str, problem: str) -> InvalidInputError:
    where = f"calibration key {key!r}" if key else "a baseline calibration"
    return InvalidInputError(f"{where} {problem}", reason="invalid_calibrator", key=key)
