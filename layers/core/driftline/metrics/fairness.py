"""Fairness across the groups of a sensitive column: positive rates and true positive rates.

* ``disparate_impact`` = lowest group positive rate / highest group positive rate, in
  [0, 1]; higher is better (1: every group is predicted positive equally often). The
  "four-fifths rule" of US employment practice flags values below 0.8.
* ``equal_opportunity_difference`` = highest minus lowest true positive rate (recall) across
  groups, in [0, 1]; lower is better (0: actual positives are found equally in every group).

A group's positive rate is the share of its rows predicted ``positive_class``; its true
positive rate is the share of its actual positives predicted positive, defined only for a
group with actual positives (groups without are left out). Rows whose group is missing are
left out, as pandas' ``groupby`` does. Both figures need at least two groups.

>>> y_true = [1, 0, 1, 1, 0, 1]
>>> y_pred = [1, 0, 1, 0, 0, 1]
>>> group = ["a", "a", "a", "b", "b", "b"]
>>> group_positive_rates(y_pred, group)
{'a': 0.6666666666666666, 'b': 0.3333333333333333}
>>> disparate_impact(y_pred, group), equal_opportunity_difference(y_true, y_pred, group)
(0.5, 0.5)

References: Feldman et al. (2015), "Certifying and removing disparate impact", KDD;
Hardt, Price and Srebro (2016), "Equality of opportunity in supervised learning", NeurIPS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.metrics.encoding import (
    IntArray,
    Label,
    describe_classes,
    encode_labels,
    label_sort_key,
    normalise_label,
)

#: Per group: (rows, predicted positive, actual positive, true positive).
GroupTally = tuple[int, int, int, int]


def _encode_groups(groups: ArrayLike) -> tuple[tuple[Label, ...], IntArray]:
    """Sorted group labels and each row's index into them (-1 for a missing group)."""
    series = groups if isinstance(groups, pd.Series) else pd.Series(groups)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    normalised = [normalise_label(u) for u in uniques]
    labels = tuple(sorted(set(normalised), key=label_sort_key))
    index = {label: position for position, label in enumerate(labels)}
    lookup = np.array([index[label] for label in normalised] + [-1], dtype=np.int64)
    return labels, lookup[codes]


def _is_positive(values: ArrayLike, positive_class: Label, role: str) -> NDArray[np.bool_]:
    classes, (codes,) = encode_labels((role, values))
    positive = normalise_label(positive_class)
    if len(classes) == 2 and positive not in classes:
        raise InvalidInputError(
            f"positive_class {positive!r} is not one of the {describe_classes(classes)} in "
            f"{role}; set positive_class to one of them",
            reason="unknown_positive_class",
        )
    if positive not in classes:
        return np.zeros(codes.size, dtype=bool)
    return np.asarray(codes == classes.index(positive))


def _check_length(groups: IntArray, flags: NDArray[np.bool_], role: str) -> None:
    if groups.size != flags.size:
        raise InvalidInputError(
            f"expected columns of one length; groups has {groups.size}, "
            f"{role} has {flags.size} rows",
            reason="length_mismatch",
        )


