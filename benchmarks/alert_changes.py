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

Rows are chosen with the batch's own seeded generator, so a change is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alert_data import SEGMENT, Population

NEW_CATEGORY = "__planted_new__"

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
    if change.kind == "mean_shift":
        shift = change.size * population.stats["std"][numeric]
        batch.loc[batch.index[where], numeric] = batch[numeric].to_numpy()[where] + shift
    elif change.kind == "variance":
        mean = float(population.frame[numeric].mean())
        values = batch[numeric].to_numpy()[where]
        batch.loc[batch.index[where], numeric] = mean + (values - mean) * np.sqrt(change.size)
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
