"""Fuzzing the profiler with what readers can hand it: every row is accounted for.

A reader's frames go straight into :func:`profile_frames` in ``profile_batch``. Generated
here: columns of mixed types (numbers, numeric text, words, booleans, lists and objects from
JSON), NaN, ±inf, integers beyond 64 bits, categories the baseline never saw, monitored
columns missing and unknown ones present. A profile (or a DriftlineError for values that
cannot be labels or scores) must come out, and every row of every monitored column must be
counted exactly once: as missing, a type violation, infinite, or a finite value in a
histogram bin (numeric); as missing or in some category bucket (categorical).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fuzz_support import CANARY, fuzz_settings, no_hang
from hypothesis import given
from hypothesis import strategies as st

from driftline.errors import DriftlineError
from driftline.profile.categorical import CategoricalProfile
from driftline.profile.dataset import DatasetProfile, ProfileSpec, build_reference, profile_frames
from driftline.profile.numeric import NumericProfile
from driftline.profile.performance import PerformanceSpec

NUMERIC = ("age", "income")
CATEGORICAL = ("plan", "region")
SPEC = ProfileSpec(
    columns={"age": "numeric", "income": "numeric", "plan": "categorical", "region": "categorical"},
    segments=("plan",),
    known=frozenset({"id"}),
)
LABELLED = ProfileSpec(
    columns={
        **SPEC.columns,
        "score": "numeric",
        "predicted": "categorical",
        "label": "categorical",
    },
    segments=("plan",),
    known=frozenset({"id"}),
    performance=PerformanceSpec(
        task="binary_classification",
        label="label",
        prediction="predicted",
        score="score",
        positive_class=1,
    ),
)


def _baseline(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    predicted = rng.integers(0, 2, rows)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "age": rng.integers(18, 90, rows),
            "income": rng.normal(3000.0, 800.0, rows),
            "plan": rng.choice(["basic", "pro", "team"], rows),
            "region": rng.choice(["north", "south"], rows),
            "score": rng.random(rows),
            "predicted": predicted,
            "label": np.where(rng.random(rows) < 0.8, predicted, 1 - predicted),
        }
    )


BINS = build_reference(lambda: [_baseline()], SPEC, bins=8).bins
LABELLED_BINS = build_reference(lambda: [_baseline()], LABELLED, bins=8).bins

CELLS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.sampled_from(["basic", "pro", "never-seen", "", "12.5", "1e400", "nan", CANARY]),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from("ab"), st.integers(), max_size=2),
    st.just(pd.NA),
)


@st.composite
def frames(draw: st.DrawFn, columns: tuple[str, ...]) -> pd.DataFrame:
    rows = draw(st.integers(0, 30))
    present = draw(st.lists(st.sampled_from(columns), unique=True))
    extra = draw(st.lists(st.sampled_from(["id", "surplus", "Age"]), unique=True))
    data: dict[str, Any] = {}
    for name in [*present, *extra]:
        style = draw(st.sampled_from(["mixed", "floats", "text"]))
        if style == "floats":
            numbers = st.floats(allow_nan=True, allow_infinity=True)
            values: list[Any] = draw(st.lists(numbers, min_size=rows, max_size=rows))
        elif style == "text":
            values = draw(st.lists(st.text(max_size=5), min_size=rows, max_size=rows))
        else:
            values = draw(st.lists(CELLS, min_size=rows, max_size=rows))
        data[name] = pd.Series(values, dtype=object) if style == "mixed" else values
    return pd.DataFrame(data, index=range(rows))


def check_numeric(profile: NumericProfile, rows: int, column: pd.Series | None) -> None:
    assert profile.count == rows
    assert profile.missing + profile.type_violations + profile.infinite + profile.n == rows
    assert profile.histogram is not None and sum(profile.histogram) == profile.n
    if column is None:
        assert profile.missing == rows
    if profile.n:
        assert math.isfinite(profile.minimum) and math.isfinite(profile.maximum)


def check_categorical(profile: CategoricalProfile, rows: int, column: pd.Series | None) -> None:
    assert profile.count == rows
    counted = sum(profile.vocabulary_counts) + sum(profile.tracked.values()) + profile.other
    assert profile.missing + counted == rows
    if column is None:
        assert profile.missing == rows
    assert CANARY not in profile.vocabulary


def check_profile(profile: DatasetProfile, frame: pd.DataFrame, spec: ProfileSpec) -> None:
    rows = len(frame)
    assert profile.rows == rows
    for name, kind in spec.columns.items():
        column = frame[name] if name in frame.columns else None
        if kind == "numeric":
            numeric = profile.columns[name]
            assert isinstance(numeric, NumericProfile)
            check_numeric(numeric, rows, column)
        else:
            categorical = profile.columns[name]
            assert isinstance(categorical, CategoricalProfile)
            check_categorical(categorical, rows, column)
    unknown = set(frame.columns) - set(spec.columns) - set(spec.known)
    assert set(profile.unknown_columns) == unknown
    if "plan" in frame.columns and rows:
        plan = profile.columns["plan"]
        in_segments = sum(s.rows for key, s in profile.segments.items() if key.startswith("plan="))
        assert in_segments == rows - plan.missing
    # and it survives being stored and read back
    again = DatasetProfile.from_dict(profile.to_dict())
    assert again.rows == profile.rows


@fuzz_settings(60)
@given(batch=st.lists(frames(NUMERIC + CATEGORICAL), min_size=1, max_size=3))
def test_every_row_of_every_monitored_column_is_counted_once(batch: list[pd.DataFrame]) -> None:
    # GIVEN frames of mixed types, NaN, ±inf, huge numbers, unknown categories, columns
    # missing or unexpected, in one or more chunks
    # WHEN profiled against the baseline's bins
    with no_hang(10, "profiling a batch"):
        profile = profile_frames(batch, SPEC, BINS)
    # THEN each chunk's rows are all counted, once, in the merged profile
    whole = pd.concat(batch, ignore_index=True) if len(batch) > 1 else batch[0]
    assert profile.rows == len(whole)
    for frame in batch:
        check_profile(profile_frames([frame], SPEC, BINS), frame, SPEC)


def holds(frame: pd.DataFrame, columns: tuple[str, ...], value: object) -> bool:
    return any(name in frame.columns and (frame[name] == value).any() for name in columns)


@fuzz_settings(50)
@given(frame=frames(NUMERIC + CATEGORICAL + ("score", "predicted", "label")))
def test_labelled_batches_are_profiled_or_rejected_with_a_reason(frame: pd.DataFrame) -> None:
    # GIVEN a batch whose label, prediction and score may hold anything, JSON arrays and
    # objects included
    # WHEN profiled with performance
    with no_hang(10, "profiling a labelled batch"):
        try:
            profile = profile_frames([frame], LABELLED, LABELLED_BINS)
        except DriftlineError as error:
            # THEN a value that cannot be a label or a score is a reason, never a crash,
            # and the reason quotes no feature value (it may list the classes it found)
            assert error.reason not in ("", DriftlineError.reason)
            if not holds(frame, ("label", "predicted"), CANARY):
                assert CANARY not in str(error)
            return
    check_profile(profile, frame, LABELLED)


@pytest.mark.parametrize("column", ["label", "predicted"])
@pytest.mark.parametrize("value", [[1], {"class": 1}], ids=["list", "object"])
def test_a_label_or_prediction_that_is_a_list_or_object_is_a_reason_not_a_crash(
    column: str, value: object
) -> None:
    # GIVEN a labelled batch where one row's label (or prediction) is a JSON array/object
    frame = pd.DataFrame({"predicted": [1, 0], "label": [0, 1], "score": [0.2, 0.7]})
    frame[column] = pd.Series([value, 1], dtype=object)
    # WHEN profiled THEN the batch is refused with a reason that names the column (so the
    # file is quarantined), not a TypeError that crashes the function
    with pytest.raises(DriftlineError) as raised:
        profile_frames([frame], LABELLED, LABELLED_BINS)
    assert raised.value.reason == "invalid_label"
    assert raised.value.details["column"] == column
    assert repr(column) in str(raised.value)
