"""The estimate stored before the labels, reconciled with them when they land, and the
model's running coverage, through the jobs on moto: the metric items written, the result
stored, and what a second delivery of the same evaluation changes (nothing); each batch
reconciled the moment its labels land, weeks late, while no rolling window ever is; the same
figures whatever order and however often the label files arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.aws import jobs
from driftline.aws.jobs import Services
from driftline.estimation import ESTIMATED_METRICS
from driftline.ids import digest
from moto_support import emitted_metrics

DEFINITION = """
model: churn
schema:
  id: customer_id
  task: binary_classification
  prediction: churn_predicted
  score: churn_score
  label: churned
  positive_class: 1
  features: {tenure: numeric, plan: categorical}
  segments: [plan]
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: estimate-coverage, metric: estimate_coverage, min: 0.5, action: notify}
schedule: rate(1 hour)
windows: [P2D]
"""
#: The batch's predictions are made at 10:00 on the 24th; the first evaluation, that night,
#: has no label; the labels land the next morning, and the hourly evaluations of the next
#: day still cover the batch (windows of two days ending at 09:00, 10:00, ...), and no
#: other row.
BATCH = "inference/churn/2026/11/24/10/b.csv"
BEFORE = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
AFTER = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
BATCH_ID = digest(BATCH)
RECONCILED = f"churn-reconciled-{BATCH_ID}"


def rows(count: int, *, seed: int) -> pd.DataFrame:
    """Rows whose true probability of churning is the score squared."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(size=count)
    return pd.DataFrame(
        {
            "customer_id": np.arange(count),
            "tenure": rng.gamma(2.0, 12.0, count).round(1),
            "plan": rng.choice(["basic", "pro"], count),
            "churn_score": score,
            "churn_predicted": (score >= 0.5).astype(int),
            "churned": (rng.uniform(size=count) < score**2).astype(int),
        }
    )


def csv(data: pd.DataFrame) -> bytes:
    return data.to_csv(index=False).encode()


def stored_items(services: Services) -> dict[str, float]:
    """Every metric item of the table: ``PK|SK`` → value."""
    items = services.table.client.scan(TableName=services.table.name)["Items"]
    return {
        item["PK"]["S"] + "|" + item["SK"]["S"]: float(item["value"]["N"])
        for item in items
        if item["PK"]["S"].startswith("METRIC#")
    }


def points(services: Services, name: str, segment: str | None = None) -> dict[str, float]:
    """One stored figure of the model by evaluation id."""
    found = services.table.metric(
        "churn", name, segment=segment, start="2026-11-01", end="2026-12-01"
    )
    return {point.evaluation_id: point.value for point in found}


def result(services: Services, outcome: dict[str, Any]) -> dict[str, Any]:
    (window,) = outcome["windows"]
    document: dict[str, Any] = services.store.get_json(
        f"reports/churn/{window['evaluation_id']}.json"
    )
    return document


def without_reconciled_error(estimated: dict[str, Any]) -> dict[str, Any]:
    """An estimate's section without the count of reconciled batches its interval read."""
    interval = {k: v for k, v in estimated["interval"].items() if k != "reconciled_error"}
    return {**estimated, "interval": interval}


