"""Mergeable profile of a categorical column, bounded in size and exactly associative.

Two kinds of categories are counted exactly:

* the *vocabulary* pinned by the baseline (its most frequent categories): always tracked,
  so drift statistics compare the same bins on both sides;
* of all other categories, the ``max_tracked`` ones with the smallest stable hash
  (a bottom-k sample of the distinct values). Keeping the bottom k by hash commutes with
  merging: a category in the bottom k of a union is in the bottom k of every part it occurs
  in, so its count survives every merge order exactly.

Everything else is counted in ``other`` (the count, not the names). So
``merge(profile(a), profile(b)) == profile(a + b)`` holds exactly, in any order, and the
size of a profile never exceeds ``len(vocabulary) + max_tracked`` entries.

>>> a = CategoricalProfile.from_values(["x", "y", None], vocabulary=("x",))
>>> b = CategoricalProfile.from_values(["z", "x"], vocabulary=("x",))
>>> merged = a.merge(b)
>>> merged.count, merged.missing, merged.vocabulary_counts, sorted(merged.tracked.items())
(5, 1, (2,), [('y', 1), ('z', 1)])
"""

from __future__ import annotations

import hashlib
import heapq
import operator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from driftline.errors import IncompatibleProfilesError

#: Categories tracked beyond the vocabulary, per column.
DEFAULT_MAX_TRACKED = 1000


