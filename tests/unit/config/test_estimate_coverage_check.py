"""A check on the estimate's running coverage (``metric: estimate_coverage``): what the
definition accepts, and what the evaluation decides with the coverage it computes."""

from __future__ import annotations

import pytest

from driftline.config import CheckSpec, load_monitor_definition
from driftline.errors import ConfigError
from driftline.reconciliation import (
    COVERAGE_MIN_PAIRS,
    EstimateCoverage,
    ReconciledScope,
    Reconciliation,
    decide_coverage_check,
)

SCHEMA = """
model: m
schema:
  task: binary_classification
  prediction: p
  score: s
  label: y
  features: {x: numeric}
  segments: [tier]
baseline: {path: b.csv}
"""


def with_check(check: str, schema: str = SCHEMA) -> str:
    return schema + f"checks:\n  - {check}\n"


def test_a_coverage_check_with_a_minimum_is_accepted() -> None:
    definition = load_monitor_definition(
        with_check("{name: estimate-coverage, metric: estimate_coverage, min: 0.8}")
    )
    assert definition.checks[0].metric == "estimate_coverage"


def test_a_regression_models_coverage_check_needs_no_score() -> None:
    # GIVEN a regression model with a prediction and a label, and no score column
    schema = SCHEMA.replace("binary_classification", "regression").replace("  score: s\n", "")
    # THEN a check of its estimate's coverage (the MAE and RMSE intervals) is accepted
    definition = load_monitor_definition(
        with_check("{name: estimate-coverage, metric: estimate_coverage, min: 0.8}", schema)
    )
    assert definition.checks[0].metric == "estimate_coverage"


@pytest.mark.parametrize(
    ("check", "schema", "message"),
    [
        (
            "{name: c, metric: estimate_coverage, min: 0.8}",
            SCHEMA.replace("  score: s\n", ""),
            "checks[0].metric: estimate_coverage needs schema.score, which is not set",
        ),
        (
            "{name: c, metric: estimate_coverage, min: 0.8}",
            SCHEMA.replace("  prediction: p\n", ""),
            "checks[0].metric: estimate_coverage needs schema.prediction, which is not set",
        ),
        (
            "{name: c, metric: estimate_coverage, min: 0.8}",
            SCHEMA.replace("binary_classification", "regression")
            .replace("  score: s\n", "")
            .replace("  label: y\n", ""),
            "checks[0].metric: estimate_coverage needs schema.label, which is not set",
        ),
        (
            "{name: c, metric: estimate_coverage, min: 0.8}",
            SCHEMA.replace("binary_classification", "regression")
            .replace("  score: s\n", "")
            .replace("  prediction: p\n", ""),
            "checks[0].metric: estimate_coverage needs schema.prediction, which is not set: the "
            "MAE and RMSE are estimated from each row's prediction",
        ),
        (
            "{name: c, metric: estimate_coverage, min: 0.8}",
            SCHEMA.replace("task: binary_classification", "task: ranking\n  query: q"),
            "checks[0].metric: estimate_coverage is not defined for schema.task ranking",
        ),
        (
            "{name: c, metric: estimate_coverage, min: 0.8, segment: {tier: gold}}",
            SCHEMA,
            "checks[0].segment: estimate_coverage is the model's, over whole windows",
        ),
        (
            "{name: c, metric: estimate_coverage, max_relative_drop: 0.1}",
            SCHEMA,
            "checks[0].max_relative_drop: estimate_coverage has no baseline",
        ),
        (
            "{name: c, metric: estimate_coverage, min: 1.5}",
            SCHEMA,
            "min: 1.5 is outside the range [0.0, 1.0] of estimate_coverage",
        ),
    ],
)
def test_a_coverage_check_that_could_not_behave_is_refused_naming_the_key(
    check: str, schema: str, message: str
) -> None:
    escaped = message.replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(ConfigError, match=escaped):
        load_monitor_definition(with_check(check, schema))


def spec(**bounds: float) -> CheckSpec:
    fields = ", ".join(f"{key}: {value}" for key, value in bounds.items())
    definition = load_monitor_definition(
        with_check(f"{{name: estimate-coverage, metric: estimate_coverage, {fields}}}")
    )
    return definition.checks[0]


def reconciled(pairs: int, inside: int, evaluations: int) -> Reconciliation:
    return Reconciliation(ReconciledScope(), {}, EstimateCoverage(pairs, inside, evaluations, 100))


@pytest.mark.parametrize(("inside", "status"), [(23, "fail"), (24, "pass"), (30, "pass")])
def test_the_check_fails_below_its_minimum_share_of_estimates_inside(
    inside: int, status: str
) -> None:
    # GIVEN 30 reconciled estimates of which `inside` fell inside their interval
    result = decide_coverage_check(spec(min=0.8), reconciled(30, inside, 5))
    # THEN the check compares their share with the minimum, quoting the counts
    assert result.status == status
    assert result.value == pytest.approx(inside / 30)
    assert result.detail.endswith(
        f"({inside} of 30 reconciled estimates inside their 95% interval, over 5 evaluations)"
    )


def test_the_check_waits_for_enough_reconciled_estimates() -> None:
    # GIVEN fewer reconciled estimates than the floor, every one outside
    result = decide_coverage_check(spec(min=0.8), reconciled(COVERAGE_MIN_PAIRS - 1, 0, 5))
    # THEN the check is skipped, saying how many there are and how many it needs
    assert result.status == "skip"
    assert result.detail == (
        f"estimate_coverage: {COVERAGE_MIN_PAIRS - 1} reconciled estimates so far (over 5 "
        f"evaluations), fewer than the {COVERAGE_MIN_PAIRS} it decides on"
    )


def test_the_check_of_a_model_without_an_estimate_is_skipped_with_the_reason() -> None:
    result = decide_coverage_check(
        spec(min=0.8),
        Reconciliation(skipped="the performance was not estimated: no calibrator"),
    )
    assert result.status == "skip"
    assert result.detail == "estimate_coverage: the performance was not estimated: no calibrator"
