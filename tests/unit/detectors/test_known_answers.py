"""CUSUM and SPRT, which River lacks: hand-computed cases and independent implementations.

CUSUM is checked against a direct loop over Montgomery's tabular formulas; SPRT against
Wald's acceptance numbers (the count of successes that ends the test after ``t`` trials).
"""

from __future__ import annotations

import math

import pytest
from detector_streams import KINDS, SEEDS, detections, error_stream, gaussian_stream

from driftline.detectors import CUSUM, SPRT


def reference_cusum(
    stream: list[float], *, min_instances: int, delta: float, threshold: float, target: float | None
) -> list[int]:
    """Tabular CUSUM restarted after every signal; the target re-estimated when not given."""
    signals: list[int] = []
    start = 0
    while start < len(stream):
        if target is None:
            calibration = stream[start : start + min_instances]
            if len(calibration) < min_instances:
                break
            total = 0.0
            for value in calibration:
                total += value
            mu0, first, seen = total / min_instances, start + min_instances, min_instances
        else:
            mu0, first, seen = target, start, 0
        c_plus = c_minus = 0.0
        for j in range(first, len(stream)):
            seen += 1
            c_plus = max(0.0, stream[j] - (mu0 + delta) + c_plus)
            c_minus = max(0.0, (mu0 - delta) - stream[j] + c_minus)
            if seen >= min_instances and (c_plus > threshold or c_minus > threshold):
                signals.append(j)
                start = j + 1
                break
        else:
            break
    return signals