def test_the_estimate_is_stored_then_reconciled_when_the_labels_land(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a model with a labelled baseline and an unlabelled batch of predictions
    services.store.put("baselines/churn/reference.csv", csv(rows(6_000, seed=1)))
    services.store.put("config/churn.yaml", DEFINITION.encode())
    assert jobs.configure(services, "config/churn.yaml")["status"] == "stored"
    batch = rows(4_000, seed=2)
    services.store.put(BATCH, csv(batch.drop(columns="churned")))
    jobs.profile_batch(services, BATCH, received=BEFORE)

    # WHEN the evaluation of that night runs
    before = result(services, jobs.evaluate_model(services, "churn", now=BEFORE))

    # THEN each estimate is stored, value and interval ends, overall and per plan, and
    # nothing is reconciled yet
    estimated = before["performance"]["estimated"]
    night = before["evaluation_id"]
    for name in ESTIMATED_METRICS:
        figures = estimated["overall"][name]
        assert points(services, f"estimated.{name}") == {night: figures["value"]}
        assert points(services, f"estimated.{name}.lower") == {night: figures["lower"]}
        assert points(services, f"estimated.{name}.upper") == {night: figures["upper"]}
        plan = estimated["segments"]["plan=pro"][name]
        assert points(services, f"estimated.{name}", "plan=pro") == {night: plan["value"]}
        assert points(services, f"reconciled.{name}.inside") == {}
    assert before["performance"]["reconciled"]["overall"] == {
        "skip": "labels cover 0 of 4,000 rows (0.00%); the estimate is reconciled when they "
        "cover at least 99%"
    }
    assert points(services, "estimate_coverage") == {}

    # WHEN the labels of every row land the next morning, and the next evaluations run
    services.store.put("labels/churn/2026/11/25/l.csv", csv(batch[["customer_id", "churned"]]))
    joined = jobs.ingest_labels(services, "labels/churn/2026/11/25/l.csv", received=AFTER)
    assert joined["joined"] == 4_000
    capsys.readouterr()
    after = result(services, jobs.evaluate_model(services, "churn", now=AFTER))
    morning = after["evaluation_id"]
    graphed = emitted_metrics(capsys.readouterr().out)

    # THEN the label file reconciled the batch the moment it landed, on its own rows
    assert joined["batches"] == [{"batch": BATCH_ID, "reconciled": sorted(ESTIMATED_METRICS)}]
    # AND the estimate of the same rows is the one made before the labels, to the bit; the
    # interval section counts one reconciled batch now, too few to widen anything
    assert without_reconciled_error(after["performance"]["estimated"]) == (
        without_reconciled_error(estimated)
    )
    before_error = estimated["interval"]["reconciled_error"]
    after_error = after["performance"]["estimated"]["interval"]["reconciled_error"]
    assert (before_error["batches"], after_error["batches"]) == (0, 1)
    assert after_error["terms"] == {} and after_error["widens"] == []
    # AND the window is reconciled with what the labels say, overall and per plan
    reconciled = after["performance"]["reconciled"]
    labelled = batch
    realised_accuracy = float((labelled["churned"] == labelled["churn_predicted"]).mean())
    assert reconciled["overall"]["accuracy"]["realised"] == pytest.approx(realised_accuracy)
    # AND stored twice: under the batch (what the coverage counts) and under the evaluation
    # (for reading), the same figures, since the window holds that batch alone
    for name, figures in reconciled["overall"].items():
        assert figures["estimated"] == estimated["overall"][name]["value"]
        both = {RECONCILED: figures["estimated"], morning: figures["estimated"]}
        assert points(services, f"reconciled.{name}.estimated") == both
        both = {RECONCILED: figures["realised"], morning: figures["realised"]}
        assert points(services, f"reconciled.{name}.realised") == both
        both = {RECONCILED: float(figures["inside"]), morning: float(figures["inside"])}
        assert points(services, f"reconciled.{name}.inside") == both
    for plan in ("plan=basic", "plan=pro"):
        for name, figures in reconciled["segments"][plan].items():
            assert points(services, f"reconciled.{name}.inside", plan) == {
                RECONCILED: float(figures["inside"]),
                morning: float(figures["inside"]),
            }
    # AND the coverage is the share of the batch's metrics inside their intervals, stored
    # with the evaluation
    inside = sum(figures["inside"] for figures in reconciled["overall"].values())
    assert reconciled["coverage"] == {
        "share": inside / 6,
        "inside": inside,
        "pairs": 6,
        "evaluations": 1,
        "trailing": 100,
        "counts": "batches",
    }
    assert points(services, "estimate_coverage") == {morning: inside / 6}
    # AND CloudWatch gets the estimates and the coverage, not the interval ends or the
    # reconciled figures (custom metrics are billed by name)
    for name in ESTIMATED_METRICS:
        assert graphed[f"estimated_{name}"] == estimated["overall"][name]["value"]
    assert graphed["estimate_coverage"] == inside / 6
    assert not [name for name in graphed if name.startswith("reconciled") or "_lower" in name]

    # WHEN the same evaluation is delivered again after its figures were stored but before
    # its result was (a failed attempt retried)
    items = stored_items(services)
    services.store.client.delete_object(
        Bucket=services.store.bucket, Key=f"reports/churn/{morning}.json"
    )
    again = result(services, jobs.evaluate_model(services, "churn", now=AFTER))
    # THEN nothing is counted twice: the same items, the same coverage
    assert stored_items(services) == items
    assert again["performance"]["reconciled"]["coverage"] == reconciled["coverage"]

    # AND the coverage check waits for more evidence than one batch's 6 estimates
    (check,) = [c for c in after["checks"] if c["name"] == "estimate-coverage"]
    assert check["status"] == "skip"
    assert check["detail"] == (
        "estimate_coverage: 6 reconciled estimates so far (over 1 batch), fewer than the 30 "
        "it decides on"
    )

    # WHEN the next hours' evaluations reconcile the same labelled rows again
    for hours in range(1, 4):
        later = result(services, jobs.evaluate_model(services, "churn", now=AFTER + hours * HOUR))
        # THEN each window is reconciled, for reading, and the coverage still counts the
        # batch once: the same rows are not counted again by every window that holds them
        assert "accuracy" in later["performance"]["reconciled"]["overall"]
        assert later["performance"]["reconciled"]["coverage"] == reconciled["coverage"]
        assert points(services, "estimate_coverage")[later["evaluation_id"]] == inside / 6


# -- batches reconciled when their labels land, whatever the window --------------------------

#: Daily and monthly rolling windows: the label lookback is the longest window (30 days), so
#: labels three weeks late still find their predictions; the daily window always ends on
#: fresh, unlabelled predictions.
ROLLING = DEFINITION.replace("windows: [P2D]", "windows: [P1D, P30D]")
#: Five days of predictions in early November, one batch a day at 10:00; their labels land
#: three weeks later, while that day's predictions are still unlabelled.
EARLY_DAYS = [datetime(2026, 11, day, 10, tzinfo=UTC) for day in range(2, 7)]
WEEKS_LATER = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)


