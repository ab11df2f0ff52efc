"""A check's persistence rule (``persist: {windows: K, of: M}``): a rule that could never fire,
or one on a check it does not apply to, is refused naming the key."""

from __future__ import annotations

import pytest

from driftline.config import PERSIST_MAX_EVALUATIONS, load_monitor_definition
from driftline.errors import ConfigError

BASE = """
model: churn
schema:
  task: binary_classification
  prediction: churned_pred
  label: churned
  features: {tenure: numeric}
baseline: {path: baselines/churn/training.csv}
checks:
  - {name: input-drift, drift: dataset, action: notify}
  - %s
"""


def definition_with(check: str) -> str:
    return BASE % check


def test_a_check_without_persist_fires_at_once_as_before() -> None:
    # GIVEN a check that names no rule
    definition = load_monitor_definition(definition_with("{name: acc, metric: accuracy, min: 0.8}"))

    # THEN it has none
    assert definition.checks[1].persist is None


@pytest.mark.parametrize(
    "check",
    [
        "{name: acc, metric: accuracy, min: 0.8, persist: {windows: 3, of: 4}}",
        "{name: miss, quality: missing_share, feature: tenure, max: 0.1, "
        "persist: {windows: 1, of: 1}}",
        "{name: drift, drift: tenure, persist: {windows: 24, of: 24}}",
    ],
)
def test_a_persistence_rule_on_a_metric_quality_or_drift_check_is_accepted(check: str) -> None:
    # WHEN the definition is loaded
    definition = load_monitor_definition(definition_with(check))

    # THEN the rule is kept as written
    rule = definition.checks[1].persist
    assert rule is not None and 1 <= rule.windows <= rule.of <= PERSIST_MAX_EVALUATIONS


@pytest.mark.parametrize(
    ("persist", "problem"),
    [
        ("{windows: 5, of: 4}", "checks[1].persist.windows: 5 failures cannot happen in 4"),
        ("{windows: 0, of: 4}", "checks[1].persist.windows: Input should be greater than"),
        ("{windows: -1, of: 4}", "checks[1].persist.windows: Input should be greater than"),
        ("{windows: 2, of: 25}", "checks[1].persist.of: Input should be less than or equal to 24"),
        ("{windows: 2, of: 0}", "checks[1].persist.of: Input should be greater than"),
        ("{windows: true, of: 4}", "checks[1].persist.windows: expected a number, got a boolean"),
        ("{windows: 2, of: false}", "checks[1].persist.of: expected a number, got a boolean"),
        ("{windows: 2.5, of: 3}", "checks[1].persist.windows: Input should be a valid integer"),
        ("{windows: 2}", "checks[1].persist.of: required key is missing"),
        ("{of: 3}", "checks[1].persist.windows: required key is missing"),
        ("{windows: 2, of: 3, hours: 6}", "checks[1].persist.hours: unknown key"),
        ("3", "checks[1].persist: Input should be a valid dictionary"),
    ],
)
def test_a_persistence_rule_that_could_never_behave_is_refused_naming_the_key(
    persist: str, problem: str
) -> None:
    # GIVEN a rule that is out of range, of the wrong type or incomplete
    text = definition_with(f"{{name: acc, metric: accuracy, min: 0.8, persist: {persist}}}")

    # WHEN it is validated, THEN the error names the key
    with pytest.raises(ConfigError) as raised:
        load_monitor_definition(text)
    assert problem in str(raised.value)
    assert raised.value.reason == "invalid_config"


def test_a_persistence_rule_on_a_detector_check_is_refused_naming_the_key() -> None:
    # GIVEN a detector check, which fires on its stream of labels, given a rule
    text = definition_with(
        "{name: err, detector: adwin, signal: error, persist: {windows: 2, of: 3}}"
    )

    # WHEN it is validated, THEN the rule is refused, naming the key and the allowed kinds
    with pytest.raises(ConfigError, match=r"checks\[1\]\.persist: applies to metric, quality"):
        load_monitor_definition(text)
