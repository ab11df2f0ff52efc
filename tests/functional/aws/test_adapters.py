"""The adapters against moto: real side effects, conditional writes, idempotent starts."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from driftline.aws.emf import emit
from driftline.aws.jobs import Services
from driftline.aws.store import ConflictError


def test_put_json_once_keeps_the_first_write(services: Services) -> None:
    store = services.store
    assert store.put_json_once("profiles/m/a.json", {"n": 1}) is True
    assert store.put_json_once("profiles/m/a.json", {"n": 2}) is False
    assert store.get_json("profiles/m/a.json") == {"n": 1}


def test_quarantine_copies_and_explains_without_deleting(services: Services) -> None:
    store = services.store
    store.put("inference/m/2026/11/24/10/bad.csv", b"\xff\xfe")
    target = store.quarantine("inference/m/2026/11/24/10/bad.csv")
    assert target == "quarantine/inference/m/2026/11/24/10/bad.csv"
    assert store.get(target).body == b"\xff\xfe"
    assert not store.exists(target + ".reason.json")
    store.put_reason("inference/m/2026/11/24/10/bad.csv", {"reason": "not_utf8"})
    assert json.loads(store.get(target + ".reason.json").body) == {"reason": "not_utf8"}
    assert store.exists("inference/m/2026/11/24/10/bad.csv")


def test_versioned_state_refuses_a_stale_write(services: Services) -> None:
    table = services.table
    assert table.state("m", "DETECTOR", "adwin").version == 0
    assert table.put_state("m", "DETECTOR", "adwin", {"n": 1}, version=0) == 1
    with pytest.raises(ConflictError):
        table.put_state("m", "DETECTOR", "adwin", {"n": 99}, version=0)
    assert table.put_state("m", "DETECTOR", "adwin", {"n": 2}, version=1) == 2
    saved = table.state("m", "DETECTOR", "adwin")
    assert (saved.document, saved.version) == ({"n": 2}, 2)


def test_put_states_is_all_or_nothing(services: Services) -> None:
    table = services.table
    table.put_state("m", "ALERT", "a", {"status": "ok"}, version=0)
    with pytest.raises(ConflictError):
        table.put_states(
            "m",
            [("ALERT", "b", {"status": "firing"}, 0), ("ALERT", "a", {"status": "firing"}, 0)],
        )
    assert table.state("m", "ALERT", "b").version == 0
    table.put_states(
        "m", [("ALERT", "b", {"status": "firing"}, 0), ("ALERT", "a", {"status": "firing"}, 1)]
    )
    assert {k: v.document["status"] for k, v in table.states("m", "ALERT").items()} == {
        "a": "firing",
        "b": "firing",
    }


def test_concurrent_increments_lose_no_update(services: Services, atomic_calls: None) -> None:
    table = services.table

    def increment(_: int) -> None:
        while True:
            saved = table.state("m", "DETECTOR", "counter")
            try:
                table.put_state(
                    "m",
                    "DETECTOR",
                    "counter",
                    {"n": saved.document.get("n", 0) + 1},
                    version=saved.version,
                )
                return
            except ConflictError:
                continue

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(increment, range(16)))
    assert table.state("m", "DETECTOR", "counter").document == {"n": 16}


def test_the_latest_points_of_a_metric_up_to_a_time_oldest_first(services: Services) -> None:
    # GIVEN a figure stored by eight evaluations, two windows at each of four times
    table = services.table
    for day in range(1, 5):
        for window in ("P1D", "P7D"):
            table.put_metrics(
                "credit",
                time=f"2026-11-0{day}T00:00:00Z",
                window=window,
                evaluation_id=f"credit-{window}-{day}",
                figures=[("reconciled.auc.inside", None, float(day % 2))],
            )
    # WHEN the latest three up to every point of the 3rd are read
    latest = table.latest_metric(
        "credit", "reconciled.auc.inside", until="2026-11-03T00:00:00Z#~", limit=3
    )
    # THEN they are the 2nd's P7D and both of the 3rd, oldest first
    assert [p.evaluation_id for p in latest] == ["credit-P7D-2", "credit-P1D-3", "credit-P7D-3"]
    assert [p.value for p in latest] == [0.0, 1.0, 1.0]


def test_the_latest_points_of_one_window_skip_the_others_across_pages(
    services: Services,
) -> None:
    # GIVEN a figure stored by batches and by evaluations, the evaluations' the newer
    table = services.table
    for day in range(1, 10):
        window = "batch" if day <= 3 else "P1D"
        table.put_metrics(
            "credit",
            time=f"2026-11-0{day}T00:00:00Z",
            window=window,
            evaluation_id=f"credit-{window}-{day}",
            figures=[("reconciled.auc.inside", None, 1.0)],
        )
    # WHEN the latest two of the batches are read (each page holds two items)
    latest = table.latest_metric(
        "credit", "reconciled.auc.inside", until="2026-11-30", limit=2, window="batch"
    )
    # THEN they are found past the evaluations' pages, oldest first
    assert [p.evaluation_id for p in latest] == ["credit-batch-2", "credit-batch-3"]
    # AND deleting figures removes them, absent ones being no error
    table.delete_metrics(
        "credit",
        time="2026-11-03T00:00:00Z",
        window="batch",
        evaluation_id="credit-batch-3",
        figures=[("reconciled.auc.inside", None), ("reconciled.auc.realised", "plan=pro")],
    )
    latest = table.latest_metric(
        "credit", "reconciled.auc.inside", until="2026-11-30", limit=5, window="batch"
    )
    assert [p.evaluation_id for p in latest] == ["credit-batch-1", "credit-batch-2"]


def test_metrics_of_one_segment_over_a_time_range_in_one_query(services: Services) -> None:
    table = services.table
    for day in range(1, 6):
        table.put_metrics(
            "credit",
            time=f"2026-11-0{day}T00:00:00Z",
            window="P1D",
            evaluation_id=f"e{day}",
            figures=[("gini", "risk_segment=subprime", 0.5 - day / 100), ("gini", None, 0.6)],
        )
    points = table.metric(
        "credit",
        "gini",
        segment="risk_segment=subprime",
        start="2026-11-02T00:00:00Z",
        end="2026-11-05T00:00:00Z",
    )
    assert [(p.time[:10], p.value) for p in points] == [
        ("2026-11-02", 0.48),
        ("2026-11-03", 0.47),
        ("2026-11-04", 0.46),
    ]
    # Writing the same evaluation again changes nothing (same keys).
    table.put_metrics(
        "credit",
        time="2026-11-02T00:00:00Z",
        window="P1D",
        evaluation_id="e2",
        figures=[("gini", "risk_segment=subprime", 0.48)],
    )
    assert (
        len(
            table.metric(
                "credit",
                "gini",
                segment="risk_segment=subprime",
                start="2026-11-01",
                end="2026-11-09",
            )
        )
        == 5
    )


def test_notification_reaches_a_subscribed_queue_with_machine_json(
    services: Services, inbox: Any
) -> None:
    services.notifier.send(
        subject="[driftline] churn: CRITICAL",
        body="accuracy-floor failed",
        message={"model": "churn", "status": "critical"},
        detail_type="driftline.check.firing",
    )
    (envelope,) = inbox()
    assert envelope["Subject"] == "[driftline] churn: CRITICAL"
    text = envelope["Message"]
    assert text.startswith("accuracy-floor failed")
    machine = json.loads(text.split("--- machine-readable ---\n", 1)[1])
    assert machine == {"model": "churn", "status": "critical"}
    assert envelope["MessageAttributes"]["model"]["Value"] == "churn"


def test_retrain_start_is_idempotent_by_name(services: Services) -> None:
    arn, started = services.retrain.start("churn-retrain-e1", {"model": "churn"})
    again, started_again = services.retrain.start("churn-retrain-e1", {"model": "churn"})
    assert started is True and started_again is False
    assert again == arn
    sfn = services.retrain.client
    executions = sfn.list_executions(stateMachineArn=services.retrain.state_machine_arn)
    assert len(executions["executions"]) == 1


def test_schedules_put_is_create_or_update(services: Services) -> None:
    assert services.schedules is not None
    services.schedules.put("churn", "rate(1 day)")
    services.schedules.put("churn", "rate(6 hours)")
    services.schedules.put("credit-scoring", "cron(0 6 * * ? *)")
    assert services.schedules.expressions() == {
        "churn": "rate(6 hours)",
        "credit-scoring": "cron(0 6 * * ? *)",
    }


def test_emf_document_shape() -> None:
    out = io.StringIO()
    emit(
        "Driftline", {"model": "churn"}, {"Rows": 10, "Nan": float("nan")}, timestamp_ms=5, out=out
    )
    document = json.loads(out.getvalue())
    assert document["_aws"]["CloudWatchMetrics"] == [
        {"Namespace": "Driftline", "Dimensions": [["model"]], "Metrics": [{"Name": "Rows"}]}
    ]
    assert document["Rows"] == 10.0 and document["model"] == "churn" and "Nan" not in document
