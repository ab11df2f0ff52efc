"""Estimated metric checks (``estimated: true``) in the monitor definition: accepted on a
metric the estimate reports, of a model whose performance is estimated; every refusal names
the check (its ``name``), and the metric where the metric is the culprit."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftline.cli import main
from driftline.config import load_monitor_definition
from driftline.config.checks import ESTIMATED_CHECK_METRICS, ESTIMATED_CHECK_METRICS_BY_TASK
from driftline.errors import ConfigError
from driftline.estimation import ESTIMATED_METRICS
from driftline.estimation.multiclass import MULTICLASS_METRICS

SCHEMA = {
    "task": "binary_classification",
    "prediction": "approved",
    "score": "default_probability",
    "label": "defaulted",
}


def definition_with(check: str, **schema: str | None) -> str:
    roles = {**SCHEMA, **schema}
    written = ", ".join(
        f"{role}: {'null' if value is None else value}" for role, value in roles.items()
    )
    return f"""
model: credit
schema: {{{written}, features: {{income: numeric}}, segments: [tier]}}
baseline: {{path: baselines/credit/training.csv}}
checks:
  - {{name: input-drift, drift: dataset}}
  - {check}
"""


@pytest.mark.parametrize(
    "check",
    [
        "{name: auc-est, metric: auc, estimated: true, min: 0.80}",
        "{name: gini-est, metric: gini, estimated: true, segment: {tier: subprime}, "
        "max_relative_drop: 0.1}",
        "{name: specificity-est, metric: specificity, estimated: true, min: 0.9, min_rows: 500}",
        "{name: f1-est, metric: f1, estimated: true, min: 0.5, action: retrain, "
        "persist: {windows: 2, of: 3}}",
    ],
)
def test_an_estimated_check_on_a_reported_metric_of_an_estimated_model_is_accepted(
    check: str,
) -> None:
    # WHEN the definition is loaded
    definition = load_monitor_definition(definition_with(check))

    # THEN the check is kept as an estimated metric check
    loaded = definition.checks[1]
    assert loaded.estimated is True and loaded.metric in ESTIMATED_CHECK_METRICS


def test_a_metric_check_is_measured_unless_it_says_estimated() -> None:
    definition = load_monitor_definition(definition_with("{name: acc, metric: accuracy, min: 0.8}"))
    assert definition.checks[1].estimated is False


def test_the_estimated_metrics_are_the_estimates_and_gini() -> None:
    # THEN an estimated check may name what performance.estimated reports, no more: a
    # binary classifier's estimates and gini, a multiclass one's estimates, a regression
    # model's MAE and RMSE
    binary = ESTIMATED_CHECK_METRICS_BY_TASK["binary_classification"]
    assert (*ESTIMATED_METRICS, "gini") == binary
    assert ESTIMATED_CHECK_METRICS_BY_TASK["multiclass_classification"] == MULTICLASS_METRICS
    assert ESTIMATED_CHECK_METRICS_BY_TASK["regression"] == ("mae", "rmse")
    assert set(ESTIMATED_CHECK_METRICS) == {*binary, *MULTICLASS_METRICS, "mae", "rmse"}


@pytest.mark.parametrize(
    ("check", "problem"),
    [
        (
            "{name: ll-est, metric: log_loss, estimated: true, max: 0.5}",
            "checks[1]: check 'll-est': metric log_loss is not estimated; an estimated check "
            "may name accuracy, precision, recall, specificity, f1, auc, gini",
        ),
        (
            "{name: coverage-est, metric: label_coverage, estimated: true, min: 0.5}",
            "checks[1]: check 'coverage-est': metric label_coverage is not estimated",
        ),
        (
            "{name: missing-est, quality: missing_share, feature: income, estimated: true, "
            "max: 0.1}",
            "checks[1]: check 'missing-est': estimated applies to metric checks only",
        ),
        (
            "{name: drift-est, drift: income, estimated: true}",
            "checks[1]: check 'drift-est': estimated applies to metric checks only",
        ),
        (
            "{name: adwin-est, detector: adwin, signal: error, estimated: true}",
            "checks[1]: check 'adwin-est': estimated applies to metric checks only",
        ),
        (
            "{name: labelled-est, metric: auc, estimated: true, min: 0.8, min_labelled_rows: 50}",
            "checks[1]: check 'labelled-est': min_labelled_rows does not apply to an estimated "
            "check, which reads no labels; its floor is min_rows",
        ),
        (
            "{name: specificity-floor, metric: specificity, min: 0.9}",
            "checks[1]: check 'specificity-floor': specificity is not measured, only estimated "
            "from the scores; add estimated: true",
        ),
    ],
)
def test_an_estimated_check_that_could_not_be_decided_is_refused_naming_it(
    check: str, problem: str
) -> None:
    # WHEN the definition is loaded
    with pytest.raises(ConfigError) as raised:
        load_monitor_definition(definition_with(check))

    # THEN the error names the key path and the check
    assert problem in str(raised.value)


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        (
            {"task": "multiclass_classification", "score": None},
            "schema.class_scores is not set: the estimate reads each row's probability of "
            "every class",
        ),
        (
            {"task": "ranking", "score": None},
            "performance is estimated for binary and multiclass classifiers and regression "
            "models only; the task is ranking",
        ),
        (
            {"task": "regression", "score": None, "label": None},
            "schema.label is not set: the loss model is fitted on the baseline's labels",
        ),
        ({"score": None}, "schema.score is not set: the estimate reads each row's score"),
        (
            {"prediction": None},
            "schema.prediction is not set: the estimate needs each row's predicted class",
        ),
        (
            {"label": None},
            "schema.label is not set: the estimate is calibrated on the baseline's labels",
        ),
    ],
)
def test_an_estimated_check_of_a_model_that_is_not_estimated_is_refused_naming_it(
    schema: dict[str, str | None], why: str
) -> None:
    # GIVEN a model whose performance cannot be estimated (accuracy is defined for it)
    text = definition_with(
        "{name: accuracy-est, metric: accuracy, estimated: true, min: 0.8}", **schema
    )

    # WHEN it is loaded
    with pytest.raises(ConfigError) as raised:
        load_monitor_definition(text)

    # THEN the error names the check's key, the check and why
    assert f"checks[1].estimated: check 'accuracy-est' cannot be estimated: {why}" in str(
        raised.value
    )


def test_the_same_check_measured_is_accepted_where_the_estimated_one_is_refused() -> None:
    # GIVEN a model without a score column (the control of the test above)
    text = definition_with("{name: accuracy-floor, metric: accuracy, min: 0.8}", score=None)

    # THEN the measured check is fine: the refusal is the estimate's
    assert load_monitor_definition(text).checks[1].metric == "accuracy"


def test_estimated_is_a_boolean() -> None:
    with pytest.raises(ConfigError, match=r"checks\[1\]\.estimated"):
        load_monitor_definition(
            definition_with("{name: auc-est, metric: auc, estimated: 'yes', min: 0.8}")
        )


def test_driftline_validate_refuses_an_estimated_check_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a definition file of a regression model with an estimated check
    config = tmp_path / "credit.yaml"
    text = definition_with("{name: auc-est, metric: auc, estimated: true, min: 0.8}", score=None)
    config.write_text(text, encoding="utf-8")

    # WHEN `driftline validate` reads it
    code = main(["validate", "--config", str(config)])

    # THEN it exits 2 naming the check, and says nothing is valid
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "checks[1].estimated: check 'auc-est' cannot be estimated" in err
