"""A batch reconciled with its labels when they land (driftline.batch_reconciliation): the
estimate is the batch's own, as a window of that batch alone reports it; the realised
metrics are its rows joined with every label file once; too few rows are skipped; and the
running coverage handed to an evaluation is reported and checked as it is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftline.batch_reconciliation import (
    BATCH_WINDOW,
    labelled_profile,
    reconcile_batch,
    record_names,
    skipped_reason,
)
from driftline.config import load_monitor_definition
from driftline.config.checks import CheckSpec
from driftline.estimation import ESTIMATED_METRICS
from driftline.estimation.multiclass import MULTICLASS_METRICS
from driftline.evaluation import evaluate, profile_spec
from driftline.labels import LabelTable, merge_label_tables
from driftline.profile.dataset import DatasetProfile, Reference, build_reference, profile_frames
from driftline.reconciliation import (
    BATCHES,
    RECONCILED_PARTS,
    EstimateCoverage,
    ReconciledPoint,
    decide_coverage_check,
    reconciled_records,
)

DEFINITION = load_monitor_definition(
    """
model: churn
schema:
  id: id
  task: binary_classification
  prediction: yhat
  score: p
  label: y
  positive_class: 1
  features: {x: numeric}
  segments: [tier]
baseline: {path: b.csv}
"""
)
SPEC = profile_spec(DEFINITION)


def batch_rows(count: int, *, seed: int, gold: int | None = None) -> pd.DataFrame:
    """Rows whose scores are their probability of a positive, of the gold and bronze tiers
    (``gold`` of them gold, the others bronze, when given)."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=count)
    tiers = rng.choice(["gold", "bronze"], count).astype(object)
    if gold is not None:
        tiers[:] = "bronze"
        tiers[:gold] = "gold"
    return pd.DataFrame(
        {
            "id": np.arange(count) + seed * 1_000_000,
            "p": p,
            "yhat": (p >= 0.5).astype(int),
            "y": (rng.uniform(size=count) < p).astype(int),
            "tier": tiers,
            "x": rng.normal(size=count),
        }
    )


REFERENCE: Reference = build_reference(lambda: [batch_rows(4_000, seed=100)], SPEC)


def unlabelled_profile(frame: pd.DataFrame) -> DatasetProfile:
    """The batch's profile as profile_batch stores it: predictions without labels."""
    return profile_frames([frame.drop(columns="y")], SPEC, REFERENCE.bins)


def labels_of(frame: pd.DataFrame) -> LabelTable:
    return LabelTable.from_frames([frame[["id", "y"]]], id="id", label="y")


def reconciled(frame: pd.DataFrame, labels: LabelTable) -> dict[str, object]:
    unlabelled = frame.drop(columns="y")
    labelled = labelled_profile(DEFINITION, REFERENCE, unlabelled, labels)
    reconciliation = reconcile_batch(
        DEFINITION, REFERENCE, unlabelled_profile(frame), labelled, batch_id="b1"
    )
    return reconciliation.to_dict()


def test_a_batchs_estimate_is_the_one_a_window_of_that_batch_alone_reports() -> None:
    # GIVEN a batch of predictions, evaluated before any label as a window of its own
    frame = batch_rows(3_000, seed=1)
    before = evaluate(DEFINITION, REFERENCE, unlabelled_profile(frame), evaluation_id="w")
    assert before.estimated is not None and before.estimated.overall is not None
    # WHEN its labels land and it is reconciled
    document = reconciled(frame, labels_of(frame))
    # THEN every metric's estimate is, to the bit, the window's, and the realised accuracy
    # is the labelled rows'
    overall = document["overall"]
    assert isinstance(overall, dict)
    assert set(overall) == set(ESTIMATED_METRICS)
    for name, figures in overall.items():
        assert figures["estimated"] == before.estimated.overall.estimate.metrics[name]
    assert overall["accuracy"]["realised"] == pytest.approx((frame["y"] == frame["yhat"]).mean())


def test_labels_from_several_files_count_each_row_once_in_any_order() -> None:
    # GIVEN a batch whose labels come in two files, and a third file repeating the first
    frame = batch_rows(2_000, seed=2)
    first, second = labels_of(frame.iloc[:1_200]), labels_of(frame.iloc[1_200:])
    # WHEN they are merged in either order, the repeat included, and the batch reconciled
    one_file = reconciled(frame, labels_of(frame))
    forward = reconciled(frame, merge_label_tables([first, second, first]))
    backward = reconciled(frame, merge_label_tables([second, first]))
    # THEN the figures are those of one file holding every label
    assert forward == backward == one_file


def test_a_later_label_file_replaces_the_labels_it_repeats() -> None:
    # GIVEN a label file with every label wrong, then a corrections file
    frame = batch_rows(1_000, seed=3)
    wrong = frame.assign(y=1 - frame["y"])
    # WHEN merged in that order
    merged = merge_label_tables([labels_of(wrong), labels_of(frame)])
    # THEN the later labels stand, each change counted as a conflict
    assert merged.labels == labels_of(frame).labels
    assert (merged.duplicates, merged.conflicts) == (1_000, 1_000)


