"""The deployment of template.yaml on the local runtime (moto, handlers in-process): uploads
trigger the real functions, a schedule evaluates, the on-call topic hears, retraining starts;
duplicate and reordered deliveries change nothing."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from driftline.estimation import ESTIMATED_METRICS
from driftline.local import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
CHURN = ROOT / "examples" / "churn"
NOW = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
UPLOADS = [
    ("baselines/churn/reference.csv", CHURN / "reference.csv"),
    ("config/churn.yaml", CHURN / "monitor.yaml"),
    ("inference/churn/2026/11/24/10/current.csv", CHURN / "current.csv"),
]


def metrics(runtime: LocalRuntime) -> dict[str, float]:
    table = runtime.name_of("MonitorTable")
    items = runtime.client("dynamodb").scan(TableName=table)["Items"]
    return {
        item["PK"]["S"] + "|" + item["SK"]["S"]: float(item["value"]["N"])
        for item in items
        if item["PK"]["S"].startswith("METRIC#")
    }


def run(uploads: list[tuple[str, Path]], *, duplicate: bool) -> dict[str, Any]:
    with LocalRuntime(ROOT / "template.yaml") as runtime:
        for key, path in uploads:
            runtime.upload(key, path.read_bytes())
        runtime.run_schedules(NOW)
        # The retraining runs on moto's threads: let it end, so the statuses compared below
        # are final ones, not a snapshot of a step in flight.
        assert runtime.wait_for_executions(timeout=120) == []
        outcome = {
            "notifications": runtime.notifications(),
            "events": runtime.events(),
            "executions": runtime.executions(),
            "metrics": metrics(runtime),
            "invocations": [call.function for call in runtime.invocations],
        }
        if duplicate:
            # At-least-once: every event delivered a second time, in reverse order, and
            # the schedule firing twice. Nothing may change, nobody is told twice.
            for call in list(reversed(runtime.invocations)):
                runtime.invoke(call.function, call.event)
            runtime.run_schedules(NOW)
            assert runtime.wait_for_executions(timeout=120) == []
            assert metrics(runtime) == outcome["metrics"]
            assert runtime.notifications() == []
            assert runtime.executions() == outcome["executions"]
        assert runtime.failures() == [], runtime.failures()[0].error
        return outcome


@pytest.fixture(scope="module")
def once() -> dict[str, Any]:
    return run(UPLOADS, duplicate=False)


def test_a_drifted_batch_notifies_and_the_schedule_starts_retraining(once: dict[str, Any]) -> None:
    assert once["invocations"][:3] == [
        "BuildBaselineFunction",
        "ConfigureFunction",
        "ProfileBatchFunction",
    ]
    subjects = [message["Subject"] for message in once["notifications"]]
    # The batch's quality checks alert at once; the scheduled evaluation adds the rest.
    assert len(subjects) == 2
    assert subjects[0].startswith("[driftline] churn: WARNING")
    assert "tenure-missing" in subjects[0]
    assert subjects[1].startswith("[driftline] churn: CRITICAL")
    assert "accuracy-floor" in subjects[1]
    body = once["notifications"][1]["Message"]
    machine = json.loads(body.split("--- machine-readable ---\n", 1)[1])
    assert machine["model"] == "churn" and machine["status"] == "critical"
    (execution,) = once["executions"]
    assert execution["name"].startswith("churn-retrain-")
    assert {event["detail-type"] for event in once["events"]} >= {"driftline.check.firing"}
    assert once["metrics"][
        "METRIC#churn#accuracy#_overall|2026-11-24T23:00:00Z#P1D#churn-P1D-20261124T2300"
    ] == pytest.approx(0.82175)


def test_the_estimate_is_stored_and_reconciled_with_the_labels_of_the_batch(
    once: dict[str, Any],
) -> None:
    # GIVEN the batch carries its labels, so it is reconciled as it lands, and so is each
    # window's estimate when evaluated
    metrics = once["metrics"]

    def stored(name: str, window: str) -> float:
        key = f"{window}#churn-{window}-20261124T2300"
        value: float = metrics[f"METRIC#churn#{name}#_overall|2026-11-24T23:00:00Z#{key}"]
        return value

    def of_batch(name: str) -> float:
        (value,) = [
            v
            for k, v in metrics.items()
            if k.startswith(f"METRIC#churn#{name}#_overall|") and "#batch#churn-reconciled-" in k
        ]
        return value

    for window in ("P1D", "P30D"):
        for name in ESTIMATED_METRICS:
            assert 0.0 <= stored(f"estimated.{name}", window) <= 1.0
            assert stored(f"reconciled.{name}.estimated", window) == stored(
                f"estimated.{name}", window
            )
            # the windows hold that one batch: its reconciliation is theirs
            assert of_batch(f"reconciled.{name}.estimated") == stored(
                f"reconciled.{name}.estimated", window
            )
    inside = sum(of_batch(f"reconciled.{name}.inside") for name in ESTIMATED_METRICS)
    # THEN the coverage of both windows counts the batch once, read back from the table by
    # the real handler: the windows' own reconciliations are not counted again
    assert stored("estimate_coverage", "P1D") == pytest.approx(inside / 6)
    assert stored("estimate_coverage", "P30D") == pytest.approx(inside / 6)


def test_duplicate_and_reordered_delivery_changes_nothing(once: dict[str, Any]) -> None:
    shuffled = UPLOADS[:2]
    random.Random(7).shuffle(shuffled)
    twice = run([*shuffled, UPLOADS[2]], duplicate=True)
    assert twice["metrics"].keys() == once["metrics"].keys()
    # Two separate deployments fed the same files in another order store the same figures,
    # to the last bit (docs/reliability.md#4-determinism); tests/e2e/test_determinism.py
    # compares every stored byte past the exact limit of a profile.
    assert twice["metrics"] == once["metrics"]
    assert [m["Subject"] for m in twice["notifications"]] == [
        m["Subject"] for m in once["notifications"]
    ]
    assert [e["name"] for e in twice["executions"]] == [e["name"] for e in once["executions"]]
