"""The distribution of a numeric column's finite values: exact while small, a deterministic
quantile sketch above.

A :class:`QuantileSketch` is in one of two states:

* **exact** while the column has at most :data:`EXACT_MAX_N` finite values, or at most
  :data:`EXACT_MAX_DISTINCT` distinct ones (a count, a rating, a flag stays exact at any
  size): the sorted distinct values with their counts. Merging is the union of the two
  multisets, so it is exact, commutative and associative, and the result does not depend on
  how the rows were split or in which order the parts were merged.
* **sketch** past both: a compactor hierarchy in the manner of KLL (Karnin, Lang and
  Liberty 2016). Level ``h`` holds sorted items of weight ``2**h``; a level over its
  capacity (``k`` at the top, two thirds less per level below, at least 8) is *compacted*:
  every other item moves up a level with twice the weight. Which half moves (and which
  item of an odd count stays behind) is a coin that KLL draws at random; here it is a
  hash of the compacted items, their level and count, so identical inputs merged in the
  same order give identical bytes in any process. Merging is commutative (each level is a
  sorted multiset), not associative: callers merge in a canonical order (docs/profiles.md).

**Error.** One compaction at level ``h`` moves the estimated rank of any point by 0 or
``±2**h``. The sketch counts its compactions: ``worst`` (the sum of their weights) bounds
every rank error for certain; ``squares`` (the sum of the squared weights) gives, treating
the hashed coins as fair (Azuma-Hoeffding, union bound over at most ``n`` points), a bound
that holds for all points at once with probability 99 %. :meth:`rank_error` is the smaller,
normalised by ``n``; 0 while exact. A KS statistic from two samples is within the sum of
their rank errors of the exact one.

>>> a = QuantileSketch.from_sorted(np.array([1.0, 2.0, 2.0]))
>>> b = QuantileSketch.from_sorted(np.array([2.0, 5.0]))
>>> merged = a.merge(b)
>>> merged.exact, merged.n, merged.rank_error(), merged.quantiles([0.5, 1.0])
(True, 5, 0.0, [2.0, 5.0])
>>> sample = merged.sample()
>>> sample.values.tolist(), sample.weights.tolist()
([1.0, 2.0, 5.0], [1.0, 3.0, 1.0])
"""

from __future__ import annotations

import base64
import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftline.errors import IncompatibleProfilesError
from driftline.stats.base import WeightedSample

FloatArray = NDArray[np.float64]

#: A column with at most this many finite values is held exactly (KS and Wasserstein then
#: equal scipy's on the raw values).
EXACT_MAX_N = 100_000
#: ... and so is a larger column with at most this many distinct values.
EXACT_MAX_DISTINCT = 4096
#: Capacity of the sketch's top level (see docs/profiles.md for measured errors and sizes).
DEFAULT_SKETCH_K = 2000
#: The smallest capacity of a level.
MIN_LEVEL_CAPACITY = 8
#: The rank-error bound's confidence is 1 - FAILURE_PROBABILITY.
FAILURE_PROBABILITY = 0.01

_TOP_BIT = np.uint64(1 << 63)


