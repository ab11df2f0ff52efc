"""How labels, predictions and scores are read before any metric is computed.

Class labels are normalised (a numpy scalar or an integral float becomes the plain Python
value, so batches of different dtypes agree) and encoded against one sorted tuple of
classes; numbers and scores become float64 arrays. Every metric module reads its columns
through these functions, so a bad column is refused with the same error and reason
whichever metric asked, and the message counts values and names kinds, never quoting a
label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from driftline.errors import InvalidInputError
from driftline.numbers import coerce_numbers

#: A class label as it appears in JSON: a bool, an int, a non-integral float or a string.
Label = bool | int | float | str
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def normalise_label(value: object) -> Label:
    """The canonical form of a class label, so batches of different dtypes agree.

    A numpy scalar becomes its Python value and an integral float an int (a label column
    holding a missing value is read as floats, ``1.0`` for ``1``). Other objects become
    their string.

    >>> normalise_label(np.float64(1.0)), normalise_label("yes"), normalise_label(0.5)
    (1, 'yes', 0.5)
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return str(value)


def label_sort_key(label: Label) -> tuple[int, float | str]:
    """Sort key putting numbers (in numeric order) before strings (in text order).

    >>> sorted(["b", 10, "a", 2.5, True], key=label_sort_key)
    [True, 2.5, 10, 'a', 'b']
    """
    if isinstance(label, str):
        return (1, label)
    return (0, float(label))


def describe_classes(classes: Sequence[Label]) -> str:
    """How many classes there are and of which kinds, without their values.

    A class is a label from the data, which may be sensitive, so error messages and
    rejection reasons describe classes with this instead of listing them; the kinds show
    the usual culprit, numbers and text mixed (``1`` and ``"1"`` are two classes).

    >>> describe_classes((0, 1, "0", "1", "unknown"))
    '5 classes (2 numeric, 3 text)'
    >>> describe_classes((True,))
    '1 class (1 boolean)'
    """
    kinds = [_kind_of(label) for label in classes]
    shown = ", ".join(f"{kinds.count(kind)} {kind}" for kind in _KINDS if kind in kinds)
    return f"{len(classes)} class{'' if len(classes) == 1 else 'es'} ({shown})"


_KINDS = ("boolean", "numeric", "text")


def _kind_of(label: Label) -> str:
    if isinstance(label, bool):
        return "boolean"
    return "text" if isinstance(label, str) else "numeric"


def encode_labels(
    *columns: tuple[str, ArrayLike],
) -> tuple[tuple[Label, ...], list[IntArray]]:
    """Encode label columns against one sorted tuple of classes.

    Each column is ``(role, values)``; the role names the column in errors. Missing values
    (None, NaN) are refused: drop unlabelled rows first. Only the distinct values are
    visited in Python; the rows are encoded by numpy.

    Returns:
        ``(classes, codes)``: the sorted union of the normalised values, and for each column
        an int64 array of indices into ``classes``.

    Raises:
        InvalidInputError: a column holds missing values (``missing_labels``), a value that
            cannot be a class such as a JSON array or object (``invalid_label``, naming the
            column when ``values`` is a named Series), or two columns differ in length.

    >>> classes, (codes,) = encode_labels(("y_true", ["b", "a", "b"]))
    >>> classes, codes.tolist()
    (('a', 'b'), [1, 0, 1])
    >>> try:
    ...     encode_labels(("label", pd.Series([1, [0, 1]], name="defaulted")))
    ... except InvalidInputError as error:
    ...     print(error.reason, error.details["column"], error.details["rows"])
    invalid_label defaulted 1
    """
    factorised: list[tuple[IntArray, list[Label]]] = []
    lengths: dict[str, int] = {}
    for role, values in columns:
        series = _as_series(values)
        try:
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
        except TypeError as exc:  # an unhashable value: a JSON array or object
            raise _not_a_label(role, series) from exc
        missing = int(np.count_nonzero(codes < 0))
        if missing:
            raise InvalidInputError(
                f"{role} has {missing} missing values; expected a label on every row "
                "(drop unlabelled rows first)",
                reason="missing_labels",
            )
        lengths[role] = int(codes.size)
        factorised.append((codes.astype(np.int64), [normalise_label(u) for u in uniques]))
    if len(set(lengths.values())) > 1:
        sizes = ", ".join(f"{role} has {n}" for role, n in lengths.items())
        raise InvalidInputError(
            f"expected columns of one length; {sizes} rows", reason="length_mismatch"
        )
    classes = tuple(
        sorted({label for _, uniques in factorised for label in uniques}, key=label_sort_key)
    )
    index = {label: position for position, label in enumerate(classes)}
    encoded = []
    for codes, labels in factorised:
        lookup = np.array([index[label] for label in labels], dtype=np.int64)
        encoded.append(lookup[codes] if codes.size else codes)
    return classes, encoded


