"""The rows and values a detector check reads (driftline.detector_feed), the one rule that
production's label join and the backtest share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import zero_one_loss

from driftline.config import CheckSpec, SchemaSpec
from driftline.detector_feed import detector_signal, event_order, segment_rows
from driftline.errors import ConfigError

CLASSIFIER = SchemaSpec(
    task="binary_classification",
    features={"tenure": "numeric", "plan": "categorical"},
    label="y",
    prediction="p",
    score="s",
)
REGRESSOR = SchemaSpec(task="regression", features={"tenure": "numeric"}, label="y", prediction="p")


def check(detector: str, signal: str, **extra: object) -> CheckSpec:
    return CheckSpec(name="c", detector=detector, signal=signal, action="notify", **extra)


def test_error_signal_is_the_misclassification_of_labelled_rows_with_a_prediction() -> None:
    # GIVEN labelled rows, one without a prediction, and an unlabelled row
    rows = pd.DataFrame({"y": [1, 0, 1, 0, None], "p": [1, 1, None, 0, 1], "s": [0.5] * 5})
    # WHEN the error signal is taken
    found = detector_signal(check("ddm", "error"), CLASSIFIER, rows)
    # THEN one value per labelled row with a prediction, equal to scikit-learn's per-row loss
    kept = rows.dropna()
    expected = [zero_one_loss([t], [q]) for t, q in zip(kept["y"], kept["p"], strict=True)]
    assert found.values == expected
    # AND the labelled row without a prediction is counted, the unlabelled one is not
    assert found.without_signal == 1
    assert found.rows.index.tolist() == [0, 1, 3]


def test_regression_error_is_the_absolute_error_and_unreadable_numbers_are_left_out() -> None:
    rows = pd.DataFrame({"y": [2.0, "x", 3.0, 1.0], "p": [1.5, 1.0, np.inf, "4"]})
    found = detector_signal(check("adwin", "error"), REGRESSOR, rows)
    assert found.values == [0.5, 3.0]
    assert found.without_signal == 2


@pytest.mark.parametrize("detector", ["ddm", "eddm", "sprt"])
def test_a_detector_of_error_indicators_reads_only_zeros_and_ones(detector: str) -> None:
    # GIVEN a 0/1 column with a stray 2 and a text value
    rows = pd.DataFrame({"y": [1] * 5, "flag": [0, 1, 2, "no", 1]})
    schema = SchemaSpec(task="binary_classification", features={"flag": "numeric"}, label="y")
    # WHEN a binary detector reads it THEN the values it cannot read are left out, counted
    found = detector_signal(check(detector, "flag"), schema, rows)
    assert (found.values, found.without_signal) == ([0.0, 1.0, 1.0], 2)


def test_a_column_signal_leaves_out_missing_text_and_infinite_values_of_the_segment() -> None:
    rows = pd.DataFrame(
        {
            "y": [1, 1, 1, 1, 1, 1],
            "plan": ["pro", "pro", "basic", "pro", "pro", None],
            "tenure": [1.0, None, 7.0, "n/a", np.inf, 2.0],
        }
    )
    found = detector_signal(check("adwin", "tenure", segment={"plan": "pro"}), CLASSIFIER, rows)
    assert (found.values, found.without_signal) == ([1.0], 3)


def test_absent_columns_feed_nothing_and_are_named() -> None:
    rows = pd.DataFrame({"y": [1, 0], "s": [0.1, 0.2]})
    no_segment = detector_signal(check("adwin", "s", segment={"region": "w"}), CLASSIFIER, rows)
    assert (no_segment.values, no_segment.missing) == ([], ("region",))
    no_column = detector_signal(check("adwin", "error"), CLASSIFIER, rows)
    assert (no_column.values, no_column.missing) == ([], ("p",))


def test_a_signal_the_schema_cannot_give_is_a_config_error() -> None:
    schema = SchemaSpec(task="binary_classification", features={"tenure": "numeric"}, label="y")
    rows = pd.DataFrame({"y": [1]})
    with pytest.raises(ConfigError, match=r"schema\.prediction") as error:
        detector_signal(check("ddm", "error"), schema, rows)
    assert error.value.reason == "invalid_signal"
    with pytest.raises(ConfigError, match=r"schema\.score"):
        detector_signal(check("adwin", "score"), schema, rows)


def test_segments_compare_as_text() -> None:
    rows = pd.DataFrame({"tier": [1, 2, 1, 3], "v": range(4)})
    inside, missing = segment_rows(rows, {"tier": "1"})
    assert (inside["v"].tolist(), missing) == ([0, 2], [])


def test_event_order_is_stable_with_unreadable_times_last() -> None:
    rows = pd.DataFrame(
        {
            "t": ["2026-11-24T10:00:05Z", "later", "2026-11-24T10:00:01Z", "2026-11-24T10:00:05Z"],
            "v": [0, 1, 2, 3],
        }
    )
    assert event_order(rows, "t")["v"].tolist() == [2, 0, 3, 1]
    assert event_order(rows, None) is rows


def test_an_integer_too_large_for_a_float_is_left_out_not_fatal() -> None:
    # GIVEN a column (read as objects) holding an integer past the float range
    rows = pd.DataFrame({"y": [1, 1, 1], "tenure": pd.Series([3, 10**400, 4], dtype=object)})
    # WHEN the column signal is taken THEN that value is unreadable: left out and counted
    found = detector_signal(check("adwin", "tenure"), CLASSIFIER, rows)
    assert (found.values, found.without_signal) == ([3.0, 4.0], 1)