@dataclass(frozen=True)
class GroupCounts:
    """Mergeable per-group tallies: ``tallies[group] = (rows, predicted positive, actual
    positive, true positive)``.

    >>> a = GroupCounts.from_labels([1, 0], [1, 1], ["x", "y"], positive_class=1)
    >>> a.merge(GroupCounts.from_labels([1], [0], ["x"], positive_class=1)).tallies
    {'x': (2, 1, 2, 1), 'y': (1, 1, 0, 0)}
    """

    tallies: Mapping[Label, GroupTally]

    @classmethod
    def from_labels(
        cls, y_true: ArrayLike, y_pred: ArrayLike, groups: ArrayLike, *, positive_class: Label
    ) -> GroupCounts:
        """Tally one batch (vectorised); rows with a missing group are left out.

        Raises:
            InvalidInputError: missing labels, lengths differ, or ``positive_class`` is not
                one of the two classes present.
        """
        labels, codes = _encode_groups(groups)
        actual = _is_positive(y_true, positive_class, "y_true")
        predicted = _is_positive(y_pred, positive_class, "y_pred")
        _check_length(codes, actual, "y_true")
        _check_length(codes, predicted, "y_pred")
        kept = codes >= 0
        codes, actual, predicted = codes[kept], actual[kept], predicted[kept]
        width = len(labels)
        rows = np.bincount(codes, minlength=width)
        positive = np.bincount(codes[predicted], minlength=width)
        actual_positive = np.bincount(codes[actual], minlength=width)
        true_positive = np.bincount(codes[actual & predicted], minlength=width)
        tallies = {
            label: (int(rows[i]), int(positive[i]), int(actual_positive[i]), int(true_positive[i]))
            for i, label in enumerate(labels)
            if rows[i] > 0
        }
        return cls(tallies)

    def merge(self, other: GroupCounts) -> GroupCounts:
        """The tallies of both batches."""
        merged = dict(self.tallies)
        for label, tally in other.tallies.items():
            mine = merged.get(label, (0, 0, 0, 0))
            merged[label] = (
                mine[0] + tally[0],
                mine[1] + tally[1],
                mine[2] + tally[2],
                mine[3] + tally[3],
            )
        return GroupCounts(dict(sorted(merged.items(), key=lambda item: label_sort_key(item[0]))))

    def positive_rates(self) -> dict[Label, float]:
        """Per group, the share of rows predicted positive."""
        return {label: t[1] / t[0] for label, t in self.tallies.items() if t[0] > 0}

    def true_positive_rates(self) -> dict[Label, float]:
        """Per group with actual positives, the share of them predicted positive."""
        return {label: t[3] / t[2] for label, t in self.tallies.items() if t[2] > 0}

    def disparate_impact(self) -> float:
        """Lowest over highest group positive rate."""
        rates = self.positive_rates()
        _require_groups(rates, "disparate_impact", "groups")
        highest = max(rates.values())
        if highest == 0.0:
            raise InsufficientDataError(
                f"disparate_impact is undefined: none of the {len(rates)} groups has a "
                "positive prediction"
            )
        return min(rates.values()) / highest

    def equal_opportunity_difference(self) -> float:
        """Highest minus lowest group true positive rate."""
        rates = self.true_positive_rates()
        _require_groups(rates, "equal_opportunity_difference", "groups with actual positives")
        return max(rates.values()) - min(rates.values())

    def to_dict(self) -> dict[str, Any]:
        """``{"groups": [...], "tallies": [[rows, predicted, actual, true positive], ...]}``."""
        return {
            "groups": list(self.tallies),
            "tallies": [list(tally) for tally in self.tallies.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupCounts:
        """Inverse of :meth:`to_dict`."""
        tallies: dict[Label, GroupTally] = {}
        for label, tally in zip(data["groups"], data["tallies"], strict=True):
            rows, predicted, actual, true_positive = (int(value) for value in tally)
            tallies[normalise_label(label)] = (rows, predicted, actual, true_positive)
        return cls(tallies)


def _require_groups(rates: Mapping[Label, float], metric: str, what: str) -> None:
    if len(rates) < 2:
        raise InsufficientDataError(f"{metric} needs at least two {what}; got {len(rates)}")


def _positive_rate_counts(
    y_pred: ArrayLike, groups: ArrayLike, positive_class: Label
) -> GroupCounts:
    labels, codes = _encode_groups(groups)
    predicted = _is_positive(y_pred, positive_class, "y_pred")
    _check_length(codes, predicted, "y_pred")
    kept = codes >= 0
    rows = np.bincount(codes[kept], minlength=len(labels))
    positive = np.bincount(codes[kept & predicted], minlength=len(labels))
    return GroupCounts(
        {
            label: (int(rows[i]), int(positive[i]), 0, 0)
            for i, label in enumerate(labels)
            if rows[i] > 0
        }
    )


def group_positive_rates(
    y_pred: ArrayLike, groups: ArrayLike, *, positive_class: Label = 1
) -> dict[Label, float]:
    """Per group, the share of its rows predicted ``positive_class``.

    Raises:
        InvalidInputError: missing predictions, lengths differ, or ``positive_class`` is
            not one of the two classes predicted.

    >>> group_positive_rates([1, 0, 0, 0], [1, 1, 2, 2])
    {1: 0.5, 2: 0.0}
    """
    return _positive_rate_counts(y_pred, groups, positive_class).positive_rates()


def group_true_positive_rates(
    y_true: ArrayLike, y_pred: ArrayLike, groups: ArrayLike, *, positive_class: Label = 1
) -> dict[Label, float]:
    """Per group with actual positives, the share of them predicted positive (recall).

    Raises: as :func:`group_positive_rates`.

    >>> group_true_positive_rates([1, 1, 0, 1], [1, 0, 1, 1], ["a", "a", "b", "b"])
    {'a': 0.5, 'b': 1.0}
    """
    counts = GroupCounts.from_labels(y_true, y_pred, groups, positive_class=positive_class)
    return counts.true_positive_rates()


def disparate_impact(y_pred: ArrayLike, groups: ArrayLike, *, positive_class: Label = 1) -> float:
    """Lowest group positive rate over the highest, in [0, 1]; higher is better.

    Raises:
        InsufficientDataError: fewer than two groups, or no positive prediction at all.
        InvalidInputError: as :func:`group_positive_rates`.

    >>> disparate_impact([1, 1, 1, 0], ["m", "m", "f", "f"])
    0.5
    """
    return _positive_rate_counts(y_pred, groups, positive_class).disparate_impact()


def equal_opportunity_difference(
    y_true: ArrayLike, y_pred: ArrayLike, groups: ArrayLike, *, positive_class: Label = 1
) -> float:
    """Highest minus lowest group true positive rate, in [0, 1]; lower is better.

    Raises:
        InsufficientDataError: fewer than two groups with actual positives.
        InvalidInputError: as :func:`group_positive_rates`.

    >>> equal_opportunity_difference([1, 1, 1, 1], [1, 1, 1, 0], ["m", "m", "f", "f"])
    0.5
    """
    counts = GroupCounts.from_labels(y_true, y_pred, groups, positive_class=positive_class)
    return counts.equal_opportunity_difference()
