"""A definition that validates can be evaluated: what would fail at every evaluation (a drift
method on a kind of column it does not apply to, a duration past the calendar, a boolean
read as a number) is refused by validation, naming the key."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from driftline.checks import effective_checks
from driftline.config import (
    MAX_DURATION,
    load_monitor_definition,
    parse_duration,
    validate_monitor_definition,
)
from driftline.errors import ConfigError
from driftline.evaluation import evaluate, profile_spec
from driftline.profile.dataset import build_reference, profile_frames
from driftline.stats import METHODS

BASE = """
model: churn
schema:
  task: binary_classification
  prediction: churned_pred
  score: churn_score
  label: churned
  features: {tenure: numeric, plan: categorical}
  segments: [plan]
baseline: {path: baselines/churn/training.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
  - {name: input-drift, drift: dataset, action: notify}
"""


def with_changes(**sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(BASE)
    data.update(sections)
    return data


def error_of(data: dict[str, Any], **kwargs: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        validate_monitor_definition(data, source="config/churn.yaml", **kwargs)
    return caught.value


# -- drift methods and the kinds of columns they apply to ------------------------------------


@pytest.mark.parametrize(
    ("drift", "expected"),
    [
        (
            {"method": "ks"},
            "drift.method: ks does not apply to categorical feature plan; allowed for "
            "categorical features: auto, psi, jensenshannon, chisquare, hellinger",
        ),
        (
            {"method": "wasserstein"},
            "drift.method: wasserstein does not apply to categorical feature plan",
        ),
        (
            {"features": {"plan": {"method": "ks"}}},
            "drift.features.plan.method: ks does not apply to categorical feature plan; "
            "allowed for categorical features: auto, psi, jensenshannon, chisquare, hellinger",
        ),
        (
            {"method": "psi", "features": {"plan": {"method": "wasserstein"}}},
            "drift.features.plan.method: wasserstein does not apply to categorical feature",
        ),
    ],
)
def test_a_drift_method_on_a_kind_it_does_not_apply_to_is_refused_naming_the_key(
    drift: dict[str, Any], expected: str
) -> None:
    # GIVEN a numeric-only method on the categorical feature plan (globally or its own)
    # WHEN validated THEN the error names the key and the feature, and says what fits
    error = error_of(with_changes(drift=drift))
    assert expected in str(error)
    assert error.reason == "invalid_config"


def test_a_global_method_a_categorical_feature_overrides_is_valid() -> None:
    # GIVEN ks for every feature, and the categorical one given its own method
    data = with_changes(drift={"method": "ks", "features": {"plan": {"method": "psi"}}})
    # WHEN validated THEN it is valid
    definition = validate_monitor_definition(data)
    assert definition.drift.method == "ks"


@pytest.mark.parametrize(
    ("drift", "key"),
    [
        ({"threshold": 2}, "drift.threshold: 2 is not below 1 for feature tenure; auto"),
        ({"method": "chisquare", "threshold": 1}, "drift.threshold: 1 is not below 1"),
        (
            {"method": "psi", "features": {"tenure": {"method": "ks", "threshold": 5}}},
            "drift.features.tenure.threshold: 5 is not below 1 for feature tenure; ks is a test",
        ),
        (
            {"method": "psi", "threshold": 3, "features": {"plan": {"method": "chisquare"}}},
            "drift.threshold: 3 is not below 1 for feature plan; chisquare is a test",
        ),
    ],
)
def test_a_test_threshold_of_one_or_more_is_refused(drift: dict[str, Any], key: str) -> None:
    # A p-value is below a threshold of 1 or more almost always: such a test would drift
    # every time. compute_drift refuses it at every evaluation, so validation refuses it first.
    assert key in str(error_of(with_changes(drift=drift)))


def test_a_distance_threshold_above_one_is_valid() -> None:
    definition = validate_monitor_definition(with_changes(drift={"method": "psi", "threshold": 2}))
    assert definition.drift.threshold == 2.0


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    predicted = rng.integers(0, 2, rows)
    return pd.DataFrame(
        {
            "tenure": rng.normal(12.0, 3.0, rows),
            "plan": rng.choice(["basic", "pro"], rows),
            "churn_score": rng.random(rows),
            "churned_pred": predicted,
            "churned": predicted,
        }
    )


@pytest.mark.parametrize(
    ("method", "threshold"),
    list(itertools.product(["auto", *METHODS], [None, 0.5, 2.0])),
)
def test_every_definition_that_validates_evaluates_without_an_error(
    method: str, threshold: float | None
) -> None:
    # GIVEN every drift method with no, a small and a large threshold, on both kinds
    drift: dict[str, Any] = {"method": method}
    if threshold is not None:
        drift["threshold"] = threshold
    try:
        definition = validate_monitor_definition(with_changes(drift=drift))
    except ConfigError:
        # THEN what is refused is what the run would refuse: the method does not apply to
        # one of the kinds, or a test (or auto, which picks one) got a threshold of 1 or more
        kinds = METHODS[method].kinds if method != "auto" else {"numeric", "categorical"}
        is_test = method == "auto" or METHODS[method].direction.startswith("p_value")
        assert kinds != {"numeric", "categorical"} or (is_test and (threshold or 0) >= 1)
        return
    # ... and what validates is evaluated, on small samples (auto picks tests) without error
    spec = profile_spec(definition)
    reference = build_reference(lambda: [_frame(300, 1)], spec)
    current = profile_frames([_frame(200, 2)], spec, reference.bins)
    result = evaluate(definition, reference, current, evaluation_id="e")
    assert set(result.drift.features) == {"tenure", "plan"}
    assert all(drift.result is not None for drift in result.drift.features.values())


# -- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sections", "key"),
    [
        ({"windows": ["P1D", "P100000000D"]}, "windows[1]"),
        ({"windows": ["P3661D"]}, "windows[0]"),
        ({"actions": {"notify": {"cooldown": "P4000D"}}}, "actions.notify.cooldown"),
        ({"actions": {"retrain": {"training_window": "P523W"}}}, "actions.retrain.training_window"),
        (
            {"actions": {"emergency_retrain": {"cooldown": "PT100000000H"}}},
            "actions.emergency_retrain.cooldown",
        ),
        ({"retraining": {"canary": {"duration": "P9999D"}}}, "retraining.canary.duration"),
    ],
)
def test_a_duration_longer_than_ten_years_is_refused_naming_the_key(
    sections: dict[str, Any], key: str
) -> None:
    # GIVEN a duration that would take "now - window" (or "last + cooldown") off the calendar
    error = error_of(with_changes(**sections))
    # THEN the key is named with the bound
    assert f"{key}: expected a duration of at most P3660D (about 10 years)" in str(error)


def test_the_longest_duration_allowed_is_ten_years_and_a_window_of_it_is_valid() -> None:
    assert parse_duration("P3660D") == MAX_DURATION
    definition = validate_monitor_definition(with_changes(windows=["P1D", "P3660D"]))
    assert definition.windows == ["P1D", "P3660D"]
    with pytest.raises(ValueError, match="at most P3660D"):
        parse_duration("P3660DT1S")


# -- booleans are not numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sections", "key"),
    [
        (
            {"checks": [{"name": "a", "metric": "accuracy", "max": True}]},
            "checks[0].max: expected a number, got a boolean (true)",
        ),
        (
            {"checks": [{"name": "a", "metric": "accuracy", "min": False}]},
            "checks[0].min: expected a number, got a boolean (false)",
        ),
        (
            {"checks": [{"name": "a", "metric": "accuracy", "max_relative_drop": True}]},
            "checks[0].max_relative_drop: expected a number",
        ),
        (
            {
                "checks": [
                    {"name": "a", "metric": "accuracy", "min": 0.8, "min_labelled_rows": True}
                ]
            },
            "checks[0].min_labelled_rows: expected a number",
        ),
        ({"drift": {"threshold": True}}, "drift.threshold: expected a number"),
        ({"drift": {"dataset_drift_share": True}}, "drift.dataset_drift_share: expected a number"),
        ({"drift": {"bins": True}}, "drift.bins: expected a number"),
        (
            {"drift": {"features": {"tenure": {"threshold": True}}}},
            "drift.features.tenure.threshold: expected a number",
        ),
        (
            {"actions": {"emergency_retrain": {"canary_traffic": True}}},
            "actions.emergency_retrain.canary_traffic: expected a number",
        ),
        ({"retraining": {"margin": False}}, "retraining.margin: expected a number"),
    ],
)
def test_a_boolean_for_a_number_is_refused_naming_the_key(
    sections: dict[str, Any], key: str
) -> None:
    # GIVEN `max: true` (which lax validation reads as 1.0) WHEN validated THEN refused
    assert key in str(error_of(with_changes(**sections)))


def test_fields_that_take_booleans_still_do_and_integers_are_still_numbers() -> None:
    # GIVEN a boolean positive class, a boolean detector parameter and integer thresholds
    data = with_changes(
        checks=[
            {"name": "a", "metric": "accuracy", "min": 0, "max": 1},
            {"name": "d", "detector": "adwin", "signal": "error", "params": {"clock": True}},
        ]
    )
    data["schema"]["positive_class"] = True
    # WHEN validated THEN accepted, the integers as numbers
    definition = validate_monitor_definition(data)
    assert (definition.checks[0].min, definition.checks[0].max) == (0.0, 1.0)
    assert definition.checks[1].params == {"clock": True}
    assert definition.schema_.positive_class is True


# -- the model's name and its file's ----------------------------------------------------------


def test_a_model_name_unlike_its_file_name_is_reported_as_the_model_key() -> None:
    # GIVEN config/churn.yaml saying model: other (its baseline.path then names the wrong
    # folder too, which is what used to be reported)
    text = BASE.replace("model: churn", "model: other")
    with pytest.raises(ConfigError) as caught:
        load_monitor_definition(text, source="config/churn.yaml", expected_model="churn")
    # THEN the one problem reported is the model's
    error = caught.value
    assert str(error) == (
        "invalid monitor definition config/churn.yaml: model: 'other' does not match the file "
        "name config/churn.yaml (expected 'churn')"
    )
    assert error.details["key"] == "model"
    assert error.details["problems"] == [str(error).split(": ", 1)[1]]


def test_without_an_expected_model_the_same_text_reports_its_baseline_path() -> None:
    text = BASE.replace("model: churn", "model: other")
    with pytest.raises(ConfigError, match=r"baseline\.path: expected baselines/other/"):
        load_monitor_definition(text, source="churn.yaml")


# -- quality checks and the built-in schema-columns check --------------------------------------


@pytest.mark.parametrize(
    ("measure", "feature", "kind"),
    [
        ("new_category_share", "tenure", "categorical"),
        ("out_of_range_share", "plan", "numeric"),
        ("type_violation_share", "plan", "numeric"),
    ],
)
def test_a_quality_measure_of_the_other_kind_of_column_is_refused(
    measure: str, feature: str, kind: str
) -> None:
    # A new-category share of a numeric column is always 0: such a check could never fail.
    checks = [{"name": "q", "quality": measure, "feature": feature, "max": 0.1}]
    error = error_of(with_changes(checks=checks))
    assert f"checks[0].quality: {measure} applies to {kind} features; {feature} is" in str(error)


def test_every_definition_carries_the_built_in_schema_columns_check() -> None:
    definition = validate_monitor_definition(with_changes())
    built_in = {check.name: check for check in effective_checks(definition)}["schema-columns"]
    assert (built_in.name, built_in.quality, built_in.max, built_in.action) == (
        "schema-columns",
        "absent_columns",
        0.0,
        "notify",
    )
    # ... without being written into the definition itself
    assert "schema-columns" not in [check.name for check in definition.checks]


def test_a_check_named_schema_columns_replaces_the_built_in_one() -> None:
    checks = [
        {"name": "schema-columns", "quality": "absent_columns", "max": 0, "action": "retrain"}
    ]
    definition = validate_monitor_definition(with_changes(checks=checks))
    assert [(c.name, c.action) for c in effective_checks(definition)] == [
        ("schema-columns", "retrain"),
        ("scores-in-range", "notify"),  # the other built-in check, as it was
    ]


def test_a_check_named_schema_columns_of_another_kind_is_refused() -> None:
    # It would silently switch the built-in check off
    checks = [{"name": "schema-columns", "metric": "accuracy", "min": 0.8}]
    error = error_of(with_changes(checks=checks))
    assert "checks[0].name: schema-columns is the built-in check of absent columns" in str(error)


# -- detector checks read a signal the schema gives and the label join keeps -----------------


@pytest.mark.parametrize(
    ("schema_changes", "signal", "expected"),
    [
        ({"prediction": None}, "error", "checks[2].signal: the error signal needs schema.pred"),
        ({"score": None}, "score", "checks[2].signal: the score signal needs schema.score"),
        ({}, "customer_age", "checks[2].signal: expected error, score, or a column of the schema"),
        ({"label": None}, "error", "checks[2].detector: detector checks need schema.label"),
    ],
)
def test_a_detector_signal_the_schema_cannot_give_is_refused_naming_the_key(
    schema_changes: dict[str, Any], signal: str, expected: str
) -> None:
    # GIVEN a detector check whose signal production could never read (the rows kept for
    # the label join hold the schema's columns only)
    data = with_changes()
    data["schema"].update(schema_changes)
    data["schema"] = {k: v for k, v in data["schema"].items() if v is not None}
    data["checks"] = [
        {"name": "q", "quality": "missing_share", "feature": "tenure", "max": 0.1},
        {"name": "i", "drift": "dataset"},
        {"name": "d", "detector": "adwin", "signal": signal},
    ]
    # WHEN validated THEN refused, naming the key
    assert expected in str(error_of(data))


@pytest.mark.parametrize("signal", ["error", "score", "tenure", "plan", "churned"])
def test_detector_signals_of_the_schema_are_valid(signal: str) -> None:
    data = with_changes(checks=[{"name": "d", "detector": "adwin", "signal": signal}])
    assert validate_monitor_definition(data).checks[0].signal == signal


# -- how drift is decided: alpha, correction, minimum effects ---------------------------------


@pytest.mark.parametrize(
    ("drift", "key"),
    [
        ({"alpha": 0}, "drift.alpha"),
        ({"alpha": 0.6}, "drift.alpha"),
        ({"alpha": True}, "drift.alpha"),
        ({"alpha": "low"}, "drift.alpha"),
        ({"correction": "bonferroni"}, "drift.correction"),
        ({"overall_share": 0}, "drift.overall_share"),
        ({"overall_share": 1}, "drift.overall_share"),
        ({"overall_share": True}, "drift.overall_share"),
        ({"overall_share": "half"}, "drift.overall_share"),
        ({"min_effect": {"ks": -0.02}}, "drift.min_effect"),
        ({"min_effect": {"ks": 0}}, "drift.min_effect"),
        ({"min_effect": {"ks": True}}, "drift.min_effect"),
        ({"min_effect": {"ks": "0.02"}}, "drift.min_effect"),
        ({"min_effect": {"ks": 1.5}}, "drift.min_effect"),
        ({"min_effect": {"energy": 0.1}}, "drift.min_effect"),
        ({"min_rows": 0}, "drift.min_rows"),
        ({"min_missing_change": 0}, "drift.min_missing_change"),
        ({"min_missing_change": 1.5}, "drift.min_missing_change"),
        ({"min_missing_change": True}, "drift.min_missing_change"),
        ({"min_missing_change": "two points"}, "drift.min_missing_change"),
        ({"features": {"tenure": {"min_effect": -1}}}, "drift.features.tenure.min_effect"),
        ({"features": {"plan": {"min_effect": 2}}}, "drift.features.plan.min_effect"),
    ],
)
def test_bad_drift_decision_settings_are_refused_naming_the_key(
    drift: dict[str, Any], key: str
) -> None:
    assert key in str(error_of(with_changes(drift=drift)))


def test_sound_drift_decision_settings_are_valid() -> None:
    data = with_changes(
        drift={
            "alpha": 0.5,
            "correction": "bh",
            "overall_share": 0.8,
            "min_effect": {"ks": 0.05, "psi": 2.5, "wasserstein": 1.5},
            "min_rows": 1,
            "min_missing_change": 0.05,
            "features": {"tenure": {"min_effect": 0.1}},
        }
    )
    drift = validate_monitor_definition(data).drift
    assert (drift.alpha, drift.correction, drift.min_effect["psi"]) == (0.5, "bh", 2.5)
    assert drift.overall_share == 0.8
    assert drift.min_missing_change == 0.05