@pytest.mark.parametrize("target", [None, 0.0], ids=["estimated", "given"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_cusum_equals_a_direct_loop_over_the_tabular_formulas(
    seed: int, kind: str, target: float | None
) -> None:
    # GIVEN a Gaussian stream whose mean moves by one standard deviation
    stream = gaussian_stream(seed, kind, n=8000)
    params = {"min_instances": 50, "delta": 0.5, "threshold": 6.0, "target": target}
    # WHEN CUSUM reads it THEN it signals exactly where the reference loop does
    expected = reference_cusum(stream, **params)  # type: ignore[arg-type]
    assert detections(CUSUM(**params), stream)[0] == expected  # type: ignore[arg-type]
    assert expected or kind == "none"


def test_cusum_upper_sum_crosses_after_known_number_of_values() -> None:
    # GIVEN target 0, slack 0.5 and h = 2: each value 1 adds 0.5 to the upper sum
    detector = CUSUM(target=0.0, delta=0.5, threshold=2.0, min_instances=1)
    # WHEN it reads twenty 1s THEN the sum exceeds 2 at the fifth value of every run
    drifts, _ = detections(detector, [1.0] * 20)
    assert drifts == [4, 9, 14, 19]
    # AND a decrease of the same size is symmetric
    mirrored = CUSUM(target=0.0, delta=0.5, threshold=2.0, min_instances=1)
    assert detections(mirrored, [-1.0] * 20)[0] == [4, 9, 14, 19]
    assert (mirrored.upper, mirrored.lower) == (0.0, 2.5)


def test_cusum_ignores_deviations_within_the_slack() -> None:
    detector = CUSUM(target=0.0, delta=0.5, threshold=1.0, min_instances=1)
    for x in [0.5, -0.5, 0.4, -0.3] * 100:
        assert not detector.update(x).drift_detected
    assert (detector.upper, detector.lower) == (0.0, 0.0)


def test_cusum_estimates_the_target_then_watches_it() -> None:
    # GIVEN three calibration values with mean 10
    detector = CUSUM(min_instances=3, delta=0.5, threshold=2.0)
    for x in (9.0, 10.0, 11.0):
        assert detector.target is None
        detector.update(x)
    assert detector.target == 10.0
    # WHEN values of 12 follow THEN the upper sum is 1.5, 3.0: a drift on the second
    assert not detector.update(12.0).drift_detected
    assert detector.update(12.0).drift_detected
    # AND the next value starts a new calibration
    detector.update(50.0)
    state = detector.to_dict()["state"]
    assert (state["count"], state["mean"], state["upper"]) == (1, None, 0.0)


def test_cusum_given_target_waits_for_min_instances() -> None:
    detector = CUSUM(target=0.0, delta=0.0, threshold=1.0, min_instances=4)
    assert detections(detector, [5.0] * 4)[0] == [3]


P0, P1, ALPHA, BETA = 0.1, 0.2, 0.05, 0.1


def test_sprt_boundaries_are_walds() -> None:
    # A = ln((1 - beta) / alpha) = ln 18, B = ln(beta / (1 - alpha)) = ln(2 / 19)
    detector = SPRT(p0=P0, p1=P1, alpha=ALPHA, beta=BETA)
    assert detector.boundaries == (math.log(0.1 / 0.95), math.log(0.9 / 0.05))


def test_sprt_hand_computed_decisions() -> None:
    # Each success adds ln 2 = 0.693; ln 18 = 2.890 needs 5 of them (4 give 2.773).
    # Each failure adds ln(8/9) = -0.1178; ln(2/19) = -2.251 needs 20 of them (19 give -2.239).
    detector = SPRT(p0=P0, p1=P1, alpha=ALPHA, beta=BETA)
    ones = [(i, detector.decision) for i, x in enumerate([1] * 10) if detector.update(x).decision]
    assert ones == [(4, "h1"), (9, "h1")]
    detector = SPRT(p0=P0, p1=P1, alpha=ALPHA, beta=BETA)
    zeros = [(i, detector.decision) for i, x in enumerate([0] * 45) if detector.update(x).decision]
    assert zeros == [(19, "h0"), (39, "h0")]


def test_sprt_accepting_h0_is_not_a_drift_and_restarts_the_test() -> None:
    detector = SPRT(p0=P0, p1=P1, alpha=ALPHA, beta=BETA)
    for _ in range(20):
        detector.update(0)
    assert (detector.decision, detector.drift_detected) == ("h0", False)
    detector.update(1)
    assert detector.decision is None
    assert detector.log_likelihood_ratio == math.log(P1 / P0)


def wald_acceptance_decisions(
    stream: list[int], p0: float, p1: float, alpha: float, beta: float
) -> list[tuple[int, str]]:
    """Decisions from Wald's acceptance numbers: after t trials with s successes the ratio is
    s (a - b) + t b, so H1 is accepted once s reaches (A - t b) / (a - b) (for p1 > p0)."""
    a, b = math.log(p1 / p0), math.log((1 - p1) / (1 - p0))
    upper, lower = math.log((1 - beta) / alpha), math.log(beta / (1 - alpha))
    decisions, trials, successes = [], 0, 0
    for i, x in enumerate(stream):
        trials, successes = trials + 1, successes + x
        accept_h1 = (upper - trials * b) / (a - b)
        accept_h0 = (lower - trials * b) / (a - b)
        if a > b:
            h1, h0 = successes >= accept_h1, successes <= accept_h0
        else:  # watching for a drop: dividing by a - b < 0 flips the inequalities
            h1, h0 = successes <= accept_h1, successes >= accept_h0
        if h1 or h0:
            decisions.append((i, "h1" if h1 else "h0"))
            trials = successes = 0
    return decisions


@pytest.mark.parametrize(
    "rates",
    [(0.1, 0.2, 0.1, 0.2), (0.05, 0.08, 0.05, 0.1), (0.3, 0.2, 0.3, 0.15)],
    ids=["rise", "small-rise", "drop"],
)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_sprt_equals_walds_acceptance_numbers(
    seed: int, kind: str, rates: tuple[float, float, float, float]
) -> None:
    # GIVEN a Bernoulli stream whose rate moves from low to high, and hypotheses p0, p1
    p0, p1, low, high = rates
    stream = error_stream(seed, kind, n=6000, low=low, high=high)
    # WHEN SPRT reads it THEN it decides exactly where the closed form does
    detector = SPRT(p0=p0, p1=p1, alpha=0.05, beta=0.1)
    decisions = [
        (i, detector.decision) for i, x in enumerate(stream) if detector.update(x).decision
    ]
    assert decisions == wald_acceptance_decisions(stream, p0, p1, 0.05, 0.1)


def test_sprt_false_alarm_rate_is_within_walds_bound() -> None:
    # GIVEN a long stream at the H0 rate
    stream = error_stream(11, "none", n=60_000, low=P0, high=P0)
    detector = SPRT(p0=P0, p1=P1, alpha=ALPHA, beta=BETA)
    decisions = [detector.update(x).decision for x in stream]
    h1, h0 = decisions.count("h1"), decisions.count("h0")
    # THEN H1 is accepted in at most about alpha / (1 - beta) of the tests
    assert h0 > 500
    assert h1 / (h0 + h1) < ALPHA / (1 - BETA) + 0.02