def start_model(services: Services, definition: str = ROLLING) -> None:
    services.store.put("baselines/churn/reference.csv", csv(rows(6_000, seed=1)))
    services.store.put("config/churn.yaml", definition.encode())
    assert jobs.configure(services, "config/churn.yaml")["status"] == "stored"


def inference_key(hour: datetime) -> str:
    return f"inference/churn/{hour:%Y/%m/%d/%H}/b.csv"


def land_batch(
    services: Services, hour: datetime, *, seed: int, count: int = 1_000
) -> pd.DataFrame:
    """An unlabelled batch of predictions made at ``hour``; returns it with its labels."""
    batch = rows(count, seed=seed)
    batch["customer_id"] += seed * 100_000  # ids unique across batches
    key = inference_key(hour)
    services.store.put(key, csv(batch.drop(columns="churned")))
    jobs.profile_batch(services, key, received=hour + HOUR)
    return batch


def land_labels(services: Services, key: str, labels: pd.DataFrame) -> dict[str, Any]:
    services.store.put(key, csv(labels[["customer_id", "churned"]]))
    return jobs.ingest_labels(services, key, received=WEEKS_LATER)


def batch_items(services: Services) -> dict[str, float]:
    """The stored figures of batch reconciliations: ``PK|SK`` → value."""
    return {key: value for key, value in stored_items(services).items() if "#batch#" in key}


def reconciled_id(hour: datetime) -> str:
    return f"churn-reconciled-{digest(inference_key(hour))}"


