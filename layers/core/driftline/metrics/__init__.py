"""Performance metrics: exact functions on raw data, and the same metrics from mergeable
profiles (classification, regression, ranking, fairness). The catalogue of the metrics a
check may use is :mod:`driftline.metrics.catalogue`; :mod:`driftline.metrics.computation`
reads them off a profile.

scikit-learn is the oracle of the tests but not a dependency of this package.
"""

from __future__ import annotations

from driftline.metrics.catalogue import METRIC_NAMES, METRICS, MetricSpec, get_metric
from driftline.metrics.classification import (
    LOG_LOSS_EPS,
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    error_rate,
    f1_score,
    gini_score,
    log_loss,
    positive_rate,
    precision_score,
    recall_score,
    roc_auc_score,
)
from driftline.metrics.computation import compute_metric
from driftline.metrics.confusion import ConfusionCounts
from driftline.metrics.encoding import Label
from driftline.metrics.fairness import (
    GroupCounts,
    disparate_impact,
    equal_opportunity_difference,
    group_positive_rates,
    group_true_positive_rates,
)
from driftline.metrics.profile import PROFILE_VERSION, PerformanceProfile, profile_performance
from driftline.metrics.ranking import (
    RankingSums,
    click_through_rate,
    conversion_rate,
    mean_average_precision_at_k,
    mean_reciprocal_rank,
    ndcg_at_k,
    per_query_metrics,
    precision_at_k,
    recall_at_k,
)
from driftline.metrics.regression import (
    MAPE_EPSILON,
    RegressionSums,
    mean_absolute_error,
    mean_absolute_percentage_error,
    r2_score,
    root_mean_squared_error,
)
from driftline.metrics.score_histograms import SCORE_BINS, ScoreHistograms, score_edges

__all__ = [
    "LOG_LOSS_EPS",
    "MAPE_EPSILON",
    "METRICS",
    "METRIC_NAMES",
    "PROFILE_VERSION",
    "SCORE_BINS",
    "ConfusionCounts",
    "GroupCounts",
    "Label",
    "MetricSpec",
    "PerformanceProfile",
    "RankingSums",
    "RegressionSums",
    "ScoreHistograms",
    "accuracy_score",
    "brier_score_loss",
    "click_through_rate",
    "compute_metric",
    "confusion_matrix",
    "conversion_rate",
    "disparate_impact",
    "equal_opportunity_difference",
    "error_rate",
    "f1_score",
    "get_metric",
    "gini_score",
    "group_positive_rates",
    "group_true_positive_rates",
    "log_loss",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_average_precision_at_k",
    "mean_reciprocal_rank",
    "ndcg_at_k",
    "per_query_metrics",
    "positive_rate",
    "precision_at_k",
    "precision_score",
    "profile_performance",
    "r2_score",
    "recall_at_k",
    "recall_score",
    "roc_auc_score",
    "root_mean_squared_error",
    "score_edges",
]
