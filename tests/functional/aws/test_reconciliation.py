"""The estimate stored before the labels, reconciled with them when they land, and the
model's running coverage, through the jobs on moto: the metric items written, the result
stored, and what a second delivery of the same evaluation changes (nothing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.aws import jobs
from driftline.aws.jobs import Services
from driftline.estimation import ESTIMATED_METRICS

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
        "churn", name, segment=segment, start="2026-11-24", end="2026-11-26"
    )
    return {point.evaluation_id: point.value for point in found}


def result(services: Services, outcome: dict[str, Any]) -> dict[str, Any]:
    (window,) = outcome["windows"]
    document: dict[str, Any] = services.store.get_json(
        f"reports/churn/{window['evaluation_id']}.json"
    )
    return document


def emitted(text: str) -> dict[str, float]:
    """The metrics of the EMF lines printed for the model and window (no segment)."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if '"_aws"' in line:
            document = json.loads(line)
            if "segment" not in document and "window" in document:
                for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                    values[metric["Name"]] = document[metric["Name"]]
    return values


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
    graphed = emitted(capsys.readouterr().out)

    # THEN the estimate of the same rows is the one made before the labels, to the bit
    assert after["performance"]["estimated"] == estimated
    # AND it is reconciled with what the labels say, overall and per plan, and stored
    reconciled = after["performance"]["reconciled"]
    labelled = batch
    realised_accuracy = float((labelled["churned"] == labelled["churn_predicted"]).mean())
    assert reconciled["overall"]["accuracy"]["realised"] == pytest.approx(realised_accuracy)
    for name, figures in reconciled["overall"].items():
        assert figures["estimated"] == estimated["overall"][name]["value"]
        assert points(services, f"reconciled.{name}.estimated") == {morning: figures["estimated"]}
        assert points(services, f"reconciled.{name}.realised") == {morning: figures["realised"]}
        assert points(services, f"reconciled.{name}.inside") == {morning: float(figures["inside"])}
    for plan in ("plan=basic", "plan=pro"):
        for name, figures in reconciled["segments"][plan].items():
            assert points(services, f"reconciled.{name}.inside", plan) == {
                morning: float(figures["inside"])
            }
    # AND the coverage is the share of this evaluation's metrics inside their intervals,
    # stored with it
    inside = sum(figures["inside"] for figures in reconciled["overall"].values())
    assert reconciled["coverage"] == {
        "share": inside / 6,
        "inside": inside,
        "pairs": 6,
        "evaluations": 1,
        "trailing": 100,
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

    # AND the coverage check waits for more evidence than one evaluation's 6 estimates
    (check,) = [c for c in after["checks"] if c["name"] == "estimate-coverage"]
    assert check["status"] == "skip"
    assert check["detail"].startswith("estimate_coverage: 6 reconciled estimates so far")

    # WHEN the next hours' evaluations cover the same labelled rows
    for hours in range(1, 5):
        later = result(services, jobs.evaluate_model(services, "churn", now=AFTER + hours * HOUR))
        # THEN each is reconciled again and the coverage counts every evaluation so far,
        # read back from the stored figures
        coverage = later["performance"]["reconciled"]["coverage"]
        stored_inside = [
            value
            for name in ESTIMATED_METRICS
            for value in points(services, f"reconciled.{name}.inside").values()
        ]
        assert (coverage["pairs"], coverage["evaluations"]) == (6 * (hours + 1), hours + 1)
        assert coverage["inside"] == sum(stored_inside) == (hours + 1) * inside
        assert points(services, "estimate_coverage")[later["evaluation_id"]] == coverage["share"]
    # AND from 30 reconciled estimates on (five evaluations), the check decides on the share
    (check,) = [c for c in later["checks"] if c["name"] == "estimate-coverage"]
    assert check["value"] == coverage["share"]
    assert check["status"] == ("pass" if coverage["share"] >= 0.5 else "fail")
    assert check["detail"].endswith(
        f"({coverage['inside']} of 30 reconciled estimates inside their 95% interval, over 5 "
        "evaluations)"
    )
