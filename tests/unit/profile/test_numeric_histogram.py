"""The numeric histogram counts each finite value in the bin its comparisons with the edges
say: below the first edge, ``[edges[i], edges[i+1])``, at or above the last edge."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.profile.numeric import NumericProfile

values = st.lists(
    st.one_of(
        st.integers(-6, 6).map(float),  # ties with the edges
        st.floats(-10, 10, allow_nan=False),
        st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    ),
    max_size=200,
)
edges = st.lists(st.integers(-6, 6).map(float), min_size=1, max_size=8, unique=True).map(
    lambda items: tuple(sorted(items))
)


@settings(max_examples=300, deadline=None)
@given(values, edges)
def test_histogram_counts_equal_the_comparisons(data: list[float], bin_edges: tuple) -> None:
    array = np.asarray(data, dtype=np.float64)
    finite = array[np.isfinite(array)]
    expected = [int((finite < bin_edges[0]).sum())]
    expected += [
        int(((finite >= low) & (finite < high)).sum()) for low, high in pairwise(bin_edges)
    ]
    expected.append(int((finite >= bin_edges[-1]).sum()))

    profile = NumericProfile.from_values(array, edges=bin_edges)

    assert profile.histogram == tuple(expected)
    assert all(isinstance(count, int) for count in profile.histogram)
