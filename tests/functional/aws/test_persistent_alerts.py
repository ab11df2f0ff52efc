"""A check with a persistence rule pages through the jobs only once the rule is met: with
``persist: {windows: 2, of: 3}`` a first failing evaluation sends nothing, the second pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from driftline.aws import jobs
from driftline.aws.jobs import Services

from .test_every_window_alerts import upload_day
from .test_jobs import DEFINITION, NOW, csv, frame
from .test_rejections import machine_part

PERSISTENT = DEFINITION.replace(
    "{name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}",
    "{name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain,\n"
    "     persist: {windows: 2, of: 3}}",
).replace("  - {name: error-ddm, detector: ddm, signal: error, action: emergency_retrain}\n", "")


def deploy_persistent(services: Services) -> None:
    assert "persist: {windows: 2, of: 3}" in PERSISTENT and "error-ddm" not in PERSISTENT
    services.store.put("baselines/churn/reference.csv", csv(frame(3000, seed=1, accuracy=0.9)))
    services.store.put("config/churn.yaml", PERSISTENT.encode())
    assert jobs.configure(services, "config/churn.yaml")["baseline"]["status"] == "built"


def test_a_check_with_persist_2_of_3_pages_on_its_second_failure_only(
    services: Services, inbox: Any
) -> None:
    # GIVEN accuracy-floor with persist {2 of 3}, and a bad day
    deploy_persistent(services)
    upload_day(services, 23, accuracy=0.55, seed=2)
    inbox()
    yesterday = NOW - timedelta(days=1)

    # WHEN that day is evaluated
    first = jobs.evaluate_model(services, "churn", now=yesterday)

    # THEN the result fails, but nothing is sent nor started: the check is pending
    assert [w["status"] for w in first["windows"]] == ["critical"]
    assert first["acted"]["notifications"] == [] and first["acted"]["executions"] == []
    assert first["acted"]["suppressed"] == [
        "accuracy-floor: pending: 1 of 2 failures needed in the last 3 P1D evaluations"
    ]
    assert inbox() == []
    state = services.table.states("churn", "ALERT")["accuracy-floor"].document
    assert state["status"] == "pending"
    assert [(o["window"], o["failed"]) for o in state["history"]] == [("P1D", True)]

    # WHEN the same run is delivered again
    again = jobs.evaluate_model(services, "churn", now=yesterday)

    # THEN it counts once: still nothing
    assert again["acted"]["notifications"] == [] and again["acted"]["executions"] == []
    assert inbox() == []

    # WHEN the next day is bad too and is evaluated
    upload_day(services, 24, accuracy=0.55, seed=3)
    inbox()
    second = jobs.evaluate_model(services, "churn", now=NOW)

    # THEN one page goes out about accuracy-floor, and its retraining starts once
    pages = [page for page in inbox() if machine_part(page)["kind"] == "firing"]
    (page,) = pages
    assert machine_part(page)["about"] == ["accuracy-floor"]
    assert [e["new"] for e in second["acted"]["executions"]] == [True]
    state = services.table.states("churn", "ALERT")["accuracy-floor"].document
    assert state["status"] == "firing"
    assert [o["failed"] for o in state["history"]] == [True, True]
