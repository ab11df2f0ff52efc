"""Daily roll-ups: an evaluation reads each day its window covers entirely through one
merged profile (``profiles/<model>/daily/<kind>/YYYY/MM/DD.json``) instead of every batch of
that day, with the same figures; a late file, a damaged roll-up or a failed write cost only
time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from driftline.aws import jobs
from driftline.aws.jobs import Services

from .test_jobs import DEFINITION, NOW, csv, frame

DAYS = (21, 22, 23, 24)
HOURS = (10, 14)


def deploy(services: Services) -> None:
    services.store.put("baselines/churn/reference.csv", csv(frame(3000, seed=1, accuracy=0.9)))
    services.store.put("config/churn.yaml", DEFINITION.replace("[P1D]", "[P3D]").encode())
    assert jobs.configure(services, "config/churn.yaml")["baseline"]["status"] == "built"


def upload(services: Services, day: int, hour: int, *, seed: int) -> pd.DataFrame:
    """One inference batch at ``day``/``hour`` and the labels of all its rows, the same day."""
    data = frame(400, seed=seed, accuracy=0.7 + 0.05 * (seed % 4), start=seed * 1000)
    stem = f"2026/11/{day:02d}"
    key = f"inference/churn/{stem}/{hour:02d}/b{seed}.csv"
    services.store.put(key, csv(data.drop(columns="churned")))
    jobs.profile_batch(services, key, received=NOW)
    labels = f"labels/churn/{stem}/l{seed}.csv"
    services.store.put(labels, csv(data[["customer_id", "churned"]]))
    jobs.ingest_labels(services, labels, received=NOW)
    return data.assign(day=day, hour=hour)


@pytest.fixture
def uploaded(services: Services) -> pd.DataFrame:
    deploy(services)
    frames = [upload(services, day, hour, seed=10 * day + hour) for day in DAYS for hour in HOURS]
    return pd.concat(frames, ignore_index=True)


def evaluated(services: Services, now: Any) -> dict[str, Any]:
    (window,) = jobs.evaluate_model(services, "churn", now=now)["windows"]
    return services.store.get_json(f"reports/churn/{window['evaluation_id']}.json")


def expected(data: pd.DataFrame, now: Any) -> tuple[int, float, int]:
    """Rows, accuracy and labelled rows of the P3D window ending at ``now``'s hour, from the
    raw data: batches and their labels both by the hour of the predictions."""
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=3)
    stamps = pd.to_datetime(
        {"year": 2026, "month": 11, "day": data["day"], "hour": data["hour"]}, utc=True
    )
    in_window = (stamps >= start) & (stamps < end)
    labelled = data[in_window]
    accuracy = float((labelled["churned"] == labelled["churn_predicted"]).mean())
    return int(in_window.sum()), accuracy, len(labelled)


def figures(report: dict[str, Any]) -> tuple[int, float, int]:
    checks = {check["name"]: check for check in report["checks"]}
    labels = report["performance"]["labels"]["overall"]
    return report["rows"]["current"], checks["accuracy-floor"]["value"], labels["labelled"]


def rollup(day: int, kind: str = "batches") -> str:
    return f"profiles/churn/daily/{kind}/2026/11/{day:02d}.json"


def test_whole_days_are_rolled_up_and_the_figures_are_the_raw_datas(
    services: Services, uploaded: pd.DataFrame
) -> None:
    # WHEN the P3D window ending 2026-11-24 23:00 is evaluated
    report = evaluated(services, NOW)

    # THEN its figures are those of the raw rows in the window
    rows, accuracy, labelled = figures(report)
    want_rows, want_accuracy, want_labelled = expected(uploaded, NOW)
    assert (rows, labelled) == (want_rows, want_labelled)
    assert accuracy == pytest.approx(want_accuracy, abs=1e-12)
    # ... the days it covers entirely have a roll-up of exactly their stored profiles; the
    # first (from 23:00 on) and the last (today, still filling) do not
    assert {d for d in DAYS if services.store.exists(rollup(d))} == {22, 23}
    document = services.store.get_json(rollup(22))
    listed = [key for key, _ in services.store.listing("profiles/churn/batches/2026/11/22/")]
    assert [key for key, _ in document["sources"]] == listed and len(listed) == len(HOURS)
    assert document["profile"]["rows"] == 400 * len(HOURS)
    # ... labelled profiles count by the hour of the predictions too: the same days
    assert {d for d in DAYS if services.store.exists(rollup(d, "labelled"))} == {22, 23}


def test_a_later_evaluation_reads_the_roll_ups_not_the_batches(
    services: Services, uploaded: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluated(services, NOW)
    read: list[str] = []
    get_json = services.store.get_json

    def recording(key: str) -> Any:
        read.append(key)
        return get_json(key)

    monkeypatch.setattr(services.store, "get_json", recording)
    later = NOW + timedelta(hours=1)  # another evaluation id, the same whole days

    report = evaluated(services, later)

    batches_read = {key.split("/")[5] for key in read if key.startswith("profiles/churn/batches/")}
    # 22 and 23 come from their roll-ups; 24 became whole at midnight, so its batches are
    # read once more, to roll it up
    assert batches_read == {"24"}
    assert {rollup(22), rollup(23)} <= set(read)
    assert services.store.exists(rollup(24))
    rows, accuracy, labelled = figures(report)
    want_rows, want_accuracy, want_labelled = expected(uploaded, later)
    assert (rows, labelled) == (want_rows, want_labelled)
    assert accuracy == pytest.approx(want_accuracy, abs=1e-12)


def test_a_late_file_for_a_rolled_up_day_is_counted(
    services: Services, uploaded: pd.DataFrame
) -> None:
    evaluated(services, NOW)
    # GIVEN a batch (and its labels) landing late for 22 November, already rolled up
    late = upload(services, 22, 18, seed=999)

    report = evaluated(services, NOW + timedelta(hours=1))

    data = pd.concat([uploaded, late], ignore_index=True)
    rows, accuracy, labelled = figures(report)
    want_rows, want_accuracy, want_labelled = expected(data, NOW + timedelta(hours=1))
    assert (rows, labelled) == (want_rows, want_labelled)
    assert accuracy == pytest.approx(want_accuracy, abs=1e-12)
    assert len(services.store.get_json(rollup(22))["sources"]) == len(HOURS) + 1


def test_a_damaged_roll_up_is_rebuilt_and_said(services: Services, uploaded: pd.DataFrame) -> None:
    evaluated(services, NOW)
    services.store.put(rollup(23), b"{not json")
    logged: list[tuple[str, dict[str, Any]]] = []
    services.log = lambda message, **fields: logged.append((message, fields))

    report = evaluated(services, NOW + timedelta(hours=1))

    want_rows, _, want_labelled = expected(uploaded, NOW + timedelta(hours=1))
    assert figures(report)[0::2] == (want_rows, want_labelled)
    assert ("roll-up unreadable, rebuilt", {"key": rollup(23), "error": "JSONDecodeError"}) in (
        logged
    )
    assert services.store.get_json(rollup(23))["profile"]["rows"] == 400 * len(HOURS)


def test_an_evaluation_goes_on_when_the_roll_up_cannot_be_stored(
    services: Services, uploaded: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_json = services.store.put_json

    def refusing(key: str, document: Any, **kwargs: Any) -> None:
        if "/daily/" in key:
            raise RuntimeError("AccessDenied")
        put_json(key, document, **kwargs)

    monkeypatch.setattr(services.store, "put_json", refusing)
    logged: list[str] = []
    services.log = lambda message, **fields: logged.append(message)

    report = evaluated(services, NOW)

    rows, accuracy, labelled = figures(report)
    want_rows, want_accuracy, want_labelled = expected(uploaded, NOW)
    assert (rows, labelled) == (want_rows, want_labelled)
    assert accuracy == pytest.approx(want_accuracy, abs=1e-12)
    assert not services.store.exists(rollup(22))
    assert logged.count("roll-up not stored") == 4  # batches 22, 23; labelled 22, 23
