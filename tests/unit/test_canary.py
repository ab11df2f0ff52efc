"""Canary statistics against scipy and statsmodels on the same counts, the mixture SPRT
against numerical integration and under repeated looks, and the promote / continue /
rollback decision."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.weightstats import ttest_ind as sm_ttest_ind

from driftline.canary import (
    CANARY_METRICS,
    ArmData,
    CanarySettings,
    analyse_canary,
    arm_from_rows,
    bootstrap_difference_ci,
    mixture_sprt,
    two_proportion_ztest,
    welch_t_test,
)
from driftline.config import CANARY_METRIC_TASKS
from driftline.errors import InsufficientDataError, InvalidInputError

ROOT = Path(__file__).resolve().parents[2]
COUNTS = [
    (150, 1000, 90, 1000),
    (37, 412, 52, 388),
    (5, 60, 1, 75),
    (980, 1000, 990, 1000),
    (0, 200, 7, 180),
    (1234, 20000, 1301, 21000),
]


def _arm(errors: int, rows: int) -> ArmData:
    return ArmData.from_outcomes([1.0] * errors + [0.0] * (rows - errors))


# -- the tests equal scipy and statsmodels --------------------------------------------------


@pytest.mark.parametrize(("a", "n_a", "b", "n_b"), COUNTS)
def test_two_proportion_ztest_equals_statsmodels_and_chi_square(
    a: int, n_a: int, b: int, n_b: int
) -> None:
    # GIVEN the same counts WHEN tested here, by statsmodels and by Pearson's chi-square
    ours = two_proportion_ztest(a, n_a, b, n_b)
    z, p = proportions_ztest([b, a], [n_b, n_a])
    chi2, p_chi2, _, _ = stats.chi2_contingency([[a, n_a - a], [b, n_b - b]], correction=False)

    # THEN z and p agree with statsmodels, and z squared is the chi-square statistic
    assert ours.statistic == pytest.approx(z, rel=1e-12)
    assert ours.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)
    assert ours.statistic**2 == pytest.approx(chi2, rel=1e-10)
    assert ours.p_value == pytest.approx(p_chi2, rel=1e-9, abs=1e-300)
    assert ours.difference == pytest.approx(b / n_b - a / n_a)


def test_two_proportion_ztest_without_variance_reports_no_difference() -> None:
    result = two_proportion_ztest(0, 50, 0, 70)
    assert (result.statistic, result.p_value, result.difference) == (0.0, 1.0, 0.0)


def test_two_proportion_ztest_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match=r"0 <= successes <= n for arm b, got 11/10"):
        two_proportion_ztest(1, 10, 11, 10)
    with pytest.raises(InsufficientDataError, match="arm a has no rows"):
        two_proportion_ztest(0, 0, 1, 10)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_welch_t_test_equals_scipy_and_statsmodels(seed: int) -> None:
    # GIVEN two samples of different sizes and spreads
    rng = np.random.default_rng(seed)
    a = rng.normal(1.0, 1.0, 40 + 13 * seed)
    b = rng.normal(1.2, 2.5, 55 + 7 * seed)

    # WHEN tested here, by scipy and by statsmodels
    ours = welch_t_test(a, b)
    scipy_result = stats.ttest_ind(b, a, equal_var=False)
    t, p, df = sm_ttest_ind(b, a, usevar="unequal")

    # THEN statistic, p-value and degrees of freedom agree
    assert ours.statistic == pytest.approx(scipy_result.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(scipy_result.pvalue, rel=1e-10)
    assert ours.df == pytest.approx(scipy_result.df, rel=1e-12)
    assert (ours.statistic, ours.p_value, ours.df) == pytest.approx((t, p, df), rel=1e-10)
    assert ours.difference == pytest.approx(b.mean() - a.mean())


def test_welch_t_test_needs_two_values_per_arm() -> None:
    with pytest.raises(InsufficientDataError, match="arm b needs at least two values, got 1"):
        welch_t_test([1.0, 2.0], [3.0, float("nan")])


def test_bootstrap_interval_is_seeded_and_equals_scipy_bootstrap() -> None:
    # GIVEN two skewed samples (absolute errors)
    rng = np.random.default_rng(11)
    a, b = np.abs(rng.normal(0, 1.0, 300)), np.abs(rng.normal(0, 0.8, 250))

    # WHEN the interval is computed twice with one seed, and by scipy with that seed
    first = bootstrap_difference_ci(a, b, confidence=0.9, seed=7)
    again = bootstrap_difference_ci(a, b, confidence=0.9, seed=7)
    scipy_interval = stats.bootstrap(
        (a, b),
        lambda x, y, axis: np.mean(y, axis=axis) - np.mean(x, axis=axis),
        paired=False,
        vectorized=True,
        confidence_level=0.9,
        n_resamples=2000,
        method="BCa",
        rng=np.random.default_rng(7),
    ).confidence_interval

    # THEN it repeats exactly, equals scipy's, and holds the observed difference
    assert first == again
    assert first == pytest.approx((scipy_interval.low, scipy_interval.high), rel=1e-12)
    assert first[0] < b.mean() - a.mean() < first[1] < 0
    assert bootstrap_difference_ci(a, b, confidence=0.9, seed=8) != first


def test_bootstrap_interval_of_constant_samples_is_their_difference() -> None:
    assert bootstrap_difference_ci([2.0, 2.0, 2.0], [3.5, 3.5]) == (1.5, 1.5)


@pytest.mark.parametrize(
    ("difference", "variance", "tau"),
    [(-0.06, 2.16e-4, 0.02), (0.01, 4e-4, 0.05), (0.0, 1e-3, 0.02), (0.3, 0.01, 0.1)],
)
def test_mixture_sprt_equals_the_integrated_likelihood_ratio(
    difference: float, variance: float, tau: float
) -> None:
    # GIVEN the mixture likelihood ratio integrated numerically over θ ~ N(0, τ²)
    def mixed(theta: float) -> float:
        return float(
            stats.norm.pdf(difference, theta, math.sqrt(variance)) * stats.norm.pdf(theta, 0, tau)
        )

    numerator, _ = integrate.quad(mixed, -50 * tau, 50 * tau, points=[0.0, difference], limit=200)
    expected = numerator / stats.norm.pdf(difference, 0, math.sqrt(variance))

    # WHEN computed in closed form
    result = mixture_sprt(difference, variance, tau=tau, alpha=0.05)

    # THEN both agree, and the always-valid p-value is 1/Λ capped at 1
    assert result.statistic == pytest.approx(expected, rel=1e-7)
    assert result.always_valid_p == pytest.approx(min(1.0, 1.0 / expected))
    assert result.crossed == bool(expected >= 20.0)


def test_mixture_sprt_keeps_the_smallest_p_value_across_looks() -> None:
    result = mixture_sprt(0.0, 1e-3, tau=0.02, alpha=0.05, previous_p=0.2)
    assert result.always_valid_p == 0.2


def test_mixture_sprt_bounds_false_stops_under_peeking_where_a_naive_test_does_not() -> None:
    # GIVEN 400 A/A canaries (no difference), each analysed after every 100 rows per arm
    rng = np.random.default_rng(2026)
    alpha, looks, step, rate = 0.05, 30, 100, 0.2
    sprt_stops = naive_stops = 0
    for _ in range(400):
        a = rng.uniform(size=looks * step) < rate
        b = rng.uniform(size=looks * step) < rate
        stopped_sprt = stopped_naive = False
        for look in range(1, looks + 1):
            n = look * step
            test = two_proportion_ztest(int(a[:n].sum()), n, int(b[:n].sum()), n)
            variance = (test.value_a * (1 - test.value_a) + test.value_b * (1 - test.value_b)) / n
            stopped_sprt |= mixture_sprt(test.difference, variance, tau=0.02, alpha=alpha).crossed
            stopped_naive |= test.p_value < alpha
        sprt_stops += stopped_sprt
        naive_stops += stopped_naive

    # THEN the mixture SPRT's false stops stay below alpha; a z-test at every look's do not
    assert sprt_stops / 400 <= alpha
    assert naive_stops / 400 > 2 * alpha


# -- the decision ---------------------------------------------------------------------------

SETTINGS = CanarySettings(metric="error_rate", min_rows=200, max_rows=3000, duration_seconds=3600)


def test_a_clearly_better_challenger_is_promoted_early_by_the_sequential_rule() -> None:
    decision = analyse_canary(_arm(150, 1000), _arm(90, 1000), SETTINGS, elapsed_seconds=600)
    assert decision.decision == "promote"
    assert decision.sequential is not None and decision.sequential.crossed
    assert decision.improvement == pytest.approx(0.06)
    assert decision.test is not None
    assert decision.test.p_value == pytest.approx(proportions_ztest([90, 150], [1000, 1000])[1])
    assert "stopped early" in decision.reason


def test_a_clearly_worse_challenger_is_rolled_back_early() -> None:
    decision = analyse_canary(_arm(90, 1000), _arm(150, 1000), SETTINGS, elapsed_seconds=600)
    assert decision.decision == "rollback"
    assert decision.improvement == pytest.approx(-0.06)
    assert "the challenger is worse" in decision.reason


def test_too_little_traffic_continues_until_the_time_box_then_rolls_back() -> None:
    early = analyse_canary(_arm(10, 150), _arm(1, 120), SETTINGS, elapsed_seconds=60)
    late = analyse_canary(_arm(10, 150), _arm(1, 120), SETTINGS, elapsed_seconds=3600)
    assert early.decision == "continue"
    assert early.reason == "waiting for traffic: 120 of 200 labelled rows per arm"
    assert late.decision == "rollback"
    assert "time box" in late.reason and "champion keeps serving" in late.reason


def test_an_unclear_difference_continues_then_the_fixed_horizon_test_decides() -> None:
    # GIVEN a small improvement (10.0 % → 9.2 %) the sequential rule cannot see yet
    champion, challenger = _arm(100, 1000), _arm(92, 1000)
    midway = analyse_canary(champion, challenger, SETTINGS, elapsed_seconds=600)
    assert midway.decision == "continue"

    # WHEN the time box ends THEN it was not shown better: rollback, with the p-value
    ended = analyse_canary(champion, challenger, SETTINGS, elapsed_seconds=3600)
    assert ended.decision == "rollback"
    assert ended.test is not None
    assert ended.test.p_value == pytest.approx(proportions_ztest([92, 100], [1000, 1000])[1])
    assert "not shown better" in ended.reason


def test_the_fixed_horizon_test_promotes_at_max_rows_when_significant() -> None:
    # GIVEN 3000 rows per arm, 10 % vs 8.2 % errors: significant at alpha/2, but the
    # mixture SPRT (tau 0.05, tuned to larger effects) has not crossed
    settings = CanarySettings(metric="error_rate", min_rows=200, max_rows=3000, min_effect=0.05)
    decision = analyse_canary(_arm(300, 3000), _arm(246, 3000), settings, elapsed_seconds=60)
    assert decision.sequential is not None and not decision.sequential.crossed
    assert decision.test is not None and decision.test.p_value < 0.025
    assert decision.decision == "promote"
    assert decision.reason.startswith("fixed-horizon test at 3000 labelled rows per arm")


def test_invalid_challenger_predictions_breach_the_guardrail() -> None:
    challenger = ArmData.from_outcomes([0.0] * 100, rows=120, invalid=20)
    decision = analyse_canary(_arm(10, 100), challenger, SETTINGS, elapsed_seconds=10)
    assert decision.decision == "rollback"
    assert decision.guardrails[0].breached
    assert decision.guardrails[0].value == pytest.approx(20 / 120)
    assert "20 of 120 challenger rows" in decision.reason


def test_a_slower_challenger_breaches_the_latency_guardrail() -> None:
    rng = np.random.default_rng(5)
    champion = ArmData.from_outcomes([0.0] * 300, latency=rng.normal(50, 5, 300).clip(1).tolist())
    challenger = ArmData.from_outcomes([0.0] * 300, latency=rng.normal(80, 5, 300).clip(1).tolist())
    decision = analyse_canary(champion, challenger, SETTINGS, elapsed_seconds=10)
    assert decision.decision == "rollback"
    (latency,) = [g for g in decision.guardrails if g.name == "latency_p95"]
    assert latency.breached and latency.value == pytest.approx(
        np.quantile(challenger.latency, 0.95) / np.quantile(champion.latency, 0.95) - 1
    )


def test_a_continuous_metric_uses_welch_and_the_bootstrap_interval() -> None:
    # GIVEN absolute errors, clearly smaller for the challenger
    rng = np.random.default_rng(9)
    champion = ArmData.from_outcomes(np.abs(rng.normal(0, 1.0, 800)))
    challenger = ArmData.from_outcomes(np.abs(rng.normal(0, 0.7, 800)))
    settings = CanarySettings(metric="absolute_error", min_rows=100, max_rows=5000)

    decision = analyse_canary(champion, challenger, settings, elapsed_seconds=60)

    assert decision.decision == "promote"
    assert decision.test is not None and decision.test.name == "welch_t"
    scipy_result = stats.ttest_ind(challenger.outcomes, champion.outcomes, equal_var=False)
    assert decision.test.p_value == pytest.approx(scipy_result.pvalue, rel=1e-10)
    assert decision.interval is not None and decision.interval[1] < 0
    assert decision.improvement == pytest.approx(
        champion.outcomes.mean() - challenger.outcomes.mean()
    )


def test_a_higher_ctr_is_better() -> None:
    settings = CanarySettings(metric="ctr", min_rows=200)
    decision = analyse_canary(_arm(50, 1000), _arm(95, 1000), settings, elapsed_seconds=60)
    assert decision.decision == "promote"
    assert decision.improvement == pytest.approx(0.045)


def test_decision_serialises_every_number() -> None:
    document = analyse_canary(
        _arm(150, 1000), _arm(90, 1000), SETTINGS, elapsed_seconds=600
    ).to_dict()
    assert document["decision"] == "promote"
    assert document["champion"] == {
        "rows": 1000,
        "labelled": 1000,
        "invalid": 0,
        "value": 0.15,
        "latency_p95": None,
    }
    assert document["test"]["name"] == "two_proportion_z"
    assert document["sequential"]["threshold"] == pytest.approx(40.0)


def test_settings_refuse_unknown_metrics_and_bounds() -> None:
    with pytest.raises(ValueError, match="got 'auc'"):
        CanarySettings(metric="auc")
    with pytest.raises(ValueError, match="min_rows <= max_rows"):
        CanarySettings(min_rows=500, max_rows=100)


# -- rows to arms ---------------------------------------------------------------------------


def test_arm_from_rows_per_metric() -> None:
    rows = pd.DataFrame(
        {
            "y": [1, 0, 1, 0, None],
            "p": [1, 1, None, 0, 1],
            "s": [0.9, 0.6, 0.2, 1.5, 0.5],
            "ms": [10.0, 20.0, 30.0, 40.0, 50.0],
        }
    )
    errors = arm_from_rows(
        rows,
        metric="error_rate",
        task="binary_classification",
        label="y",
        prediction="p",
        latency="ms",
    )
    assert errors.outcomes.tolist() == [0.0, 1.0, 0.0]
    assert (errors.rows, errors.invalid, errors.labelled) == (5, 1, 3)
    assert errors.latency is not None and errors.latency.tolist() == [10, 20, 30, 40, 50]

    losses = arm_from_rows(
        rows, metric="log_loss", task="binary_classification", label="y", score="s"
    )
    assert losses.invalid == 1  # the score 1.5
    assert losses.outcomes == pytest.approx([-math.log(0.9), -math.log(0.4), -math.log(0.2)])

    clicks = arm_from_rows(rows, metric="ctr", task="ranking", label="y")
    assert clicks.outcomes.tolist() == [1.0, 0.0, 1.0, 0.0]

    regression = pd.DataFrame({"y": [1.0, 2.0, 4.0], "p": [1.5, 2.0, 1.0]})
    absolute = arm_from_rows(
        regression, metric="absolute_error", task="regression", label="y", prediction="p"
    )
    squared = arm_from_rows(
        regression, metric="squared_error", task="regression", label="y", prediction="p"
    )
    assert absolute.outcomes.tolist() == [0.5, 0.0, 3.0]
    assert squared.outcomes.tolist() == [0.25, 0.0, 9.0]


def test_arm_from_rows_names_a_missing_column() -> None:
    with pytest.raises(InvalidInputError, match="no judged column 'pred'"):
        arm_from_rows(
            pd.DataFrame({"y": [1]}),
            metric="error_rate",
            task="binary_classification",
            label="y",
            prediction="pred",
        )


def test_canary_metrics_are_the_ones_the_definition_accepts() -> None:
    assert set(CANARY_METRICS) == set(CANARY_METRIC_TASKS)


def test_the_monitoring_path_imports_neither_scikit_learn_nor_boto3() -> None:
    # GIVEN a fresh interpreter WHEN the core modules of monitoring and canary are imported
    code = (
        "import sys\n"
        "import driftline.canary, driftline.model_store, driftline.config, driftline.evaluation\n"
        "import driftline.alerts, driftline.performance, driftline.cli\n"
        "leaked = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sklearn', 'joblib', 'boto3', 'botocore'})\n"
        "print(','.join(leaked))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "layers" / "core"), "PATH": ""},
    )
    # THEN none of them was loaded
    assert completed.stdout.strip() == ""
