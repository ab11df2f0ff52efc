"""Fuzzing load_monitor_definition: any text or bytes is a definition or a ConfigError with a
reason code, quickly; a definition that is accepted holds only sound values.

Generated: arbitrary text and bytes, YAML punctuation soup, and a complete valid definition
mutated at random paths (values replaced by NaN, ±inf, integers of thousands of digits,
durations past timedelta's range, names with newlines, slashes and dots, nested junk; keys
deleted or added), written as YAML or JSON. Plus the structures that exhaust parsers:
nesting 100,000 deep, alias bombs, two-megabyte strings and keys.
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

import pytest
import yaml
from fuzz_support import fuzz_settings, no_hang
from hypothesis import given
from hypothesis import strategies as st

from driftline.config import (
    MonitorDefinition,
    load_monitor_definition,
    parse_duration,
    validate_monitor_definition,
)
from driftline.errors import ConfigError

SECONDS = 10.0
#: Stands for an integer of 5,000 digits, which json and yaml cannot write (Python refuses
#: to turn it into text); the digits are put in the text after writing it.
HUGE = "HUGE-INTEGER"
HUGE_DIGITS = "7" * 5000
VALID: dict[str, Any] = {
    "model": "churn",
    "schema": {
        "id": "customer_id",
        "timestamp": "event_time",
        "task": "binary_classification",
        "prediction": "churn_predicted",
        "score": "churn_score",
        "label": "churned",
        "positive_class": 1,
        "features": {"tenure": "numeric", "plan": "categorical"},
        "segments": ["plan"],
    },
    "baseline": {"path": "baselines/churn/reference.csv"},
    "drift": {
        "method": "auto",
        "threshold": 0.2,
        "dataset_drift_share": 0.5,
        "bins": 10,
        "features": {"tenure": {"method": "psi", "threshold": 0.1}},
    },
    "checks": [
        {"name": "accuracy-floor", "metric": "accuracy", "min": 0.85, "action": "retrain"},
        {"name": "tenure-missing", "quality": "missing_share", "feature": "tenure", "max": 0.05},
        {"name": "input-drift", "drift": "dataset"},
        {
            "name": "error-adwin",
            "detector": "adwin",
            "signal": "error",
            "params": {"delta": 0.002},
            "segment": {"plan": "basic"},
        },
        {"name": "auc-drop", "metric": "auc", "max_relative_drop": 0.1, "min_labelled_rows": 50},
    ],
    "schedule": "rate(1 day)",
    "windows": ["P1D", "P7D"],
    "actions": {"notify": {"cooldown": "PT6H"}, "retrain": {"cooldown": "P1D"}},
}
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([HUGE, -(10**400), 2**63, -1, 0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "churn\n",
            "Churn",
            "a/b",
            "..",
            "../x",
            "config/../x.yaml",
            "a%2Fb",
            "baselines/other/x.csv",
            "baselines/churn/../other/x.csv",
            "/etc/passwd",
            "profiles/churn/x.json",
            "P99999999999D",
            "P" + "9" * 400 + "D",
            "P1D\n",
            "rate(1 day)\n",
            "cron(0 0 * * ? *)\n",
            "x" * 10_000,
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    # a key path that long must not make messages that long (a fresh dict each time: the
    # mutations write into what they draw)
    st.builds(lambda: {"k" * 10_000: 1}),
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a parsed definition."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def apply(document: dict[str, Any], path: tuple[Any, ...], operation: str, value: Any) -> None:
    parent: Any = document
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if operation == "set":
        parent[last] = value
    elif operation == "delete":
        del parent[last]
    elif isinstance(parent, dict):  # add a key beside the chosen one
        parent[f"extra_{value!s:.8}"] = value


@st.composite
def mutated_definitions(draw: st.DrawFn) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        available = paths(document)
        if not available:
            break
        path = draw(st.sampled_from(available))
        operation = draw(st.sampled_from(["set", "set", "delete", "add"]))
        apply(document, path, operation, draw(HOSTILE))
    return document


def load(text: str | bytes) -> MonitorDefinition | ConfigError:
    """Load under a time limit; a ConfigError is returned, anything else propagates."""
    with no_hang(SECONDS, "loading a monitor definition"):
        try:
            return load_monitor_definition(text, source="config/churn.yaml")
        except ConfigError as error:
            return error


def check_error(error: ConfigError) -> None:
    assert error.reason in {"invalid_config", "invalid_yaml", "not_utf8"}
    assert str(error).startswith("invalid monitor definition config/churn.yaml: ")
    # bounded, whatever the input held (a 5,000-digit number, a 10 KB name, an alias bomb)
    assert len(str(error)) < 20_000
    if error.reason == "invalid_config":
        problems = error.details["problems"]
        assert problems and all(isinstance(p, str) and len(p) < 2_000 for p in problems)
    json.dumps(error.to_dict())


def finite_numbers(node: Any) -> bool:
    if isinstance(node, float):
        return math.isfinite(node)
    if isinstance(node, dict):
        return all(finite_numbers(v) for v in node.values())
    if isinstance(node, list | tuple):
        return all(finite_numbers(v) for v in node)
    return True


def check_definition(definition: MonitorDefinition) -> None:
    """What every accepted definition guarantees."""
    assert re.fullmatch(r"[a-z0-9-]{1,64}", definition.model)
    dumped = definition.model_dump(by_alias=True)
    assert finite_numbers(dumped)
    for window in definition.windows:
        assert parse_duration(window).total_seconds() > 0
    assert "\n" not in definition.schedule
    path = definition.baseline.path
    parts = path.split("/")
    assert not path.startswith("/") and not {"", ".", ".."} & set(parts)
    if len(parts) > 1:  # in the bucket: only the model's own baselines folder
        assert parts[:2] == ["baselines", definition.model] and len(parts) >= 3
    names = [check.name for check in definition.checks]
    assert len(names) == len(set(names))
    # validating what was accepted gives it back unchanged
    assert validate_monitor_definition(dumped) == definition


def test_the_unmutated_definition_is_valid() -> None:
    loaded = load(yaml.safe_dump(VALID))
    assert isinstance(loaded, MonitorDefinition)
    check_definition(loaded)


@fuzz_settings(200)
@given(document=mutated_definitions(), as_json=st.booleans())
def test_mutated_definitions_are_sound_or_rejected_with_key_paths(
    document: dict[str, Any], as_json: bool
) -> None:
    # GIVEN a valid definition with values replaced, deleted or added at random paths
    text = json.dumps(document) if as_json else yaml.safe_dump(document)
    text = text.replace(f'"{HUGE}"', HUGE_DIGITS).replace(HUGE, HUGE_DIGITS)
    # WHEN loaded THEN a sound definition, or a ConfigError naming what is wrong
    loaded = load(text)
    if isinstance(loaded, ConfigError):
        check_error(loaded)
    else:
        check_definition(loaded)


YAML_SOUP = st.text(alphabet=":-[]{}&*!|>'\"%@`#,?\n\t abc01.~<=", max_size=80)


@fuzz_settings(200)
@given(text=st.one_of(st.text(max_size=200), YAML_SOUP))
def test_any_text_is_a_definition_or_a_config_error(text: str) -> None:
    loaded = load(text)
    if isinstance(loaded, ConfigError):
        check_error(loaded)
    else:
        check_definition(loaded)


@fuzz_settings(100)
@given(data=st.binary(max_size=200))
def test_any_bytes_are_a_definition_or_a_config_error(data: bytes) -> None:
    loaded = load(data)
    assert isinstance(loaded, ConfigError)
    check_error(loaded)


def _bomb(field: str, levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        aliases = ", ".join([f"*a{level - 1}"] * 9)
        name = field if level == levels - 1 else f"a{level}"
        lines.append(f"{name}: &a{level} [{aliases}]")
    return "\n".join(lines) + "\n"


VALID_YAML = yaml.safe_dump(VALID)
HOSTILE_TEXTS = {
    "lists-100k-deep": "model: " + "[" * 100_000 + "]" * 100_000,
    "maps-20k-deep": "model: " + "{a: " * 20_000 + "1" + "}" * 20_000,
    "unclosed-100k": "[" * 100_000,
    "alias-bomb-in-schedule": _bomb("schedule"),
    "alias-bomb-in-model": _bomb("model"),
    "alias-bomb-unknown-key": _bomb("surplus"),
    "recursive-alias": "model: &a [*a]\n",
    "integer-5000-digits": VALID_YAML.replace("bins: 10", "bins: 1" + "0" * 5000),
    "negative-integer-5000-digits": VALID_YAML.replace("min: 0.85", "min: -1" + "0" * 5000),
    "string-2mb": VALID_YAML.replace("model: churn", "model: " + "x" * 2_000_000),
    "duration-past-timedelta": VALID_YAML.replace("- P7D", "- P99999999999D"),
    "invalid-timestamp-tag": VALID_YAML + "surplus: !!timestamp 2024-13-45\n",
    "invalid-int-tag": VALID_YAML + "surplus: !!int 0xZZ\n",
    "python-object-tag": VALID_YAML + "surplus: !!python/object/apply:os.system [ls]\n",
    "nul-character": VALID_YAML + "surplus: a\x00b\n",
    "nan-threshold": VALID_YAML.replace("min: 0.85", "min: .nan"),
    "infinite-threshold": VALID_YAML.replace("max: 0.05", "max: .inf"),
    "nan-detector-parameter": VALID_YAML.replace("delta: 0.002", "delta: .nan"),
    "key-given-twice": VALID_YAML + "checks: []\n",
    "model-with-newline": VALID_YAML.replace("model: churn", 'model: "churn\\n"'),
    "schedule-with-newline": VALID_YAML.replace("rate(1 day)", '"rate(1 day)\\n"'),
    "baseline-of-another-model": VALID_YAML.replace("baselines/churn/", "baselines/fraud/"),
    "baseline-with-dot-dot": VALID_YAML.replace("baselines/churn/", "baselines/churn/../fraud/"),
    "baseline-in-profiles": VALID_YAML.replace("baselines/churn/", "profiles/churn/"),
    "baseline-absolute": VALID_YAML.replace("baselines/churn/", "/baselines/churn/"),
    "drift-name-of-2mb": VALID_YAML.replace("drift: dataset", "drift: " + "d" * 2_000_000),
    "unknown-key-of-2mb": VALID_YAML + "k" * 2_000_000 + ": 1\n",
    "baseline-in-models": VALID_YAML.replace("baselines/churn/", "models/churn/"),
    "baseline-folder-only": VALID_YAML.replace("baselines/churn/reference.csv", "baselines/churn"),
}  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE_TEXTS.values(), ids=HOSTILE_TEXTS.keys())
def test_hostile_definitions_are_config_errors_within_seconds(text: str) -> None:
    # Regression: before the fix, deep nesting raised RecursionError, a 5,000-digit number
    # ValueError, a long duration OverflowError (none a DriftlineError: the configure
    # function crashed and retried), NaN thresholds, keys given twice, trailing newlines
    # and baselines outside the model's folder were accepted, and the error message of an
    # alias bomb took minutes to build.
    loaded = load(text)
    assert isinstance(loaded, ConfigError), loaded
    check_error(loaded)


def test_alias_bomb_error_is_built_quickly_at_depth_twelve() -> None:
    # 9**12 leaves: expanding the value to print it would never finish
    loaded = load(_bomb("schedule", levels=12))
    assert isinstance(loaded, ConfigError)
    assert "schedule: Input should be a valid string" in str(loaded)
