"""Dataset profiles with performance: merge(profile(a), profile(b)) == profile(a + b) for the
performance metrics and the error slices, overall and per segment; and the worst slices of a
batch whose model fails in one region at night."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.config import MonitorDefinition, load_monitor_definition
from driftline.evaluation import profile_spec
from driftline.profile.dataset import (
    Bins,
    DatasetProfile,
    build_reference,
    profile_frame,
    profile_frames,
)
from driftline.profile.performance import MIN_SLICE_ROWS, SliceErrors, hour_of_day

BINARY = load_monitor_definition(
    """
model: fraud
schema:
  id: tx
  timestamp: ts
  task: binary_classification
  prediction: flagged
  score: probability
  label: fraud
  positive_class: 1
  features: {amount: numeric, channel: categorical}
  segments: [region]
baseline: {path: baselines/fraud/training.csv}
"""
)

REGRESSION = load_monitor_definition(
    """
model: eta
schema:
  id: tx
  timestamp: ts
  task: regression
  prediction: eta
  label: minutes
  features: {amount: numeric, channel: categorical}
  segments: [region]
baseline: {path: baselines/eta/training.csv}
"""
)

#: Midnight UTC; timestamps are epoch seconds within the following week.
MIDNIGHT = 1_699_920_000
DAY = 86_400

#: Every column with the dtype a typed reader gives it, whatever values a chunk holds.
DTYPES = {
    "tx": "int64",
    "ts": "float64",
    "amount": "float64",
    "channel": "object",
    "region": "object",
    "fraud": "float64",
    "flagged": "float64",
    "probability": "float64",
    "minutes": "float64",
    "eta": "float64",
}


def typed_frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """A chunk with fixed dtypes, so concatenating chunks keeps them."""
    return pd.DataFrame(
        {
            column: pd.Series([row[column] for row in rows], dtype=DTYPES[column])
            for column in columns
        }
    )


def reference_bins(definition: MonitorDefinition) -> Bins:
    rng = np.random.default_rng(0)
    rows = 500
    baseline = pd.DataFrame(
        {
            "tx": np.arange(rows),
            "ts": MIDNIGHT + rng.integers(0, DAY, rows),
            "amount": rng.lognormal(3, 1, rows),
            "channel": rng.choice(["web", "app", "pos"], rows),
            "region": rng.choice(["eu", "us", "apac"], rows),
            "fraud": rng.integers(0, 2, rows),
            "flagged": rng.integers(0, 2, rows),
            "probability": rng.random(rows),
            "minutes": rng.gamma(3, 10, rows),
            "eta": rng.gamma(3, 10, rows),
        }
    )
    return build_reference(lambda: [baseline], profile_spec(definition)).bins


BINARY_BINS = reference_bins(BINARY)
REGRESSION_BINS = reference_bins(REGRESSION)

common_fields = {
    "tx": st.integers(0, 10**6),
    "ts": st.one_of(st.none(), st.integers(MIDNIGHT, MIDNIGHT + 7 * DAY)),
    "amount": st.one_of(st.none(), st.floats(0, 5_000, allow_nan=False)),
    "channel": st.sampled_from(["web", "app", "pos", "kiosk", None]),
    # "mars" is not a baseline region: it is pooled as __other__
    "region": st.sampled_from(["eu", "us", "apac", "mars", None]),
}
binary_rows = st.lists(
    st.fixed_dictionaries(
        {
            **common_fields,
            "fraud": st.sampled_from([0, 1, None]),
            "flagged": st.sampled_from([0, 1, None]),
            "probability": st.one_of(
                st.none(), st.floats(0, 1), st.sampled_from([0.0, 0.25, 0.5, 1.0])
            ),
        }
    ),
    max_size=60,
)
minutes = st.floats(0, 500, allow_nan=False).map(lambda value: round(value, 5))
regression_rows = st.lists(
    st.fixed_dictionaries(
        {
            **common_fields,
            # realistic minutes (a spread of 1e-170 underflows: see the r2 regression test in
            # test_segments_against_sklearn.py)
            "minutes": st.one_of(st.none(), st.just(0.0), minutes),
            "eta": st.one_of(st.none(), minutes),
        }
    ),
    max_size=60,
)
BINARY_COLUMNS = [*common_fields, "fraud", "flagged", "probability"]
REGRESSION_COLUMNS = [*common_fields, "minutes", "eta"]


def assert_metrics_equal(
    left: dict[str, float | str], right: dict[str, float | str], where: str
) -> None:
    assert left.keys() == right.keys(), where
    for name, value in left.items():
        other = right[name]
        if isinstance(value, str) or isinstance(other, str):
            assert value == other, (where, name)
        else:
            assert math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-12), (
                where,
                name,
                value,
                other,
            )


def assert_slices_equal(left: SliceErrors | None, right: SliceErrors | None) -> None:
    assert left is not None and right is not None
    assert left.metric == right.metric
    assert left.cells.keys() == right.cells.keys()
    for key in (*left.cells, "__total__"):
        mine = left.total if key == "__total__" else left.cells[key]
        theirs = right.total if key == "__total__" else right.cells[key]
        assert mine[0] == theirs[0], key
        for a, b in zip(mine[1:], theirs[1:], strict=True):
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (key, a, b)


def assert_same_performance(merged: DatasetProfile, whole: DatasetProfile) -> None:
    assert merged.rows == whole.rows
    assert merged.performance is not None and whole.performance is not None
    assert (merged.performance.rows, merged.performance.labelled) == (
        whole.performance.rows,
        whole.performance.labelled,
    )
    assert_metrics_equal(merged.performance.metrics(), whole.performance.metrics(), "overall")
    assert_slices_equal(merged.slices, whole.slices)
    assert merged.segments.keys() == whole.segments.keys()
    for key, segment in whole.segments.items():
        mine = merged.segments[key].performance
        assert mine is not None and segment.performance is not None
        assert (mine.rows, mine.labelled) == (
            segment.performance.rows,
            segment.performance.labelled,
        )
        assert_metrics_equal(mine.metrics(), segment.performance.metrics(), key)


@settings(max_examples=60, deadline=None)
@given(binary_rows, st.data())
def test_binary_profile_merge_equals_profile_of_both_chunks(
    rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    # GIVEN a chunk with missing labels, predictions, scores, segments and timestamps, cut in two
    spec = profile_spec(BINARY)
    split = data.draw(st.integers(0, len(rows)))
    a, b = typed_frame(rows[:split], BINARY_COLUMNS), typed_frame(rows[split:], BINARY_COLUMNS)
    whole = profile_frame(pd.concat([a, b], ignore_index=True), spec, BINARY_BINS)
    # WHEN each part is profiled and the profiles merged, in either order
    first, second = profile_frame(a, spec, BINARY_BINS), profile_frame(b, spec, BINARY_BINS)
    # THEN metrics and slices equal those of the whole, overall and per segment
    assert_same_performance(first.merge(second), whole)
    assert_same_performance(second.merge(first), whole)
    # AND the merged profile reads the same back from JSON
    again = DatasetProfile.from_dict(json.loads(json.dumps(first.merge(second).to_dict())))
    assert_same_performance(again, whole)


@settings(max_examples=60, deadline=None)
@given(regression_rows, st.data())
def test_regression_profile_merge_equals_profile_of_both_chunks(
    rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    spec = profile_spec(REGRESSION)
    split = data.draw(st.integers(0, len(rows)))
    a = typed_frame(rows[:split], REGRESSION_COLUMNS)
    b = typed_frame(rows[split:], REGRESSION_COLUMNS)
    whole = profile_frame(pd.concat([a, b], ignore_index=True), spec, REGRESSION_BINS)
    merged = profile_frame(a, spec, REGRESSION_BINS).merge(profile_frame(b, spec, REGRESSION_BINS))
    assert_same_performance(merged, whole)
    assert merged.slices is not None and merged.slices.metric == "mae"


@settings(max_examples=25, deadline=None)
@given(binary_rows, st.lists(st.integers(0, 60), max_size=4))
def test_profile_frames_of_any_chunking_equals_one_profile(
    rows: list[dict[str, Any]], cuts: list[int]
) -> None:
    spec = profile_spec(BINARY)
    frame = typed_frame(rows, BINARY_COLUMNS)
    bounds = sorted({0, len(rows), *(min(cut, len(rows)) for cut in cuts)})
    pieces = [frame.iloc[lo:hi] for lo, hi in itertools.pairwise(bounds)]
    assert_same_performance(
        profile_frames(pieces, spec, BINARY_BINS), profile_frame(frame, spec, BINARY_BINS)
    )


def test_slices_of_a_chunk_count_each_labelled_row_once_per_dimension() -> None:
    # GIVEN 4 labelled rows (one unlabelled) at known hours and regions
    spec = profile_spec(BINARY)
    frame = pd.DataFrame(
        {
            "tx": [1, 2, 3, 4, 5],
            "ts": [MIDNIGHT + 23 * 3600, MIDNIGHT + 3600 + 5, MIDNIGHT + 3600, None, MIDNIGHT],
            "amount": [10.0, 20.0, 30.0, 40.0, 50.0],
            "channel": ["web", "app", "web", "web", "web"],
            "region": ["eu", "eu", "us", "us", "eu"],
            "fraud": [1, 0, 1, 0, None],
            "flagged": [0, 0, 1, 1, 1],
            "probability": [0.2, 0.1, 0.9, 0.8, 0.7],
        }
    )
    slices = profile_frame(frame, spec, BINARY_BINS).slices
    assert slices is not None
    # THEN the totals are the labelled rows and their misclassifications (rows 1 and 4)
    assert slices.total == (4, 2.0, 2.0)
    cells = slices.cells
    assert cells["region=eu"] == (2, 1.0, 1.0)
    assert cells["region=us"] == (2, 1.0, 1.0)
    assert cells["hour=23"] == (1, 1.0, 1.0)
    assert cells["hour=01"] == (2, 0.0, 0.0)
    assert cells["daypart=18-24"] == (1, 1.0, 1.0)
    assert cells["daypart=00-06"] == (2, 0.0, 0.0)
    # pairs of a segment (or the hour) with another dimension, keyed "a=x & b=y"
    assert cells["region=eu & hour=23"] == (1, 1.0, 1.0)
    assert cells["region=us & daypart=00-06"] == (1, 0.0, 0.0)
    assert cells["region=us & channel=web"] == (2, 1.0, 1.0)
    assert cells["hour=01 & channel=app"] == (1, 0.0, 0.0)
    # no hour x daypart pairs (one is inside the other), no feature x feature pairs
    assert not [key for key in cells if "hour=" in key and "daypart=" in key]
    assert not [key for key in cells if "channel=" in key and "amount=" in key]
    # a row without a timestamp is in no hour slice
    assert (
        sum(n for key, (n, _, _) in cells.items() if key.startswith("hour=") and "&" not in key)
        == 3
    )


def test_hour_of_day_reads_epoch_seconds_in_an_object_column() -> None:
    # JSON Lines with mixed types give an object column; pandas would read its numbers as
    # nanoseconds (hour 00) if they were not taken as epoch seconds first
    mixed = pd.Series([1_700_000_000, "2023-11-14T23:00:00Z", None], dtype=object)
    assert hour_of_day(mixed).tolist()[:2] == ["22", "23"]


def test_hour_slices_do_not_depend_on_the_timestamp_column_dtype() -> None:
    # a chunk of missing timestamps concatenated with epoch seconds is an object column
    spec = profile_spec(BINARY)
    frame = pd.DataFrame(
        {
            "ts": [MIDNIGHT + 22 * 3600, MIDNIGHT + 23 * 3600],
            "region": ["eu", "eu"],
            "fraud": [1, 0],
            "flagged": [0, 0],
            "probability": [0.5, 0.5],
        }
    )
    as_objects = frame.assign(ts=frame["ts"].astype(object))
    numeric = profile_frame(frame, spec, BINARY_BINS).slices
    mixed = profile_frame(as_objects, spec, BINARY_BINS).slices
    assert numeric is not None and mixed is not None
    assert mixed.cells == numeric.cells


# -- the worst slices ----------------------------------------------------------------------


def night_failure(rng: np.random.Generator, rows: int, broken: str) -> pd.DataFrame:
    """Transactions over a week: 5 % misclassified, except 50 % in ``broken`` at 22-05 UTC."""
    ts = MIDNIGHT + rng.integers(0, 7 * DAY, rows)
    hour = (ts % DAY) // 3600
    region = rng.choice(["eu", "us", "apac", "latam"], rows)
    night = (hour >= 22) | (hour <= 5)
    truth = (rng.random(rows) < 0.3).astype(np.int64)
    wrong = rng.random(rows) < np.where((region == broken) & night, 0.5, 0.05)
    flagged = np.where(wrong, 1 - truth, truth)
    return pd.DataFrame(
        {
            "tx": np.arange(rows),
            "ts": ts,
            "amount": rng.lognormal(3, 1, rows),
            "channel": rng.choice(["web", "app", "pos"], rows),
            "region": region,
            "fraud": np.where(rng.random(rows) < 0.1, np.nan, truth),
            "flagged": flagged,
            "probability": np.clip(0.6 * flagged + rng.normal(0.2, 0.1, rows), 0, 1),
        }
    )


def rows_of_slice(frame: pd.DataFrame, key: str) -> pd.DataFrame | None:
    """The rows a slice key names, for keys over region, hour, daypart and channel only."""
    hour = (frame["ts"] % DAY) // 3600
    mask = np.ones(len(frame), dtype=bool)
    for part in key.split(" & "):
        name, _, value = part.partition("=")
        if name in ("region", "channel"):
            mask &= frame[name] == value
        elif name == "hour":
            mask &= hour == int(value)
        elif name == "daypart":
            start, end = (int(v) for v in value.split("-"))
            mask &= (hour >= start) & (hour < end)
        else:
            return None
    return frame[mask]


@pytest.mark.parametrize("broken", ["apac", "latam"])
def test_worst_slice_is_the_region_that_fails_at_night(broken: str) -> None:
    # GIVEN a week of transactions where one region is misclassified half the time at night
    rng = np.random.default_rng(len(broken))
    spec = profile_spec(BINARY)
    reference = build_reference(lambda: [night_failure(rng, 4_000, broken="none")], spec)
    current = night_failure(rng, 24_000, broken=broken)
    # WHEN the batch is profiled in chunks and its worst slices ranked
    profile = profile_frames(
        [current.iloc[i : i + 5_000] for i in range(0, len(current), 5_000)], spec, reference.bins
    )
    assert profile.slices is not None
    worst = profile.slices.worst()
    # THEN the first names the broken region, paired with its night hours
    first = worst[0]
    assert first.slice.startswith(f"region={broken} & ")
    assert first.slice.split(" & ")[1] in {"daypart=00-06", "daypart=18-24"} or first.slice.split(
        " & "
    )[1].startswith("hour=")
    assert first.value > 0.35
    # AND every reported slice is big enough, worse than the rest, and ranked by z
    assert len(worst) == 10
    assert all(item.rows >= MIN_SLICE_ROWS and item.gap > 0 for item in worst)
    assert [item.z for item in worst] == sorted((item.z for item in worst), reverse=True)
    # AND each figure is what the raw labelled rows say
    labelled = current[current["fraud"].notna()]
    errors = (labelled["fraud"] != labelled["flagged"]).astype(float)
    overall = errors.mean()
    variance = errors.var(ddof=0)
    checked = 0
    for item in worst:
        assert math.isclose(item.overall, overall, rel_tol=1e-12)
        rows = rows_of_slice(labelled, item.slice)
        if rows is None:
            continue
        mine, rest = errors[rows.index], errors.drop(rows.index)
        assert item.rows == len(rows), item
        assert math.isclose(item.value, mine.mean(), rel_tol=1e-12), item
        assert math.isclose(item.gap, mine.mean() - overall, rel_tol=1e-9), item
        z = (mine.mean() - rest.mean()) / math.sqrt(variance * (1 / len(mine) + 1 / len(rest)))
        assert math.isclose(item.z, z, rel_tol=1e-9), item
        checked += 1
    assert checked >= 5


def test_worst_leaves_out_small_slices_and_slices_no_worse_than_the_rest() -> None:
    slices = SliceErrors(
        "error_rate",
        {
            "region=small": (29, 29.0, 29.0),  # all wrong, but fewer than 30 rows
            "region=bad": (40, 20.0, 20.0),
            "region=good": (931, 31.0, 31.0),
        },
        (1_000, 80.0, 80.0),
    )
    assert [item.slice for item in slices.worst()] == ["region=bad"]
    assert [item.slice for item in slices.worst(min_rows=10)] == ["region=small", "region=bad"]
    assert SliceErrors("error_rate").worst() == []


def test_worst_slices_leave_out_slices_that_look_bad_by_chance() -> None:
    from driftline.profile.performance import SliceErrors

    rng = np.random.default_rng(3)
    cells = {}
    # 200 slices of 100 rows, every one with the same true error rate 0.1.
    for index in range(200):
        errors = rng.random(100) < 0.1
        cells[f"s={index}"] = (100, float(errors.sum()), float(errors.sum()))
    total = (20_000, sum(c[1] for c in cells.values()), sum(c[2] for c in cells.values()))
    noise = SliceErrors("error_rate", cells, total)
    assert noise.worst(alpha=None), "some slice is worse than average by chance"
    assert noise.worst() == []
    # One truly broken slice is still named, alone.
    cells["s=broken"] = (100, 60.0, 60.0)
    total = (20_100, total[1] + 60.0, total[2] + 60.0)
    found = SliceErrors("error_rate", cells, total).worst()
    assert [item.slice for item in found] == ["s=broken"]