def wipe(services: Services) -> None:
    """Empty the bucket and the table: a fresh deployment for another order of arrival."""
    s3, bucket = services.store.client, services.store.bucket
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", ()):
            s3.delete_object(Bucket=bucket, Key=entry["Key"])
    client, name = services.table.client, services.table.name
    for item in client.scan(TableName=name)["Items"]:
        client.delete_item(TableName=name, Key={"PK": item["PK"], "SK": item["SK"]})


def test_labels_weeks_late_reconcile_their_batches_while_the_rolling_window_never_is(
    services: Services,
) -> None:
    # GIVEN five days of unlabelled predictions, the first evaluated the night it landed
    start_model(services)
    batches = [land_batch(services, hour, seed=10 + i) for i, hour in enumerate(EARLY_DAYS)]
    first_night = jobs.evaluate_model(services, "churn", now=EARLY_DAYS[0] + 13 * HOUR)
    daily = services.store.get_json(
        f"reports/churn/{first_night['windows'][0]['evaluation_id']}.json"
    )
    before = daily["performance"]["estimated"]["overall"]
    # AND three weeks later, today's predictions, unlabelled
    today = land_batch(services, datetime(2026, 11, 27, 10, tzinfo=UTC), seed=99)

    # WHEN one label file with the labels of the five early days lands
    outcome = land_labels(services, "labels/churn/2026/11/27/l.csv", pd.concat(batches))

    # THEN each of the five batches is reconciled at once, stored under its own id and the
    # hour of its predictions
    assert outcome["batches"] == [
        {"batch": digest(inference_key(hour)), "reconciled": sorted(ESTIMATED_METRICS)}
        for hour in EARLY_DAYS
    ]
    first = reconciled_id(EARLY_DAYS[0])
    for name in ESTIMATED_METRICS:
        found = services.table.metric(
            "churn", f"reconciled.{name}.inside", start="2026-11-01", end="2026-11-30"
        )
        assert [(p.time, p.window, p.evaluation_id) for p in found] == [
            (f"{hour:%Y-%m-%dT%H:%M:%SZ}", "batch", reconciled_id(hour)) for hour in EARLY_DAYS
        ]
        # AND a batch's reconciled estimate is, to the bit, the estimate of the daily
        # window that held that batch alone, reported the night it landed
        estimated = points(services, f"reconciled.{name}.estimated")
        assert estimated[first] == before[name]["value"]

    # WHEN the scheduled evaluation runs, its rolling windows still holding unlabelled rows
    evaluated = jobs.evaluate_model(services, "churn", now=WEEKS_LATER)
    day, month = (
        services.store.get_json(f"reports/churn/{window['evaluation_id']}.json")
        for window in evaluated["windows"]
    )
    # THEN neither window is reconciled ...
    assert day["performance"]["reconciled"]["overall"]["skip"].startswith(
        "labels cover 0 of 1,000 rows (0.00%)"
    )
    assert month["performance"]["reconciled"]["overall"]["skip"].startswith(
        "labels cover 5,000 of 6,000 rows (83.33%)"
    )
    # ... yet the coverage counts the five batches, and the check decides on it (30 pairs)
    stored_inside = [
        value
        for name in ESTIMATED_METRICS
        for value in points(services, f"reconciled.{name}.inside").values()
    ]
    for report in (day, month):
        coverage = report["performance"]["reconciled"]["coverage"]
        assert coverage == {
            "share": sum(stored_inside) / 30,
            "inside": sum(stored_inside),
            "pairs": 30,
            "evaluations": 5,
            "trailing": 100,
            "counts": "batches",
        }
        (check,) = [c for c in report["checks"] if c["name"] == "estimate-coverage"]
        assert check["value"] == coverage["share"]
        assert check["status"] == ("pass" if coverage["share"] >= 0.5 else "fail")
        assert check["detail"].endswith(
            f"({coverage['inside']} of 30 reconciled estimates inside their 95% interval, "
            "over 5 batches)"
        )
        assert points(services, "estimate_coverage")[report["evaluation_id"]] == coverage["share"]
    assert len(today) == 1_000