@dataclass(frozen=True, eq=False)
class QuantileSketch:
    """Exact distinct values with counts, or a deterministic compactor sketch.

    Attributes:
        n: values summarised.
        k: capacity of the top level (used once the sketch leaves the exact state).
        values, counts: while exact, the sorted distinct values and their counts (+0.0
            stands for both zeros); empty otherwise.
        levels: in the sketch state, level ``h``'s sorted items, each of weight ``2**h``.
        imported: rank error (in values, not normalised) carried over from a KLL sketch
            read from an old profile; 0 otherwise.
        worst, squares: sum of the weights, and of their squares, of every compaction
            behind this sketch (see the module docstring).
    """

    n: int
    k: int
    values: FloatArray
    counts: NDArray[np.int64]
    levels: tuple[FloatArray, ...] = ()
    imported: float = 0.0
    worst: float = 0.0
    squares: float = 0.0

    # -- construction ------------------------------------------------------------------

    @classmethod
    def empty(cls, k: int = DEFAULT_SKETCH_K) -> QuantileSketch:
        """The sketch of no values (the identity of :meth:`merge`)."""
        return cls(0, k, np.zeros(0), np.zeros(0, dtype=np.int64))

    @classmethod
    def from_sorted(cls, ordered: FloatArray, *, k: int = DEFAULT_SKETCH_K) -> QuantileSketch:
        """The sketch of ``ordered``, sorted finite values (exact if small enough)."""
        if not ordered.size:
            return cls.empty(k)
        repeats = ordered[1:] == ordered[:-1]
        if not repeats.any():  # the usual case for a continuous column: no counting needed
            values, counts = ordered, np.ones(ordered.size, dtype=np.int64)
        else:
            starts = np.flatnonzero(np.concatenate(([True], ~repeats)))
            values = ordered[starts]
            counts = np.diff(starts, append=ordered.size).astype(np.int64)
        return cls._of_counts(values + 0.0, counts, k)  # + 0.0: -0.0 becomes +0.0

    @classmethod
    def _of_counts(cls, values: FloatArray, counts: NDArray[np.int64], k: int) -> QuantileSketch:
        """Exact if the values qualify (see the module docstring), else compacted."""
        n = int(counts.sum())
        if n <= EXACT_MAX_N or values.size <= EXACT_MAX_DISTINCT:
            return cls(n, k, values, counts)
        return _compress(_levels_of_counts(values, counts), n, k)

    @classmethod
    def from_levels(
        cls, levels: list[FloatArray], *, n: int, k: int, imported: float
    ) -> QuantileSketch:
        """A sketch state from given levels (sorted or not), e.g. an old KLL sketch's."""
        levels = [np.sort(level + 0.0) for level in levels]
        return _compress(levels, n, k, imported=imported)

    # -- state -------------------------------------------------------------------------

    @property
    def exact(self) -> bool:
        """Whether the sketch holds every value (then :meth:`sample` is the data)."""
        return not self.levels

    def rank_error(self) -> float:
        """A bound on the error of every normalised rank (0 while exact).

        The smaller of the certain bound ``worst / n`` and the 99 % one from ``squares``,
        plus what an imported KLL sketch carried (its own 99 % all-ranks bound).
        """
        if self.exact or self.n == 0:
            return 0.0
        spread = math.log(2.0 * self.n / FAILURE_PROBABILITY)
        likely = math.sqrt(2.0 * self.squares * spread)
        return min(1.0, (self.imported + min(self.worst, likely)) / self.n)

    @property
    def retained(self) -> int:
        """Values (distinct, while exact) or items held."""
        return int(self.values.size) + sum(int(level.size) for level in self.levels)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantileSketch):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    # -- merging -----------------------------------------------------------------------

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        """The sketch of both sketches' values: exact while the union qualifies."""
        k = max(self.k, other.k)
        if not other.n or not self.n:
            return _with_capacity(self if self.n else other, k)
        n = self.n + other.n
        distinct = max(self.values.size, other.values.size)
        if self.exact and other.exact and (n <= EXACT_MAX_N or distinct <= EXACT_MAX_DISTINCT):
            return QuantileSketch._of_counts(*_union(self, other), k)
        mine, theirs = self._as_levels(), other._as_levels()
        height = max(len(mine), len(theirs))
        levels = []
        for h in range(height):
            parts = [side[h] for side in (mine, theirs) if h < len(side) and side[h].size]
            levels.append(_merge_sorted(parts) if len(parts) > 1 else _first(parts))
        return _compress(
            levels,
            n,
            k,
            imported=self.imported + other.imported,
            worst=self.worst + other.worst,
            squares=self.squares + other.squares,
        )

    def _as_levels(self) -> list[FloatArray]:
        if self.levels:
            return list(self.levels)
        return _levels_of_counts(self.values, self.counts)

    # -- reading -----------------------------------------------------------------------

    def sample(self) -> WeightedSample:
        """Sorted distinct values with their weights (the counts while exact); the weights
        sum to ``n``."""
        if not self.levels:
            return WeightedSample(self.values, self.counts.astype(np.float64), self.n)
        items = np.concatenate(self.levels)
        weights = np.repeat(np.ldexp(1.0, np.arange(len(self.levels))), _sizes(self.levels))
        order = np.argsort(items, kind="stable")
        items, weights = items[order], weights[order]
        starts = np.flatnonzero(np.concatenate(([True], items[1:] != items[:-1])))
        return WeightedSample(items[starts], np.add.reduceat(weights, starts), self.n)

    def quantiles(self, ranks: list[float]) -> list[float]:
        """The smallest value whose normalised inclusive rank reaches each of ``ranks``."""
        if self.n == 0:
            return [float("nan")] * len(ranks)
        sample = self.sample()
        cumulative = np.cumsum(sample.weights)
        at = np.searchsorted(cumulative, np.asarray(ranks) * self.n, side="left")
        return [float(v) for v in sample.values[np.minimum(at, sample.values.size - 1)]]

    # -- serialisation -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON form: the values as base64 of zlib-compressed byte planes."""
        if self.exact:
            return {
                "exact": True,
                "n": self.n,
                "k": self.k,
                "values": _pack_sorted(self.values),
                "counts": _pack_counts(self.counts),
            }
        return {
            "exact": False,
            "n": self.n,
            "k": self.k,
            "sizes": _sizes(self.levels).tolist(),
            "values": _pack_sorted(np.concatenate(self.levels)),
            "error": [self.imported, self.worst, self.squares],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuantileSketch:
        """Inverse of :meth:`to_dict`.

        Raises:
            IncompatibleProfilesError: ``corrupt_sketch``, the figures do not add up.
        """
        n, k = int(data["n"]), int(data["k"])
        values = _unpack_sorted(data["values"])
        if data["exact"]:
            counts = _unpack_counts(data["counts"], values.size)
            if (
                int(counts.sum()) != n
                or (counts < 1).any()
                or (values[1:] <= values[:-1]).any()
                or not np.isfinite(values).all()
            ):
                raise _corrupt("exact values not increasing, or counts not adding up to n")
            return cls(n, k, values, counts)
        sizes = [int(size) for size in data["sizes"]]
        if sum(sizes) != values.size or sum(s << h for h, s in enumerate(sizes)) != n:
            raise _corrupt("level sizes not adding up to n")
        levels = tuple(np.split(values, np.cumsum(sizes)[:-1]))
        if any((level[1:] < level[:-1]).any() for level in levels):
            raise _corrupt("a level is not sorted")
        imported, worst, squares = (float(e) for e in data["error"])
        return cls(n, k, np.zeros(0), np.zeros(0, dtype=np.int64), levels, imported, worst, squares)


# -- compaction ----------------------------------------------------------------------------


def _union(left: QuantileSketch, right: QuantileSketch) -> tuple[FloatArray, NDArray[np.int64]]:
    """Union of two exact samples: the larger one's arrays with the smaller one's counts
    added where a value is shared and its new values inserted in place (linear time)."""
    large, small = (left, right) if left.values.size >= right.values.size else (right, left)
    at = np.searchsorted(large.values, small.values)
    shared = at < large.values.size
    shared[shared] = large.values[at[shared]] == small.values[shared]
    counts = large.counts.copy()
    counts[at[shared]] += small.counts[shared]  # at[shared] has no repeats: values distinct
    new = ~shared
    return (
        np.insert(large.values, at[new], small.values[new]),
        np.insert(counts, at[new], small.counts[new]),
    )


def _levels_of_counts(values: FloatArray, counts: NDArray[np.int64]) -> list[FloatArray]:
    """Each value on the levels of its count's binary digits: exact, with no compaction."""
    if not counts.size:
        return []
    height = int(counts.max()).bit_length()
    if height == 1:
        return [values]
    return [values[(counts >> h) & 1 == 1] for h in range(height)]


def _capacities(height: int, k: int) -> list[int]:
    return [
        max(MIN_LEVEL_CAPACITY, math.ceil(k * (2 / 3) ** (height - 1 - h))) for h in range(height)
    ]


def _compress(
    levels: list[FloatArray],
    n: int,
    k: int,
    *,
    imported: float = 0.0,
    worst: float = 0.0,
    squares: float = 0.0,
) -> QuantileSketch:
    """Compact the lowest overfull level until the items fit the levels' capacities."""
    levels = [level for level in levels]
    while levels and not levels[-1].size:
        levels.pop()
    while True:
        capacities = _capacities(len(levels), k)
        if sum(level.size for level in levels) <= sum(capacities):
            break
        h = next(h for h, level in enumerate(levels) if level.size > capacities[h])
        if h + 1 == len(levels):
            levels.append(np.zeros(0))
        kept, promoted = _compact(levels[h], h)
        levels[h] = kept
        upper = levels[h + 1]
        levels[h + 1] = _merge_sorted([upper, promoted]) if upper.size else promoted
        weight = float(2**h)
        worst += weight
        squares += weight * weight
    sketch_levels = tuple(levels) if levels else (np.zeros(0),)
    return QuantileSketch(
        n, k, np.zeros(0), np.zeros(0, dtype=np.int64), sketch_levels, imported, worst, squares
    )


def _compact(items: FloatArray, level: int) -> tuple[FloatArray, FloatArray]:
    """Split a sorted level into the item that stays (if its count is odd) and every other
    item of the rest, which moves up. Both choices come from a hash of the items."""
    coin = _coin(items, level)
    if items.size % 2:
        stay = 0 if coin & 2 else items.size - 1
        kept = items[stay : stay + 1]
        rest = np.delete(items, stay)
    else:
        kept, rest = items[:0], items
    return kept.copy(), rest[coin & 1 :: 2].copy()


def _coin(items: FloatArray, level: int) -> int:
    """Two well-mixed bits from the items' bit patterns, their count and their level."""
    digest = int(np.bitwise_xor.reduce(items.view(np.uint64))) if items.size else 0
    state = digest ^ (items.size * 0x9E3779B97F4A7C15) ^ (level << 56)
    return _splitmix(state & 0xFFFFFFFFFFFFFFFF) >> 62


def _splitmix(state: int) -> int:
    """SplitMix64's finaliser on one 64-bit integer."""
    mask = 0xFFFFFFFFFFFFFFFF
    z = (state + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def _sizes(levels: tuple[FloatArray, ...] | list[FloatArray]) -> NDArray[np.int64]:
    return np.array([level.size for level in levels], dtype=np.int64)


def _with_capacity(sketch: QuantileSketch, k: int) -> QuantileSketch:
    """The sketch itself, with top-level capacity ``k`` (a larger one: nothing to compact)."""
    if sketch.k == k:
        return sketch
    return QuantileSketch(
        sketch.n,
        k,
        sketch.values,
        sketch.counts,
        sketch.levels,
        sketch.imported,
        sketch.worst,
        sketch.squares,
    )


def _merge_sorted(parts: list[FloatArray]) -> FloatArray:
    """Sorted runs into one (timsort merges runs in linear time)."""
    return np.sort(np.concatenate(parts), kind="stable")


def _first(parts: list[FloatArray]) -> FloatArray:
    return parts[0] if parts else np.zeros(0)


# -- packing -------------------------------------------------------------------------------


def _pack_sorted(values: FloatArray) -> str:
    """Sorted runs of float64 as order-preserving integer keys, differenced, split into
    byte planes (all first bytes, then all second bytes, ...) and zlib-compressed: sorted
    values differ in their low bytes only, so the high planes compress to almost nothing."""
    bits = np.ascontiguousarray(values, dtype="<f8").view("<u8")
    keys = np.where(bits & _TOP_BIT, ~bits, bits | _TOP_BIT)
    steps = np.diff(keys, prepend=np.uint64(0))  # wraps around between runs: undone exactly
    return _pack_planes(steps)


def _unpack_sorted(text: str) -> FloatArray:
    keys = np.cumsum(_unpack_planes(text, None), dtype=np.uint64)
    bits = np.where(keys & _TOP_BIT, keys ^ _TOP_BIT, ~keys)
    return bits.astype("<u8").view("<f8").astype(np.float64)


def _pack_counts(counts: NDArray[np.int64]) -> str:
    return _pack_planes(counts.astype("<u8"))


def _unpack_counts(text: str, size: int) -> NDArray[np.int64]:
    return _unpack_planes(text, size).astype(np.int64)


def _pack_planes(words: NDArray[np.uint64]) -> str:
    planes = np.ascontiguousarray(words, dtype="<u8").view(np.uint8).reshape(-1, 8).T
    return base64.b64encode(zlib.compress(planes.tobytes(), 6)).decode("ascii")


def _unpack_planes(text: str, size: int | None) -> NDArray[np.uint64]:
    try:
        raw = zlib.decompress(base64.b64decode(text))
    except (ValueError, zlib.error) as exc:
        raise _corrupt("values are not base64 of zlib data") from exc
    if len(raw) % 8 or (size is not None and len(raw) != 8 * size):
        raise _corrupt(f"{len(raw)} bytes of values, expected a multiple of 8 (or {size} words)")
    planes = np.frombuffer(raw, dtype=np.uint8).reshape(8, -1)
    return np.ascontiguousarray(planes.T).view("<u8").reshape(-1).astype(np.uint64)


def _corrupt(what: str) -> IncompatibleProfilesError:
    return IncompatibleProfilesError(
        f"corrupt numeric sketch in a stored profile: {what}", reason="corrupt_sketch"
    )
