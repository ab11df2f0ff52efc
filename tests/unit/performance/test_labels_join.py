"""Late labels joined to predictions by id: the table, the join report, and the metrics of a
partly labelled stream against scikit-learn on exactly its labelled rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.config import load_monitor_definition
from driftline.errors import InvalidInputError
from driftline.evaluation import evaluate, profile_spec
from driftline.labels import JoinReport, LabelTable, id_text, join_labels
from driftline.profile.dataset import build_reference, profile_frames

CHURN = load_monitor_definition(
    """
model: churn
schema:
  id: customer_id
  task: binary_classification
  prediction: churn_predicted
  score: churn_probability
  label: churned
  positive_class: 1
  features: {tenure: numeric, plan: categorical}
  segments: [plan]
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
"""
)


# -- the label table -----------------------------------------------------------------------


def test_label_table_keeps_the_later_duplicate_and_counts_duplicates_and_conflicts() -> None:
    # GIVEN two label files: integer ids in the first, text and float ids in the second
    first = pd.DataFrame({"id": [1, 2, 3, 7], "y": [0, 1, 1, 0]})
    second = pd.DataFrame(
        {"id": pd.Series(["7", " 2 ", None, 9, 3.0], dtype=object), "y": [1, 1, 0, None, 0]}
    )
    # WHEN they are collected in order
    table = LabelTable.from_frames([first, second], id="id", label="y")
    # THEN "7" and " 2 " and 3.0 are the ids 7, 2 and 3; the later label wins
    assert table.labels == {"1": 0, "2": 1, "3": 0, "7": 1}
    # AND 7, 2 and 3 are duplicates, of which 7 (0 -> 1) and 3 (1 -> 0) changed the label
    assert (table.duplicates, table.conflicts) == (3, 2)
    # AND the row without an id and the one without a label are counted, not joined
    assert (table.without_id, table.without_label) == (1, 1)
    assert len(table) == 4


def test_label_table_counts_a_duplicate_inside_one_chunk() -> None:
    table = LabelTable.from_frames(
        [pd.DataFrame({"id": ["a", "a", "a"], "y": ["no", "no", "yes"]})], id="id", label="y"
    )
    assert table.labels == {"a": "yes"}
    assert (table.duplicates, table.conflicts) == (2, 1)


def test_float_ids_with_missing_values_match_integer_ids() -> None:
    # a CSV id column with a gap is read as floats: 7.0, NaN
    table = LabelTable.from_frames(
        [pd.DataFrame({"id": [7.0, np.nan, 12.0], "y": [1, 0, 0]})], id="id", label="y"
    )
    joined, report = join_labels(
        pd.DataFrame({"id": [7, 12, 13], "p": [1, 0, 0]}), table, id="id", label="y"
    )
    assert joined["y"].tolist() == [1, 0, None]
    assert (table.without_id, report.joined) == (1, 2)


def test_mixed_column_ids_are_written_like_numeric_ones() -> None:
    # JSON Lines with ids sometimes quoted give an object column of str, int and float
    mixed = pd.Series(["7", 7, 7.0, np.int64(7), " 7 ", None, np.nan, 2.5], dtype=object)
    assert id_text(mixed).tolist() == ["7", "7", "7", "7", "7", pd.NA, pd.NA, "2.5"]
    assert id_text(pd.Series([7.0, 2.5, np.nan])).tolist() == ["7", "2.5", pd.NA]


def test_text_ids_are_not_reinterpreted_as_numbers() -> None:
    assert id_text(pd.Series(["007", "7.0", "7"])).tolist() == ["007", "7.0", "7"]


def test_integral_float_ids_beyond_int64_keep_their_digits() -> None:
    # GIVEN ids too large for int64, written as floats (1e19 and 2e19 are exact floats)
    ids = pd.Series([1e19, 2e19, -3e19, 2.0**53])
    # THEN each keeps its own digits: distinct ids never collapse to one text
    assert id_text(ids).tolist() == [
        "10000000000000000000",
        "20000000000000000000",
        "-30000000000000000000",
        "9007199254740992",
    ]
    # AND the float id matches the same integer read from another file
    table = LabelTable.from_frames(
        [pd.DataFrame({"id": ids, "y": [0, 1, 1, 0]})], id="id", label="y"
    )
    assert len(table) == 4
    assert table.labels["20000000000000000000"] == 1
    joined, _ = join_labels(pd.DataFrame({"id": [10**19, 2**53]}), table, id="id", label="y")
    assert joined["y"].tolist() == [0, 0]


@settings(max_examples=200, deadline=None)
@given(st.integers(-(2**53), 2**53))
def test_an_integer_id_reads_the_same_as_int_float_and_text(number: int) -> None:
    as_int = id_text(pd.Series([number]))[0]
    assert as_int == str(number)
    assert id_text(pd.Series([float(number)]))[0] == as_int
    assert id_text(pd.Series([str(number)]))[0] == as_int
    assert id_text(pd.Series([float(number), "x"], dtype=object))[0] == as_int


def test_label_data_without_the_id_or_label_column_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInputError, match="no id column 'customer_id'"):
        LabelTable.from_frames([pd.DataFrame({"id": [1], "y": [0]})], id="customer_id", label="y")
    with pytest.raises(InvalidInputError, match="no label column 'churned'"):
        LabelTable.from_frames([pd.DataFrame({"id": [1], "y": [0]})], id="id", label="churned")
    with pytest.raises(InvalidInputError, match="no id column 'customer_id'"):
        join_labels(pd.DataFrame({"id": [1]}), LabelTable(), id="customer_id", label="y")


# -- the join ------------------------------------------------------------------------------


def test_join_prefers_the_table_over_inline_labels_and_accumulates_its_report() -> None:
    # GIVEN a label table (ids 1, 2, 3, 7, 99) and two prediction chunks, the first with
    # inline labels on some rows, the second with no label column at all
    table = LabelTable.from_frames(
        [
            pd.DataFrame({"id": [1, 2, 3, 7], "y": [0, 1, 0, 1]}),
            pd.DataFrame({"id": ["99"], "y": [1]}),
        ],
        id="id",
        label="y",
    )
    first = pd.DataFrame({"id": [1, 2, 3, 4, 5], "y": [None, 1, 1, 0, None], "p": [0, 1, 1, 0, 1]})
    second = pd.DataFrame({"id": ["7", "8", None], "p": [1, 1, 0]})
    report = JoinReport()
    # WHEN both chunks are joined with one report
    joined_first, report = join_labels(first, table, id="id", label="y", report=report)
    joined_second, report = join_labels(second, table, id="id", label="y", report=report)
    # THEN the table's label replaces the inline one; rows it lacks keep theirs
    assert joined_first["y"].tolist() == [0, 1, 0, 0, None]
    assert joined_second["y"].tolist() == [1, None, None]
    assert joined_first["p"].tolist() == first["p"].tolist(), "other columns are untouched"
    assert "y" not in second.columns, "the input chunk is not modified"
    # AND the report counts rows, labels found, inline labels and disagreements (id 3)
    assert (report.rows, report.labelled, report.joined, report.inline) == (8, 5, 4, 3)
    assert report.disagreements == 1
    assert report.coverage == 5 / 8
    # AND id 99 matched no prediction
    assert report.matched_ids == {"1", "2", "3", "7"}
    assert report.unmatched(table) == 1
    assert report.to_dict(table) == {
        "rows": 8,
        "labelled": 5,
        "coverage": 5 / 8,
        "joined": 4,
        "inline": 3,
        "disagreements": 1,
        "labels": 5,
        "unmatched_labels": 1,
        "duplicate_labels": 0,
        "conflicting_labels": 0,
        "labels_without_id": 0,
    }


def test_join_report_coverage_is_none_without_rows() -> None:
    joined, report = join_labels(
        pd.DataFrame({"id": pd.Series([], dtype=object)}), LabelTable(), id="id", label="y"
    )
    assert (len(joined), report.rows, report.coverage) == (0, 0, None)


# -- a 30 %-labelled stream ----------------------------------------------------------------


def churn_predictions(rng: np.random.Generator, rows: int, first_id: int) -> pd.DataFrame:
    truth = (rng.random(rows) < 0.3).astype(np.int64)
    score = np.clip(0.3 * truth + rng.normal(0.3, 0.2, rows), 0, 1).round(2)
    predicted = np.where(rng.random(rows) < 0.85, (score >= 0.45).astype(np.int64), 1 - truth)
    return pd.DataFrame(
        {
            "customer_id": np.arange(first_id, first_id + rows),
            "tenure": rng.integers(1, 72, rows),
            "plan": rng.choice(["monthly", "yearly"], rows),
            "churn_predicted": predicted,
            "churn_probability": score,
            "truth": truth,
        }
    )


def test_metrics_of_a_30_percent_labelled_stream_equal_sklearn_on_the_labelled_rows() -> None:
    rng = np.random.default_rng(30)
    spec = profile_spec(CHURN)
    baseline = churn_predictions(rng, 3_000, first_id=0).rename(columns={"truth": "churned"})
    reference = build_reference(lambda: [baseline], spec)
    # GIVEN 6,000 predictions without labels, in chunks, and labels for 30 % of them
    # arriving in two files: integer ids in one, text ids in the other, plus 50 labels of
    # customers this stream never scored
    predictions = churn_predictions(rng, 6_000, first_id=100_000)
    labelled_ids = rng.choice(predictions["customer_id"], 1_800, replace=False)
    truth = predictions.set_index("customer_id")["truth"]
    first = pd.DataFrame({"customer_id": labelled_ids[:900], "churned": truth[labelled_ids[:900]]})
    second = pd.DataFrame(
        {
            "customer_id": [str(i) for i in labelled_ids[900:]] + [str(i) for i in range(50)],
            "churned": [*truth[labelled_ids[900:]].tolist(), *([1] * 50)],
        }
    )
    table = LabelTable.from_frames([first, second], id="customer_id", label="churned")
    logs = predictions.drop(columns="truth")
    # WHEN every chunk is joined and profiled
    report = JoinReport()
    joined = [
        join_labels(
            logs.iloc[i : i + 1_000], table, id="customer_id", label="churned", report=report
        )[0]
        for i in range(0, len(logs), 1_000)
    ]
    profile = profile_frames(joined, spec, reference.bins)
    # THEN exactly the labelled 30 % are measured
    assert profile.performance is not None
    assert (profile.performance.rows, profile.performance.labelled) == (6_000, 1_800)
    assert (report.rows, report.labelled, report.joined, report.inline) == (6_000, 1_800, 1_800, 0)
    assert report.coverage == 0.3
    assert report.unmatched(table) == 50
    # AND the metrics are scikit-learn's on those rows
    rows = predictions[predictions["customer_id"].isin(labelled_ids)]
    y, guess, p = rows["truth"], rows["churn_predicted"], rows["churn_probability"]
    expected = {
        "accuracy": sk.accuracy_score(y, guess),
        "precision": sk.precision_score(y, guess),
        "recall": sk.recall_score(y, guess),
        "f1": sk.f1_score(y, guess),
        "auc": sk.roc_auc_score(y, p),
        "log_loss": sk.log_loss(y, p, labels=[0, 1]),
        "brier": sk.brier_score_loss(y, p),
        "positive_rate": float((guess == 1).mean()),
    }
    measured = profile.performance.metrics()
    for name, value in expected.items():
        assert math.isclose(measured[name], value, rel_tol=1e-9), (name, measured[name], value)  # type: ignore[arg-type]
    # AND per plan segment too
    for plan, segment_rows in rows.groupby("plan"):
        segment = profile.segments[f"plan={plan}"].performance
        assert segment is not None
        assert segment.labelled == len(segment_rows)
        assert segment.rows == int((predictions["plan"] == plan).sum())
        accuracy = sk.accuracy_score(segment_rows["truth"], segment_rows["churn_predicted"])
        assert math.isclose(segment.metrics()["accuracy"], accuracy, rel_tol=1e-9)  # type: ignore[arg-type]
    # AND the evaluation reports label coverage and the join under performance.labels
    result = evaluate(
        CHURN, reference, profile, evaluation_id="e", label_join=report.to_dict(table)
    )
    labels = result.to_dict()["performance"]["labels"]
    assert labels["overall"] == {"rows": 6_000, "labelled": 1_800, "coverage": 0.3}
    assert labels["join"]["unmatched_labels"] == 50
    assert labels["join"]["coverage"] == 0.3
    accuracy_check = result.checks[0]
    assert math.isclose(accuracy_check.value or 0.0, expected["accuracy"], rel_tol=1e-9)