@dataclass(frozen=True)
class CategoricalProfile:
    """Exact category counts of one column, bounded in size.

    Attributes:
        count: rows seen, including missing values.
        missing: null values.
        vocabulary: categories pinned by the baseline (``()`` when profiling a baseline).
        vocabulary_counts: counts of the vocabulary, in its order.
        tracked: counts of further categories (the bottom ``max_tracked`` by hash).
        other: values of categories neither in the vocabulary nor tracked.
        max_tracked: the bound on ``tracked``.
    """

    count: int
    missing: int
    vocabulary: tuple[str, ...]
    vocabulary_counts: tuple[int, ...]
    tracked: dict[str, int]
    other: int
    max_tracked: int = DEFAULT_MAX_TRACKED

    kind: ClassVar[Literal["categorical"]] = "categorical"

    @classmethod
    def empty(
        cls, *, vocabulary: tuple[str, ...] = (), max_tracked: int = DEFAULT_MAX_TRACKED
    ) -> CategoricalProfile:
        """The profile of no rows (the identity of :meth:`merge`)."""
        return cls(0, 0, vocabulary, (0,) * len(vocabulary), {}, 0, max_tracked)

    @classmethod
    def from_values(
        cls,
        values: Any,
        *,
        vocabulary: tuple[str, ...] = (),
        max_tracked: int = DEFAULT_MAX_TRACKED,
    ) -> CategoricalProfile:
        """Profile a column. Values are compared as text; ``1``, ``1.0`` and ``"1"`` agree."""
        series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
        counts = category_counts(series)
        missing = int(series.size - sum(counts.values()))
        return cls._from_counts(int(series.size), missing, counts, vocabulary, max_tracked)

    @classmethod
    def _from_counts(
        cls,
        count: int,
        missing: int,
        counts: dict[str, int],
        vocabulary: tuple[str, ...],
        max_tracked: int,
    ) -> CategoricalProfile:
        vocabulary_counts = tuple(counts.pop(category, 0) for category in vocabulary)
        tracked = _bottom_k(counts, max_tracked)
        other = sum(counts.values()) - sum(tracked.values())
        return cls(count, missing, vocabulary, vocabulary_counts, tracked, other, max_tracked)

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        """Combine two profiles of the same column into the profile of both batches.

        Raises:
            IncompatibleProfilesError: vocabularies or bounds differ.
        """
        if (
            self.vocabulary != other.vocabulary
            or self.max_tracked != other.max_tracked
            or len(self.vocabulary_counts) != len(other.vocabulary_counts)
        ):
            raise IncompatibleProfilesError(
                "cannot merge categorical profiles with different vocabularies or bounds "
                f"({len(self.vocabulary)} vs {len(other.vocabulary)} categories, "
                f"max_tracked {self.max_tracked} vs {other.max_tracked})"
            )
        combined = dict(self.tracked)
        for category, value in other.tracked.items():
            combined[category] = combined.get(category, 0) + value
        tracked = _bottom_k(combined, self.max_tracked)
        dropped = sum(combined.values()) - sum(tracked.values())
        return CategoricalProfile(
            self.count + other.count,
            self.missing + other.missing,
            self.vocabulary,
            tuple(map(operator.add, self.vocabulary_counts, other.vocabulary_counts)),
            tracked,
            self.other + other.other + dropped,
            self.max_tracked,
        )

    @property
    def present(self) -> int:
        """Non-missing values."""
        return self.count - self.missing

    def binned_counts(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Counts aligned with the vocabulary, plus one last bin for every other category."""
        rest = sum(self.tracked.values()) + self.other
        return np.asarray([*self.vocabulary_counts, rest], dtype=np.float64)

    def all_counts(self) -> dict[str, int]:
        """Every category counted exactly (vocabulary and tracked), by name."""
        counts = dict(zip(self.vocabulary, self.vocabulary_counts, strict=True))
        counts.update(self.tracked)
        return counts

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON-able form."""
        return {
            "kind": "categorical",
            "count": self.count,
            "missing": self.missing,
            "vocabulary": list(self.vocabulary),
            "vocabulary_counts": list(self.vocabulary_counts),
            "tracked": dict(sorted(self.tracked.items())),
            "other": self.other,
            "max_tracked": self.max_tracked,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalProfile:
        """Inverse of :meth:`to_dict`."""
        return cls(
            int(data["count"]),
            int(data["missing"]),
            tuple(map(str, data["vocabulary"])),
            tuple(map(int, data["vocabulary_counts"])),
            {str(k): int(v) for k, v in data["tracked"].items()},
            int(data["other"]),
            int(data["max_tracked"]),
        )


def category_counts(series: pd.Series) -> dict[str, int]:
    """Counts of the non-null values of ``series`` by their text form.

    Integral floats are written without the fraction (``1.0`` → ``"1"``), so an integer
    column read with and without missing values yields the same categories.
    """
    counts = series.value_counts(dropna=True, sort=False)
    if counts.empty:
        return {}
    keys = category_keys(counts.index)
    result: dict[str, int] = {}
    for key, value in zip(keys, counts.to_numpy().tolist(), strict=True):
        result[key] = result.get(key, 0) + int(value)
    return result


def category_keys(index: pd.Index) -> list[str]:
    """The text form of each value of ``index`` (non-null values), as the profile counts
    categories: an integral float without its fraction (``1.0`` → ``"1"``), a boolean in
    lower case, anything else as :func:`str` writes it.

    >>> category_keys(pd.Index([1.0, 2.5])), category_keys(pd.Index([True]))
    (['1', '2.5'], ['true'])
    """
    if pd.api.types.is_float_dtype(index.dtype):
        floats = index.to_numpy(dtype=np.float64)
        integral = np.isfinite(floats) & (floats == np.round(floats))
        return [
            str(int(value)) if whole else str(value)
            for value, whole in zip(floats.tolist(), integral.tolist(), strict=True)
        ]
    if pd.api.types.is_bool_dtype(index.dtype):
        return [str(value).lower() for value in index.tolist()]
    return [str(value) for value in index.tolist()]


def vocabulary_from_profile(profile: CategoricalProfile, *, max_categories: int) -> tuple[str, ...]:
    """The baseline's ``max_categories`` most frequent categories (ties by name)."""
    counts = profile.all_counts()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(category for category, _ in ranked[:max_categories])


def _stable_hash(category: str) -> int:
    digest = hashlib.blake2b(category.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _bottom_k(counts: dict[str, int], k: int) -> dict[str, int]:
    """The ``k`` categories with the smallest stable hash (ties broken by name)."""
    if len(counts) <= k:
        return counts
    keep = heapq.nsmallest(k, counts, key=lambda category: (_stable_hash(category), category))
    return {category: counts[category] for category in keep}
