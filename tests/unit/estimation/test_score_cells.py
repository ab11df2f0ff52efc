"""Score cells: counted against a row-by-row oracle; cells of the parts merged in any order
equal the cells of the whole; a JSON round trip; bad stored cells refused naming the key."""

from __future__ import annotations

import bisect
import json
import math
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.errors import IncompatibleProfilesError, InvalidInputError
from driftline.estimation import ScoreCells
from driftline.metrics import SCORE_BINS, score_edges

EDGES = score_edges().tolist()


def cells_by_hand(scores: list[float], predicted: list[int]) -> dict[str, Any]:
    """Counts and score sums per (predicted, bin) by a loop over the rows (bin ``i`` is
    ``[edges[i], edges[i + 1])``, 1.0 in the last), and the unbinned rows by kind."""
    cells: dict[tuple[int, int], list[float]] = {}
    unbinned = {"missing": 0, "below": 0, "above": 0}
    for score, label in zip(scores, predicted, strict=True):
        if math.isnan(score):
            unbinned["missing"] += 1
        elif score < 0:
            unbinned["below"] += 1
        elif score > 1:
            unbinned["above"] += 1
        else:
            index = min(bisect.bisect_right(EDGES, score) - 1, SCORE_BINS - 1)
            cells.setdefault((int(label), index), []).append(score)
    return {"cells": cells, **unbinned}


def assert_cells_close(left: ScoreCells, right: ScoreCells) -> None:
    """Counts and unbinned rows exactly, score sums to float rounding."""
    assert np.array_equal(left.counts, right.counts)
    assert (left.missing, left.below, left.above) == (right.missing, right.below, right.above)
    np.testing.assert_allclose(left.score_sums, right.score_sums, rtol=1e-12, atol=1e-12)


scores = st.one_of(
    st.floats(0.0, 1.0),
    st.floats(-1.0, 2.0),
    st.integers(0, 100).map(lambda k: k / 100),  # ties
    st.sampled_from([0.0, 1.0, 0.5, math.nan, math.inf, -math.inf, -0.0, 1e-13, 1 - 1e-13]),
)
rows = st.lists(st.tuples(scores, st.integers(0, 1)), max_size=60)


def cells_of(rows: list[tuple[float, int]]) -> ScoreCells:
    return ScoreCells.from_arrays([s for s, _ in rows], [p for _, p in rows])


@settings(max_examples=200, deadline=None)
@given(rows)
def test_cells_count_each_row_in_its_bin_and_predicted_class(rows: list[tuple[float, int]]) -> None:
    # GIVEN rows with scores anywhere (NaN, infinities, outside [0, 1]) WHEN binned
    cells = cells_of(rows)
    expected = cells_by_hand([s for s, _ in rows], [p for _, p in rows])

    # THEN each cell holds the rows of its (predicted class, bin), and their score sum
    nonempty = {(int(c), int(b)) for c, b in zip(*np.nonzero(cells.counts), strict=True)}
    assert nonempty == set(expected["cells"])
    for (label, index), members in expected["cells"].items():
        assert cells.counts[label, index] == len(members)
        assert cells.score_sums[label, index] == pytest.approx(math.fsum(members), abs=1e-12)
    # and the scores that cannot be binned are counted by kind
    assert (cells.missing, cells.below, cells.above) == (
        expected["missing"],
        expected["below"],
        expected["above"],
    )
    assert cells.n + cells.unbinned == len(rows)


@settings(max_examples=200, deadline=None)
@given(rows, st.data())
def test_cells_of_the_parts_merged_in_any_order_equal_the_cells_of_the_whole(
    rows: list[tuple[float, int]], data: st.DataObject
) -> None:
    # GIVEN the rows split into parts at random places
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=4)))
    bounds = [0, *cuts, len(rows)]
    parts = [cells_of(rows[a:b]) for a, b in pairwise(bounds)]

    # WHEN the parts' cells are merged in a random order
    order = data.draw(st.permutations(range(len(parts))))
    merged = ScoreCells.empty()
    for index in order:
        merged = merged.merge(parts[index])

    # THEN they are the cells of all the rows at once
    assert_cells_close(merged, cells_of(rows))


@settings(max_examples=100, deadline=None)
@given(rows, rows, rows)
def test_merge_is_commutative_associative_and_has_an_identity(
    a: list[tuple[float, int]], b: list[tuple[float, int]], c: list[tuple[float, int]]
) -> None:
    ca, cb, cc = cells_of(a), cells_of(b), cells_of(c)
    assert ca.merge(cb) == cb.merge(ca)
    assert_cells_close(ca.merge(cb).merge(cc), ca.merge(cb.merge(cc)))
    assert ca.merge(ScoreCells.empty()) == ca


