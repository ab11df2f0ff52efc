"""Reading a chunk for the estimate: the cells of the rows with a predicted class, the
baseline's labelled rows with a score in [0, 1], classes compared as the measured metrics
compare them, and bad values counted rather than refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftline.estimation import ScoreCells
from driftline.estimation.columns import EstimationColumns, labelled_scores_of, score_cells_of
from driftline.metrics.encoding import Label

COLUMNS = EstimationColumns(score="p", prediction="yhat", label="y")


def test_cells_hold_every_row_with_a_predicted_class_labelled_or_not() -> None:
    # GIVEN rows with and without labels, one without a predicted class
    frame = pd.DataFrame(
        {
            "p": [0.9, 0.2, 0.6, 0.7, 0.1],
            "yhat": [1, 0, 1, None, 0],
            "y": [1, None, None, 0, 0],
        }
    )
    # WHEN reduced to cells
    cells = score_cells_of(frame, COLUMNS)
    # THEN they are the cells of the four rows with a predicted class, labels ignored
    expected = ScoreCells.from_arrays([0.9, 0.2, 0.6, 0.1], [1, 0, 1, 0])
    assert cells == expected
    assert cells.n == 4 and cells.unbinned == 0


def test_a_score_that_is_not_a_number_counts_as_missing_and_out_of_range_by_kind() -> None:
    frame = pd.DataFrame(
        {"p": ["0.4", "high", None, 1.5, -0.2, 0.3], "yhat": [0, 1, 1, 1, 0, 0]}, dtype=object
    )
    cells = score_cells_of(frame, COLUMNS)
    assert (cells.n, cells.missing, cells.below, cells.above) == (2, 2, 1, 1)
    assert cells == ScoreCells.from_arrays(
        [0.4, np.nan, np.nan, 1.5, -0.2, 0.3], [0, 1, 1, 1, 0, 0]
    )


@pytest.mark.parametrize(
    ("positive_class", "predictions", "expected"),
    [
        (None, [1, 0, 1.0, 0.0], [1, 0, 1, 0]),  # unset: 1, and 1.0 is 1
        (1, ["1", "0", 1, True], [0, 0, 1, 1]),  # the text "1" is another class
        ("churn", ["churn", "stay", "Churn", "churn"], [1, 0, 0, 1]),
        (0, [0, 1, 0, 1], [1, 0, 1, 0]),  # the score is the probability of class 0
    ],
)
def test_predicted_classes_are_positive_when_they_equal_the_positive_class(
    positive_class: Label | None, predictions: list[object], expected: list[int]
) -> None:
    columns = EstimationColumns(score="p", prediction="yhat", positive_class=positive_class)
    frame = pd.DataFrame({"p": [0.5] * 4, "yhat": pd.Series(predictions, dtype=object)})
    cells = score_cells_of(frame, columns)
    assert cells.counts[1].sum() == sum(expected) and cells.counts[0].sum() == 4 - sum(expected)


def test_a_prediction_that_no_class_can_be_is_left_out_not_refused() -> None:
    # GIVEN a prediction that is a list (a JSON array in a JSON Lines log)
    frame = pd.DataFrame({"p": [0.8, 0.3, 0.6], "yhat": pd.Series([1, [0, 1], 0], dtype=object)})
    # WHEN reduced THEN that row is left out, the others kept
    cells = score_cells_of(frame, COLUMNS)
    assert cells == ScoreCells.from_arrays([0.8, 0.6], [1, 0])


def test_absent_columns_read_as_missing() -> None:
    frame = pd.DataFrame({"yhat": [1, 0]})
    assert score_cells_of(frame, COLUMNS).missing == 2
    assert score_cells_of(pd.DataFrame({"p": [0.5, 0.6]}), COLUMNS).n == 0
    assert score_cells_of(pd.DataFrame(), COLUMNS).n == 0


def test_labelled_scores_are_the_labelled_rows_with_a_score_in_the_unit_interval() -> None:
    frame = pd.DataFrame(
        {
            "p": [0.9, 0.2, np.nan, 1.2, 0.4, 0.0, 1.0],
            "y": ["yes", "no", "yes", "yes", None, "no", "yes"],
        }
    )
    columns = EstimationColumns(score="p", prediction="yhat", label="y", positive_class="yes")
    scores, positive = labelled_scores_of(frame, columns)
    assert scores.tolist() == [0.9, 0.2, 0.0, 1.0]
    assert positive.tolist() == [True, False, False, True]


def test_labelled_scores_need_a_label_column() -> None:
    with pytest.raises(ValueError, match=r"columns\.label"):
        labelled_scores_of(pd.DataFrame({"p": [0.5]}), EstimationColumns("p", "yhat"))
