"""SliceCells (the array behind SliceErrors.cells) against a plain dict of tuples."""

from __future__ import annotations

import math
import pickle

from hypothesis import given
from hypothesis import strategies as st

from driftline.profile.performance import SliceCells, SliceErrors

KEYS = st.sampled_from([f"region={name}" for name in "abcdefgh"] + ["hour=03", "hour=21"])
FIGURES = st.tuples(
    st.integers(0, 10**6),
    st.floats(0, 1e6, allow_nan=False),
    st.floats(0, 1e6, allow_nan=False),
)
CELLS = st.dictionaries(KEYS, FIGURES, max_size=10)


def dict_merge(
    left: dict[str, tuple[int, float, float]], right: dict[str, tuple[int, float, float]]
) -> dict[str, tuple[int, float, float]]:
    merged = dict(left)
    for key, (n, s, q) in right.items():
        mine = merged.get(key, (0, 0.0, 0.0))
        merged[key] = (mine[0] + n, mine[1] + s, mine[2] + q)
    return dict(sorted(merged.items()))


@given(st.lists(CELLS, min_size=1, max_size=6))
def test_merging_cells_gives_the_sums_of_a_dict_merge_in_key_order(
    days: list[dict[str, tuple[int, float, float]]],
) -> None:
    # GIVEN days whose slices overlap, match or differ WHEN merged left to right both ways
    expected, merged = days[0], SliceCells.of(days[0])
    for day in days[1:]:
        expected, merged = dict_merge(expected, day), merged.merge(SliceCells.of(day))
    # THEN the same keys in the same order, and exactly the same figures and types
    assert list(merged.items()) == list(expected.items())
    assert all(type(n) is int for n, _, _ in merged.values())
    # AND the stored form (keys and one array) reads back to the same cells in the same order
    assert list(SliceCells.from_dict(merged.to_dict()).items()) == list(expected.items())
    assert list(pickle.loads(pickle.dumps(merged)).items()) == list(expected.items())


@given(st.lists(CELLS, min_size=2, max_size=6))
def test_merging_cells_in_reverse_order_gives_the_same_cells(
    days: list[dict[str, tuple[int, float, float]]],
) -> None:
    # GIVEN days merged left to right and right to left WHEN read
    forward = SliceCells.of(days[0])
    for day in days[1:]:
        forward = forward.merge(SliceCells.of(day))
    backward = SliceCells.of(days[-1])
    for day in reversed(days[:-1]):
        backward = backward.merge(SliceCells.of(day))
    # THEN the same keys in key order, the same counts and the same sums up to rounding
    assert list(forward) == list(backward) == sorted(forward)
    for key, (n, s, q) in forward.items():
        assert backward[key][0] == n
        assert math.isclose(backward[key][1], s, rel_tol=1e-12)
        assert math.isclose(backward[key][2], q, rel_tol=1e-12)


@given(CELLS)
def test_slice_errors_round_trip_through_dict_and_pickle(
    cells: dict[str, tuple[int, float, float]],
) -> None:
    errors = SliceErrors("error_rate", cells, (7, 1.0, 1.0))
    assert SliceErrors.from_dict(errors.to_dict()) == errors
    assert pickle.loads(pickle.dumps(errors)) == errors
    assert errors.cells == cells
