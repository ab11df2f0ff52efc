"""A regression model's estimated MAE and RMSE reconciled batch by batch when the labels
land, weeks late, through the jobs on moto; the running coverage counts them and a check of
it (``metric: estimate_coverage``) decides on it, as a classifier's does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.aws import jobs
from driftline.aws.jobs import Services
from driftline.ids import digest
from moto_support import emitted_metrics

DEFINITION = """
model: fare
schema:
  id: trip_id
  task: regression
  prediction: fare_predicted
  label: fare
  features: {distance: numeric, zone: categorical}
  segments: [zone]
baseline: {path: baselines/fare/reference.csv}
checks:
  - {name: estimate-coverage, metric: estimate_coverage, min: 0.5, action: notify}
schedule: rate(1 hour)
windows: [P30D]
"""
#: Fifteen days of predictions, one batch a day at 10:00 (15 batches × 2 metrics = the 30
#: reconciled pairs a coverage check needs); their labels land weeks later, within the
#: 30-day window that is also how far back a label file looks for its predictions.
DAYS = [datetime(2026, 11, day, 10, tzinfo=UTC) for day in range(2, 17)]
LATER = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


def rows(count: int, *, seed: int) -> pd.DataFrame:
    """Trips whose fare is the prediction plus noise that grows with the distance."""
    rng = np.random.default_rng(seed)
    distance = rng.gamma(2.0, 3.0, count).round(2)
    predicted = 3.0 + 2.5 * distance
    return pd.DataFrame(
        {
            "trip_id": np.arange(count),
            "distance": distance,
            "zone": rng.choice(["north", "south"], count),
            "fare_predicted": predicted.round(2),
            "fare": (predicted + rng.normal(0.0, 0.5 + 0.3 * distance)).round(2),
        }
    )


def csv(data: pd.DataFrame) -> bytes:
    return data.to_csv(index=False).encode()


def key_of(hour: datetime) -> str:
    return f"inference/fare/{hour:%Y/%m/%d/%H}/b.csv"


def figures(services: Services, name: str) -> dict[str, float]:
    found = services.table.metric("fare", name, start="2026-11-01", end="2026-12-01")
    return {point.evaluation_id: point.value for point in found}


def report(services: Services, outcome: dict[str, Any]) -> dict[str, Any]:
    (window,) = outcome["windows"]
    document: dict[str, Any] = services.store.get_json(
        f"reports/fare/{window['evaluation_id']}.json"
    )
    return document


def start_model_with_days(
    services: Services, offsets: np.ndarray | None = None
) -> list[pd.DataFrame]:
    """The fare model configured on a labelled baseline, and fifteen days of unlabelled
    predictions profiled as they landed (each day's fares off by ``offsets[day]`` when
    given); the days' rows with their fares, for the labels."""
    services.store.put("baselines/fare/reference.csv", csv(rows(6_000, seed=1)))
    services.store.put("config/fare.yaml", DEFINITION.encode())
    assert jobs.configure(services, "config/fare.yaml")["status"] == "stored"
    batches = []
    for index, hour in enumerate(DAYS):
        batch = rows(1_000, seed=10 + index)
        batch["trip_id"] += (index + 1) * 100_000  # ids unique across batches
        if offsets is not None:
            batch["fare"] = (batch["fare"] + offsets[index]).round(2)
        services.store.put(key_of(hour), csv(batch.drop(columns="fare")))
        jobs.profile_batch(services, key_of(hour), received=hour + HOUR)
        batches.append(batch)
    return batches


