"""A baseline must have the columns its monitor definition names, and a file of current data
must have rows: otherwise profiling says so, naming keys, columns and the file (never a
value), instead of profiling columns of nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from driftline.config import load_monitor_definition
from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.evaluation import profile_spec
from driftline.profile.dataset import build_reference, profile_frames

DEFINITION = load_monitor_definition(
    """
model: churn
schema:
  task: binary_classification
  prediction: churned_pred
  label: churned
  features: {tenure: numeric, plan: categorical, region: categorical}
  segments: [country]
baseline: {path: baselines/churn/training.csv}
"""
)
SPEC = profile_spec(DEFINITION)
SECRET = "customer-4711-secret"


def baseline(**columns: list[object]) -> pd.DataFrame:
    full: dict[str, list[object]] = {
        "tenure": [3, 14, 27],
        "plan": ["basic", "pro", SECRET],
        "region": ["north", SECRET, "south"],
        "country": ["fr", "de", "fr"],
        "churned_pred": [0, 1, 0],
        "churned": [0, 1, 1],
    }
    full.update(columns)
    return pd.DataFrame(full)


@pytest.mark.parametrize(
    ("dropped", "named"),
    [
        (["plan"], "plan (schema.features.plan)"),
        (["tenure"], "tenure (schema.features.tenure)"),
        (["country"], "country (schema.segments[0])"),
        (["region", "country"], "columns region (schema.features.region), country"),
    ],
)
def test_a_baseline_without_a_named_column_is_refused_naming_key_column_and_file(
    dropped: list[str], named: str
) -> None:
    # GIVEN a baseline file without a feature or segment column of the definition (today a
    # numeric one fails as "no finite value", a categorical or segment one is profiled as
    # all missing: its drift and segment checks would be skipped forever)
    frame = baseline().drop(columns=dropped)
    # WHEN its reference is built
    with pytest.raises(InvalidInputError) as caught:
        build_reference(lambda: [frame], SPEC, source="baselines/churn/training.csv")
    # THEN missing_columns, naming the keys, the columns and the file, never a value
    error = caught.value
    message = str(error)
    assert error.reason == "missing_columns"
    assert message.startswith("baselines/churn/training.csv: the baseline has no ")
    assert named in message
    assert error.details["columns"] == dropped
    assert error.details["file"] == "baselines/churn/training.csv"
    assert SECRET not in message and SECRET not in str(error.to_dict())


def test_a_column_present_in_one_chunk_only_is_not_missing() -> None:
    # GIVEN chunks (JSON Lines records) of which only the second has the region column
    first, second = baseline().drop(columns=["region"]), baseline()
    reference = build_reference(lambda: [first, second], SPEC)
    assert reference.profile.rows == 6


def test_a_categorical_column_present_but_all_missing_is_still_profiled() -> None:
    # GIVEN the region column present with no value in it: kept as all missing (as before)
    frame = baseline(region=[None, None, None])
    reference = build_reference(lambda: [frame], SPEC)
    assert reference.profile.columns["region"].missing == 3


def test_a_numeric_column_present_but_all_missing_still_fails_as_before() -> None:
    frame = baseline(tenure=[None, None, None])
    with pytest.raises(InsufficientDataError, match="baseline column 'tenure' has no finite"):
        build_reference(lambda: [frame], SPEC)


def test_the_output_columns_may_be_absent_from_a_baseline() -> None:
    # Training data often has no logged prediction: only features and segments are required
    frame = baseline().drop(columns=["churned_pred"])
    assert build_reference(lambda: [frame], SPEC).profile.rows == 3


def test_an_empty_baseline_names_its_file_once() -> None:
    with pytest.raises(InsufficientDataError) as caught:
        build_reference(lambda: [baseline().iloc[:0]], SPEC, source="ref.csv")
    assert str(caught.value) == "ref.csv: the baseline has no rows"
    assert caught.value.reason == "empty_baseline"


def test_a_file_without_rows_is_refused_when_profiled_as_one_file() -> None:
    # GIVEN a header-only file of current data (one frame of no rows)
    reference = build_reference(lambda: [baseline()], SPEC)
    empty = baseline().iloc[:0]
    # WHEN profiled as the file's rows THEN no_rows, naming it
    with pytest.raises(InvalidInputError) as caught:
        profile_frames([empty], SPEC, reference.bins, source="current.csv")
    assert caught.value.reason == "no_rows"
    assert str(caught.value).startswith("current.csv: no data rows")
    # ... while frames that are not one file's (a window, a join) may hold none
    assert profile_frames([empty], SPEC, reference.bins).rows == 0
    assert profile_frames([], SPEC, reference.bins).rows == 0
