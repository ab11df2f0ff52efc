"""Data quality of a current profile, measured against its reference.

Per column: missing share, type-violation share (non-numbers in a numeric column), infinite
values, out-of-baseline-range share (values outside the baseline's min..max), new categories
(values the baseline never had) and their share. For the dataset: rows, rejected rows, the
volume ratio to the baseline, columns absent from the data and, for a classifier, the rows
whose score is outside [0, 1] (:mod:`driftline.profile.score_range`). Every share is a
fraction of the rows (or of the present values, for out-of-range and new-category shares),
so checks can compare it with the baseline's own figure.

Every numeric column reports the same measures, and every categorical column the same
measures (:meth:`ColumnQuality.to_dict`); a share with nothing to divide by (no rows, or no
present values) is ``None``, never 0 and never left out.

>>> from driftline.profile.dataset import ProfileSpec, build_reference, profile_frames
>>> import pandas as pd
>>> spec = ProfileSpec(columns={"x": "numeric", "c": "categorical"})
>>> reference = build_reference(lambda: [pd.DataFrame({"x": [1, 2, 3], "c": list("aab")})], spec)
>>> current = profile_frames([pd.DataFrame({"x": [2, None, 9, "oops"], "c": list("abzz")})],
...                          spec, reference.bins)
>>> measures = column_quality(reference.profile.columns["x"], current.columns["x"])
>>> measures.missing_share, measures.type_violation_share, measures.out_of_range_share
(0.25, 0.25, 0.5)
>>> column_quality(reference.profile.columns["c"], current.columns["c"]).new_categories
('z',)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from driftline.profile.categorical import CategoricalProfile
from driftline.profile.dataset import ColumnProfile, DatasetProfile
from driftline.profile.numeric import NumericProfile
from driftline.profile.score_range import OutOfRangeScores

#: New categories listed by name in a result (the share counts all of them).
MAX_LISTED_CATEGORIES = 20

#: The keys of a column's block in the result's ``data_quality``, by the column's kind.
NUMERIC_MEASURES = ("missing_share", "type_violation_share", "infinite", "out_of_range_share")
CATEGORICAL_MEASURES = (
    "missing_share",
    "new_category_share",
    "new_categories",
    "new_categories_complete",
)


@dataclass(frozen=True)
class ColumnQuality:
    """Data-quality measures of one column (shares in [0, 1]; None where undefined).

    The measures of the other kind are None too: a numeric column has no new categories,
    a categorical one no type violations.
    """

    kind: Literal["numeric", "categorical"]
    missing_share: float | None
    type_violation_share: float | None = None
    infinite: int | None = None
    out_of_range_share: float | None = None
    new_category_share: float | None = None
    new_categories: tuple[str, ...] | None = None
    new_categories_complete: bool | None = None

    def measure(self, name: str) -> float | None:
        """A measure by the name checks use (``missing_share``, ...); None where undefined."""
        value: float | None = getattr(self, name)
        return value

    def to_dict(self) -> dict[str, Any]:
        """The column's block: ``kind`` and the same keys for every column of that kind.

        >>> ColumnQuality("numeric", missing_share=None, infinite=0).to_dict()
        {'kind': 'numeric', 'missing_share': None, 'type_violation_share': None, 'infinite': 0,
         'out_of_range_share': None}
        """
        names = NUMERIC_MEASURES if self.kind == "numeric" else CATEGORICAL_MEASURES
        body: dict[str, Any] = {"kind": self.kind}
        for name in names:
            value = getattr(self, name)
            body[name] = list(value) if isinstance(value, tuple) else value
        return body


@dataclass(frozen=True)
class DatasetQuality:
    """Row-level data-quality figures of a profile (against its reference).

    ``expected`` are the monitored columns every batch should carry (features, prediction,
    score: not the label, which arrives later); ``absent_columns`` counts those missing.
    ``scores`` are the rows whose score is outside [0, 1] (None for a model without
    probability columns, and for a window that merges profiles written before they were
    counted).
    """

    rows: int
    bad_rows: int
    reference_rows: int
    absent: tuple[str, ...]
    unknown_columns: tuple[str, ...] = ()
    expected: frozenset[str] | None = None
    scores: OutOfRangeScores | None = None

    @property
    def bad_row_share(self) -> float:
        total = self.rows + self.bad_rows
        return self.bad_rows / total if total else 0.0

    @property
    def volume_ratio(self) -> float:
        return self.rows / self.reference_rows if self.reference_rows else 0.0

    @property
    def missing_expected(self) -> tuple[str, ...]:
        """The expected columns absent from the data (every absent one without ``expected``)."""
        if self.expected is None:
            return self.absent
        return tuple(name for name in self.absent if name in self.expected)

    @property
    def absent_columns(self) -> float:
        """How many expected columns are absent from the data (the measure of checks)."""
        return float(len(self.missing_expected))

    def measure(self, name: str) -> float:
        value: float = getattr(self, name)
        return value

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "bad_rows": self.bad_rows,
            "bad_row_share": self.bad_row_share,
            "volume_ratio": self.volume_ratio,
            "absent_columns": list(self.absent),
            "unknown_columns": list(self.unknown_columns),
            "out_of_range_scores": self._scores(),
        }

    def _scores(self) -> dict[str, Any] | None:
        """``{"rows", "share", "columns"}`` of the rows whose score is outside [0, 1].

        >>> DatasetQuality(2000, 0, 2000, (), scores=OutOfRangeScores(3, {"p": 3}))._scores()
        {'rows': 3, 'share': 0.0015, 'columns': {'p': 3}}
        """
        if self.scores is None:
            return None
        share = self.scores.rows / self.rows if self.rows else None
        return {"rows": self.scores.rows, "share": share, "columns": dict(self.scores.columns)}


def column_quality(reference: ColumnProfile, current: ColumnProfile) -> ColumnQuality:
    """Data-quality measures of ``current``, using ``reference`` for ranges and categories."""
    rows = current.count
    missing_share = current.missing / rows if rows else None
    if isinstance(current, NumericProfile):
        return ColumnQuality(
            "numeric",
            missing_share=missing_share,
            type_violation_share=current.type_violations / rows if rows else None,
            infinite=current.infinite,
            out_of_range_share=current.out_of_range / current.n if current.n else None,
        )
    assert isinstance(reference, CategoricalProfile)
    known = set(reference.vocabulary) | set(reference.tracked)
    new = {c: v for c, v in current.all_counts().items() if c not in known and v > 0}
    present = current.present
    ranked = sorted(new.items(), key=lambda item: (-item[1], item[0]))
    # Values in current.other are neither listed nor known: they may be new categories too.
    # Without a complete reference (reference.other > 0) "new" cannot be certain either.
    complete = current.other == 0 and reference.other == 0
    return ColumnQuality(
        "categorical",
        missing_share=missing_share,
        new_category_share=sum(new.values()) / present if present else None,
        new_categories=tuple(c for c, _ in ranked[:MAX_LISTED_CATEGORIES]),
        new_categories_complete=complete and len(ranked) <= MAX_LISTED_CATEGORIES,
    )


def dataset_quality(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    expected: frozenset[str] | None = None,
) -> DatasetQuality:
    """Rows, rejected rows, volume against the baseline and absent columns (of ``expected``,
    the columns every batch should carry, for the ``absent_columns`` measure)."""
    return DatasetQuality(
        rows=current.rows,
        bad_rows=current.bad_rows,
        reference_rows=reference.rows,
        absent=tuple(sorted(current.absent_columns)),
        unknown_columns=tuple(sorted(current.unknown_columns)),
        expected=expected,
        scores=current.out_of_range_scores,
    )
