"""The challenger judged against the champion on the holdout (:func:`compare_on_holdout`),
overall and per segment, through the gates: better by the margin, no segment worse beyond
the tolerance, the fairness gate when configured. Metrics are driftline's own
(:mod:`driftline.metrics`), so a gate means what a monitoring check means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftline.errors import ConfigError, InsufficientDataError, InvalidInputError
from driftline.formatting import short_number
from driftline.metrics import METRICS
from driftline.metrics.classification import (
    accuracy_score,
    brier_score_loss,
    error_rate,
    f1_score,
    gini_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from driftline.metrics.encoding import Label
from driftline.metrics.fairness import disparate_impact, equal_opportunity_difference
from driftline.metrics.regression import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    r2_score,
    root_mean_squared_error,
)
from driftline.training.data import class_array
from driftline.training.estimators import Predictions


def default_metric(task: str, *, has_score: bool) -> str:
    """The gate metric used when the definition names none.

    >>> default_metric("binary_classification", has_score=True), default_metric("regression",
    ...     has_score=False)
    ('auc', 'rmse')
    """
    if task == "regression":
        return "rmse"
    if task == "binary_classification" and has_score:
        return "auc"
    return "accuracy"


_Metric = Callable[[NDArray[Any], Predictions, Label], float]


def _needs_score(metric: str) -> bool:
    return metric in ("auc", "gini", "log_loss", "brier")


def _scored(function: Callable[..., float]) -> _Metric:
    def compute(truth: NDArray[Any], predictions: Predictions, positive: Label) -> float:
        assert predictions.score is not None
        return function(truth, predictions.score, positive_class=positive)

    return compute


def _labelled(function: Callable[..., float], **options: Any) -> _Metric:
    def compute(truth: NDArray[Any], predictions: Predictions, positive: Label) -> float:
        if options.get("average") == "binary":
            return function(truth, predictions.prediction, positive_class=positive, **options)
        return function(truth, predictions.prediction, **options)

    return compute


def _plain(function: Callable[..., float]) -> _Metric:
    def compute(truth: NDArray[Any], predictions: Predictions, positive: Label) -> float:
        return function(truth.astype(np.float64), predictions.prediction.astype(np.float64))

    return compute


#: How each gate metric is computed from labels and predictions.
GATE_METRICS: dict[str, _Metric] = {
    "accuracy": _labelled(accuracy_score),
    "error_rate": _labelled(error_rate),
    "precision": _labelled(precision_score, average="binary"),
    "recall": _labelled(recall_score, average="binary"),
    "f1": _labelled(f1_score, average="binary"),
    "f1_macro": _labelled(f1_score, average="macro"),
    "auc": _scored(roc_auc_score),
    "gini": _scored(gini_score),
    "log_loss": _scored(log_loss),
    "brier": _scored(brier_score_loss),
    "mae": _plain(mean_absolute_error),
    "rmse": _plain(root_mean_squared_error),
    "mape": _plain(mean_absolute_percentage_error),
    "r2": _plain(r2_score),
}


@dataclass(frozen=True)
class GateSettings:
    """How the challenger is judged on the holdout (``retraining`` in the definition)."""

    metric: str
    margin: float = 0.0
    segment_tolerance: float = 0.02
    min_segment_rows: int = 30
    segments: tuple[str, ...] = ()
    positive_class: Label = 1
    fairness_metric: str | None = None
    fairness_min: float | None = None
    fairness_max: float | None = None
    sensitive: str | None = None

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.metric].higher_is_better is not False


@dataclass(frozen=True)
class Gate:
    """One gate's verdict with its numbers."""

    name: str
    passed: bool
    detail: str
    value: float | None = None
    threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "detail": self.detail,
            "value": self.value,
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class HoldoutComparison:
    """Challenger against champion on the holdout: the figures and the gates.

    ``improvement`` is positive when the challenger is better, whatever the metric's
    direction; ``segments`` maps ``column=value`` to both models' values and rows.
    """

    metric: str
    rows: int
    challenger: float
    champion: float
    improvement: float
    segments: dict[str, dict[str, Any]]
    gates: tuple[Gate, ...]

    @property
    def passed(self) -> bool:
        return all(gate.passed for gate in self.gates)

    @property
    def blocked_by(self) -> list[str]:
        return [gate.name for gate in self.gates if not gate.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "rows": self.rows,
            "challenger": self.challenger,
            "champion": self.champion,
            "improvement": self.improvement,
            "segments": self.segments,
            "gates": [gate.to_dict() for gate in self.gates],
            "passed": self.passed,
            "blocked_by": self.blocked_by,
        }


