"""Each metric of the catalogue read off a performance profile.

:func:`compute_metric` looks the metric up in :mod:`driftline.metrics.catalogue`, checks
that it applies to the profile's task and reads it off the part of the profile it needs
(:data:`FORMULAS`). It knows a profile only by the parts it reads (:class:`ProfileParts`),
so :mod:`driftline.metrics.profile` imports this module and not the other way round.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

from driftline.errors import InsufficientDataError
from driftline.metrics.catalogue import Task, get_metric
from driftline.metrics.confusion import ConfusionCounts
from driftline.metrics.encoding import Label
from driftline.metrics.fairness import GroupCounts
from driftline.metrics.ranking import RankingSums
from driftline.metrics.regression import RegressionSums
from driftline.metrics.score_histograms import ScoreHistograms

_NOT_APPLICABLE = "metric_not_applicable"


class ProfileParts(Protocol):
    """What a metric is read off: the task, the positive class and the profile's parts
    (:class:`~driftline.metrics.profile.PerformanceProfile` is one)."""

    @property
    def task(self) -> Task: ...

    @property
    def positive_class(self) -> Label | None: ...

    @property
    def confusion(self) -> ConfusionCounts | None: ...

    @property
    def scores(self) -> ScoreHistograms | None: ...

    @property
    def regression(self) -> RegressionSums | None: ...

    @property
    def ranking(self) -> RankingSums | None: ...

    @property
    def groups(self) -> GroupCounts | None: ...


#: Reads one metric off a profile, given ``zero_division``.
Formula = Callable[[ProfileParts, float], float]


def _missing_part(profile: ProfileParts, what: str) -> InsufficientDataError:
    return InsufficientDataError(
        f"this {profile.task} profile has no {what}", reason=_NOT_APPLICABLE
    )


def _confusion(profile: ProfileParts) -> ConfusionCounts:
    if profile.confusion is None:
        raise _missing_part(profile, "prediction column")
    return profile.confusion


def _scores(profile: ProfileParts) -> ScoreHistograms:
    if profile.scores is None:
        raise _missing_part(profile, "score column")
    return profile.scores


def _regression(profile: ProfileParts) -> RegressionSums:
    if profile.regression is None:
        raise _missing_part(profile, "regression sums")
    return profile.regression


def _ranking(profile: ProfileParts) -> RankingSums:
    if profile.ranking is None:
        raise _missing_part(profile, "ranking sums")
    return profile.ranking


def _groups(profile: ProfileParts) -> GroupCounts:
    if profile.groups is None:
        raise _missing_part(profile, "sensitive column")
    return profile.groups


def _positive(profile: ProfileParts) -> int | float | str | bool:
    return 1 if profile.positive_class is None else profile.positive_class


def _accuracy(p: ProfileParts, zd: float) -> float:
    return _confusion(p).accuracy()


def _error_rate(p: ProfileParts, zd: float) -> float:
    return 1.0 - _confusion(p).accuracy()


def _positive_rate(p: ProfileParts, zd: float) -> float:
    return _confusion(p).positive_rate(positive_class=_positive(p))


def _precision(p: ProfileParts, zd: float) -> float:
    return _confusion(p).precision(positive_class=_positive(p), zero_division=zd)


def _recall(p: ProfileParts, zd: float) -> float:
    return _confusion(p).recall(positive_class=_positive(p), zero_division=zd)


def _f1(p: ProfileParts, zd: float) -> float:
    return _confusion(p).f1(positive_class=_positive(p), zero_division=zd)


def _precision_macro(p: ProfileParts, zd: float) -> float:
    return _confusion(p).precision(average="macro", zero_division=zd)


def _recall_macro(p: ProfileParts, zd: float) -> float:
    return _confusion(p).recall(average="macro", zero_division=zd)


def _f1_macro(p: ProfileParts, zd: float) -> float:
    return _confusion(p).f1(average="macro", zero_division=zd)


def _f1_micro(p: ProfileParts, zd: float) -> float:
    return _confusion(p).f1(average="micro", zero_division=zd)


def _auc(p: ProfileParts, zd: float) -> float:
    return _scores(p).auc(positive_class=_positive(p))


def _gini(p: ProfileParts, zd: float) -> float:
    return 2.0 * _auc(p, zd) - 1.0


def _log_loss(p: ProfileParts, zd: float) -> float:
    return _scores(p).log_loss()


def _brier(p: ProfileParts, zd: float) -> float:
    return _scores(p).brier()


def _mae(p: ProfileParts, zd: float) -> float:
    return _regression(p).mae()


def _rmse(p: ProfileParts, zd: float) -> float:
    return _regression(p).rmse()


def _mape(p: ProfileParts, zd: float) -> float:
    return _regression(p).mape()


def _r2(p: ProfileParts, zd: float) -> float:
    return _regression(p).r2()


def _ctr(p: ProfileParts, zd: float) -> float:
    return _ranking(p).ctr()


def _conversion_rate(p: ProfileParts, zd: float) -> float:
    return _ranking(p).conversion_rate()


def _precision_at_k(p: ProfileParts, zd: float) -> float:
    return _ranking(p).precision_at_k()


def _recall_at_k(p: ProfileParts, zd: float) -> float:
    return _ranking(p).recall_at_k()


def _map_at_k(p: ProfileParts, zd: float) -> float:
    return _ranking(p).map_at_k()


def _ndcg_at_k(p: ProfileParts, zd: float) -> float:
    return _ranking(p).ndcg_at_k()


def _mrr(p: ProfileParts, zd: float) -> float:
    return _ranking(p).mrr()


def _disparate_impact(p: ProfileParts, zd: float) -> float:
    return _groups(p).disparate_impact()


def _equal_opportunity_difference(p: ProfileParts, zd: float) -> float:
    return _groups(p).equal_opportunity_difference()


#: How each metric of the catalogue is read off a profile's parts.
FORMULAS: dict[str, Formula] = {
    "accuracy": _accuracy,
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
    "f1_macro": _f1_macro,
    "f1_micro": _f1_micro,
    "precision_macro": _precision_macro,
    "recall_macro": _recall_macro,
    "auc": _auc,
    "gini": _gini,
    "log_loss": _log_loss,
    "brier": _brier,
    "error_rate": _error_rate,
    "positive_rate": _positive_rate,
    "mae": _mae,
    "rmse": _rmse,
    "mape": _mape,
    "r2": _r2,
    "ctr": _ctr,
    "conversion_rate": _conversion_rate,
    "precision_at_k": _precision_at_k,
    "recall_at_k": _recall_at_k,
    "map_at_k": _map_at_k,
    "ndcg_at_k": _ndcg_at_k,
    "mrr": _mrr,
    "disparate_impact": _disparate_impact,
    "equal_opportunity_difference": _equal_opportunity_difference,
}


def compute_metric(profile: ProfileParts, name: str, *, zero_division: float = 0.0) -> float:
    """The value of metric ``name`` on ``profile``.

    Args:
        profile: a (possibly merged) performance profile.
        name: a metric name (:data:`~driftline.metrics.catalogue.METRIC_NAMES`).
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
    value = FORMULAS[name](profile, zero_division)
    if math.isnan(value):
        raise InsufficientDataError(
            f"{name} is undefined: its denominator is zero (no predicted or no actual "
            "positives) and zero_division is nan",
            reason="zero_division",
        )
    return value