def _not_a_label(role: str, values: pd.Series[Any]) -> InvalidInputError:
    """The error for label values that are containers (lists, dicts, ...), which no class
    can be; it counts them and names the column, never quoting a value."""
    count = sum(1 for value in values.array if not is_hashable(value))
    column = values.name if isinstance(values.name, str) else None
    where = f"{role} column {column!r}" if column is not None else role
    return InvalidInputError(
        f"{where} holds {count} value{'' if count == 1 else 's'} that "
        f"{'is' if count == 1 else 'are'} a list, a dict or another container; "
        "expected a class label: a number, a string or a bool",
        reason="invalid_label",
        role=role,
        column=column,
        rows=count,
    )


def is_hashable(value: object) -> bool:
    """Whether ``value`` can be a dict key (a label column may hold lists)."""
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _as_series(values: ArrayLike) -> pd.Series[Any]:
    if isinstance(values, pd.Series):
        return values
    return pd.Series(values)


def as_float_array(values: ArrayLike, *, role: str) -> FloatArray:
    """Numbers as float64 with NaN for missing values (an object column of numbers is fine).

    Raises:
        InvalidInputError: a value is neither a number nor missing.

    >>> as_float_array([1, None, True], role="y").tolist()
    [1.0, nan, 1.0]
    """
    series = _as_series(values)
    if not (pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series)):
        coerced = coerce_numbers(series)
        wrong = int(np.count_nonzero(coerced.isna().to_numpy() & series.notna().to_numpy()))
        if wrong:
            raise InvalidInputError(
                f"{role} must be numeric; got {wrong} values that are not numbers "
                f"(dtype {series.dtype})",
                reason="non_numeric_values",
            )
        series = coerced
    return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def as_scores(values: ArrayLike, *, role: str = "y_score") -> FloatArray:
    """Scores as a float64 array, refusing missing, infinite and non-numeric values.

    Raises:
        InvalidInputError: the values are not all finite numbers.

    >>> as_scores([0.25, 1]).tolist()
    [0.25, 1.0]
    """
    array = as_float_array(values, role=role)
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise InvalidInputError(
            f"{role} has {bad} missing or infinite values; expected finite numbers",
            reason="non_finite_scores",
        )
    return array


def check_positive_class(classes: Sequence[Label], positive_class: Label) -> Label:
    """The normalised ``positive_class``, refused when two classes are present and it is
    neither of them.

    With one class, or more than two, any positive class is accepted: one-vs-rest on a
    class absent from the data simply counts no positives.

    Raises:
        InvalidInputError: ``unknown_positive_class``; the message describes the classes
            present by count and kind, never by value.

    >>> check_positive_class((0, 1), 1.0), check_positive_class((0, 1, 2), 5)
    (1, 5)
    >>> try:
    ...     check_positive_class(("no", "yes"), 1)
    ... except InvalidInputError as error:
    ...     print(error.reason, "|", error)
    unknown_positive_class | positive_class 1 is not one of the 2 classes (2 text) present;
    set positive_class to one of them
    """
    positive = normalise_label(positive_class)
    if len(classes) == 2 and positive not in classes:
        raise InvalidInputError(
            f"positive_class {positive!r} is not one of the {describe_classes(classes)} "
            "present; set positive_class to one of them",
            reason="unknown_positive_class",
        )
    return positive
