"""Planted changes of graded size, applied to a current batch of the alert-quality benchmark.

A change acts on one column of a batch drawn from the stationary population
(:mod:`alert_data`), on all its rows or only on the rows of one segment (``scope``):

* ``mean_shift`` 0.05, 0.1, 0.2, 0.3, 0.5 σ: the numeric target + size × its population
  standard deviation;
* ``variance`` ×1.2, ×1.5: the numeric target's deviations from its population mean × √size
  (its variance × size);
* ``category_share`` 2, 5, 10, 20 points: that many % of the rows, drawn from the categorical
  target's most frequent category, relabelled to its second most frequent;
* ``new_category`` 1 %, 5 % of rows: that share of rows of the categorical target set to a
  category the population never has;
* ``missing_share`` +1, +5, +20 points: that share of rows of the numeric target set missing
  (among the rows not already missing).

**Columns recorded on a grid.** A numeric target with at most :data:`GRID_VALUES` distinct
values in the population (ages in whole years, a measurement to 0.1, a code 1-8) keeps its
values on that grid: a shifted or scaled value is rounded at random to one of the two grid
values around it, up with probability equal to its distance from the lower one over the gap
(past either end, on the end gap repeated), so the change keeps its size in expectation
without creating values the column never holds. Added as continuous offsets, such changes
leave the grid, and every test sees a batch off the grid far more easily than a real change
of that size.

Rows are chosen with the batch's own seeded generator, so a change is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alert_data import SEGMENT, Population

NEW_CATEGORY = "__planted_new__"
#: A numeric target with at most this many distinct values is kept on its grid.
GRID_VALUES = 1_000

#: Every planted change of the full run: kind -> sizes.
CHANGES: dict[str, tuple[float, ...]] = {
    "mean_shift": (0.05, 0.1, 0.2, 0.3, 0.5),
    "variance": (1.2, 1.5),
    "category_share": (2, 5, 10, 20),
    "new_category": (1, 5),
    "missing_share": (1, 5, 20),
}


@dataclass(frozen=True)
class Change:
    """One planted change: its kind, its size and the rows it acts on (``scope``: ``all``,
    or a segment value)."""

    kind: str
    size: float
    scope: str = "all"

    @property
    def label(self) -> str:
        unit = {
            "mean_shift": f"{self.size:g} σ",
            "variance": f"×{self.size:g}",
            "category_share": f"{self.size:g} points",
            "new_category": f"{self.size:g} % of rows",
            "missing_share": f"+{self.size:g} points",
        }[self.kind]
        where = "" if self.scope == "all" else f" in segment {self.scope}"
        return f"{self.kind} {unit}{where}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "size": self.size, "scope": self.scope, "label": self.label}


def all_changes(scope: str = "all") -> list[Change]:
    return [Change(kind, size, scope) for kind, sizes in CHANGES.items() for size in sizes]


def apply(change: Change, batch: Any, population: Population, rng: Any) -> Any:
    """A copy of ``batch`` with ``change`` planted (a pandas DataFrame).

    Raises:
        ValueError: an unknown kind, or a category share larger than the source category's.
    """
    import numpy as np

    batch = batch.copy()
    rows = (
        np.ones(len(batch), dtype=bool)
        if change.scope == "all"
        else (batch[SEGMENT] == change.scope).to_numpy()
    )
    where = np.flatnonzero(rows)
    numeric, categorical = population.numeric_target, population.categorical_target
    if change.kind in ("mean_shift", "variance"):
        values = batch[numeric].to_numpy(dtype=float)[where]
        if change.kind == "mean_shift":
            moved = values + change.size * population.stats["std"][numeric]
        else:
            mean = float(population.frame[numeric].mean())
            moved = mean + (values - mean) * np.sqrt(change.size)
        grid = np.unique(population.frame[numeric].dropna().to_numpy(dtype=float))
        if 2 <= grid.size <= GRID_VALUES:
            moved = onto_grid(moved, grid, rng)
        batch.loc[batch.index[where], numeric] = moved
    elif change.kind == "category_share":
        shares = population.stats["shares"][categorical]
        source, target = sorted(shares, key=lambda key: -shares[key])[:2]
        moved = round(change.size / 100 * len(where))
        candidates = where[(batch[categorical].to_numpy()[where] == source)]
        if moved > len(candidates):
            raise ValueError(
                f"{change.label}: {moved} rows to move, {len(candidates)} of category "
                f"{categorical}'s most frequent in the batch"
            )
        chosen = rng.choice(candidates, size=moved, replace=False)
        batch.loc[batch.index[chosen], categorical] = target
    elif change.kind == "new_category":
        chosen = rng.choice(where, size=round(change.size / 100 * len(where)), replace=False)
        batch.loc[batch.index[chosen], categorical] = NEW_CATEGORY
    elif change.kind == "missing_share":
        present = where[batch[numeric].notna().to_numpy()[where]]
        count = min(round(change.size / 100 * len(where)), len(present))
        chosen = rng.choice(present, size=count, replace=False)
        batch.loc[batch.index[chosen], numeric] = np.nan
    else:
        raise ValueError(f"unknown change kind {change.kind!r}; allowed: {', '.join(CHANGES)}")
    return batch


def onto_grid(values: Any, grid: Any, rng: Any) -> Any:
    """``values`` rounded at random onto ``grid`` (sorted, at least 2 values), keeping each
    value in expectation: up to the next grid value with probability (value - lower) / gap.
    Past either end the end gap is repeated. Missing values stay missing.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> rounded = onto_grid(np.full(100_000, 1.25), np.array([0.0, 1.0, 2.0]), rng)
    >>> sorted(set(rounded.tolist())), round(float(rounded.mean()), 2)
    ([1.0, 2.0], 1.25)
    >>> onto_grid(np.array([3.5, -0.5, np.nan]), np.array([0.0, 1.0]), rng).tolist()[2]
    nan
    """
    import numpy as np

    values = np.asarray(values, dtype=float)
    low_step, high_step = grid[1] - grid[0], grid[-1] - grid[-2]
    index = np.clip(np.searchsorted(grid, values, side="right") - 1, 0, grid.size - 2)
    lower, upper = grid[index], grid[index + 1]
    below, above = values < grid[0], values > grid[-1]
    lower = np.where(below, grid[0] - np.ceil((grid[0] - values) / low_step) * low_step, lower)
    lower = np.where(above, grid[-1] + np.floor((values - grid[-1]) / high_step) * high_step, lower)
    upper = np.where(below, lower + low_step, np.where(above, lower + high_step, upper))
    gap = upper - lower
    up = rng.random(values.size) < np.where(gap > 0, (values - lower) / gap, 0.0)
    return np.where(np.isnan(values), np.nan, np.where(up, upper, lower))
