"""The running coverage reads back the batches' reconciled estimates of the metrics the
model's estimate has: a binary classifier's six, a multiclass classifier's five (accuracy
and the macro metrics), from a fake metrics table that records what it is asked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from driftline.aws.jobs import Services
from driftline.aws.jobs.reconciling import batch_coverage
from driftline.aws.store import MetricPoint
from driftline.config import load_monitor_definition
from driftline.estimation import ESTIMATED_METRICS, MULTICLASS_METRICS


class RecordingTable:
    """Answers every metric with one point per metric name asked, and records the names."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def latest_metric(self, model: str, metric: str, **_: Any) -> list[MetricPoint]:
        self.asked.append(metric)
        return [MetricPoint("2026-12-01T00:00:00Z", "batch", f"e-{metric}", 1.0)]


def history_of(schema: str) -> tuple[list[str], int]:
    definition = load_monitor_definition(
        f"model: m\nschema: {{{schema}, label: y, prediction: yhat, features: {{a: numeric}}}}\n"
        "baseline: {path: b.csv}"
    )
    table = RecordingTable()
    services = Services(store=None, table=table, notifier=None, retrain=None)  # type: ignore[arg-type]
    coverage = batch_coverage(services, definition, until=datetime(2026, 12, 2, tzinfo=UTC))
    assert coverage is not None
    return table.asked, coverage.to_dict()["pairs"]


def test_a_multiclass_models_coverage_reads_its_own_metrics() -> None:
    asked, read = history_of("task: multiclass_classification, class_scores: {a: pa, b: pb}")
    assert asked == [f"reconciled.{name}.inside" for name in MULTICLASS_METRICS]
    assert read == len(MULTICLASS_METRICS)


def test_a_binary_models_coverage_reads_the_binary_metrics_as_before() -> None:
    asked, read = history_of("task: binary_classification, score: p")
    assert asked == [f"reconciled.{name}.inside" for name in ESTIMATED_METRICS]
    assert read == len(ESTIMATED_METRICS)
