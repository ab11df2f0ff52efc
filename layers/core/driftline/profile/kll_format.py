"""Reader of the KLL sketches that numeric profiles held up to profile version 2.

Profiles of version 2 stored each numeric column's finite values as an Apache DataSketches
``kll_doubles_sketch`` (k = 1000), base64 of its compact serialisation. This module reads
those bytes with ``np.frombuffer`` alone (the library is not needed to load an old profile)
and turns them into a :class:`~driftline.profile.quantile_sketch.QuantileSketch`: exact if
the old sketch still held every value, else inexact with KLL's own 99 % bound on the error
of every rank.

>>> empty = bytes([2, 1, 15, 1, 232, 3, 8, 0])
>>> kll_to_sketch(empty).n
0
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from driftline.errors import IncompatibleProfilesError
from driftline.profile.quantile_sketch import DEFAULT_SKETCH_K, QuantileSketch

#: DataSketches' compact serialisation of ``kll_doubles_sketch``: family 15, serial
#: versions 1 (several items, a 20-byte header) and 2 (one item, an 8-byte header).
_KLL_FAMILY = 15
_KLL_EMPTY, _KLL_SINGLE_ITEM = 1, 4
_KLL_HEADER_BYTES = 20


def kll_items(data: bytes) -> tuple[NDArray[np.float64], NDArray[np.float64], int, int]:
    """A serialised KLL sketch's retained items, their weights (``2**level``, in storage
    order), ``n`` and ``k``.

    Read with one ``np.frombuffer``: iterating the sketch in Python costs ~100× more, and
    the library's iterator reports weight 1 for every item of a sketch that began small
    (exact) and then absorbed a large one (datasketches 5.2). The weights are checked to
    sum to ``n``.

    Raises:
        IncompatibleProfilesError: the bytes are not a layout this reader knows.
    """
    if len(data) < 8 or data[2] != _KLL_FAMILY:
        raise IncompatibleProfilesError("not a KLL sketch of doubles (unexpected family byte)")
    flags = data[3]
    k = int.from_bytes(data[4:6], "little")
    if flags & _KLL_EMPTY:
        empty = np.empty(0, dtype=np.float64)
        return empty, empty, 0, k
    if flags & _KLL_SINGLE_ITEM:
        items = np.frombuffer(data, dtype="<f8", count=1, offset=8).astype(np.float64)
        return items, np.ones(1, dtype=np.float64), 1, k
    levels = data[18] if len(data) > 18 else 0
    start = _KLL_HEADER_BYTES + 4 * levels + 16  # level offsets, then min and max
    if data[1] != 1 or levels == 0 or len(data) < start or (len(data) - start) % 8:
        raise IncompatibleProfilesError(
            f"unknown KLL layout (serial version {data[1]}, {levels} levels)"
        )
    n = int.from_bytes(data[8:16], "little")
    offsets = np.frombuffer(data, dtype="<u4", count=levels, offset=_KLL_HEADER_BYTES)
    items = np.frombuffer(data, dtype="<f8", offset=start).astype(np.float64)
    ends = np.append(offsets[1:].astype(np.int64), int(offsets[0]) + items.size)
    sizes = ends - offsets.astype(np.int64)
    if (sizes < 0).any():
        raise IncompatibleProfilesError("corrupt KLL sketch: level offsets decrease")
    weights = np.repeat(np.ldexp(1.0, np.arange(levels)), sizes)
    if int(weights.sum()) != n:
        raise IncompatibleProfilesError(
            f"corrupt KLL sketch: weights sum to {int(weights.sum())}, n is {n}"
        )
    return items, weights, n, k


def kll_rank_error(k: int) -> float:
    """KLL's 99 %-confidence bound on the error of every normalised rank at once (the
    figure DataSketches gives as ``normalized_rank_error(True)``; 0.0036 at k = 1000)."""
    return float(2.446 / k**0.9433)


def kll_to_sketch(data: bytes, *, k: int | None = None) -> QuantileSketch:
    """The :class:`QuantileSketch` of a serialised KLL sketch: exact while every weight is 1
    (the old sketch had not compacted), else its levels with KLL's error bound carried over.

    ``k`` is the capacity of the new sketch's top level (default: the module's default).
    """
    items, weights, n, kll_k = kll_items(data)
    k = DEFAULT_SKETCH_K if k is None else k
    if not (weights > 1).any():
        return QuantileSketch.from_sorted(np.sort(items), k=k)
    exponents = np.frexp(weights)[1] - 1  # weights are powers of two
    levels = [items[exponents == h] for h in range(int(exponents.max()) + 1)]
    return QuantileSketch.from_levels(
        levels,
        n=n,
        k=k,
        imported=kll_rank_error(kll_k) * n,
    )
