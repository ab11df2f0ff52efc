"""Labels written as the model's classes after a lossless conversion, or refused whole."""

from __future__ import annotations

import json

import pytest

from driftline.errors import InvalidInputError
from driftline.labels import LabelTable, conform_labels


@pytest.mark.parametrize(
    ("labels", "classes", "expected"),
    [
        ({"a": "1", "b": "0"}, (0, 1), {"a": 1, "b": 0}),
        ({"a": "1.0", "b": " 0 "}, (0, 1), {"a": 1, "b": 0}),
        ({"a": 1.0, "b": 0}, (0, 1), {"a": 1, "b": 0}),
        ({"a": 1, "b": 0}, ("0", "1"), {"a": "1", "b": "0"}),
        ({"a": "yes", "b": "no"}, ("no", "yes"), {"a": "yes", "b": "no"}),
        ({"a": True, "b": False}, (False, True), {"a": True, "b": False}),
        ({"a": "2"}, (0, 1, 2), {"a": 2}),
    ],
)
def test_labels_equal_to_a_class_after_a_lossless_conversion_join_as_that_class(
    labels: dict[str, object], classes: tuple[object, ...], expected: dict[str, object]
) -> None:
    task = "binary_classification" if len(classes) == 2 else "multiclass_classification"
    conformed = conform_labels(LabelTable(dict(labels)), task=task, classes=classes)
    assert conformed.labels == expected
    assert [type(v) for v in conformed.labels.values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        ({"a": "maybe", "b": "1"}, (0, 1)),
        ({"a": "1.5"}, (0, 1)),
        ({"a": True}, (0, 1)),  # a bool is not the number 1 of a numeric model
        ({"a": "2"}, (0, 1)),
        ({"a": [0, 1]}, (0, 1)),
    ],
)
def test_a_label_that_fits_no_class_refuses_the_table_naming_column_and_count_only(
    labels: dict[str, object], classes: tuple[object, ...]
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        conform_labels(
            LabelTable(dict(labels)),
            task="binary_classification",
            classes=classes,
            column="y",
            source="labels/m/2026/11/24/l.csv",
        )
    error = caught.value
    assert error.reason == "invalid_label"
    assert error.details == {"column": "y", "rows": 1}
    assert "labels/m/2026/11/24/l.csv" in str(error) and "'y'" in str(error)
    # (one-character values such as "2" are left out: the message counts things)
    assert all(str(v) not in str(error) for v in labels.values() if len(str(v)) > 1)
    json.dumps(error.to_dict())


def test_regression_labels_are_numbers_or_their_text() -> None:
    table = LabelTable({"a": "2.5", "b": 3, "c": " 4 "})
    assert conform_labels(table, task="regression").labels == {"a": 2.5, "b": 3, "c": 4}
    with pytest.raises(InvalidInputError, match="1 label that is not a number"):
        conform_labels(LabelTable({"a": "n/a"}), task="regression")


def test_without_known_classes_classification_labels_are_kept_as_read() -> None:
    table = LabelTable({"a": "1", "b": 0})
    assert conform_labels(table, task="binary_classification").labels == {"a": "1", "b": 0}
