"""SliceCells (the array behind SliceErrors.cells) against a plain dict of tuples."""

from __future__ import annotations

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


@given(CELLS)
def test_slice_errors_round_trip_through_dict_and_pickle(
    cells: dict[str, tuple[int, float, float]],
) -> None:
    errors = SliceErrors("error_rate", cells, (7, 1.0, 1.0))
    assert SliceErrors.from_dict(errors.to_dict()) == errors
    assert pickle.loads(pickle.dumps(errors)) == errors
    assert errors.cells == cells
