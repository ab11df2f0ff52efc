"""The monitor definition is validated strictly: every mistake names its key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from driftline.config import (
    dump_json_schema,
    load_monitor_definition,
    parse_duration,
    validate_monitor_definition,
)
from driftline.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]

CREDIT = """
model: credit-scoring
schema:
  id: request_id
  timestamp: event_time
  task: binary_classification
  prediction: predicted_label
  score: default_probability
  label: defaulted
  positive_class: 1
  features: {income: numeric, utilisation: numeric, region: categorical}
  segments: [risk_segment]
baseline: {path: baselines/credit-scoring/training.parquet}
drift:
  method: auto
  dataset_drift_share: 0.5
  features: {income: {method: psi, threshold: 0.2}}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
  - {name: subprime-gini, metric: gini, segment: {risk_segment: subprime},
     max_relative_drop: 0.05, action: retrain}
  - {name: error-adwin, detector: adwin, signal: error, params: {delta: 0.002},
     action: emergency_retrain}
  - {name: input-drift, drift: dataset, action: notify}
schedule: rate(1 day)
windows: [P1D, P7D]
actions:
  notify: {cooldown: PT6H}
  retrain: {cooldown: P1D, training_window: P90D}
  emergency_retrain: {training_window: P2D, deploy: canary, canary_traffic: 0.1}
"""


def test_design_example_is_valid() -> None:
    definition = load_monitor_definition(CREDIT)
    assert definition.model == "credit-scoring"
    assert definition.schema_.features["region"] == "categorical"
    assert definition.checks[1].segment == {"risk_segment": "subprime"}
    assert definition.actions.emergency_retrain.canary_traffic == 0.1


def test_shipped_example_definitions_are_valid() -> None:
    paths = sorted(ROOT.glob("examples/**/monitor.yaml"))
    assert paths, "no example monitor definitions found"
    for path in paths:
        load_monitor_definition(path.read_bytes(), source=str(path))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("metric: accuracy", "metric: acuracy", "checks[0].metric: unknown metric 'acuracy'"),
        ("min: 0.85", "min: 1.5", "min: 1.5 is outside the range [0.0, 1.0] of accuracy"),
        ("delta: 0.002", "delt: 0.002", "unknown parameter 'delt' for adwin"),
        ("method: psi", "method: kl", "drift.features.income.method"),
        ("risk_segment: subprime", "region: subprime", "checks[1].segment.region"),
        ("[P1D, P7D]", "[P1D, P1M]", "windows[1]"),
        ("canary_traffic: 0.1", "canary_traffic: 1.5", "canary_traffic"),
        ("task: binary_classification", "task: binary", "schema.task"),
        ("model: credit-scoring", "model: Credit_Scoring", "model: expected 1-64 lowercase"),
        ("dataset_drift_share: 0.5", "dataset_drift_share: 0", "drift.dataset_drift_share"),
        ("income: {method", "salary: {method", "drift.features.salary: not a feature"),
        ("schedule: rate(1 day)", "schedule: daily", "schedule: expected rate"),
        ("  label: defaulted\n", "", "checks[0].metric: accuracy needs schema.label"),
        ("max_relative_drop: 0.05", "max_relative_drop: 5", "max_relative_drop"),
        ("training_window: P90D", "training_window: 90 days", "actions.retrain.training_window"),
        (
            "{name: input-drift, drift: dataset",
            "{name: input-drift, drift: dataset, min: 1",
            "min applies to metric and quality checks only",
        ),
        ("{name: input-drift", "{name: accuracy-floor", "duplicate check name"),
        (
            "{name: input-drift, drift: dataset",
            "{name: input-drift, drift: incme",
            "checks[3].drift: expected dataset",
        ),
    ],
)
def test_each_mistake_is_an_error_naming_the_key(old: str, new: str, expected: str) -> None:
    assert old in CREDIT
    with pytest.raises(ConfigError) as caught:
        load_monitor_definition(CREDIT.replace(old, new, 1), source="config/credit.yaml")
    assert expected in str(caught.value)
    assert "config/credit.yaml" in str(caught.value)


def test_unknown_key_anywhere_is_rejected_by_path() -> None:
    data = yaml.safe_load(CREDIT)
    data["drift"]["features"]["income"]["bins"] = 4
    data["checks"][0]["threshold"] = 0.9
    data["alerts"] = {}
    with pytest.raises(ConfigError) as caught:
        validate_monitor_definition(data)
    message = str(caught.value)
    for key in (
        "drift.features.income.bins: unknown key",
        "checks[0].threshold: unknown key",
        "alerts: unknown key",
    ):
        assert key in message
    assert caught.value.to_dict()["reason"] == "invalid_config"
    assert len(caught.value.details["problems"]) == 3


def test_min_greater_than_max_is_impossible() -> None:
    text = CREDIT.replace("min: 0.85, action: retrain", "min: 0.9, max: 0.8, action: retrain")
    with pytest.raises(ConfigError, match=r"checks\[0\]: min \(0.9\) is greater than max"):
        load_monitor_definition(text)


def test_broken_yaml_names_line() -> None:
    with pytest.raises(ConfigError, match="not valid YAML at line 2"):
        load_monitor_definition("model: x\nschema: a: b\n")


def test_non_utf8_definition_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not UTF-8") as caught:
        load_monitor_definition(b"model: \xff\xfe", source="config/x.yaml")
    assert caught.value.reason == "not_utf8"


def test_top_level_list_is_rejected() -> None:
    with pytest.raises(ConfigError, match="expected a mapping at the top level, got list"):
        load_monitor_definition("- a\n- b\n")


def test_a_column_cannot_play_two_roles() -> None:
    text = CREDIT.replace("prediction: predicted_label", "prediction: income")
    with pytest.raises(ConfigError, match="'income' is both the prediction and a feature"):
        load_monitor_definition(text)


@pytest.mark.parametrize(
    ("text", "seconds"), [("P1D", 86400), ("PT6H", 21600), ("P1W", 604800), ("PT90S", 90)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["P", "PT", "P1M", "P1Y", "1D", "P0D", "P1DT"])
def test_parse_duration_rejects_variable_or_empty_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_published_json_schema_matches_the_models() -> None:
    # THEN docs/ holds exactly what the code generates (regenerate with `driftline schema`)
    published = (ROOT / "docs" / "monitor-definition.schema.json").read_text(encoding="utf-8")
    assert published == dump_json_schema()
    schema = json.loads(published)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"model", "schema", "baseline"}
