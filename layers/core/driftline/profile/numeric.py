"""Mergeable profile of a numeric column.

A :class:`NumericProfile` holds, for one column of one batch: counts (rows, missing, type
violations, infinite values), exact moments merged with Chan's parallel update, min/max,
a histogram on fixed edges taken from the baseline (with under- and overflow bins), and a
KLL quantile sketch for the statistics that need the whole distribution (KS, Wasserstein).

Merging is associative and commutative: counts and histograms exactly, moments up to
floating-point rounding. The sketch is exact while a column has at most ``k`` values; past
that its normalised rank error is about 1.65/k^0.96 (Karnin, Lang and Liberty 2016; the
bound the DataSketches library reports), which bounds the KS statistic computed from two
sketches by the sum of their errors (see docs/profiles.md for measured figures).

>>> import numpy as np
>>> edges = numeric_edges_from_values(np.arange(100.0), bins=4)
>>> a = NumericProfile.from_values(np.array([1.0, 2.0, np.nan]), edges=edges)
>>> b = NumericProfile.from_values(np.array([3.0, 500.0]), edges=edges)
>>> merged = a.merge(b)
>>> merged.count, merged.missing, merged.n, merged.mean, merged.histogram
(5, 1, 4, 126.5, (0, 3, 0, 0, 0, 1))
"""

from __future__ import annotations

import base64
import math
import operator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftline.errors import IncompatibleProfilesError, InsufficientDataError
from driftline.numbers import coerce_numbers
from driftline.profile.kll_format import kll_to_sketch
from driftline.profile.quantile_sketch import DEFAULT_SKETCH_K, QuantileSketch
from driftline.stats.base import WeightedSample

__all__ = [
    "DEFAULT_SKETCH_K",
    "EdgeSample",
    "NumericProfile",
    "numeric_edges",
    "numeric_edges_from_values",
]


