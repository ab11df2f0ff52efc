"""The metric catalogue: every performance metric a check may name, as data.

For each metric it says the tasks it applies to, its direction, the range its values can
take, the part of a performance profile it is read off and the schema columns it needs
besides the label. The monitor definition (:mod:`driftline.config`) validates checks
against it, and :mod:`driftline.metrics.computation` reads each metric off a profile. It
imports nothing else of driftline, so both can import it.

``higher_is_better`` states the direction: True for scores, False for errors and losses,
None when neither is better (``positive_rate``: what matters is that it moves).

:data:`METRICS` are the metrics read off a
:class:`~driftline.metrics.profile.PerformanceProfile`, so a window's value is computed
from merged profiles, never from raw rows. :data:`CHECK_METRICS` adds ``label_coverage``,
which the evaluation computes itself from row counts, and ``estimate_coverage``, the share of
a binary classifier's estimates made before labels whose measured value fell inside their
interval, which it computes from the stored reconciliations (:mod:`driftline.reconciliation`).

>>> METRICS["log_loss"].higher_is_better, METRICS["auc"].needs_score
(False, True)
>>> CHECK_METRICS["r2"].value_range, CHECK_METRICS["conversion_rate"].needs
((None, 1.0), ('query', 'conversion'))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Task = Literal["binary_classification", "multiclass_classification", "regression", "ranking"]
#: Every task, in the order of :data:`Task`.
TASKS: tuple[Task, ...] = get_args(Task)
#: The part of a performance profile a metric is read off (``rows``: the row counts;
#: ``reconciliations``: no profile's, the model's reconciled estimates).
Part = Literal["confusion", "scores", "regression", "ranking", "groups", "rows", "reconciliations"]


@dataclass(frozen=True)
class MetricSpec:
    """A performance metric as data.

    Attributes:
        name: the name a check uses.
        tasks: the tasks it is defined for.
        higher_is_better: True for scores, False for errors and losses, None for neither.
        part: the part of a performance profile it is read off.
        description: what it measures, in a few words.
        value_range: ``(low, high)``, the values it can take (None: unbounded); a threshold
            outside it could never be met.
        needs: the schema columns it needs besides the label (``score``, ``sensitive``,
            ``query``, ``conversion``).
    """

    name: str
    tasks: frozenset[Task]
    higher_is_better: bool | None
    part: Part
    description: str
    value_range: tuple[float | None, float | None]
    needs: tuple[str, ...] = ()

    @property
    def needs_score(self) -> bool:
        """Whether the metric needs the positive-class score column."""
        return self.part == "scores"

    @property
    def needs_sensitive(self) -> bool:
        """Whether the metric needs the sensitive (protected-group) column."""
        return self.part == "groups"


#: The running coverage of the estimate, a check metric (docs/performance.md).
ESTIMATE_COVERAGE = "estimate_coverage"

_BINARY: frozenset[Task] = frozenset({"binary_classification"})
_CLASSIFICATION: frozenset[Task] = frozenset({"binary_classification", "multiclass_classification"})
_REGRESSION: frozenset[Task] = frozenset({"regression"})
_RANKING: frozenset[Task] = frozenset({"ranking"})
_SHARE = (0.0, 1.0)
_NON_NEGATIVE = (0.0, None)
_SCORE = ("score",)
_QUERY = ("query",)
_SENSITIVE = ("sensitive",)

#: The metrics read off a performance profile, by name.
METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        # classification
        MetricSpec("accuracy", _CLASSIFICATION, True, "confusion", "share correct", _SHARE),
        MetricSpec("precision", _BINARY, True, "confusion", "tp / predicted positive", _SHARE),
        MetricSpec("recall", _BINARY, True, "confusion", "tp / actual positive", _SHARE),
        MetricSpec("f1", _BINARY, True, "confusion", "2 tp / (2 tp + fp + fn)", _SHARE),
        MetricSpec("f1_macro", _CLASSIFICATION, True, "confusion", "mean F1 over classes", _SHARE),
        MetricSpec("f1_micro", _CLASSIFICATION, True, "confusion", "F1 of pooled counts", _SHARE),
        MetricSpec(
            "precision_macro",
            _CLASSIFICATION,
            True,
            "confusion",
            "mean precision over classes",
            _SHARE,
        ),
        MetricSpec(
            "recall_macro", _CLASSIFICATION, True, "confusion", "mean recall over classes", _SHARE
        ),
        MetricSpec("auc", _BINARY, True, "scores", "area under the ROC curve", _SHARE, _SCORE),
        MetricSpec("gini", _BINARY, True, "scores", "2 AUC - 1", (-1.0, 1.0), _SCORE),
        MetricSpec(
            "log_loss", _BINARY, False, "scores", "mean cross-entropy", _NON_NEGATIVE, _SCORE
        ),
        MetricSpec(
            "brier", _BINARY, False, "scores", "mean squared probability error", _SHARE, _SCORE
        ),
        MetricSpec("error_rate", _CLASSIFICATION, False, "confusion", "1 - accuracy", _SHARE),
        MetricSpec("positive_rate", _BINARY, None, "confusion", "share predicted positive", _SHARE),
        # regression
        MetricSpec("mae", _REGRESSION, False, "regression", "mean absolute error", _NON_NEGATIVE),
        MetricSpec(
            "rmse", _REGRESSION, False, "regression", "root mean squared error", _NON_NEGATIVE
        ),
        MetricSpec(
            "mape",
            _REGRESSION,
            False,
            "regression",
            "mean absolute percentage error",
            _NON_NEGATIVE,
        ),
        MetricSpec(
            "r2", _REGRESSION, True, "regression", "coefficient of determination", (None, 1.0)
        ),
        # ranking / recommendation
        MetricSpec("ctr", _RANKING, True, "ranking", "clicked / impressions", _SHARE, _QUERY),
        MetricSpec(
            "conversion_rate",
            _RANKING,
            True,
            "ranking",
            "converted / impressions",
            _SHARE,
            ("query", "conversion"),
        ),
        MetricSpec(
            "precision_at_k", _RANKING, True, "ranking", "relevant in top k / k", _SHARE, _QUERY
        ),
        MetricSpec(
            "recall_at_k",
            _RANKING,
            True,
            "ranking",
            "relevant in top k / relevant",
            _SHARE,
            _QUERY,
        ),
        MetricSpec(
            "map_at_k", _RANKING, True, "ranking", "mean average precision@k", _SHARE, _QUERY
        ),
        MetricSpec("ndcg_at_k", _RANKING, True, "ranking", "normalised DCG@k", _SHARE, _QUERY),
        MetricSpec("mrr", _RANKING, True, "ranking", "mean reciprocal rank", _SHARE, _QUERY),
        # fairness (across the configured sensitive column)
        MetricSpec(
            "disparate_impact",
            _BINARY,
            True,
            "groups",
            "lowest / highest group positive rate",
            _NON_NEGATIVE,
            _SENSITIVE,
        ),
        MetricSpec(
            "equal_opportunity_difference",
            _BINARY,
            False,
            "groups",
            "highest - lowest group true positive rate",
            _SHARE,
            _SENSITIVE,
        ),
    )
}
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)

#: Every metric a check may name: :data:`METRICS` and the label coverage of the rows.
CHECK_METRICS: dict[str, MetricSpec] = {
    **METRICS,
    "label_coverage": MetricSpec(
        "label_coverage", frozenset(TASKS), True, "rows", "labelled rows / rows", _SHARE
    ),
    # Needs schema.score (a multiclass model: schema.class_scores; a regression model: none)
    # and schema.prediction (the estimate reads them): the definition's rules check it, as
    # `needs` lists only what a profile's part reads.
    ESTIMATE_COVERAGE: MetricSpec(
        ESTIMATE_COVERAGE,
        _CLASSIFICATION | _REGRESSION,
        True,
        "reconciliations",
        "share of reconciled estimates whose measured value fell inside their 95% interval",
        _SHARE,
    ),
}


def get_metric(name: str) -> MetricSpec:
    """The spec of a metric read off a performance profile, by name.

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
