"""Reference-vs-current distributions of one column, read from two profiles.

A numeric column is shown on the baseline's histogram edges (the bins its drift statistics
compare), with the under- and overflow bins when either side has values there. A
categorical column is shown as its most different categories and one bar for all the rest.
Shares are of the non-missing values of each side, so the two sides compare at any size.

>>> from driftline.profile.categorical import CategoricalProfile
>>> reference = CategoricalProfile.from_values(["a", "a", "b"], vocabulary=("a", "b"))
>>> current = CategoricalProfile.from_values(["a", "c", "c", "c"], vocabulary=("a", "b"))
>>> [(bar.label, round(bar.reference, 2), round(bar.current, 2), bar.new)
...  for bar in column_bars(reference, current)]
[('c', 0.0, 0.75, True), ('a', 0.67, 0.25, False), ('b', 0.33, 0.0, False)]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from driftline.profile.categorical import CategoricalProfile
from driftline.profile.numeric import NumericProfile

#: Categories shown by name; the others share one bar.
TOP_CATEGORIES = 8


@dataclass(frozen=True)
class Bar:
    """One bin or category: its label and its share of each side's values.

    Attributes:
        label: the bin (``[10, 20)``, ``< 10``, ``≥ 90``) or the category.
        reference: share of the baseline's values, in [0, 1].
        current: share of the current values, in [0, 1].
        new: a category the baseline never had (exactly known: counted by name or the
            baseline has no uncounted categories).
        outside: the under- or overflow bin of a numeric column (outside the baseline's
            range).
        rest: the bar of all categories not shown by name.
    """

    label: str
    reference: float
    current: float
    new: bool = False
    outside: bool = False
    rest: bool = False


@dataclass(frozen=True)
class Distribution:
    """The bars of one column, its kind and the number of values on each side."""

    kind: str
    bars: tuple[Bar, ...]
    reference_values: int
    current_values: int


def column_bars(
    reference: NumericProfile | CategoricalProfile,
    current: NumericProfile | CategoricalProfile,
    *,
    top: int = TOP_CATEGORIES,
) -> tuple[Bar, ...]:
    """The bars of a column from its reference and current profiles.

    Args:
        reference: the column's profile in the baseline.
        current: the column's profile in the evaluated data (same kind and bins).
        top: categories shown by name (categorical columns).

    Returns:
        The bars, empty when the profiles cannot be compared (different kinds, or numeric
        profiles without the same histogram edges).
    """
    distribution = column_distribution(reference, current, top=top)
    return () if distribution is None else distribution.bars


def column_distribution(
    reference: NumericProfile | CategoricalProfile,
    current: NumericProfile | CategoricalProfile,
    *,
    top: int = TOP_CATEGORIES,
) -> Distribution | None:
    """Like :func:`column_bars`, with the kind and value counts (None: not comparable)."""
    if isinstance(reference, NumericProfile) and isinstance(current, NumericProfile):
        return _numeric(reference, current)
    if isinstance(reference, CategoricalProfile) and isinstance(current, CategoricalProfile):
        return _categorical(reference, current, top)
    return None


def _numeric(reference: NumericProfile, current: NumericProfile) -> Distribution | None:
    edges = reference.edges
    if (
        edges is None
        or not edges
        or edges != current.edges
        or reference.histogram is None
        or current.histogram is None
    ):
        return None
    labels = [f"< {_edge(edges[0])}"]
    labels += [f"[{_edge(low)}, {_edge(high)})" for low, high in itertools.pairwise(edges)]
    labels.append(f"≥ {_edge(edges[-1])}")
    reference_shares = _shares(reference.histogram)
    current_shares = _shares(current.histogram)
    last = len(labels) - 1
    bars = tuple(
        Bar(label, ref, cur, outside=index in (0, last))
        for index, (label, ref, cur) in enumerate(
            zip(labels, reference_shares, current_shares, strict=True)
        )
        if index not in (0, last) or ref > 0 or cur > 0
    )
    return Distribution("numeric", bars, sum(reference.histogram), sum(current.histogram))


def _categorical(
    reference: CategoricalProfile, current: CategoricalProfile, top: int
) -> Distribution:
    reference_counts = reference.all_counts()
    current_counts = current.all_counts()
    reference_total = reference.present
    current_total = current.present

    def share(count: int, total: int) -> float:
        return count / total if total else 0.0

    names = sorted(set(reference_counts) | set(current_counts))
    ranked = sorted(
        names,
        key=lambda name: (
            -max(
                share(reference_counts.get(name, 0), reference_total),
                share(current_counts.get(name, 0), current_total),
            ),
            name,
        ),
    )
    shown = [
        name for name in ranked[:top] if reference_counts.get(name) or current_counts.get(name)
    ]
    bars = [
        Bar(
            name,
            share(reference_counts.get(name, 0), reference_total),
            share(current_counts.get(name, 0), current_total),
            new=reference.other == 0 and not reference_counts.get(name),
        )
        for name in shown
    ]
    rest_reference = reference_total - sum(reference_counts.get(name, 0) for name in shown)
    rest_current = current_total - sum(current_counts.get(name, 0) for name in shown)
    if rest_reference or rest_current:
        bars.append(
            Bar(
                "all other categories",
                share(rest_reference, reference_total),
                share(rest_current, current_total),
                rest=True,
            )
        )
    return Distribution("categorical", tuple(bars), reference_total, current_total)


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


def _edge(value: float) -> str:
    return f"{value:.4g}"