@dataclass(frozen=True, eq=False)
class NumericProfile:
    """Counts, moments, histogram and quantile sketch of one numeric column.

    Attributes:
        count: rows seen, including missing and invalid values.
        missing: null / NaN values.
        type_violations: non-null values that are not numbers (e.g. ``"abc"``).
        infinite: +inf or -inf values.
        n: finite values; the moments, histogram and sketch describe these.
        mean, m2: mean and sum of squared deviations of the finite values.
        minimum, maximum: of the finite values (NaN while ``n == 0``).
        edges: histogram edges from the baseline, strictly increasing, or ``None``.
        histogram: ``len(edges) + 1`` counts: values below ``edges[0]``, then one bin per
            ``[edges[i], edges[i+1])``, then values at or above ``edges[-1]``.
        sketch: the finite values, exact while at most 100,000 (or 4,096 distinct), a
            deterministic quantile sketch above (:class:`QuantileSketch`).
    """

    count: int
    missing: int
    type_violations: int
    infinite: int
    n: int
    mean: float
    m2: float
    minimum: float
    maximum: float
    edges: tuple[float, ...] | None
    histogram: tuple[int, ...] | None
    sketch: QuantileSketch = field(repr=False)

    kind: ClassVar[Literal["numeric"]] = "numeric"

    @classmethod
    def empty(
        cls, *, edges: tuple[float, ...] | None = None, sketch_k: int = DEFAULT_SKETCH_K
    ) -> NumericProfile:
        """The profile of no rows (the identity of :meth:`merge`)."""
        histogram = (0,) * (len(edges) + 1) if edges is not None else None
        nan = float("nan")
        return cls(
            0, 0, 0, 0, 0, 0.0, 0.0, nan, nan, edges, histogram, QuantileSketch.empty(sketch_k)
        )

    @classmethod
    def from_values(
        cls,
        values: Any,
        *,
        edges: tuple[float, ...] | None = None,
        sketch_k: int = DEFAULT_SKETCH_K,
    ) -> NumericProfile:
        """Profile a column (a pandas Series, numpy array or list) in one pass.

        Values that are not numbers are counted as type violations, not dropped silently.
        """
        count, missing, violations, array = _as_float_array(values)
        finite_mask = np.isfinite(array)
        finite = array[finite_mask] if not finite_mask.all() else array
        n = int(finite.size)
        infinite = count - n - missing - violations
        # One sort serves the histogram, the extremes and the sketch (distinct values with
        # their counts, or the sketch's bottom level).
        ordered = np.sort(finite)
        sketch = QuantileSketch.from_sorted(ordered, k=sketch_k)
        if n:
            mean = float(finite.mean())
            deviations = finite - mean
            m2 = float(np.dot(deviations, deviations))
            minimum, maximum = float(ordered[0]), float(ordered[-1])
        else:
            mean, m2, minimum, maximum = 0.0, 0.0, float("nan"), float("nan")
        histogram = _histogram(ordered, edges) if edges is not None else None
        return cls(
            count,
            missing,
            violations,
            infinite,
            n,
            mean,
            m2,
            minimum,
            maximum,
            edges,
            histogram,
            sketch,
        )

    # -- merging -----------------------------------------------------------------------

    def merge(self, other: NumericProfile) -> NumericProfile:
        """Combine two profiles of the same column into the profile of both batches.

        Raises:
            IncompatibleProfilesError: the histograms have different edges.
        """
        if self.edges != other.edges or len(self.histogram or ()) != len(other.histogram or ()):
            raise IncompatibleProfilesError(
                "cannot merge numeric profiles with different histogram edges "
                f"({_describe_edges(self.edges)} vs {_describe_edges(other.edges)})"
            )
        n = self.n + other.n
        if n == 0:
            mean, m2 = 0.0, 0.0
        else:
            delta = other.mean - self.mean
            mean = self.mean + delta * other.n / n
            m2 = self.m2 + other.m2 + delta * delta * self.n * other.n / n
        histogram = None
        if self.histogram is not None and other.histogram is not None:
            histogram = tuple(map(operator.add, self.histogram, other.histogram))
        sketch = self.sketch.merge(other.sketch)
        return NumericProfile(
            self.count + other.count,
            self.missing + other.missing,
            self.type_violations + other.type_violations,
            self.infinite + other.infinite,
            n,
            mean,
            m2,
            _nan_min(self.minimum, other.minimum),
            _nan_max(self.maximum, other.maximum),
            self.edges,
            histogram,
            sketch,
        )

    # -- derived figures ---------------------------------------------------------------

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0) of the finite values; NaN if none."""
        return math.sqrt(self.m2 / self.n) if self.n else float("nan")

    @property
    def out_of_range(self) -> int:
        """Finite values outside the baseline's range (under- plus overflow bins)."""
        if self.histogram is None:
            return 0
        return self.histogram[0] + self.histogram[-1]

    @property
    def exact(self) -> bool:
        """Whether :meth:`sample` is the finite values themselves (then KS and Wasserstein
        equal scipy's on the raw data): while the column has at most 100,000 finite values,
        or at most 4,096 distinct ones, and was not read from an old KLL sketch that had
        compacted."""
        return self.sketch.exact

    def rank_error(self) -> float:
        """Bound on the error of every normalised rank of :meth:`sample`: 0 when
        :attr:`exact`; else 99 %-confident (certain for a sketch built from sorted values
        without merging), see :mod:`driftline.profile.quantile_sketch`. A KS statistic from
        two profiles is within the sum of their ``rank_error()`` of the exact one."""
        return self.sketch.rank_error()

    def sample(self) -> WeightedSample:
        """The finite values as a sorted weighted sample (distinct values with their counts
        while :attr:`exact`); the weights sum to ``n``."""
        return self.sketch.sample()

    def quantiles(self, ranks: list[float]) -> list[float]:
        """Quantiles at normalised ranks in [0, 1]: the smallest value whose inclusive rank
        reaches each (exact while :attr:`exact`)."""
        return self.sketch.quantiles(ranks)

    # -- serialisation -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON-able form (profile version 3: the sample under ``"values"``)."""
        return {
            "kind": "numeric",
            "count": self.count,
            "missing": self.missing,
            "type_violations": self.type_violations,
            "infinite": self.infinite,
            "n": self.n,
            "mean": self.mean,
            "m2": self.m2,
            "min": None if math.isnan(self.minimum) else self.minimum,
            "max": None if math.isnan(self.maximum) else self.maximum,
            "edges": list(self.edges) if self.edges is not None else None,
            "histogram": list(self.histogram) if self.histogram is not None else None,
            "values": self.sketch.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericProfile:
        """Inverse of :meth:`to_dict`; also reads version 2's KLL sketch (``"sketch"``).

        Raises:
            IncompatibleProfilesError: the stored sample or sketch is corrupt.
        """
        nan = float("nan")
        edges = data.get("edges")
        histogram = data.get("histogram")
        return cls(
            int(data["count"]),
            int(data["missing"]),
            int(data["type_violations"]),
            int(data["infinite"]),
            int(data["n"]),
            float(data["mean"]),
            float(data["m2"]),
            nan if data["min"] is None else float(data["min"]),
            nan if data["max"] is None else float(data["max"]),
            tuple(map(float, edges)) if edges is not None else None,
            tuple(map(int, histogram)) if histogram is not None else None,
            QuantileSketch.from_dict(data["values"])
            if "values" in data
            else kll_to_sketch(base64.b64decode(data["sketch"])),
        )


def numeric_edges_from_values(values: Any, *, bins: int = 10) -> tuple[float, ...]:
    """Histogram edges for exact data (tests, small baselines): see :func:`numeric_edges`."""
    profile = NumericProfile.from_values(values)
    return numeric_edges(profile, bins=bins)


def numeric_edges(
    profile: NumericProfile, *, bins: int = 10, sample: NDArray[np.float64] | None = None
) -> tuple[float, ...]:
    """Histogram edges from a baseline profile.

    ``sample`` (a deterministic sample of the column's finite values, see
    :class:`EdgeSample`) replaces the profile's own values when given (it was taken before
    the profile's sketch existed; both are deterministic).

    A column with at most ``bins`` distinct values gets one bin per value, so a change in
    the share of 0s and 1s shows. Otherwise the edges are the baseline's quantiles at
    ``1/bins, 2/bins, ...`` (deduplicated), starting at the minimum. The last edge lies just
    above the maximum, so every baseline value falls in an interior bin.

    Raises:
        InsufficientDataError: the baseline column has no finite value.
    """
    if profile.n == 0:
        raise InsufficientDataError(
            "cannot derive histogram edges: the baseline column has no finite value",
            reason="empty_baseline_column",
        )
    values = profile.sample().values if sample is None or sample.size == 0 else np.sort(sample)
    distinct = np.unique(values)
    top = float(np.nextafter(profile.maximum, np.inf))
    if distinct.size <= bins:
        interior = distinct.tolist()
    elif sample is not None and sample.size:
        ranks = np.arange(1, bins) / bins
        chosen = np.quantile(values, ranks, method="inverted_cdf")
        interior = [profile.minimum, *(float(q) for q in chosen)]
    else:
        ranks_list = [i / bins for i in range(1, bins)]
        interior = [profile.minimum, *profile.quantiles(ranks_list)]
    edges = sorted({float(e) for e in interior if e < top} | {profile.minimum, top})
    return tuple(edges)


class EdgeSample:
    """A deterministic, bounded sample of a column's finite values for baseline edges.

    Keeps the values of the ``size`` rows whose hashed row position is smallest (a
    bottom-k sample: uniform, but a function of the data and its order only). While the
    column has at most ``size`` finite values the sample is the whole column, so the edges
    are the exact quantiles; above, their rank error is about ``1 / sqrt(size)``.

    >>> sample = EdgeSample(size=3)
    >>> sample.add(np.array([5.0, np.nan, 1.0])); sample.add(np.array([3.0, 4.0]))
    >>> sample.values().size, EdgeSample(size=3).values().size
    (3, 0)
    """

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._rows = 0
        self._keys = np.zeros(0, dtype=np.uint64)
        self._values = np.zeros(0, dtype=np.float64)

    def add(self, values: NDArray[np.float64]) -> None:
        positions = np.arange(self._rows, self._rows + values.size, dtype=np.uint64)
        self._rows += int(values.size)
        finite = np.isfinite(values)
        keys = np.concatenate([self._keys, _mix(positions[finite])])
        kept = np.concatenate([self._values, values[finite]])
        if keys.size > self.size:
            smallest = np.argpartition(keys, self.size - 1)[: self.size]
            keys, kept = keys[smallest], kept[smallest]
        self._keys, self._values = keys, kept

    def values(self) -> NDArray[np.float64]:
        return self._values


def _mix(positions: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: row positions to well-spread 64-bit keys."""
    with np.errstate(over="ignore"):
        z = positions + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _as_float_array(values: Any) -> tuple[int, int, int, NDArray[np.float64]]:
    """Return (count, missing, type violations, float array with NaN for both)."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    count = int(series.size)
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        array = series.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = _count_nan(array)
        return count, missing, 0, array
    missing = int(series.isna().sum())
    coerced = coerce_numbers(series)
    array = coerced.to_numpy(dtype=np.float64, na_value=np.nan)
    violations = _count_nan(array) - missing
    return count, missing, violations, array


def _count_nan(array: NDArray[np.float64]) -> int:
    return int(np.count_nonzero(np.isnan(array)))


def _histogram(ordered: NDArray[np.float64], edges: tuple[float, ...]) -> tuple[int, ...]:
    """Counts of the sorted finite values ``ordered`` below ``edges[0]``, in each
    ``[edges[i], edges[i+1])``, and at or above ``edges[-1]``: one binary search per edge
    (one per value was four times slower, the sort included)."""
    below = np.searchsorted(ordered, np.asarray(edges), side="left")
    counts = np.diff(below, prepend=0, append=ordered.size)
    return tuple(counts.tolist())


def _nan_min(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    return a if math.isnan(b) else min(a, b)


def _nan_max(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    return a if math.isnan(b) else max(a, b)


def _describe_edges(edges: tuple[float, ...] | None) -> str:
    return "no edges" if edges is None else f"{len(edges)} edges from {edges[0]:g}"
