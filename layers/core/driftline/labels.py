"""Late labels: ground truth that arrives after the predictions, joined to them by id.

Labels land in their own files (flat CSV/JSON Lines/Parquet with an id and a label column,
or SageMaker ground-truth records). :class:`LabelTable` collects them (id → label); then
:func:`join_labels` fills the label column of each prediction chunk, so performance is
computed on the labelled rows only and label coverage is known.

Ids are compared as text, with integral numbers written without a fraction, so an id read
as ``123`` from one file and ``"123"`` or ``123.0`` from another still match.

>>> import pandas as pd
>>> labels = LabelTable.from_frames([pd.DataFrame({"id": [1, 2], "y": [0, 1]})], id="id",
...                                 label="y")
>>> joined, report = join_labels(pd.DataFrame({"id": ["1", "3"], "p": [0, 1]}), labels,
...                              id="id", label="y")
>>> joined["y"].tolist(), report.labelled, report.rows
([0, None], 1, 2)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from driftline.errors import InvalidInputError
from driftline.metrics.encoding import Label, normalise_label


def id_text(values: pd.Series) -> pd.Series:
    """Ids as text (``<NA>`` for missing), integral numbers without a fraction.

    Numbers are written the same whatever column holds them: ``7``, ``7.0`` and ``"7"`` are
    all ``"7"``, in an integer, a float or a mixed (object) column, and an integral float
    too large for int64 keeps all its digits. Text ids are kept as they are (stripped), so
    ``"007"`` and ``"7.0"`` stay distinct ids.

    >>> id_text(pd.Series([7, "7", 7.0, " 8 ", None, 2.5], dtype=object)).tolist()
    ['7', '7', '7', '8', <NA>, '2.5']
    >>> id_text(pd.Series([1e19, 2e19])).tolist()
    ['10000000000000000000', '20000000000000000000']
    """
    if pd.api.types.is_bool_dtype(values):
        return values.astype("string")
    if pd.api.types.is_float_dtype(values):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(numbers)
        fits = finite & (numbers == np.round(numbers)) & (np.abs(numbers) < _INT64_LIMIT)
        text = values.astype("string")
        text[fits] = numbers[fits].astype(np.int64).astype(str)
        others = finite & ~fits
        if others.any():
            text[others] = np.asarray(
                [_number_text(number) for number in numbers[others].tolist()], dtype=object
            )
        return text
    if pd.api.types.is_object_dtype(values):
        return pd.Series([_one_id(value) for value in values], index=values.index, dtype="string")
    return values.astype("string").str.strip()


#: Integral floats below this magnitude convert to int64 exactly (2**63).
_INT64_LIMIT = float(2**63)


def _number_text(number: float) -> str:
    """A finite float id: integral ones without a fraction (all digits), others as repr."""
    return str(int(number)) if number.is_integer() else repr(number)


def _one_id(value: Any) -> str | None:
    """One id of a mixed (object) column as :func:`id_text` writes it (None: missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return None
        return _number_text(number) if math.isfinite(number) else repr(number)
    return str(value).strip()


@dataclass
class LabelTable:
    """Labels by id, collected from one or more label files.

    Attributes:
        labels: id (text) → label value; a later duplicate replaces an earlier one.
        duplicates: label rows whose id was already seen.
        conflicts: duplicates that changed the label value.
        without_id: label rows with no id, which cannot be joined (counted, not dropped
            silently).
        without_label: rows with an id but no label value.
    """

    labels: dict[str, Any] = field(default_factory=dict)
    duplicates: int = 0
    conflicts: int = 0
    without_id: int = 0
    without_label: int = 0

    @classmethod
    def from_frames(cls, frames: Iterable[pd.DataFrame], *, id: str, label: str) -> LabelTable:
        """Collect labels from chunks of label files.

        Raises:
            InvalidInputError: a chunk lacks the id or the label column (the message names it).
        """
        table = cls()
        for frame in frames:
            table.add(frame, id=id, label=label)
        return table

    def add(self, frame: pd.DataFrame, *, id: str, label: str) -> None:
        """Add one chunk of a label file."""
        for role, column in (("id", id), ("label", label)):
            if column not in frame.columns:
                raise InvalidInputError(
                    f"label data has no {role} column {column!r}; columns: "
                    f"{', '.join(map(str, frame.columns))}",
                    reason="missing_column",
                    column=column,
                )
        ids = id_text(frame[id])
        values = frame[label]
        has_id = ids.notna() & (ids != "")
        has_label = values.notna()
        self.without_id += int((~has_id).sum())
        self.without_label += int((has_id & ~has_label).sum())
        for key, value in zip(ids[has_id & has_label], values[has_id & has_label], strict=True):
            previous = self.labels.get(key, _ABSENT)
            if previous is not _ABSENT:
                self.duplicates += 1
                if previous != value:
                    self.conflicts += 1
            self.labels[key] = value.item() if isinstance(value, np.generic) else value

    def __len__(self) -> int:
        return len(self.labels)


_ABSENT = object()


def merge_label_tables(tables: Iterable[LabelTable]) -> LabelTable:
    """The labels of several label files as one table, in the order given: where two files
    label the same id, the later file's label stands (counted in ``duplicates``, and in
    ``conflicts`` when it changed the label). Each file's own counts are added up.

    >>> first = LabelTable({"1": 0, "2": 1})
    >>> merged = merge_label_tables([first, LabelTable({"2": 0, "3": 1})])
    >>> merged.labels, merged.duplicates, merged.conflicts
    ({'1': 0, '2': 0, '3': 1}, 1, 1)
    """
    merged = LabelTable()
    for table in tables:
        merged.without_id += table.without_id
        merged.without_label += table.without_label
        merged.duplicates += table.duplicates
        merged.conflicts += table.conflicts
        for key, value in table.labels.items():
            previous = merged.labels.get(key, _ABSENT)
            if previous is not _ABSENT:
                merged.duplicates += 1
                if previous != value:
                    merged.conflicts += 1
            merged.labels[key] = value
    return merged


#: Tasks whose labels are classes (compared with the model's classes) rather than numbers.
_CLASS_TASKS = ("binary_classification", "multiclass_classification")


def conform_labels(
    table: LabelTable,
    *,
    task: str,
    classes: tuple[Label, ...] = (),
    column: str = "label",
    source: str = "label data",
) -> LabelTable:
    """The labels of ``table`` written as the model's own values, where the conversion is
    lossless; a label that fits no class (or, for regression and ranking, is no number)
    refuses the whole table.

    Producers write labels as JSON strings (``"1"``) for a model whose classes are numbers,
    or numbers for string classes: ``"1"`` becomes ``1`` when 1 is a class, ``1`` becomes
    ``"1"`` when ``"1"`` is, ``"1.0"`` becomes ``1``. With no known classes (a baseline
    without labels) classification labels are kept as read.

    Args:
        table: the labels as read.
        task: ``schema.task``.
        classes: the model's classes (the baseline's labels and predictions), if known.
        column: the label column, named in errors.
        source: the file, named in errors.

    Raises:
        InvalidInputError: ``invalid_label``, naming the file, the column and how many labels
            do not fit; never a label's value.

    >>> table = LabelTable({"a": "1", "b": 0, "c": "0.0"})
    >>> conform_labels(table, task="binary_classification", classes=(0, 1)).labels
    {'a': 1, 'b': 0, 'c': 0}
    >>> try:
    ...     conform_labels(LabelTable({"a": "maybe"}), task="binary_classification",
    ...                    classes=(0, 1), column="y", source="labels/m/l.csv")
    ... except InvalidInputError as error:
    ...     print(error.reason, error.details["rows"], str(error)[:48])
    invalid_label 1 labels/m/l.csv: column 'y' holds 1 label that is
    """
    if task in _CLASS_TASKS and not classes:
        return table
    known = set(classes)
    cache: dict[Any, Any] = {}
    converted: dict[str, Any] = {}
    bad = 0
    for key, value in table.labels.items():
        try:
            hashed = (type(value), value)
            if hashed not in cache:
                cache[hashed] = _conformed(value, task, known)
            target = cache[hashed]
        except TypeError:  # unhashable: a JSON array or object
            target = _NO_CLASS
        if target is _NO_CLASS:
            bad += 1
        else:
            converted[key] = target
    if bad:
        if task in _CLASS_TASKS:
            kinds = sorted({"text" if isinstance(c, str) else "numbers" for c in classes})
            expected = f"one of the model's {len(classes)} classes ({' and '.join(kinds)})"
            hint = "expected labels written as the classes are (a number, or its text)"
        else:
            expected = "a number"
            hint = f"{task} labels are numbers (or their text)"
        raise InvalidInputError(
            f"{source}: column {column!r} holds {bad} label{'' if bad == 1 else 's'} that "
            f"{'is' if bad == 1 else 'are'} not {expected}; {hint}",
            reason="invalid_label",
            column=column,
            rows=bad,
        )
    return replace(table, labels=converted)


_NO_CLASS = object()


def _conformed(value: Any, task: str, classes: set[Any]) -> Any:
    """One label as the model's value, or :data:`_NO_CLASS`."""
    if isinstance(value, list | dict | tuple | set):
        return _NO_CLASS
    if task not in _CLASS_TASKS:
        number = _as_number(value)
        return _NO_CLASS if number is None else number
    label = normalise_label(value)
    if isinstance(label, bool):
        return label if any(c is label for c in classes) else _NO_CLASS
    numbers = {c for c in classes if not isinstance(c, str | bool)}
    texts = {c for c in classes if isinstance(c, str)}
    if isinstance(label, str):
        if label in texts:
            return label
        number = _as_number(label)
        return number if number is not None and number in numbers else _NO_CLASS
    if label in numbers:
        return label
    return str(label) if str(label) in texts else _NO_CLASS


def _as_number(value: Any) -> int | float | None:
    """A label as a finite number when it is one (or its text), integral ones as int."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    elif isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    else:
        return None
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() else number


@dataclass
class JoinReport:
    """What joining labels to predictions found (accumulates over chunks).

    Attributes:
        rows: prediction rows seen.
        labelled: rows with a label after the join (inline or joined).
        joined: rows whose label came from the label table.
        inline: rows that already carried a label in the inference log.
        disagreements: rows whose inline label differs from the label table's (the table's
            value, the later truth, is used).
        matched_ids: ids of the label table that matched a prediction row.
    """

    rows: int = 0
    labelled: int = 0
    joined: int = 0
    inline: int = 0
    disagreements: int = 0
    matched_ids: set[str] = field(default_factory=set)

    @property
    def coverage(self) -> float | None:
        """Share of prediction rows with a label (None for no rows)."""
        return self.labelled / self.rows if self.rows else None

    def unmatched(self, table: LabelTable) -> int:
        """Labels of ``table`` whose id matched no prediction row seen so far."""
        return len(table) - len(self.matched_ids)

    def to_dict(self, table: LabelTable | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rows": self.rows,
            "labelled": self.labelled,
            "coverage": self.coverage,
            "joined": self.joined,
            "inline": self.inline,
            "disagreements": self.disagreements,
        }
        if table is not None:
            data.update(
                labels=len(table),
                unmatched_labels=self.unmatched(table),
                duplicate_labels=table.duplicates,
                conflicting_labels=table.conflicts,
                labels_without_id=table.without_id,
            )
        return data


def join_labels(
    frame: pd.DataFrame,
    labels: LabelTable,
    *,
    id: str,
    label: str,
    report: JoinReport | None = None,
) -> tuple[pd.DataFrame, JoinReport]:
    """Fill ``frame``'s label column from ``labels`` by id.

    A label from the table replaces an inline one (the table is the later truth); rows whose
    id has no label keep their inline label or stay unlabelled. Pass the same ``report`` for
    every chunk of a stream to accumulate it.

    Raises:
        InvalidInputError: the frame has no id column (the message names it).
    """
    report = report if report is not None else JoinReport()
    if id not in frame.columns:
        raise InvalidInputError(
            f"cannot join labels: the inference data has no id column {id!r}",
            reason="missing_column",
            column=id,
        )
    ids = id_text(frame[id])
    table = labels.labels
    looked_up = pd.Series(
        [None if key is pd.NA else table.get(key) for key in ids], index=frame.index, dtype=object
    )
    found = looked_up.notna()
    inline = frame[label] if label in frame.columns else pd.Series(None, index=frame.index)
    has_inline = inline.notna()
    joined = frame.copy()
    combined = inline.astype(object).where(~found, looked_up.astype(object))
    joined[label] = combined.where(combined.notna(), None)
    report.rows += len(frame)
    report.joined += int(found.sum())
    report.inline += int(has_inline.sum())
    report.labelled += int((found | has_inline).sum())
    both = found & has_inline
    if both.any():
        report.disagreements += int((inline[both].astype(object) != looked_up[both]).sum())
    report.matched_ids.update(ids[found].tolist())
    return joined, report
