"""Every window of ``windows:`` is acted on, in one grouped notification per evaluation run.

Before, only the first window sent alerts: a P7D check failing while P1D passed was stored
in its report and never paged.
"""

from __future__ import annotations

from typing import Any

from driftline.aws import jobs
from driftline.aws.jobs import Services

from .test_jobs import DEFINITION, NOW, csv, frame
from .test_rejections import machine_part


def deploy_two_windows(services: Services) -> None:
    services.store.put("baselines/churn/reference.csv", csv(frame(3000, seed=1, accuracy=0.9)))
    services.store.put("config/churn.yaml", DEFINITION.replace("[P1D]", "[P1D, P7D]").encode())
    assert jobs.configure(services, "config/churn.yaml")["baseline"]["status"] == "built"


def upload_day(services: Services, day: int, accuracy: float, seed: int) -> None:
    data = frame(1000, seed=seed, accuracy=accuracy, start=100_000 * day)
    stem = f"2026/11/{day:02d}"
    key = f"inference/churn/{stem}/10/batch.csv"
    services.store.put(key, csv(data.drop(columns="churned")))
    jobs.profile_batch(services, key, received=NOW)
    labels = f"labels/churn/{stem}/labels.csv"
    services.store.put(labels, csv(data[["customer_id", "churned"]]))
    jobs.ingest_labels(services, labels, received=NOW)


def test_a_check_failing_in_a_later_window_pages_once_naming_its_window(
    services: Services, inbox: Any
) -> None:
    # GIVEN a bad day five days ago and a good day today: P1D passes, P7D fails
    deploy_two_windows(services)
    upload_day(services, 20, accuracy=0.55, seed=2)
    upload_day(services, 24, accuracy=0.97, seed=3)
    inbox()

    # WHEN the schedule evaluates both windows
    outcome = jobs.evaluate_model(services, "churn", now=NOW)

    # THEN each window has its report ...
    statuses = {w["window"]: w["status"] for w in outcome["windows"]}
    assert statuses == {"P1D": "ok", "P7D": "critical"}
    # ... and one notification pages the P7D failure, named with its window
    pages = [p for p in inbox() if machine_part(p)["kind"] == "firing"]
    (page,) = pages
    machine = machine_part(page)
    assert machine["about"] == ["accuracy-floor@P7D"]
    (failed,) = machine["checks"]["failed"]
    assert failed["detail"].startswith("P7D window: accuracy is")
    assert "accuracy-floor@P7D" in page["Subject"]
    # ... and its retraining starts once
    assert [e["new"] for e in outcome["acted"]["executions"]] == [True]

    # WHEN the same run is delivered again
    again = jobs.evaluate_model(services, "churn", now=NOW)

    # THEN nothing more is sent or started
    assert again["acted"]["notifications"] == [] and again["acted"]["executions"] == []
    assert inbox() == []
