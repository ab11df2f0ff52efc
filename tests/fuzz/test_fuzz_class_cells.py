"""Fuzzing a multiclass model's class score cells: from frames of mixed types every row is
counted exactly once (in the cells, or left out by why), and stored cells with any part
changed are read back or refused with a DriftlineError, never another exception."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pandas as pd
from fuzz_support import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from driftline.errors import DriftlineError
from driftline.estimation.columns import ClassEstimationColumns, class_score_cells_of
from driftline.estimation.multiclass import ClassScoreCells

COLUMNS = ClassEstimationColumns((0, 1, "two"), ("p0", "p1", "p2"), "yhat")
SCORE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.25, 1.0, -0.5, 2.0]),
    st.text(max_size=4),
    st.none(),
    st.booleans(),
)
CLASS = st.one_of(
    st.sampled_from([0, 1, "two", 1.0, "1", 2, "x"]), st.none(), st.lists(st.integers(), max_size=2)
)


@fuzz_settings(60)
@given(st.lists(st.tuples(SCORE, SCORE, SCORE, CLASS), max_size=40))
def test_every_row_is_counted_once(rows: list[tuple[Any, Any, Any, Any]]) -> None:
    frame = pd.DataFrame(rows, columns=["p0", "p1", "p2", "yhat"], dtype=object)
    cells = class_score_cells_of(frame, COLUMNS)
    predicted = sum(1 for row in rows if row[3] is not None and not isinstance(row[3], list))
    assert cells.n + cells.unbinned == predicted
    assert all(part.n == cells.n for part in cells.cells)


def stored_cells() -> dict[str, Any]:
    rng = np.random.default_rng(1)
    scores = rng.dirichlet([1, 1, 1], size=30)
    cells = ClassScoreCells.from_arrays(scores, scores.argmax(axis=1), classes=(0, 1, "two"))
    return json.loads(json.dumps(cells.to_dict()))


JUNK = st.one_of(
    st.none(),
    st.integers(-3, 10**6),
    st.floats(),
    st.text(max_size=3),
    st.lists(st.integers(-2, 5), max_size=3),
)


def places(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) of a stored document, depth first."""
    found: list[tuple[Any, Any]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        found.append((node, key))
        if isinstance(child, dict | list):
            found += places(child)
    return found


@fuzz_settings(80)
@given(st.lists(st.tuples(st.integers(0, 50), JUNK), min_size=1, max_size=3))
def test_stored_cells_with_a_part_changed_are_read_or_refused(
    changes: list[tuple[int, Any]],
) -> None:
    data = stored_cells()
    for pick, value in changes:
        found = places(data)
        parent, key = found[pick % len(found)]
        parent[key] = copy.deepcopy(value)
    try:
        cells = ClassScoreCells.from_dict(data)
    except DriftlineError:
        return
    # what is read is consistent: every class's cells hold the same rows, and it round-trips
    assert len({part.n for part in cells.cells}) == 1
    assert ClassScoreCells.from_dict(json.loads(json.dumps(cells.to_dict()))) == cells
