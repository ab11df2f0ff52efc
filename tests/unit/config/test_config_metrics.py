"""The monitor definition refuses a metric check the model cannot have (the metric
catalogue says which tasks and columns each metric needs)."""

from __future__ import annotations

import pytest

from driftline.config import load_monitor_definition
from driftline.errors import ConfigError


def definition(task: str, metric: str, extra: str = "") -> str:
    return f"""
model: m
schema:
  task: {task}
  prediction: p
  label: y
  features: {{x: numeric}}
  {extra}
baseline: {{path: b.csv}}
checks:
  - {{name: c, metric: {metric}, min: 0.1}}
"""


@pytest.mark.parametrize(
    ("task", "metric", "extra", "message"),
    [
        (
            "binary_classification",
            "mae",
            "",
            "checks[0].metric: mae is not defined for schema.task",
        ),
        ("regression", "accuracy", "", "accuracy is not defined for schema.task regression"),
        ("binary_classification", "disparate_impact", "", "needs schema.sensitive"),
        ("ranking", "ndcg_at_k", "score: s", "needs schema.query"),
        ("ranking", "conversion_rate", "query: q", "needs schema.conversion"),
    ],
)
def test_a_metric_the_model_cannot_have_is_refused_naming_the_key(
    task: str, metric: str, extra: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_monitor_definition(definition(task, metric, extra))


def test_fairness_and_ranking_metrics_validate_with_their_columns() -> None:
    load_monitor_definition(definition("binary_classification", "disparate_impact", "sensitive: g"))
    load_monitor_definition(definition("ranking", "conversion_rate", "query: q\n  conversion: v"))