def compare_on_holdout(
    holdout: pd.DataFrame,
    *,
    label: str,
    task: str,
    challenger: Predictions,
    champion: Predictions,
    settings: GateSettings,
) -> HoldoutComparison:
    """Judge the challenger against the champion on the same holdout rows.

    Rows where the champion has no prediction (or no score, for a score metric) are left
    out for both models, so both are judged on exactly the same rows.

    Raises:
        InsufficientDataError: no row is left to judge on, or the metric is undefined there
            (for example AUC on one class).
    """
    if settings.metric not in GATE_METRICS:
        raise ConfigError(
            f"retraining.metric: unknown gate metric {settings.metric!r}; allowed: "
            f"{', '.join(GATE_METRICS)}"
        )
    if _needs_score(settings.metric) and (challenger.score is None or champion.score is None):
        raise InsufficientDataError(
            f"gate metric {settings.metric} needs scores from both models (schema.score)",
            reason="no_scores",
        )
    keep = np.array(pd.notna(pd.Series(champion.prediction, dtype=object)), dtype=np.bool_)
    keep &= holdout[label].notna().to_numpy(dtype=np.bool_)
    if _needs_score(settings.metric):
        assert champion.score is not None
        keep &= np.isfinite(champion.score)
    if not keep.any():
        raise InsufficientDataError("no holdout row has both models' predictions and a label")
    rows = holdout[keep].reset_index(drop=True)
    new, old = _subset(challenger, keep), _subset(champion, keep)
    truth = _truth(rows[label], task)
    compute = GATE_METRICS[settings.metric]
    sign = 1.0 if settings.higher_is_better else -1.0
    value_new = compute(truth, new, settings.positive_class)
    value_old = compute(truth, old, settings.positive_class)
    improvement = sign * (value_new - value_old)
    gates = [_margin_gate(settings, value_new, value_old, improvement)]

    segments: dict[str, dict[str, Any]] = {}
    worst: tuple[float, str] | None = None
    for column in settings.segments:
        if column not in rows.columns:
            continue
        for value, index in rows.groupby(rows[column].astype("string"), sort=True).groups.items():
            positions = rows.index.get_indexer(index)
            key = f"{column}={value}"
            entry: dict[str, Any] = {"rows": len(positions)}
            segments[key] = entry
            if len(positions) < settings.min_segment_rows:
                entry["skipped"] = f"fewer than {settings.min_segment_rows} rows"
                continue
            mask = np.zeros(len(rows), dtype=np.bool_)
            mask[positions] = True
            try:
                entry["challenger"] = compute(
                    truth[mask], _subset(new, mask), settings.positive_class
                )
                entry["champion"] = compute(
                    truth[mask], _subset(old, mask), settings.positive_class
                )
            except (InsufficientDataError, ValueError) as exc:
                entry["skipped"] = str(exc)
                continue
            regression = -sign * (entry["challenger"] - entry["champion"])
            entry["regression"] = regression
            if worst is None or regression > worst[0]:
                worst = (regression, key)
    gates.append(_segment_gate(settings, worst, segments))
    if settings.fairness_metric is not None:
        gates.append(_fairness_gate(settings, rows, truth, new))
    return HoldoutComparison(
        settings.metric,
        len(rows),
        value_new,
        value_old,
        improvement,
        segments,
        tuple(gates),
    )


def _truth(values: pd.Series, task: str) -> NDArray[Any]:
    if task == "regression":
        return pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    return class_array(values)


def _subset(predictions: Predictions, mask: NDArray[np.bool_]) -> Predictions:
    score = None if predictions.score is None else predictions.score[mask]
    return Predictions(predictions.prediction[mask], score)


def _margin_gate(
    settings: GateSettings, challenger: float, champion: float, improvement: float
) -> Gate:
    passed = improvement > 0 and improvement >= settings.margin
    relation = "beats" if passed else "does not beat"
    detail = (
        f"challenger {settings.metric} {short_number(challenger)} {relation} "
        f"champion {short_number(champion)} "
        f"by the margin {short_number(settings.margin)} (improvement {short_number(improvement)})"
    )
    return Gate("margin", passed, detail, improvement, settings.margin)


def _segment_gate(
    settings: GateSettings,
    worst: tuple[float, str] | None,
    segments: Mapping[str, Mapping[str, Any]],
) -> Gate:
    if worst is None:
        judged = "no segment had enough rows to judge" if segments else "no segments configured"
        return Gate("segments", True, judged, None, settings.segment_tolerance)
    regression, key = worst
    passed = regression <= settings.segment_tolerance
    entry = segments[key]
    detail = (
        f"worst segment {key}: challenger {settings.metric} {short_number(entry['challenger'])} vs "
        f"champion {short_number(entry['champion'])} "
        f"(regression {short_number(regression)}, tolerance "
        f"{short_number(settings.segment_tolerance)})"
    )
    return Gate("segments", passed, detail, regression, settings.segment_tolerance)


def _fairness_gate(
    settings: GateSettings, rows: pd.DataFrame, truth: NDArray[Any], new: Predictions
) -> Gate:
    metric = settings.fairness_metric
    sensitive = settings.sensitive
    if sensitive is None or sensitive not in rows.columns:
        return Gate("fairness", False, f"no sensitive column {sensitive!r} in the holdout")
    groups = rows[sensitive].astype("string").to_numpy(dtype=object)
    try:
        if metric == "disparate_impact":
            value = disparate_impact(new.prediction, groups, positive_class=settings.positive_class)
        else:
            value = equal_opportunity_difference(
                truth, new.prediction, groups, positive_class=settings.positive_class
            )
    except (InsufficientDataError, InvalidInputError, ValueError) as exc:
        return Gate("fairness", False, f"{metric} could not be computed: {exc}")
    low, high = settings.fairness_min, settings.fairness_max
    passed = (low is None or value >= low) and (high is None or value <= high)
    bound = f">= {short_number(low)}" if low is not None else f"<= {short_number(high or 0.0)}"
    detail = f"challenger {metric} across {sensitive} is {short_number(value)} (needs {bound})"
    return Gate("fairness", passed, detail, value, low if low is not None else high)
