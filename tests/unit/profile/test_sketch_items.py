"""``kll_items`` reads a KLL sketch's retained items and weights from its bytes (how profiles
of version 2 stored a numeric column): the same pairs, in the same order, as the library's
iterator wherever that iterator is right (its weights sum to ``n``), and weights summing to
``n`` everywhere. ``kll_to_sketch`` turns them into the current sketch with KLL's bound."""

from __future__ import annotations

import numpy as np
import pytest
from datasketches import kll_doubles_sketch

from driftline.errors import IncompatibleProfilesError
from driftline.profile.kll_format import kll_items, kll_rank_error, kll_to_sketch


def sketch_items(sketch: kll_doubles_sketch) -> tuple[np.ndarray, np.ndarray]:
    items, weights, n, k = kll_items(sketch.serialize())
    assert (n, k) == (sketch.n, sketch.k)
    return items, weights


def random_sketch(rng: np.random.Generator) -> kll_doubles_sketch:
    k = int(rng.choice([8, 50, 200, 1000]))
    sketch = kll_doubles_sketch(k)
    for _ in range(int(rng.integers(0, 4))):
        part = kll_doubles_sketch(k)
        size = int(rng.choice([0, 1, 2, 10, k, 5 * k, 60_000]))
        if size:
            values = rng.normal(size=size) if rng.random() < 0.5 else rng.integers(0, 5, size)
            part.update(np.asarray(values, dtype=np.float64))
        if rng.random() < 0.3:
            part = kll_doubles_sketch.deserialize(part.serialize())
        sketch.merge(part)
    return sketch


def test_items_and_weights_equal_the_library_where_its_iterator_is_right() -> None:
    rng = np.random.default_rng(7)
    compared = wrong_in_library = 0
    for _ in range(600):
        sketch = random_sketch(rng)
        items, weights = sketch_items(sketch)
        assert items.size == sketch.num_retained
        assert weights.sum() == sketch.n
        pairs = np.array(list(sketch), dtype=np.float64).reshape(-1, 2)
        if pairs[:, 1].sum() != sketch.n:
            wrong_in_library += 1
            np.testing.assert_array_equal(pairs[:, 0], items)
            continue
        compared += 1
        np.testing.assert_array_equal(pairs[:, 0], items)
        np.testing.assert_array_equal(pairs[:, 1], weights)
    # The library's iterator is wrong for some of these (small then large merges, about 1
    # in 15 here with datasketches 5.2): the reason this reader exists. Its items still agree.
    assert compared > 400


def test_ranks_from_the_items_equal_the_library_ranks() -> None:
    rng = np.random.default_rng(5)
    sketch = kll_doubles_sketch(200)
    sketch.update(rng.random(10))
    large = kll_doubles_sketch(200)
    large.update(rng.random(100_000))
    sketch.merge(large)
    items, weights = sketch_items(sketch)
    for point in (0.01, 0.1, 0.5, 0.9, 0.999):
        assert weights[items <= point].sum() / sketch.n == pytest.approx(
            sketch.get_rank(point, inclusive=True), abs=1e-12
        )


@pytest.mark.parametrize("values", [[], [2.5], [1.0, 2.0, 2.0, 7.0]])
def test_empty_single_and_exact_sketches(values: list[float]) -> None:
    sketch = kll_doubles_sketch(200)
    if values:
        sketch.update(np.asarray(values))
    items, weights = sketch_items(sketch)
    assert sorted(items.tolist()) == sorted(values)
    assert weights.tolist() == [1.0] * len(values)


def test_an_unknown_layout_is_refused() -> None:
    with pytest.raises(IncompatibleProfilesError, match="unknown KLL layout"):
        kll_items(bytes([5, 9, 15, 0]) + bytes(40))


def test_kll_error_bound_is_the_library_figure() -> None:
    for k in (8, 200, 1000, 2000):
        assert kll_rank_error(k) == pytest.approx(
            kll_doubles_sketch(k).normalized_rank_error(True), rel=1e-12
        )


def test_an_old_sketch_that_never_compacted_becomes_an_exact_sample() -> None:
    # GIVEN a KLL sketch holding every value (fewer than k), ties included
    values = [3.0, 1.0, 2.0, 2.0, -0.0]
    sketch = kll_doubles_sketch(1000)
    sketch.update(np.asarray(values))
    # WHEN read from its bytes
    converted = kll_to_sketch(sketch.serialize())
    # THEN it is exact: the distinct values with their counts, rank error 0
    assert converted.exact and converted.rank_error() == 0.0
    sample = converted.sample()
    assert sample.values.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert sample.weights.tolist() == [1.0, 1.0, 2.0, 1.0]


def test_an_old_compacted_sketch_keeps_its_items_weights_and_bound() -> None:
    # GIVEN a KLL sketch that compacted (k = 1000, 50,000 values)
    rng = np.random.default_rng(4)
    sketch = kll_doubles_sketch(1000)
    sketch.update(rng.normal(size=50_000))
    # WHEN read from its bytes
    converted = kll_to_sketch(sketch.serialize())
    # THEN it is inexact, stands for the same n, ranks as the library does, and carries
    # the library's all-ranks bound
    assert not converted.exact
    assert converted.n == 50_000
    assert converted.rank_error() == pytest.approx(sketch.normalized_rank_error(True))
    sample = converted.sample()
    assert sample.weights.sum() == 50_000
    for point in (-2.0, -0.5, 0.0, 0.7, 2.5):
        assert sample.weights[sample.values <= point].sum() / 50_000 == pytest.approx(
            sketch.get_rank(point, inclusive=True), abs=1e-12
        )
