"""Model names and keys cannot escape their prefix: path tricks through the jobs and the
handlers' event parsing, on moto.

Tried: ``..`` and ``.`` segments, slashes in model names, empty segments, URL-encoded and
double-encoded keys, upper case, a newline, definitions whose baseline points at another
model's folder or at driftline's own output, evaluation events naming a path. What must
hold: nothing is stored for an invalid model, a rejected input is written only under
``quarantine/`` (S3 keys are literal: ``quarantine/inference/../../config/x`` is a key under
``quarantine/``, never ``config/x``), and another model's definition, reference and data
are untouched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import pytest

from driftline.aws import jobs
from driftline.aws.handler import object_events
from driftline.aws.jobs import Services

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)
BASELINE = b"age,plan\n31,basic\n45,pro\n52,basic\n38,pro\n27,basic\n"


def definition(model: str, baseline: str | None = None) -> str:
    path = baseline if baseline is not None else f"baselines/{model}/reference.csv"
    return (  # JSON strings are YAML strings, escapes and all
        f"model: {json.dumps(model)}\n"
        "schema: {task: regression, features: {age: numeric, plan: categorical}}\n"
        f"baseline: {{path: {json.dumps(path)}}}\n"
    )


def deploy_other(stack: Services) -> dict[str, Any]:
    """A configured model "other" whose state must survive every trick."""
    stack.store.put("baselines/other/reference.csv", BASELINE)
    stack.store.put("config/other.yaml", definition("other").encode())
    assert jobs.configure(stack, "config/other.yaml")["baseline"]["status"] == "built"
    return {
        "definition": stack.table.definition("other"),
        "reference": stack.table.reference_key("other"),
        "objects": {key: stack.store.get(key).body for key in stack.store.keys("")},
    }


def assert_untouched(stack: Services, saved: dict[str, Any]) -> None:
    assert stack.table.models() == ["other"]
    assert stack.table.definition("other") == saved["definition"]
    assert stack.table.reference_key("other") == saved["reference"]
    for key, body in saved["objects"].items():
        assert stack.store.get(key).body == body, key


def new_keys(stack: Services, saved: dict[str, Any], *uploaded: str) -> set[str]:
    return set(stack.store.keys("")) - set(saved["objects"]) - set(uploaded)


@pytest.mark.parametrize(
    "key",
    [
        "config/../other.yaml",
        "config/../config/other.yaml",
        "config/nested/other.yaml",
        "config//other.yaml",
        "config/other.yaml.txt",
        "config/other",
    ],
)
def test_config_keys_other_than_config_model_yaml_are_ignored(stack: Services, key: str) -> None:
    # GIVEN a configured model and a definition uploaded under a tricked key
    saved = deploy_other(stack)
    stack.store.put(key, definition("other").encode())
    # WHEN configure runs THEN it ignores the key, writes nothing and changes nothing
    assert jobs.configure(stack, key)["status"] == "ignored"
    assert new_keys(stack, saved, key) == set()
    assert_untouched(stack, saved)


@pytest.mark.parametrize(
    "name",
    ["..", ".", "a%2Fb", "%2e%2e", "Other", "oth\u200ber", "oth er", "other\n", "a\\b", "x" * 65],
    ids=["dot-dot", "dot", "encoded-slash", "encoded-dot-dot", "upper", "zero-width", "space",
         "newline", "backslash", "too-long"],
)  # fmt: skip
def test_a_model_name_with_path_tricks_is_rejected_and_never_stored(
    stack: Services, inbox: Any, name: str
) -> None:
    # GIVEN config/<name>.yaml whose definition names the same model
    saved = deploy_other(stack)
    inbox()
    key = f"config/{name}.yaml"
    stack.store.put(key, definition(name).encode())
    # WHEN configure runs
    outcome = jobs.configure(stack, key)
    # THEN it is rejected, nothing is stored or scheduled, and only quarantine/ is written
    assert (outcome["status"], outcome["reason"]) == ("rejected", "invalid_config")
    assert new_keys(stack, saved, key) == {f"quarantine/{key}", f"quarantine/{key}.reason.json"}
    assert stack.schedules is not None and set(stack.schedules.expressions()) == {"other"}
    assert_untouched(stack, saved)
    assert len(inbox()) == 1


@pytest.mark.parametrize(
    "baseline",
    [
        "baselines/other/reference.csv",
        "baselines/intruder/../other/reference.csv",
        "baselines/intruder/./reference.csv",
        "baselines//other/reference.csv",
        "profiles/other/reference/x.json",
        "config/other.yaml",
        "/baselines/intruder/reference.csv",
        "baselines\\intruder\\reference.csv",
        "baselines/intruder",
    ],
)
def test_a_definition_cannot_point_at_another_models_data(stack: Services, baseline: str) -> None:
    # GIVEN a new model whose baseline.path reaches into another model's folder or
    # driftline's own output
    saved = deploy_other(stack)
    stack.store.put("config/intruder.yaml", definition("intruder", baseline).encode())
    # WHEN configure runs THEN the definition is rejected and "other" is untouched
    outcome = jobs.configure(stack, "config/intruder.yaml")
    assert (outcome["status"], outcome["reason"]) == ("rejected", "invalid_config")
    assert stack.table.definition("intruder") is None
    assert_untouched(stack, saved)


def test_a_definition_whose_baseline_is_outside_the_bucket_layout_is_rejected(
    stack: Services, inbox: Any
) -> None:
    # GIVEN a definition whose baseline is a bare file name (allowed for local runs, where
    # it is a file next to the definition), and an object of that name in the bucket
    saved = deploy_other(stack)
    inbox()
    stack.store.put("training.csv", BASELINE)
    key = "config/intruder.yaml"
    stack.store.put(key, definition("intruder", "training.csv").encode())
    # WHEN configure runs on AWS
    outcome = jobs.configure(stack, key)
    # THEN it is rejected before anything is stored or scheduled, quarantined with a reason
    # naming baseline.path, and on-call hears about it once
    assert (outcome["status"], outcome["reason"]) == ("rejected", "invalid_config")
    assert stack.table.definition("intruder") is None
    assert stack.schedules is not None and set(stack.schedules.expressions()) == {"other"}
    assert new_keys(stack, saved, key, "training.csv") == {
        f"quarantine/{key}",
        f"quarantine/{key}.reason.json",
    }
    reason = stack.store.get_json(f"quarantine/{key}.reason.json")
    assert reason["details"]["key"] == "baseline.path"
    assert "baselines/intruder/<file>" in reason["error"]
    assert len(inbox()) == 1
    assert_untouched(stack, saved)


@pytest.mark.parametrize(
    ("job", "key"),
    [
        ("profile_batch", "inference/../config/other.yaml"),
        ("profile_batch", "inference/../../config/other.yaml"),
        ("profile_batch", "inference/..%2Fconfig/2026/11/24/10/other.csv"),
        ("ingest_labels", "labels/../baselines/other/reference.csv"),
        ("ingest_labels", "labels/../../profiles/other/2026/11/24/x.csv"),
        ("build_baseline", "baselines/../baselines/other/reference.csv"),
    ],
)
def test_dot_segments_in_input_keys_stay_literal_and_under_quarantine(
    stack: Services, job: str, key: str
) -> None:
    # GIVEN an upload whose key climbs out of its prefix with ".." segments
    saved = deploy_other(stack)
    stack.store.put(key, BASELINE)
    # WHEN its job runs
    if job == "profile_batch":
        outcome = jobs.profile_batch(stack, key, received=NOW)
    elif job == "ingest_labels":
        outcome = jobs.ingest_labels(stack, key, received=NOW)
    else:
        outcome = jobs.build_baseline(stack, key)
    # THEN the ".." is a model nobody configured: nothing is profiled, and anything written
    # is under quarantine/ (its literal key, never the path it seems to name)
    assert outcome["status"] in ("rejected", "waiting_for_definition")
    assert all(k.startswith("quarantine/") for k in new_keys(stack, saved, key))
    assert_untouched(stack, saved)


def test_s3_keys_with_dot_segments_are_literal() -> None:
    # The premise of the test above, stated on its own: moto (like S3) keeps ".." in keys.
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="literal")
        s3.put_object(Bucket="literal", Key="quarantine/inference/../../config/x.yaml", Body=b"q")
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket="literal")["Contents"]]
    assert listed == ["quarantine/inference/../../config/x.yaml"]


def s3_event(encoded_key: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "eventTime": "2026-11-24T10:15:00.000Z",
                "s3": {"object": {"key": encoded_key, "eTag": "e"}},
            }
        ]
    }


@pytest.mark.parametrize(
    ("encoded", "decoded", "outcome"),
    [
        (quote_plus("config/../other.yaml"), "config/../other.yaml", "ignored"),
        ("config%2F..%2Fother.yaml", "config/../other.yaml", "ignored"),
        (quote_plus("config/a%2Fb.yaml"), "config/a%2Fb.yaml", "rejected"),
        (quote_plus("config/%2e%2e.yaml"), "config/%2e%2e.yaml", "rejected"),
        ("config/a+b.yaml", "config/a b.yaml", "rejected"),
    ],
    ids=["dot-dot", "encoded-slashes", "double-encoded-slash", "double-encoded-dots", "plus"],
)
def test_event_keys_are_decoded_exactly_once(
    stack: Services, encoded: str, decoded: str, outcome: str
) -> None:
    # GIVEN an S3 notification (keys arrive URL-encoded) for an object whose key is a trick
    (item,) = object_events(s3_event(encoded))
    # THEN the key is decoded once: "%2F" written in a key stays "%2F", never a "/"
    assert item.key == decoded
    # AND configure treats the decoded key as it is: ignored or rejected, never stored
    saved = deploy_other(stack)
    stack.store.put(item.key, definition(decoded.removeprefix("config/")[:-5]).encode())
    assert jobs.configure(stack, item.key)["status"] == outcome
    assert_untouched(stack, saved)


@pytest.mark.parametrize("model", ["../other", "other/../other", "other/", "", "OTHER"])
def test_an_evaluation_event_naming_a_path_evaluates_nothing(stack: Services, model: str) -> None:
    saved = deploy_other(stack)
    result = jobs.evaluate_model(stack, model, now=NOW)
    assert result["status"] == "skipped"
    assert new_keys(stack, saved) == set()