def test_a_label_file_delivered_again_or_uploaded_twice_changes_nothing(
    services: Services,
) -> None:
    # GIVEN two batches reconciled when their label file landed
    start_model(services)
    batches = [land_batch(services, hour, seed=10 + i) for i, hour in enumerate(EARLY_DAYS[:2])]
    labels = pd.concat(batches)
    land_labels(services, "labels/churn/2026/11/27/l.csv", labels)
    stored = batch_items(services)
    assert len(stored) == 2 * 3 * 6 * 4  # batches, scopes (overall, 2 plans), metrics, parts

    # WHEN the label file's event is delivered again
    again = jobs.ingest_labels(services, "labels/churn/2026/11/27/l.csv", received=WEEKS_LATER)
    # THEN the same figures are stored, nothing added
    assert batch_items(services) == stored
    assert len(again["batches"]) == 2

    # WHEN the same labels are uploaded again under another key, the next day
    land_labels(services, "labels/churn/2026/11/28/l-copy.csv", labels)
    # THEN each row is still counted once: the same figures, under the same keys
    assert batch_items(services) == stored
    # AND the coverage counts each batch once
    evaluated = jobs.evaluate_model(services, "churn", now=WEEKS_LATER + 24 * HOUR)
    (month,) = [window for window in evaluated["windows"] if window["window"] == "P30D"]
    report = services.store.get_json(f"reports/churn/{month['evaluation_id']}.json")
    assert report["performance"]["reconciled"]["coverage"]["pairs"] == 12


def arrive(
    services: Services, steps: list[str], batches: dict[str, pd.DataFrame]
) -> dict[str, dict[str, float]]:
    """Play the arrivals of two batches' predictions and labels in the order of ``steps``:
    ``p1``/``p2`` the predictions, ``l1``/``l2`` the label files, ``wrong1`` a first
    version of ``l1`` with a tenth of its labels flipped (replaced by ``l1``). Returns the
    stored batch figures after each step."""
    after: dict[str, dict[str, float]] = {}
    for step in steps:
        index = int(step[-1]) - 1
        if step.startswith("p"):
            land_batch(services, EARLY_DAYS[index], seed=10 + index)
            after[step] = batch_items(services)
            continue
        labels = batches[f"p{index + 1}"].copy()
        if step.startswith("wrong"):
            flipped = labels.index[::10]
            labels.loc[flipped, "churned"] = 1 - labels.loc[flipped, "churned"]
        land_labels(services, f"labels/churn/2026/11/{20 + index}/l{index + 1}.csv", labels)
        after[step] = batch_items(services)
    return after


def test_labels_arriving_in_any_order_store_the_same_figures(services: Services) -> None:
    batches = {f"p{i + 1}": land_batch_rows(i) for i in range(2)}
    orders = [
        ["p1", "p2", "l1", "l2"],
        ["p1", "p2", "l2", "l1"],  # the labels in reverse order
        ["l1", "l2", "p2", "p1"],  # the labels before their predictions
        ["p1", "p2", "wrong1", "l2", "l1"],  # a label file uploaded again, corrected
    ]
    found = []
    for order in orders:
        # GIVEN a fresh deployment
        wipe(services)
        start_model(services)
        # WHEN two batches and their labels arrive in this order
        steps = arrive(services, order, batches)
        # THEN both batches are reconciled
        figures = batch_items(services)
        assert {key.split("#batch#")[1] for key in figures} == {
            reconciled_id(EARLY_DAYS[0]),
            reconciled_id(EARLY_DAYS[1]),
        }
        found.append(figures)
        if "wrong1" in steps:
            # AND the wrong first version had stored other figures, which the corrected
            # one replaced
            assert steps["wrong1"] and steps["wrong1"] != {
                key: value for key, value in figures.items() if key in steps["wrong1"]
            }
    # AND every order stored the same figures, to the bit
    assert all(figures == found[0] for figures in found[1:])


