"""A numeric profile's sample is exact and order-free up to 100,000 values, and deterministic
past it: the same values give the same bytes in any process, and KS and Wasserstein from two
exact profiles are scipy's on the raw values, ties and discrete data included."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from functools import reduce
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.profile.numeric import NumericProfile, numeric_edges_from_values
from driftline.profile.quantile_sketch import EXACT_MAX_N, QuantileSketch
from driftline.stats import ks_p_value, ks_statistic, wasserstein_distance

EDGES = numeric_edges_from_values(np.linspace(-100, 100, 1001), bins=10)
# Few distinct values (ties), any floats, both zeros, and values that are not finite.
values = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.5, -3.0, 1e300]),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    st.just(float("nan")),
    st.just(float("inf")),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(values, max_size=80), st.lists(values, max_size=80), st.randoms())
def test_merge_of_parts_is_the_profile_of_the_whole_in_any_order(
    a: list[float], b: list[float], random: object
) -> None:
    # GIVEN two batches, each profiled, and the same values shuffled
    whole = NumericProfile.from_values(a + b, edges=EDGES)
    shuffled = a + b
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    # WHEN the parts are merged either way round
    merged = NumericProfile.from_values(a, edges=EDGES).merge(
        NumericProfile.from_values(b, edges=EDGES)
    )
    swapped = NumericProfile.from_values(b, edges=EDGES).merge(
        NumericProfile.from_values(a, edges=EDGES)
    )
    # THEN the sample is exactly the whole's, to the byte, whatever the order
    assert merged.exact and merged.sketch == whole.sketch == swapped.sketch
    assert merged.to_dict()["values"] == NumericProfile.from_values(shuffled).to_dict()["values"]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(1, 20_000), min_size=1, max_size=12),
    st.integers(0, 2**32 - 1),
    st.sampled_from([3, 50, 10**6]),
)
def test_exact_merge_is_exact_up_to_the_limit_for_any_split(
    sizes: list[int], seed: int, spread: int
) -> None:
    # GIVEN up to 100,000 values (ties when the spread is small), split at random
    rng = np.random.default_rng(seed)
    data = rng.integers(0, spread, sum(sizes)).astype(float) + rng.random() * (spread > 10**5)
    data = data[:EXACT_MAX_N]
    parts = np.split(data, np.cumsum(sizes)[:-1].clip(max=data.size))
    # WHEN the parts' profiles are merged in shuffled order
    profiles = [NumericProfile.from_values(part) for part in parts]
    order = rng.permutation(len(profiles))
    merged = reduce(NumericProfile.merge, [profiles[i] for i in order])
    # THEN the result is exact and equals the profile of the whole, to the byte
    whole = NumericProfile.from_values(data)
    assert merged.exact and merged.sketch == whole.sketch


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 1.0, 1.5, 2.0, 7.0]), min_size=1, max_size=60),
    st.lists(st.sampled_from([0.0, 1.0, 1.5, 2.0, 7.0]), min_size=1, max_size=60),
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40),
)
def test_ks_and_wasserstein_of_exact_profiles_are_scipys(
    a: list[float], b: list[float], extra: list[float]
) -> None:
    # GIVEN discrete data with ties, and some continuous values on one side
    b = b + extra
    pa = reduce(NumericProfile.merge, map(NumericProfile.from_values, [a[:5], a[5:]]))
    pb = reduce(NumericProfile.merge, map(NumericProfile.from_values, [b[:7], b[7:]]))
    # WHEN KS and Wasserstein are computed from the profiles
    statistic = ks_statistic(pa.sample(), pb.sample())
    expected = scipy.stats.ks_2samp(a, b)
    # THEN they are scipy's on the raw values (KS up to the last bit: scipy's exact mode
    # rounds it to a multiple of 1 / lcm(n, m))
    assert statistic == pytest.approx(expected.statistic, rel=1e-15)
    assert ks_p_value(statistic, pa.n, pb.n) == pytest.approx(expected.pvalue, rel=1e-9)
    assert wasserstein_distance(pa.sample(), pb.sample()) == pytest.approx(
        scipy.stats.wasserstein_distance(a, b), rel=1e-9, abs=1e-12
    )


def test_ks_of_two_exact_columns_of_100000_values_is_scipys() -> None:
    # GIVEN two columns at the exact limit, rounded so that they tie, profiled in 10 parts
    rng = np.random.default_rng(8)
    a = np.round(rng.normal(size=EXACT_MAX_N), 3)
    b = np.round(rng.normal(0.01, size=EXACT_MAX_N), 3)
    pa = reduce(NumericProfile.merge, map(NumericProfile.from_values, np.array_split(a, 10)))
    pb = reduce(NumericProfile.merge, map(NumericProfile.from_values, np.array_split(b, 10)))
    assert pa.exact and pb.exact
    # THEN KS, its p-value and Wasserstein are scipy's
    statistic = ks_statistic(pa.sample(), pb.sample())
    expected = scipy.stats.ks_2samp(a, b)
    assert statistic == pytest.approx(expected.statistic, rel=1e-15)
    assert ks_p_value(statistic, pa.n, pb.n) == pytest.approx(expected.pvalue, rel=1e-9)
    assert wasserstein_distance(pa.sample(), pb.sample()) == pytest.approx(
        scipy.stats.wasserstein_distance(a, b), rel=1e-9
    )


#: A sketch-mode window: 300,000 values in 30 parts merged in order, as SHA-256 of its JSON.
WINDOW_DIGEST = """
import hashlib, json
from functools import reduce
import numpy as np
from driftline.profile.numeric import NumericProfile
data = np.random.default_rng(5).lognormal(size=300_000)
parts = [NumericProfile.from_values(part) for part in np.array_split(data, 30)]
window = reduce(NumericProfile.merge, parts)
assert not window.exact
print(hashlib.sha256(json.dumps(window.to_dict(), sort_keys=True).encode()).hexdigest())
"""


def digest_here() -> str:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(WINDOW_DIGEST, {})  # our own code, run here and in a child
    return output.getvalue().strip()


def test_the_same_values_give_the_same_bytes_twice_and_in_another_process() -> None:
    # GIVEN the same values, past the exact limit, profiled and merged in the same order
    here = digest_here()
    # WHEN it is done again, and once in a fresh Python process
    again = digest_here()
    core = Path(__file__).resolve().parents[3] / "layers" / "core"
    env = {**os.environ, "PYTHONPATH": str(core), "PYTHONHASHSEED": "123"}
    child = subprocess.run(
        [sys.executable, "-c", WINDOW_DIGEST], capture_output=True, text=True, check=True, env=env
    )
    # THEN the serialised profiles are byte-identical
    assert here == again == child.stdout.strip()


def test_a_sketch_round_trips_through_json_to_the_same_bytes() -> None:
    rng = np.random.default_rng(6)
    for data in (rng.normal(size=150_000), rng.integers(0, 9, 200_000).astype(float)):
        sketch = reduce(
            QuantileSketch.merge,
            [QuantileSketch.from_sorted(np.sort(p)) for p in np.array_split(data, 7)],
        )
        loaded = QuantileSketch.from_dict(json.loads(json.dumps(sketch.to_dict())))
        assert loaded == sketch
        assert loaded.sample().values.tolist() == sketch.sample().values.tolist()
        assert loaded.rank_error() == sketch.rank_error()
