"""Load on the local runtime, scaled down for the test suite: 36 batch uploads across three
models (one per kind of failure tests/load/harness.py builds), every event delivered twice in one
shuffled order with labels racing their predictions, against a clean sequential run.
The full scale (1,000 uploads, 10 models) is ``python -m tests.load``; docs/reliability.md
records its figures."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .harness import (
    Scale,
    Scenario,
    build_scenario,
    compare,
    expected_incidents,
    figures,
    labels_before_predictions,
    run_clean,
    run_raced,
)

SCALE = Scale(models=3, batches=12, rows=20, batches_per_label_file=4)


@pytest.fixture(scope="module")
def runs() -> dict[str, Any]:
    scenario = build_scenario(SCALE)
    return {"scenario": scenario, "clean": run_clean(scenario), "raced": run_raced(scenario)}


def test_the_scenario_races_labels_and_builds_one_incident_per_failing_model(
    runs: dict[str, Any],
) -> None:
    scenario: Scenario = runs["scenario"]
    assert SCALE.uploads == 36
    assert {check for _, check in expected_incidents(scenario)} == {
        "accuracy-floor",
        "x-drift",
        "y-missing",
    }
    # in the raced order some label files land before the predictions they label
    assert labels_before_predictions(scenario) > 0


def test_twice_delivered_shuffled_events_give_the_clean_runs_results(
    runs: dict[str, Any],
) -> None:
    # GIVEN the same files delivered cleanly, and twice in a shuffled order
    scenario, clean, raced = runs["scenario"], runs["clean"], runs["raced"]
    # THEN nothing differs: metrics exactly, reports, detectors, one message per incident
    assert compare(scenario, clean, raced) == []
    numbers = figures(scenario, clean, raced)
    assert numbers["metric_items"] == numbers["metric_items_equal"] > 0
    assert numbers["raced"]["redelivered_events"] >= 2 * SCALE.models + SCALE.uploads
    assert numbers["detector_rows"]["raced"] == numbers["detector_rows"]["expected"] > 0
    assert numbers["notifications"]["raced"] == numbers["incidents"] == 3
    assert numbers["failed_invocations"] == 0


def test_the_comparison_catches_a_lost_update_a_changed_metric_and_a_second_page(
    runs: dict[str, Any],
) -> None:
    # The check above can fail: each kind of damage to the raced run is reported
    scenario, clean, raced = runs["scenario"], runs["clean"], runs["raced"]
    model = sorted(raced.detectors)[0]
    lost = copy.deepcopy(raced)
    lost.detectors[model]["rows"] -= 1
    assert any("lost or doubled update" in p for p in compare(scenario, clean, lost))
    changed = copy.deepcopy(raced)
    key = sorted(changed.metrics)[0]
    changed.metrics[key] += 1e-12
    assert any(key in p for p in compare(scenario, clean, changed))
    paged_twice = copy.deepcopy(raced)
    paged_twice.notifications.append(paged_twice.notifications[0])
    assert any("notified" in p for p in compare(scenario, clean, paged_twice))
    failed = copy.deepcopy(raced)
    failed.failures.append("ProfileBatchFunction: Traceback ...")
    assert any("a function failed" in p for p in compare(scenario, clean, failed))
    alarmed = copy.deepcopy(raced)
    alarmed.notifications.append(("(alarm)", "alarm", ("load-ProfileBatchErrorsAlarm",)))
    assert any("1 alarm pages" in p for p in compare(scenario, clean, alarmed))