@settings(max_examples=100, deadline=None)
@given(rows)
def test_cells_round_trip_through_json_exactly(rows: list[tuple[float, int]]) -> None:
    cells = cells_of(rows)
    text = json.dumps(cells.to_dict(), allow_nan=False)
    assert ScoreCells.from_dict(json.loads(text)) == cells


def test_stored_cells_hold_only_the_non_empty_cells() -> None:
    # GIVEN 100,000 rows of scores rounded to 2 decimals (101 values), both classes
    rng = np.random.default_rng(0)
    scores = np.round(rng.uniform(size=100_000), 2)
    cells = ScoreCells.from_arrays(scores, scores >= 0.5)
    # WHEN stored THEN one entry per non-empty cell, a few kilobytes in all
    stored = cells.to_dict()
    assert len(stored["predicted_negative"]["counts"]) == 50
    assert len(stored["predicted_positive"]["counts"]) == 51
    assert len(json.dumps(stored)) < 6_000


def test_cells_on_different_grids_do_not_merge() -> None:
    ours = ScoreCells.empty()
    theirs = ScoreCells(ours.counts, ours.score_sums, grid="uniform1000")
    with pytest.raises(IncompatibleProfilesError):
        ours.merge(theirs)
    with pytest.raises(IncompatibleProfilesError):
        ScoreCells.from_dict({**ours.to_dict(), "grid": "uniform1000"})
    with pytest.raises(IncompatibleProfilesError):
        ScoreCells(np.zeros((2, 10), np.int64), np.zeros((2, 10)))


def test_bad_predicted_classes_are_refused_without_quoting_them() -> None:
    for predicted, reason in (
        ([0, 2], "invalid_prediction"),
        (["no", "yes"], "invalid_prediction"),
        ([1], "invalid_prediction"),
    ):
        with pytest.raises(InvalidInputError) as raised:
            ScoreCells.from_arrays([0.1, 0.9], predicted)
        assert raised.value.reason == reason
        assert "yes" not in str(raised.value)
    with pytest.raises(InvalidInputError) as raised:
        ScoreCells.from_arrays(["high", "low"], [0, 1])
    assert raised.value.reason == "invalid_scores" and "high" not in str(raised.value)


def stored() -> dict[str, Any]:
    cells = ScoreCells.from_arrays([0.1, 0.1, 0.4, 0.9, 0.95], [0, 0, 0, 1, 1])
    return cells.to_dict()


def broken(path: str, value: Any) -> dict[str, Any]:
    """The stored cells with ``path`` (``key`` or ``side.key``) set to ``value``, or
    removed when ``value`` is ``...``."""
    data = json.loads(json.dumps(stored()))
    *outer, key = path.split(".")
    target = data[outer[0]] if outer else data
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ("grid", ..., "grid"),
        ("grid", 7, "grid"),
        ("predicted_positive", ..., "predicted_positive"),
        ("predicted_negative", [1, 2], "predicted_negative"),
        ("predicted_negative.steps", ..., "predicted_negative.steps"),
        ("predicted_negative.steps", [400.0, 1200.0], "predicted_negative.steps"),
        ("predicted_negative.steps", [400, 0], "predicted_negative.steps"),  # repeated bin
        ("predicted_negative.steps", [-1, 1200], "predicted_negative.steps"),
        ("predicted_negative.steps", [400, SCORE_BINS], "predicted_negative.steps"),
        ("predicted_negative.steps", [400], "predicted_negative"),  # lengths differ
        ("predicted_positive.counts", [1, 0], "predicted_positive.counts"),
        ("predicted_positive.counts", [True, 1], "predicted_positive.counts"),
        ("predicted_positive.counts", "1,1", "predicted_positive.counts"),
        ("predicted_positive.score_sums", [0.9, 1.5], "predicted_positive.score_sums"),
        ("predicted_positive.score_sums", [0.9, -0.5], "predicted_positive.score_sums"),
        ("predicted_positive.score_sums", [0.9, math.nan], "predicted_positive.score_sums"),
        ("predicted_positive.score_sums", [0.9, None], "predicted_positive.score_sums"),
        ("missing", ..., "missing"),
        ("below", -1, "below"),
        ("above", 1.5, "above"),
        ("above", True, "above"),
    ],
)
def test_bad_stored_cells_are_refused_naming_the_key(path: str, value: Any, key: str) -> None:
    # GIVEN stored cells with one key broken or missing
    data = broken(path, value)
    # WHEN read THEN refused, naming that key
    with pytest.raises(InvalidInputError) as raised:
        ScoreCells.from_dict(data)
    assert raised.value.reason == "invalid_score_cells"
    assert raised.value.details["key"] == key
    assert f"'{key}'" in str(raised.value)


def test_the_unbroken_stored_cells_are_read() -> None:
    # the fixture of the test above is valid as it is: each failure there is its key's
    cells = ScoreCells.from_dict(stored())
    assert cells.n == 5 and cells.counts[0].sum() == 3