def test_a_regression_models_batches_are_reconciled_and_its_coverage_checked(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a regression model with a labelled baseline and a check of its coverage
    # AND fifteen days of unlabelled predictions; the first evaluated the night it landed
    batches = start_model_with_days(services)
    capsys.readouterr()
    first_night = report(services, jobs.evaluate_model(services, "fare", now=DAYS[0] + 13 * HOUR))
    before = first_night["performance"]["estimated"]["overall"]
    assert set(before) >= {"mae", "rmse"}
    # AND CloudWatch gets the estimated MAE and RMSE (the dashboard graphs the RMSE), not
    # their interval ends
    emitted = emitted_metrics(capsys.readouterr().out)
    assert emitted["estimated_mae"] == before["mae"]["value"]
    assert emitted["estimated_rmse"] == before["rmse"]["value"]
    assert not [name for name in emitted if "_lower" in name or "_upper" in name]
    (check,) = [c for c in first_night["checks"] if c["name"] == "estimate-coverage"]
    assert check["status"] == "skip"

    # WHEN one label file with every batch's labels lands
    services.store.put("labels/fare/2026/11/27/l.csv", csv(pd.concat(batches)[["trip_id", "fare"]]))
    outcome = jobs.ingest_labels(services, "labels/fare/2026/11/27/l.csv", received=LATER)

    # THEN each batch is reconciled at once, on its MAE and RMSE, under its own id
    ids = [f"fare-reconciled-{digest(key_of(hour))}" for hour in DAYS]
    assert outcome["batches"] == [
        {"batch": digest(key_of(hour)), "reconciled": ["mae", "rmse"]} for hour in DAYS
    ]
    for name in ("mae", "rmse"):
        assert sorted(figures(services, f"reconciled.{name}.inside")) == sorted(ids)
        # AND the first batch's reconciled estimate is the one reported the night it landed
        estimated = figures(services, f"reconciled.{name}.estimated")
        assert estimated[ids[0]] == before[name]["value"]
        # AND its realised value is the batch's own MAE or RMSE
        errors = batches[0]["fare_predicted"] - batches[0]["fare"]
        realised = figures(services, f"reconciled.{name}.realised")[ids[0]]
        expected = errors.abs().mean() if name == "mae" else np.sqrt((errors**2).mean())
        assert abs(realised - expected) < 1e-9

    # WHEN the scheduled evaluation runs
    evaluated = report(services, jobs.evaluate_model(services, "fare", now=LATER))
    # THEN the coverage counts the 30 reconciled pairs of the 15 batches, and the check
    # decides on it
    inside = [
        figures(services, f"reconciled.{name}.inside")[batch_id]
        for name in ("mae", "rmse")
        for batch_id in ids
    ]
    coverage = evaluated["performance"]["reconciled"]["coverage"]
    assert coverage == {
        "share": sum(inside) / 30,
        "inside": sum(inside),
        "pairs": 30,
        "evaluations": 15,
        "trailing": 100,
        "counts": "batches",
    }
    (check,) = [c for c in evaluated["checks"] if c["name"] == "estimate-coverage"]
    assert check["value"] == coverage["share"]
    assert check["status"] == ("pass" if coverage["share"] >= 0.5 else "fail")
    assert figures(services, "estimate_coverage")[evaluated["evaluation_id"]] == coverage["share"]


def test_reconciled_batches_whose_errors_spread_more_than_the_baselines_widen_the_interval(
    services: Services,
) -> None:
    # GIVEN a regression model whose baseline is one steady process, and fifteen days whose
    # fares are each off by a day's own amount (a day of road works, of rain): the error
    # spreads from day to day more than the baseline's periods showed
    batches = start_model_with_days(services, np.random.default_rng(99).normal(0.0, 4.0, 15))
    services.store.put("labels/fare/2026/11/27/l.csv", csv(pd.concat(batches)[["trip_id", "fare"]]))
    jobs.ingest_labels(services, "labels/fare/2026/11/27/l.csv", received=LATER)

    # WHEN the scheduled evaluation runs
    evaluated = report(services, jobs.evaluate_model(services, "fare", now=LATER))

    # THEN its intervals read the fifteen reconciled batches' error, computed here from the
    # stored figures: mean squared error beyond the mean sampling variance
    estimated = evaluated["performance"]["estimated"]
    section = estimated["interval"]["reconciled_error"]
    assert section["batches"] == 15
    for name in ("mae", "rmse"):
        stored = {
            part: {
                key: value
                for key, value in figures(services, f"reconciled.{name}.{part}").items()
                if key.startswith("fare-reconciled-")  # the batches', not the window's
            }
            for part in ("estimated", "realised", "sampling_variance")
        }
        assert len(stored["sampling_variance"]) == 15
        ids = sorted(stored["estimated"])
        errors = np.array([stored["estimated"][i] - stored["realised"][i] for i in ids])
        variances = np.array([stored["sampling_variance"][i] for i in ids])
        excess = float(np.mean(errors**2) - np.mean(variances))
        assert section["terms"][name]["sd"] == pytest.approx(np.sqrt(excess), rel=1e-9)
        # AND it is wider than the baseline's, so it widens the interval, which says so
        baseline = estimated["interval"]["model_error"]["terms"][name]["sd"]
        assert section["terms"][name]["sd"] > baseline
        assert name in section["widens"]
        assert estimated["interval"]["covers"][name] == "sampling_and_reconciled_error"
        figures_now = estimated["overall"][name]  # the lower end is clipped at 0
        upper_half = figures_now["upper"] - figures_now["value"]
        assert upper_half >= 1.959963984540054 * section["terms"][name]["sd"]