def land_batch_rows(index: int) -> pd.DataFrame:
    """The rows :func:`land_batch` lands for ``EARLY_DAYS[index]``."""
    batch = rows(1_000, seed=10 + index)
    batch["customer_id"] += (10 + index) * 100_000
    return batch


def test_a_batch_labelled_by_two_files_is_reconciled_once_both_are_in(
    services: Services,
) -> None:
    # GIVEN a batch whose labels come in two files, half each
    start_model(services)
    batch = land_batch(services, EARLY_DAYS[0], seed=10)
    first, second = batch.iloc[:500], batch.iloc[500:]

    # WHEN the first half lands
    outcome = land_labels(services, "labels/churn/2026/11/20/a.csv", first)
    # THEN the batch is not reconciled: its labels are not a fair sample yet
    (skipped,) = outcome["batches"]
    assert skipped["skipped"] == (
        "labels cover 500 of 1,000 rows (50.00%); the estimate is reconciled when they cover "
        "at least 99%"
    )
    assert batch_items(services) == {}

    # WHEN the second half lands
    land_labels(services, "labels/churn/2026/11/21/b.csv", second)
    # THEN the batch is reconciled on all its rows, as if one file had held every label
    together = batch_items(services)
    assert len(together) == 3 * 6 * 4
    wipe(services)
    start_model(services)
    land_batch(services, EARLY_DAYS[0], seed=10)
    land_labels(services, "labels/churn/2026/11/20/all.csv", batch)
    assert batch_items(services) == together


def test_a_batch_too_small_for_an_interval_is_not_reconciled(services: Services) -> None:
    # GIVEN a batch of 50 predictions, fewer than the estimate's 100 rows
    start_model(services)
    logged: list[dict[str, Any]] = []
    services.log = lambda message, **fields: logged.append({"message": message, **fields})
    batch = land_batch(services, EARLY_DAYS[0], seed=10, count=50)

    # WHEN its labels land
    outcome = land_labels(services, "labels/churn/2026/11/20/l.csv", batch)

    # THEN it is skipped with the reason, logged with counts only, and nothing is stored
    reason = "too few rows to reconcile: 50 rows estimated, fewer than 100"
    assert outcome["batches"] == [
        {"batch": digest(inference_key(EARLY_DAYS[0])), "skipped": reason}
    ]
    assert {
        "message": "batch not reconciled",
        "model": "churn",
        "batch": digest(inference_key(EARLY_DAYS[0])),
        "reason": reason,
    } in logged
    assert batch_items(services) == {}


def test_a_batch_carrying_its_labels_is_reconciled_as_it_lands_and_on_a_retry(
    services: Services,
) -> None:
    # GIVEN a batch whose predictions carry their labels inline
    start_model(services)
    batch = land_batch_rows(0)
    key = inference_key(EARLY_DAYS[0])
    services.store.put(key, csv(batch))

    # WHEN it lands
    outcome = jobs.profile_batch(services, key, received=EARLY_DAYS[0] + HOUR)
    # THEN it is reconciled at once, with no label file
    assert outcome["batches"] == [{"batch": digest(key), "reconciled": sorted(ESTIMATED_METRICS)}]
    stored = batch_items(services)
    assert len(stored) == 3 * 6 * 4

    # WHEN an attempt stored its profile and failed before reconciling, and is retried
    client, name = services.table.client, services.table.name
    for item in client.scan(TableName=name)["Items"]:
        if "#batch#" in item["SK"]["S"]:
            client.delete_item(TableName=name, Key={"PK": item["PK"], "SK": item["SK"]})
    again = jobs.profile_batch(services, key, received=EARLY_DAYS[0] + HOUR)
    # THEN the retry reconciles it: the same figures
    assert again["status"] == "duplicate"
    assert batch_items(services) == stored
