"""The performance metrics by name: what each applies to, its direction, how to compute it.

The names are exactly those a check may use (``config.METRIC_RANGES``, less
``label_coverage``, which the evaluation computes itself from row counts). Every metric is
read off a :class:`~driftline.metrics.profile.PerformanceProfile`, so a window's value is
computed from merged profiles, never from raw rows.

``higher_is_better`` states the direction: True for scores, False for errors and losses,
None when neither is better (``positive_rate``: what matters is that it moves).

>>> METRICS["log_loss"].higher_is_better, METRICS["auc"].needs_score
(False, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from driftline.errors import InsufficientDataError

if TYPE_CHECKING:
    from driftline.config import Task
    from driftline.metrics.classification import ConfusionCounts
    from driftline.metrics.fairness import GroupCounts
    from driftline.metrics.profile import PerformanceProfile
    from driftline.metrics.ranking import RankingSums
    from driftline.metrics.regression import RegressionSums
    from driftline.metrics.score_histograms import ScoreHistograms

Part = Literal["confusion", "scores", "regression", "ranking", "groups"]
Computation = Callable[["PerformanceProfile", float], float]

_NOT_APPLICABLE = "metric_not_applicable"


@dataclass(frozen=True)
class MetricSpec:
    """A performance metric: the tasks it applies to, its direction and its computation.

    ``compute(profile, zero_division)`` returns the value or raises
    :class:`~driftline.errors.InsufficientDataError`.
    """

    name: str
    tasks: frozenset[Task]
    higher_is_better: bool | None
    part: Part
    description: str
    compute: Computation

    @property
    def needs_score(self) -> bool:
        """Whether the metric needs the positive-class score column."""
        return self.part == "scores"

    @property
    def needs_sensitive(self) -> bool:
        """Whether the metric needs the sensitive (protected-group) column."""
        return self.part == "groups"


def _missing_part(profile: PerformanceProfile, what: str) -> InsufficientDataError:
    return InsufficientDataError(
        f"this {profile.task} profile has no {what}", reason=_NOT_APPLICABLE
    )


def _confusion(profile: PerformanceProfile) -> ConfusionCounts:
    if profile.confusion is None:
        raise _missing_part(profile, "prediction column")
    return profile.confusion


def _scores(profile: PerformanceProfile) -> ScoreHistograms:
    if profile.scores is None:
        raise _missing_part(profile, "score column")
    return profile.scores


def _regression(profile: PerformanceProfile) -> RegressionSums:
    if profile.regression is None:
        raise _missing_part(profile, "regression sums")
    return profile.regression


def _ranking(profile: PerformanceProfile) -> RankingSums:
    if profile.ranking is None:
        raise _missing_part(profile, "ranking sums")
    return profile.ranking


def _groups(profile: PerformanceProfile) -> GroupCounts:
    if profile.groups is None:
        raise _missing_part(profile, "sensitive column")
    return profile.groups


def _positive(profile: PerformanceProfile) -> int | float | str | bool:
    return 1 if profile.positive_class is None else profile.positive_class


def _accuracy(p: PerformanceProfile, zd: float) -> float:
    return _confusion(p).accuracy()


def _error_rate(p: PerformanceProfile, zd: float) -> float:
    return 1.0 - _confusion(p).accuracy()


def _positive_rate(p: PerformanceProfile, zd: float) -> float:
    return _confusion(p).positive_rate(positive_class=_positive(p))


def _precision(p: PerformanceProfile, zd: float) -> float:
    return _confusion(p).precision(positive_class=_positive(p), zero_division=zd)


def _recall(p: PerformanceProfile, zd: float) -> float:
    return _confusion(p).recall(positive_class=_positive(p), zero_division=zd)


def _f1(p: PerformanceProfile, zd: float) -> float:
    return _confusion(p).f1(positive_class=_positive(p), zero_division=zd)


def _precision_macro(p: PerformanceProfile, zd: float) -> float:
    return _confusion(p).precision(average="macro", zero_division=zd)


def _recall_macro(p: PerformanceProfile, zd: float) -> float:
    return _confusion(p).recall(average="macro", zero_division=zd)


def _f1_macro(p: PerformanceProfile, zd: float) -> float:
    return _confusion(p).f1(average="macro", zero_division=zd)


def _f1_micro(p: PerformanceProfile, zd: float) -> float:
    return _confusion(p).f1(average="micro", zero_division=zd)


def _auc(p: PerformanceProfile, zd: float) -> float:
    return _scores(p).auc(positive_class=_positive(p))


def _gini(p: PerformanceProfile, zd: float) -> float:
    return 2.0 * _auc(p, zd) - 1.0


def _log_loss(p: PerformanceProfile, zd: float) -> float:
    return _scores(p).log_loss()


def _brier(p: PerformanceProfile, zd: float) -> float:
    return _scores(p).brier()


def _mae(p: PerformanceProfile, zd: float) -> float:
    return _regression(p).mae()


def _rmse(p: PerformanceProfile, zd: float) -> float:
    return _regression(p).rmse()


def _mape(p: PerformanceProfile, zd: float) -> float:
    return _regression(p).mape()


def _r2(p: PerformanceProfile, zd: float) -> float:
    return _regression(p).r2()


def _ctr(p: PerformanceProfile, zd: float) -> float:
    return _ranking(p).ctr()


def _conversion_rate(p: PerformanceProfile, zd: float) -> float:
    return _ranking(p).conversion_rate()


def _precision_at_k(p: PerformanceProfile, zd: float) -> float:
    return _ranking(p).precision_at_k()


def _recall_at_k(p: PerformanceProfile, zd: float) -> float:
    return _ranking(p).recall_at_k()


def _map_at_k(p: PerformanceProfile, zd: float) -> float:
    return _ranking(p).map_at_k()


def _ndcg_at_k(p: PerformanceProfile, zd: float) -> float:
    return _ranking(p).ndcg_at_k()


def _mrr(p: PerformanceProfile, zd: float) -> float:
    return _ranking(p).mrr()


def _disparate_impact(p: PerformanceProfile, zd: float) -> float:
    return _groups(p).disparate_impact()


def _equal_opportunity_difference(p: PerformanceProfile, zd: float) -> float:
    return _groups(p).equal_opportunity_difference()


_BINARY: frozenset[Task] = frozenset({"binary_classification"})
_CLASSIFICATION: frozenset[Task] = frozenset({"binary_classification", "multiclass_classification"})
_REGRESSION: frozenset[Task] = frozenset({"regression"})
_RANKING: frozenset[Task] = frozenset({"ranking"})

METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        # classification
        MetricSpec("accuracy", _CLASSIFICATION, True, "confusion", "share correct", _accuracy),
        MetricSpec("precision", _BINARY, True, "confusion", "tp / predicted positive", _precision),
        MetricSpec("recall", _BINARY, True, "confusion", "tp / actual positive", _recall),
        MetricSpec("f1", _BINARY, True, "confusion", "2 tp / (2 tp + fp + fn)", _f1),
        MetricSpec(
            "f1_macro", _CLASSIFICATION, True, "confusion", "mean F1 over classes", _f1_macro
        ),
        MetricSpec(
            "f1_micro", _CLASSIFICATION, True, "confusion", "F1 of pooled counts", _f1_micro
        ),
        MetricSpec(
            "precision_macro",
            _CLASSIFICATION,
            True,
            "confusion",
            "mean precision over classes",
            _precision_macro,
        ),
        MetricSpec(
            "recall_macro",
            _CLASSIFICATION,
            True,
            "confusion",
            "mean recall over classes",
            _recall_macro,
        ),
        MetricSpec("auc", _BINARY, True, "scores", "area under the ROC curve", _auc),
        MetricSpec("gini", _BINARY, True, "scores", "2 AUC - 1", _gini),
        MetricSpec("log_loss", _BINARY, False, "scores", "mean cross-entropy", _log_loss),
        MetricSpec("brier", _BINARY, False, "scores", "mean squared probability error", _brier),
        MetricSpec("error_rate", _CLASSIFICATION, False, "confusion", "1 - accuracy", _error_rate),
        MetricSpec(
            "positive_rate", _BINARY, None, "confusion", "share predicted positive", _positive_rate
        ),
        # regression
        MetricSpec("mae", _REGRESSION, False, "regression", "mean absolute error", _mae),
        MetricSpec("rmse", _REGRESSION, False, "regression", "root mean squared error", _rmse),
        MetricSpec(
            "mape", _REGRESSION, False, "regression", "mean absolute percentage error", _mape
        ),
        MetricSpec("r2", _REGRESSION, True, "regression", "coefficient of determination", _r2),
        # ranking / recommendation
        MetricSpec("ctr", _RANKING, True, "ranking", "clicked / impressions", _ctr),
        MetricSpec(
            "conversion_rate",
            _RANKING,
            True,
            "ranking",
            "converted / impressions",
            _conversion_rate,
        ),
        MetricSpec(
            "precision_at_k", _RANKING, True, "ranking", "relevant in top k / k", _precision_at_k
        ),
        MetricSpec(
            "recall_at_k", _RANKING, True, "ranking", "relevant in top k / relevant", _recall_at_k
        ),
        MetricSpec("map_at_k", _RANKING, True, "ranking", "mean average precision@k", _map_at_k),
        MetricSpec("ndcg_at_k", _RANKING, True, "ranking", "normalised DCG@k", _ndcg_at_k),
        MetricSpec("mrr", _RANKING, True, "ranking", "mean reciprocal rank", _mrr),
        # fairness
        MetricSpec(
            "disparate_impact",
            _BINARY,
            True,
            "groups",
            "lowest / highest group positive rate",
            _disparate_impact,
        ),
        MetricSpec(
            "equal_opportunity_difference",
            _BINARY,
            False,
            "groups",
            "highest - lowest group true positive rate",
            _equal_opportunity_difference,
        ),
    )
}
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)


def get_metric(name: str) -> MetricSpec:
    """The spec of a metric by name.

    Raises:
        ValueError: unknown name (the message lists the allowed ones).

    >>> get_metric("r2").tasks
    frozenset({'regression'})
    """
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(
            f"unknown performance metric {name!r}; allowed: {', '.join(METRIC_NAMES)}"
        ) from None


def compute_metric(profile: PerformanceProfile, name: str, *, zero_division: float = 0.0) -> float:
    """The value of metric ``name`` on ``profile``.

    Args:
        profile: a (possibly merged) performance profile.
        name: a metric name (:data:`METRIC_NAMES`).
        zero_division: what precision, recall and F1 are when their denominator is 0:
            0.0 (scikit-learn's default), 1.0, or NaN to make them undefined.

    Raises:
        InsufficientDataError: the metric is undefined on this profile; the message says
            why (``reason`` is ``"metric_not_applicable"`` when the metric does not apply to
            the profile's task or needs a column that was not profiled).
        ValueError: unknown name or ``zero_division``.

    >>> import pandas as pd
    >>> from driftline.metrics.profile import profile_performance
    >>> frame = pd.DataFrame({"y": [1, 1], "pred": [1, 0], "p": [0.9, 0.4]})
    >>> profile = profile_performance(frame, task="binary_classification", label="y",
    ...                               prediction="pred", score="p")
    >>> compute_metric(profile, "recall")
    0.5
    >>> compute_metric(profile, "auc")
    Traceback (most recent call last):
    ...
    driftline.errors.InsufficientDataError: AUC needs both classes; only class 1 present
    """
    spec = get_metric(name)
    if profile.task not in spec.tasks:
        raise InsufficientDataError(
            f"{name} applies to {' and '.join(sorted(spec.tasks))}, not to {profile.task}",
            reason=_NOT_APPLICABLE,
        )
    value = spec.compute(profile, zero_division)
    if math.isnan(value):
        raise InsufficientDataError(
            f"{name} is undefined: its denominator is zero (no predicted or no actual "
            "positives) and zero_division is nan",
            reason="zero_division",
        )
    return value