def test_a_batch_or_segment_with_too_few_rows_for_an_interval_is_skipped() -> None:
    # GIVEN a batch of 60 rows, and a batch with 40 rows of the gold tier
    tiny = batch_rows(60, seed=4)
    mixed = batch_rows(2_000, seed=5, gold=40)
    # WHEN each is reconciled with all its labels
    tiny_document = reconciled(tiny, labels_of(tiny))
    mixed_document = reconciled(mixed, labels_of(mixed))
    # THEN the tiny batch is skipped with the count (nothing to store), and the small tier
    # alone in the other
    reason = "too few rows to reconcile: 60 rows estimated, fewer than 100"
    assert tiny_document["overall"] == {"skip": reason}
    segments = mixed_document["segments"]
    assert isinstance(segments, dict)
    assert segments["tier=gold"] == {
        "skip": "too few rows to reconcile: 40 rows estimated, fewer than 100"
    }
    assert set(segments["tier=bronze"]) == set(ESTIMATED_METRICS)


def test_a_skipped_batch_stores_no_figure_and_says_why() -> None:
    frame = batch_rows(500, seed=6)
    half = labels_of(frame.iloc[:250])
    unlabelled = frame.drop(columns="y")
    reconciliation = reconcile_batch(
        DEFINITION,
        REFERENCE,
        unlabelled_profile(frame),
        labelled_profile(DEFINITION, REFERENCE, unlabelled, half),
        batch_id="b",
    )
    assert skipped_reason(reconciliation) == (
        "labels cover 250 of 500 rows (50.00%); the estimate is reconciled when they cover at "
        "least 99%"
    )
    assert reconciled_records(reconciliation) == []
    # AND every figure the batch could have stored is named, to be removed
    names = record_names("binary_classification", ["tier=bronze", "tier=gold"])
    assert len(names) == len(set(names)) == 3 * len(ESTIMATED_METRICS) * len(RECONCILED_PARTS)


@pytest.mark.parametrize(
    ("task", "metrics"),
    [
        ("binary_classification", ESTIMATED_METRICS),
        ("multiclass_classification", MULTICLASS_METRICS),
        ("regression", ("mae", "rmse")),
    ],
)
def test_the_figures_a_batch_could_store_are_its_tasks_reconciled_metrics(
    task: str, metrics: tuple[str, ...]
) -> None:
    # WHEN the figures a batch's reconciliation could store are listed for a model's task
    names = record_names(task, ["tier=gold"])
    # THEN they are that task's metrics, each part, overall and per segment: a multiclass or
    # regression batch's figure no longer reconciled is removed like a binary one's
    assert sorted(names, key=str) == sorted(
        (
            (f"reconciled.{metric}.{part}", scope)
            for scope in (None, "tier=gold")
            for metric in metrics
            for part in ("estimated", "realised", "inside", "sampling_variance")
        ),
        key=str,
    )
    assert BATCH_WINDOW == "batch"


def test_an_evaluation_given_the_batches_coverage_reports_and_checks_it_as_it_is() -> None:
    # GIVEN the coverage of 6 reconciled batches, and a fully labelled window of one
    coverage = EstimateCoverage.of(
        [
            ReconciledPoint(f"b{batch}", metric, batch != 0)
            for batch in range(6)
            for metric in ESTIMATED_METRICS
        ],
        counts=BATCHES,
    )
    frame = batch_rows(2_000, seed=7)
    profile = profile_frames([frame], SPEC, REFERENCE.bins)
    check = CheckSpec(name="cov", metric="estimate_coverage", min=0.9)
    definition = DEFINITION.model_copy(update={"checks": [check]})
    # WHEN the window is evaluated with it
    result = evaluate(definition, REFERENCE, profile, evaluation_id="w", estimate_coverage=coverage)
    # THEN the window is reconciled, for reading, but its pairs are not added: the result
    # and the check both read the batches' coverage
    document = result.to_dict()["performance"]["reconciled"]
    assert set(document["overall"]) == set(ESTIMATED_METRICS)
    assert document["coverage"] == coverage.to_dict()
    assert document["coverage"]["counts"] == "batches"
    (decided,) = [c for c in result.checks if c.name == "cov"]
    assert decided == decide_coverage_check(check, result.reconciled)
    assert (decided.status, decided.value) == ("fail", 30 / 36)
    assert decided.detail.endswith(
        "(30 of 36 reconciled estimates inside their 95% interval, over 6 batches)"
    )


def test_a_coverage_counts_windows_or_batches_nothing_else() -> None:
    with pytest.raises(ValueError, match="expected counts 'windows' or 'batches'"):
        EstimateCoverage.of([], counts="days")
