"""Production and ``driftline backtest`` feed a detector check the same rows, values and
order (one path: :mod:`driftline.detector_feed`), so a backtest reproduces production.

The history is replayed twice: through the jobs on moto (inference batches profiled, label
files joined, arriving out of order) and through the backtest's loading and detector replay
on the same files. Each check's detector state must come out identical, to the byte.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.aws import jobs
from driftline.aws.jobs import Services
from driftline.backtest import load_logs, replay_detector_check
from driftline.config import load_monitor_definition
from driftline.detectors import make_detector

DEFINITION = """
model: churn
schema:
  id: customer_id
  timestamp: event_time
  task: binary_classification
  prediction: churn_predicted
  score: churn_score
  label: churned
  positive_class: 1
  features: {tenure: numeric, plan: categorical}
  segments: [plan]
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: error-ddm, detector: ddm, signal: error, action: notify}
  - {name: score-page-hinkley, detector: page_hinkley, signal: score, action: notify}
  - name: tenure-adwin-pro
    detector: adwin
    signal: tenure
    segment: {plan: pro}
    action: notify
schedule: rate(1 day)
windows: [P1D]
"""
NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
HOURS = range(10, 16)


def hour_batch(hour: int, rows: int = 400) -> pd.DataFrame:
    """One hour of predictions with their labels; from 13:00 the model degrades and the
    scores and pro customers' tenure shift. Some rows have no prediction, some a tenure
    that is missing or not a number: rows a detector cannot read."""
    rng = np.random.default_rng(hour)
    changed = hour >= 13
    predicted = rng.integers(0, 2, rows)
    wrong = rng.random(rows) > (0.6 if changed else 0.9)
    plan = rng.choice(["basic", "pro"], rows)
    tenure = rng.gamma(2.0, 12.0, rows) + np.where(changed & (plan == "pro"), 15.0, 0.0)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(hour * 1000, hour * 1000 + rows),
            # seconds drawn with repeats: rows of equal time keep their order in the file
            "event_time": pd.Timestamp(f"2026-11-24T{hour:02d}:00:00Z")
            + pd.to_timedelta(rng.integers(0, 900, rows) * 4, unit="s"),
            "tenure": tenure.round(3).astype(object),
            "plan": plan,
            "churn_score": np.clip(rng.random(rows) + (0.3 if changed else 0.0), 0, 1).round(4),
            "churn_predicted": predicted.astype(object),
            "churned": np.where(wrong, 1 - predicted, predicted),
        }
    )
    frame.loc[rng.random(rows) < 0.03, "churn_predicted"] = None
    frame.loc[rng.random(rows) < 0.03, "tenure"] = None
    frame.loc[rng.random(rows) < 0.02, "tenure"] = "unknown"
    return frame


def csv(data: pd.DataFrame) -> bytes:
    return data.to_csv(index=False).encode()


@pytest.fixture
def history(tmp_path: Path) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """Six hourly inference files without labels, and three label files of two hours each
    (each batch's labels in one file)."""
    batches = {hour: hour_batch(hour) for hour in HOURS}
    inference = [
        (f"inference/churn/2026/11/24/{hour}/batch.csv", csv(batches[hour].drop(columns="churned")))
        for hour in HOURS
    ]
    labels = [
        (
            f"labels/churn/2026/11/24/hours-{first}-{first + 1}.csv",
            csv(
                pd.concat([batches[first], batches[first + 1]])[["customer_id", "churned"]].sample(
                    frac=1.0, random_state=first
                )  # label files come in any row order
            ),
        )
        for first in (10, 12, 14)
    ]
    return inference, labels


def test_backtest_leaves_the_detectors_as_production_does(
    services: Services,
    tmp_path: Path,
    history: tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]],
) -> None:
    inference, labels = history
    # GIVEN a deployed model, its six hourly batches profiled, and its three label files
    # arriving out of order (the middle hours' labels first)
    services.store.put("baselines/churn/reference.csv", csv(hour_batch(1, rows=2000)))
    services.store.put("config/churn.yaml", DEFINITION.encode())
    assert jobs.configure(services, "config/churn.yaml")["status"] == "stored"
    for key, body in inference:
        services.store.put(key, body)
        jobs.profile_batch(services, key, received=NOW)
    for key, body in [labels[1], labels[0], labels[2]]:
        services.store.put(key, body)
        jobs.ingest_labels(services, key, received=NOW)
    # WHEN the same files are backtested
    for key, body in inference + labels:
        (tmp_path / key.replace("/", "_")).write_bytes(body)
    definition = load_monitor_definition(DEFINITION)
    log = load_logs(
        definition,
        [tmp_path / key.replace("/", "_") for key, _ in inference],
        labels=[tmp_path / key.replace("/", "_") for key, _ in labels],
    )
    for index, check in enumerate(definition.checks):
        assert check.detector is not None
        replayed = make_detector(check.detector, **check.params)
        result = replay_detector_check(check, index, definition, log.frame, detector=replayed)
        # THEN each detector's state equals production's, and so do the rows it read
        production = services.table.state("churn", "DETECTOR", check.name).document
        assert replayed.to_dict() == production["detector"], check.name
        assert result["rows"] == production["detector"]["state"]["n"], check.name
        # AND rows a detector cannot read (no prediction; a tenure missing or not a number)
        # were left out and counted, not fed and not fatal
        assert (result["rows_without_signal"] > 0) == (check.name != "score-page-hinkley")
    # AND the change planted at 13:00 is found by both (the same states fire the same)
    assert any(services.table.state("churn", "DETECTOR", "error-ddm").document["reported"])
