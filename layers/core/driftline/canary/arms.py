"""What each arm of a canary served: one outcome per labelled row (:class:`ArmData`), read
from the rows it served with their labels joined (:func:`arm_from_rows`), for the metrics
of :data:`CANARY_METRICS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftline.errors import InvalidInputError
from driftline.metrics.classification import log_loss_terms
from driftline.metrics.encoding import as_float_array, normalise_label
from driftline.profile.performance import row_errors

MetricKind = Literal["proportion", "continuous"]
FloatArray = NDArray[np.float64]

#: Canary metrics: whether each is a proportion (0/1 per row) and whether lower is better.
CANARY_METRICS: dict[str, tuple[MetricKind, bool]] = {
    "error_rate": ("proportion", True),
    "ctr": ("proportion", False),
    "absolute_error": ("continuous", True),
    "squared_error": ("continuous", True),
    "log_loss": ("continuous", True),
}


@dataclass(frozen=True)
class ArmData:
    """What one arm served during the canary.

    Attributes:
        outcomes: one value per labelled row: 0/1 (error, click) or a per-row loss.
        rows: rows the arm served (labelled or not).
        invalid: served rows whose prediction or score is missing or impossible.
        latency: the logged latency of each served row, when the logs carry it.
    """

    outcomes: FloatArray
    rows: int
    invalid: int = 0
    latency: FloatArray | None = None

    @classmethod
    def from_outcomes(
        cls,
        outcomes: Sequence[float] | FloatArray,
        *,
        rows: int | None = None,
        invalid: int = 0,
        latency: Sequence[float] | FloatArray | None = None,
    ) -> ArmData:
        values = np.asarray(outcomes, dtype=np.float64)
        return cls(
            values,
            int(values.size if rows is None else rows),
            invalid,
            None if latency is None else np.asarray(latency, dtype=np.float64),
        )

    @property
    def labelled(self) -> int:
        return int(self.outcomes.size)

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "labelled": self.labelled,
            "invalid": self.invalid,
            "value": float(self.outcomes.mean()) if self.labelled else None,
            "latency_p95": p95(self.latency),
        }


def arm_from_rows(
    frame: pd.DataFrame,
    *,
    metric: str,
    task: str,
    label: str,
    prediction: str | None = None,
    score: str | None = None,
    positive_class: object = 1,
    latency: str | None = None,
) -> ArmData:
    """One arm's :class:`ArmData` from the rows it served (labels joined).

    A row is *invalid* when the column the metric judges (the prediction, or the score for
    ``log_loss``) is missing, or a score lies outside [0, 1]; it is *labelled* when it is
    valid and has a label. ``ctr`` reads the label as the click (> 0).

    Raises:
        InvalidInputError: a column the metric needs is not in the rows.

    >>> rows = pd.DataFrame({"y": [1, 0, 1, None], "p": [1, 1, None, 0]})
    >>> arm = arm_from_rows(rows, metric="error_rate", task="binary_classification",
    ...                     label="y", prediction="p")
    >>> arm.outcomes.tolist(), arm.rows, arm.invalid
    ([0.0, 1.0], 4, 1)
    """
    if metric not in CANARY_METRICS:
        raise ValueError(f"expected metric in {', '.join(CANARY_METRICS)}, got {metric!r}")
    judged = None if metric == "ctr" else score if metric == "log_loss" else prediction
    for role, column in (("label", label), ("judged", judged), ("latency", latency)):
        if column is not None and column not in frame.columns:
            raise InvalidInputError(
                f"canary rows have no {role} column {column!r}", reason="missing_column"
            )
    if metric != "ctr" and judged is None:
        needed = "score" if metric == "log_loss" else "prediction"
        raise InvalidInputError(f"canary metric {metric} needs schema.{needed}", reason="config")
    valid = pd.Series(True, index=frame.index)
    if judged is not None:
        valid &= frame[judged].notna()
        if metric == "log_loss":
            values = pd.to_numeric(frame[judged], errors="coerce")
            valid &= values.between(0.0, 1.0)
    invalid = int((~valid).sum())
    rows = frame[valid & frame[label].notna()]
    outcomes: FloatArray
    if metric == "error_rate":
        assert judged is not None
        outcomes = row_errors(rows[label], rows[judged], task)
    elif metric == "ctr":
        outcomes = (as_float_array(rows[label], role="label") > 0).astype(np.float64)
    elif metric == "log_loss":
        assert judged is not None
        truth = np.asarray(
            [normalise_label(value) == normalise_label(positive_class) for value in rows[label]],
            dtype=np.bool_,
        )
        outcomes = log_loss_terms(truth, as_float_array(rows[judged], role="score"))
    else:
        assert judged is not None
        error = as_float_array(rows[label], role="label") - as_float_array(
            rows[judged], role="prediction"
        )
        outcomes = np.abs(error) if metric == "absolute_error" else error**2
    latencies = (
        None if latency is None else pd.to_numeric(frame[latency], errors="coerce").to_numpy(float)
    )
    return ArmData(np.asarray(outcomes, dtype=np.float64), len(frame), invalid, latencies)


def p95(values: FloatArray | None) -> float | None:
    """The 95th percentile of the finite ``values`` (a latency), or None when there are none.

    >>> p95(np.array([1.0, 2.0, np.nan])), p95(None)
    (1.95, None)
    """
    if values is None:
        return None
    finite = values[np.isfinite(values)]
    return float(np.quantile(finite, 0.95)) if finite.size else None
