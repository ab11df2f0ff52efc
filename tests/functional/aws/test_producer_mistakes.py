"""Ordinary producer mistakes end in the right figures or in one quarantined file and one
page, never in a lost batch or a wrong number (on moto, through the jobs).

- labels written as JSON strings (``"0"``/``"1"``) for a model whose classes are numbers join
  as those classes, whichever of labels and predictions arrives first; a label file with a
  label that fits no class is quarantined, and the predictions it would label are profiled;
- an inference file uploaded again under its key replaces the older version's figures;
- a window's performance counts the predictions made in it, whatever day their labels came.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pandas as pd

from driftline.aws import jobs
from driftline.aws.jobs import Services

from .test_jobs import NOW, csv, deploy, frame

BATCH = "inference/churn/2026/11/24/10/batch.csv"
LABELS = "labels/churn/2026/11/24/labels.jsonl"


def jsonl_labels(data: pd.DataFrame, *, as_text: bool) -> bytes:
    lines = [
        json.dumps({"customer_id": int(i), "churned": str(int(y)) if as_text else int(y)})
        for i, y in zip(data["customer_id"], data["churned"], strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()


def window_report(services: Services) -> dict[str, Any]:
    (window,) = jobs.evaluate_model(services, "churn", now=NOW)["windows"]
    return services.store.get_json(f"reports/churn/{window['evaluation_id']}.json")


def performance(report: dict[str, Any]) -> tuple[Any, ...]:
    labels = report["performance"]["labels"]["overall"]
    overall = report["performance"]["overall"]
    return (
        report["rows"]["current"],
        labels["labelled"],
        overall.get("accuracy"),
        overall.get("auc"),
    )


def run(services: Services, *, labels: bytes, labels_first: bool) -> list[dict[str, Any]]:
    data = frame(600, seed=7, accuracy=0.8)
    steps = [
        (BATCH, csv(data.drop(columns="churned")), jobs.profile_batch),
        (LABELS, labels, jobs.ingest_labels),
    ]
    outcomes = []
    for key, body, job in reversed(steps) if labels_first else steps:
        services.store.put(key, body)
        outcomes.append(job(services, key, received=NOW))
    return outcomes


def test_labels_written_as_text_join_as_the_models_numeric_classes(
    services: Services, inbox: Any
) -> None:
    # GIVEN the same predictions labelled once with numbers, once with "0"/"1" strings,
    # the text labels arriving before the predictions
    data = frame(600, seed=7, accuracy=0.8)
    deploy(services)
    run(services, labels=jsonl_labels(data, as_text=False), labels_first=False)
    numbers = performance(window_report(services))

    for key in list(services.store.keys("profiles/churn/")):
        if "/reference/" not in key:
            services.store.client.delete_object(Bucket=services.store.bucket, Key=key)
    for kind in ("DETECTOR", "ALERT", "ACTION"):
        for name, saved in services.table.states("churn", kind).items():
            services.table.claim_state("churn", kind, name, version=saved.version)
    inbox()
    outcomes = run(services, labels=jsonl_labels(data, as_text=True), labels_first=True)

    # THEN nothing is rejected, the batch is profiled with its early labels joined ...
    assert outcomes[1]["status"] == "profiled" and outcomes[1]["early_labels"] == 600
    assert not list(services.store.keys("quarantine/"))
    # ... and the figures are those of the numeric labels
    later = NOW + timedelta(minutes=1)
    (window,) = jobs.evaluate_model(services, "churn", now=later)["windows"]
    text = performance(services.store.get_json(f"reports/churn/{window['evaluation_id']}.json"))
    assert text == numbers
    assert numbers[1] == 600


def test_a_label_that_fits_no_class_quarantines_its_file_and_the_batch_is_still_profiled(
    services: Services, inbox: Any
) -> None:
    # GIVEN a label file with one text label that is no class ("maybe"), arriving first
    data = frame(600, seed=7, accuracy=0.8)
    body = jsonl_labels(data, as_text=True).replace(b'"churned": "1"', b'"churned": "maybe"', 1)
    deploy(services)
    inbox()

    # WHEN the labels, then the predictions arrive
    labelled, profiled = run(services, labels=body, labels_first=True)

    # THEN the label file is quarantined with invalid_label, naming the column and a count,
    # never the value; one page
    assert labelled["status"] == "rejected" and labelled["reason"] == "invalid_label"
    reason = json.loads(services.store.get(f"quarantine/{LABELS}.reason.json").body)
    assert reason["details"]["column"] == "churned" and reason["details"]["rows"] == "1"
    assert "maybe" not in json.dumps(reason)
    (page,) = inbox()
    assert "maybe" not in json.dumps(page)
    # ... and the predictions are profiled regardless, without those labels
    assert profiled["status"] == "profiled" and "early_labels" not in profiled
    assert performance(window_report(services))[:2] == (600, 0)


def test_an_inference_file_uploaded_again_replaces_the_older_versions_figures(
    services: Services,
) -> None:
    # GIVEN a broken batch (tenure missing everywhere), then its corrected bytes under the
    # same key, each delivered (and the first one redelivered after the second)
    deploy(services)
    fixed = frame(1000, seed=3, accuracy=0.9)
    broken = fixed.assign(tenure=float("nan"))
    first = jobs.profile_batch(services, *put(services, broken), received=NOW)
    second = jobs.profile_batch(services, *put(services, fixed), received=NOW)
    again = jobs.profile_batch(services, BATCH, received=NOW)

    # THEN the window counts the corrected file once: 1,000 rows, none missing
    assert (first["status"], second["status"], again["status"]) == (
        "profiled",
        "replaced",
        "duplicate",
    )
    report = window_report(services)
    assert report["rows"]["current"] == 1000
    assert report["data_quality"]["tenure"]["missing_share"] == 0.0
    # ... exactly what a deployment that only ever saw the corrected file stores
    assert len(list(services.store.keys("profiles/churn/batches/"))) == 1


def put(services: Services, data: pd.DataFrame) -> tuple[str]:
    services.store.put(BATCH, csv(data))
    return (BATCH,)


def test_a_windows_performance_counts_its_predictions_whatever_day_their_labels_came(
    services: Services,
) -> None:
    # GIVEN predictions of the 23rd and the 24th, whose labels all land on the 24th
    deploy(services)
    days = {}
    for day, seed in ((23, 5), (24, 6)):
        data = frame(500, seed=seed, accuracy=0.8, start=10_000 * day)
        key = f"inference/churn/2026/11/{day}/10/batch.csv"
        services.store.put(key, csv(data.drop(columns="churned")))
        jobs.profile_batch(services, key, received=NOW)
        days[day] = data
    everything = pd.concat(days.values())
    services.store.put(LABELS, jsonl_labels(everything, as_text=False))
    jobs.ingest_labels(services, LABELS, received=NOW)

    # WHEN the P1D window of the 24th is evaluated
    report = window_report(services)

    # THEN it counts the 24th's 500 predictions and their 500 labels, not the 1,000 labels
    # that arrived that day
    rows, labelled, accuracy, _ = performance(report)
    assert (rows, labelled) == (500, 500)
    today = days[24]
    assert accuracy == (today["churned"] == today["churn_predicted"]).mean()


def reset_labels(services: Services) -> None:
    """Forget every label-derived object and state (the predictions stay)."""
    for key in list(services.store.keys("profiles/churn/")):
        if "/labelled/" in key or "/signals/" in key or "/daily/" in key:
            services.store.client.delete_object(Bucket=services.store.bucket, Key=key)
    for key in list(services.store.keys("labels/")):
        services.store.client.delete_object(Bucket=services.store.bucket, Key=key)
    for kind in ("DETECTOR", "ALERT", "ACTION", "OUTBOX"):
        for name, saved in services.table.states("churn", kind).items():
            services.table.claim_state("churn", kind, name, version=saved.version)


def test_detectors_end_in_the_same_state_whatever_order_the_label_files_arrive(
    services: Services,
) -> None:
    # GIVEN six hourly batches whose error rate jumps after the third, each with a label file
    deploy(services)
    hours = range(8, 14)
    labels = {}
    for hour in hours:
        data = frame(300, seed=hour, accuracy=0.95 if hour < 11 else 0.5, start=1000 * hour)
        data["event_time"] = pd.Timestamp(f"2026-11-24T{hour:02d}:00:00Z") + pd.to_timedelta(
            range(300), unit="s"
        )
        key = f"inference/churn/2026/11/24/{hour:02d}/batch.csv"
        services.store.put(key, csv(data.drop(columns="churned")))
        jobs.profile_batch(services, key, received=NOW)
        labels[hour] = csv(data[["customer_id", "churned"]])

    def deliver(order: list[int]) -> dict[str, Any]:
        reset_labels(services)
        for hour in order:
            key = f"labels/churn/2026/11/24/h{hour:02d}.csv"
            services.store.put(key, labels[hour])
            jobs.ingest_labels(services, key, received=NOW)
        return services.table.state("churn", "DETECTOR", "error-ddm").document

    # WHEN the label files arrive in order, then later hours first, then shuffled
    in_order = deliver(list(hours))
    reversed_order = deliver(list(reversed(hours)))
    shuffled = deliver([10, 13, 8, 12, 9, 11])

    # THEN the detector's state is the same each time, and it did see the jump
    assert reversed_order["detector"] == in_order["detector"]
    assert shuffled["detector"] == in_order["detector"]
    assert in_order["reported"], "the jump must be detected for the comparison to mean much"
    assert in_order.get("late", 0) == 0
