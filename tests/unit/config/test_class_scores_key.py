"""``schema.class_scores``: a multiclass classifier's probability column per class, which
its performance is estimated from before labels arrive. Every refusal names the key."""

from __future__ import annotations

import pytest

from driftline.config import load_monitor_definition
from driftline.config.data import not_estimated
from driftline.errors import ConfigError
from driftline.evaluation import estimation_columns, profile_spec


def definition(schema: str, checks: str = "[]") -> str:
    return f"""
model: cards
schema: {{task: multiclass_classification, prediction: card, label: took, {schema}
          features: {{income: numeric}}}}
baseline: {{path: baselines/cards/training.csv}}
checks: {checks}
"""


def test_a_score_column_per_class_makes_the_model_estimated() -> None:
    # GIVEN a multiclass definition naming a probability column per class, numbers as keys
    loaded = load_monitor_definition(definition("class_scores: {0: p0, 1: p1, 2: p2},"))

    # THEN its performance is estimated from those columns, in the order written
    assert not_estimated(loaded.schema_) is None
    columns = estimation_columns(loaded)
    assert columns is not None and columns.classes == (0, 1, 2)  # type: ignore[union-attr]
    assert columns.scores == ("p0", "p1", "p2")  # type: ignore[union-attr]
    # and the columns are expected in the data, not reported as unknown
    assert {"p0", "p1", "p2"} <= profile_spec(loaded).known


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (
            "class_scores: {gold: p_gold},",
            "schema.class_scores: expected two or more classes, each with its score column; got 1",
        ),
        (
            "class_scores: {gold: p, silver: income},",
            "schema.class_scores.silver: column 'income' is also a feature",
        ),
        (
            "class_scores: {gold: card, silver: p_silver},",
            "schema.class_scores.gold: column 'card' is also schema.prediction",
        ),
        (
            "class_scores: {gold: p, silver: p},",
            "schema.class_scores.silver: column 'p' is also schema.class_scores.gold",
        ),
        ("class_scores: {gold: p, silver: ''},", "schema.class_scores.silver: expected a column"),
        ("class_scores: [p_gold, p_silver],", "schema.class_scores"),
    ],
)
def test_class_scores_that_could_not_be_read_are_refused_naming_the_key(
    schema: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_monitor_definition(definition(schema))
    assert problem in str(raised.value)


def test_class_scores_of_a_binary_classifier_are_refused_pointing_to_score() -> None:
    text = definition("class_scores: {0: p0, 1: p1},").replace(
        "multiclass_classification", "binary_classification"
    )
    with pytest.raises(ConfigError) as raised:
        load_monitor_definition(text)
    assert (
        "schema.class_scores: applies to multiclass_classification only; the task is "
        "binary_classification; a binary classifier's probability is schema.score"
    ) in str(raised.value)


@pytest.mark.parametrize(
    "check",
    [
        "{name: acc-est, metric: accuracy, estimated: true, min: 0.7}",
        "{name: f1-est, metric: f1_macro, estimated: true, max_relative_drop: 0.05}",
        "{name: auc-est, metric: auc_macro, estimated: true, min: 0.8}",
        "{name: coverage, metric: estimate_coverage, min: 0.8}",
    ],
)
def test_estimated_checks_of_the_multiclass_metrics_are_accepted(check: str) -> None:
    loaded = load_monitor_definition(definition("class_scores: {a: pa, b: pb},", f"[{check}]"))
    assert loaded.checks[0].metric is not None


@pytest.mark.parametrize(
    ("checks", "problem"),
    [
        (
            "[{name: p-est, metric: precision, estimated: true, min: 0.7}]",
            "checks[0].metric: check 'p-est': precision is not estimated for "
            "multiclass_classification; an estimated check of it may name accuracy, "
            "precision_macro, recall_macro, f1_macro, auc_macro",
        ),
        (
            "[{name: auc, metric: auc_macro, min: 0.8}]",
            "check 'auc': auc_macro is not measured, only estimated from the scores",
        ),
    ],
)
def test_a_multiclass_check_on_a_metric_it_cannot_have_is_refused_naming_it(
    checks: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_monitor_definition(definition("class_scores: {a: pa, b: pb},", checks))
    assert problem in str(raised.value)


def test_a_binary_estimated_check_on_a_multiclass_metric_is_refused() -> None:
    text = """
model: churn
schema: {task: binary_classification, prediction: yhat, score: p, label: y,
         features: {income: numeric}}
baseline: {path: b.csv}
checks: [{name: f1m-est, metric: f1_macro, estimated: true, min: 0.5}]
"""
    with pytest.raises(ConfigError) as raised:
        load_monitor_definition(text)
    assert "checks[0].metric: check 'f1m-est': f1_macro is not estimated for binary" in str(
        raised.value
    )
