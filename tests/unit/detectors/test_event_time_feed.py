"""Detectors fed in event-time order whatever the arrival order (driftline.detector_feed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.detector_feed import feed
from driftline.detectors import make_detector

START = datetime(2026, 11, 24, tzinfo=UTC)
HORIZON = timedelta(hours=48)


def batches(count: int, seed: int) -> dict[str, tuple[datetime, list[float]]]:
    """Hourly batches of an error signal whose rate jumps halfway (ADWIN fires on it)."""
    rng = np.random.default_rng(seed)
    found = {}
    for hour in range(count):
        rate = 0.05 if hour < count // 2 else 0.5
        values = (rng.random(60) < rate).astype(float).tolist()
        found[f"b{hour:03d}"] = (START + timedelta(hours=hour), values)
    return found


def run(order: list[str], data: dict[str, tuple[datetime, list[float]]], *, horizon=HORIZON):
    state: dict = {}
    fed = []
    for name in order:
        time, values = data[name]
        state, outcome = feed(
            state,
            time,
            name,
            values,
            horizon=horizon,
            make=lambda: make_detector("adwin"),
            load=lambda batch: data[batch][1],
        )
        fed.append(outcome)
    return state, fed


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(batches(12, seed=1))), st.integers(0, 3))
def test_any_arrival_order_within_the_horizon_leaves_the_in_order_state(
    order: list[str], seed: int
) -> None:
    # GIVEN twelve hourly batches (all within the 48-hour horizon of each other)
    data = batches(12, seed)
    in_order, _ = run(sorted(data), data)
    # WHEN they arrive shuffled, THEN the detector's state is the in-order one
    shuffled, outcomes = run(order, data)
    assert shuffled["detector"] == in_order["detector"]
    assert all(o.status in ("applied", "reordered") for o in outcomes)


def test_the_in_order_detector_equals_one_fed_every_value_at_once() -> None:
    # The oracle: one detector fed the concatenated stream in event-time order.
    data = batches(12, seed=2)
    state, outcomes = run(sorted(data), data)
    oracle = make_detector("adwin")
    fired = []
    for name in sorted(data):
        for position, value in enumerate(data[name][1]):
            oracle.update(value)
            if oracle.drift_detected:
                fired.append((name, position))
    assert state["detector"] == oracle.to_dict()
    pairs = zip(sorted(data), outcomes, strict=True)
    assert [(name, row) for name, o in pairs for row in o.fired] == fired
    assert fired, "the planted jump must be detected for this test to mean anything"


def test_a_later_hour_arriving_first_does_not_make_the_earlier_hour_fire() -> None:
    # GIVEN hour 11 (after the jump) arriving before hour 10 (before it)
    data = batches(12, seed=3)
    order = [*sorted(data)[:5], "b007", "b006", "b005", *sorted(data)[8:]]
    _, outcomes = run(order, data)
    _, in_order = run(sorted(data), data)
    # THEN the fires found are the in-order ones, each reported once (as a fire of the new
    # batch or of a batch put back in its place by a replay)
    found = {(name, row) for name, o in zip(order, outcomes, strict=True) for row in o.fired} | {
        item for o in outcomes for item in o.fired_elsewhere
    }
    pairs = zip(sorted(data), in_order, strict=True)
    expected = {(name, row) for name, o in pairs for row in o.fired}
    assert found >= expected


def test_a_batch_older_than_the_horizon_is_late_counted_and_not_fed() -> None:
    data = batches(12, seed=4)
    order = [name for name in sorted(data) if name != "b000"] + ["b000"]
    state, outcomes = run(order, data, horizon=timedelta(hours=6))
    assert outcomes[-1].status == "late"
    assert state["late"] == 1
    without, _ = run([n for n in sorted(data) if n != "b000"], data, horizon=timedelta(hours=6))
    assert state["detector"] == without["detector"]


def test_a_redelivered_batch_changes_nothing() -> None:
    data = batches(6, seed=5)
    state, _ = run(sorted(data), data)
    again, outcome = feed(
        state,
        data["b003"][0],
        "b003",
        data["b003"][1],
        horizon=HORIZON,
        make=lambda: make_detector("adwin"),
        load=lambda batch: data[batch][1],
    )
    assert outcome.status == "duplicate" and again == state


def test_folded_batches_are_forgotten_and_the_state_stays_bounded() -> None:
    data = batches(100, seed=6)
    state, outcomes = run(sorted(data), data)
    assert len(state["log"]) <= 49
    assert sum(len(o.forget) for o in outcomes) == 100 - len(state["log"])
