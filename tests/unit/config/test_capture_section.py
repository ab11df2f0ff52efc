"""The monitor definition's ``capture`` section: how SageMaker Data Capture values without
names, and endpoint output keys, become the schema's columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftline.config import load_monitor_definition
from driftline.errors import ConfigError
from driftline.evaluation import capture_columns

ROOT = Path(__file__).resolve().parents[3]

BASE = """
model: churn
schema:
  id: request_id
  timestamp: event_time
  task: binary_classification
  prediction: churned_pred
  score: churn_score
  label: churned
  features: {tenure: numeric, income: numeric, plan: categorical}
  segments: [region]
  sensitive: gender
baseline: {path: b.csv}
"""


def definition(capture: str, base: str = BASE) -> str:
    return f"{base}capture: {capture}\n"


def test_a_capture_section_gives_the_reader_its_orders_and_output_keys() -> None:
    # GIVEN fields in another order than the features, a dropped field, and output keys
    loaded = load_monitor_definition(
        definition(
            "{csv_fields: [plan, ~, income, tenure, region, gender], "
            "outputs: {predicted_label: churned_pred, probability: churn_score}, "
            "csv_outputs: [churn_score, churned_pred]}"
        )
    )
    # WHEN turned into the reader's column names
    columns = capture_columns(loaded)
    # THEN the reader gets exactly the definition's orders and mapping
    assert columns.inputs == ("plan", None, "income", "tenure", "region", "gender")
    assert columns.outputs == ("churn_score", "churned_pred")
    assert dict(columns.output_keys) == {
        "predicted_label": "churned_pred",
        "probability": "churn_score",
    }
    assert (columns.id, columns.timestamp, columns.label) == ("request_id", "event_time", "churned")


def test_without_a_capture_section_no_order_is_taken_from_the_features() -> None:
    # GIVEN a definition without capture: the features' order must not name CSV fields
    columns = capture_columns(load_monitor_definition(BASE))
    # THEN the input order is unknown, and so is the output order (two output columns)
    assert columns.inputs is None
    assert columns.outputs is None
    assert dict(columns.output_keys) == {}


@pytest.mark.parametrize(
    ("replace", "outputs"),
    [
        ("  score: churn_score\n", ("churned_pred",)),
        ("  prediction: churned_pred\n", ("churn_score",)),
    ],
    ids=["prediction-only", "score-only"],
)
def test_the_output_order_defaults_to_the_one_output_column_set(
    replace: str, outputs: tuple[str, ...]
) -> None:
    columns = capture_columns(load_monitor_definition(BASE.replace(replace, "")))
    assert columns.outputs == outputs


@pytest.mark.parametrize(
    ("capture", "expected"),
    [
        ("{csv_fields: [tenure, tenur]}", "capture.csv_fields[1]: unknown column 'tenur'"),
        ("{csv_fields: [tenure, plan, tenure]}", "capture.csv_fields[2]: 'tenure' is listed twice"),
        ("{csv_fields: [tenure, request_id]}", "capture.csv_fields[1]: 'request_id' is schema.id"),
        ("{csv_fields: [event_time]}", "capture.csv_fields[0]: 'event_time' is schema.timestamp"),
        ("{csv_fields: [churn_score]}", "capture.csv_fields[0]: 'churn_score' is schema.score"),
        ("{csv_fields: [churned]}", "capture.csv_fields[0]: 'churned' is schema.label"),
        ("{csv_fields: []}", "capture.csv_fields: List should have at least 1 item"),
        ("{csv_fields: plan}", "capture.csv_fields"),
        (
            "{outputs: {probability: tenure}}",
            "capture.outputs.probability: expected schema.prediction ('churned_pred') or "
            "schema.score ('churn_score'), got 'tenure'",
        ),
        (
            "{outputs: {probability: churn_score, proba: churn_score}}",
            "capture.outputs.proba: 'churn_score' is filled by output key 'probability' already",
        ),
        ("{outputs: {'': churn_score}}", "capture.outputs: an output key is empty"),
        ("{csv_outputs: [churn_score, plan]}", "capture.csv_outputs[1]: expected schema"),
        (
            "{csv_outputs: [churn_score, churn_score]}",
            "capture.csv_outputs[1]: 'churn_score' is listed twice",
        ),
        ("{csv_field: [tenure]}", "capture.csv_field: unknown key"),
    ],
)
def test_each_capture_mistake_is_an_error_naming_its_key(capture: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_monitor_definition(definition(capture))
    assert caught.value.reason == "invalid_config"
    assert expected in str(caught.value)


def test_segment_query_and_sensitive_columns_may_be_capture_fields() -> None:
    # GIVEN a ranking model whose request carries its query id, segment and sensitive column
    base = BASE.replace("binary_classification", "ranking")
    base = base.replace("  sensitive: gender\n", "  sensitive: gender\n  query: session\n")
    loaded = load_monitor_definition(
        definition("{csv_fields: [session, region, gender, tenure]}", base)
    )
    assert loaded.capture.csv_fields == ["session", "region", "gender", "tenure"]


def test_output_keys_need_an_output_column_in_the_schema() -> None:
    # GIVEN a schema with neither prediction nor score
    base = BASE.replace("  prediction: churned_pred\n", "").replace("  score: churn_score\n", "")
    with pytest.raises(ConfigError, match="neither is set"):
        load_monitor_definition(definition("{outputs: {probability: churn_score}}", base))
    # THEN without output columns, output values get positional names (not monitored)
    assert capture_columns(load_monitor_definition(base)).outputs == ()


def test_the_documented_example_is_valid_and_names_the_request_in_its_order() -> None:
    # GIVEN the example of docs/monitor-definition.md
    text = (ROOT / "docs" / "monitor-definition.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    # WHEN loaded THEN its capture section is valid and reaches the reader as written
    columns = capture_columns(load_monitor_definition(example, source="monitor-definition.md"))
    assert columns.inputs == ("region", "income", None, "utilisation", "risk_segment")
    assert dict(columns.output_keys) == {
        "predicted_class": "predicted_label",
        "probability": "default_probability",
    }
