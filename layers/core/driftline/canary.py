"""Champion–challenger canary analysis: is the challenger better on live traffic?

During a canary the challenger serves a small share of the requests and the champion the
rest. Each arm's labelled rows give one *outcome* per row: a 0/1 error or click (a
proportion metric) or a per-row loss such as the absolute error (a continuous metric).
:func:`analyse_canary` compares the arms and decides:

``promote``
    the challenger is better, with statistical significance;
``rollback``
    a guardrail is breached, the challenger is significantly worse, or it was not shown
    better by the fixed horizon or the time box (the champion keeps serving: a canary
    must earn its promotion);
``continue``
    not enough evidence yet; analyse again after more traffic.

The statistics, each a small pure function checked against scipy and statsmodels:

- :func:`two_proportion_ztest` (pooled), for error rate or CTR;
- :func:`welch_t_test` and a seeded :func:`bootstrap_difference_ci` for continuous metrics;
- :func:`mixture_sprt`, a sequential rule valid at every look, so a clear difference stops
  the canary early without inflating the false-promotion rate by peeking.

The significance level is split: half for the sequential rule (early stops), half for the
fixed-horizon test at the end, so the chance of promoting a challenger that is not better
is at most ``alpha`` (a union bound) however often the canary is analysed.

>>> champion = ArmData.from_outcomes([1.0] * 150 + [0.0] * 850)     # 15 % errors
>>> challenger = ArmData.from_outcomes([1.0] * 90 + [0.0] * 910)    # 9 % errors
>>> settings = CanarySettings(metric="error_rate", min_rows=200, max_rows=5000)
>>> decision = analyse_canary(champion, challenger, settings, elapsed_seconds=600)
>>> decision.decision, round(decision.test.p_value, 5), decision.sequential.crossed
('promote', 4e-05, True)

References:
    Wald, A. (1945). Sequential tests of statistical hypotheses. *Ann. Math. Statist.* 16.
    Robbins, H. (1970). Statistical methods related to the law of the iterated logarithm.
    Johari, R., Koomen, P., Pekelis, L., Walsh, D. (2017). Peeking at A/B tests: why it
    matters, and what to do about it. *KDD '17* (the mixture SPRT used here).
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. *Biometrika* 34.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.formatting import short_number
from driftline.metrics.classification import as_float_array, log_loss_terms, normalise_label
from driftline.profile.performance import row_errors

Decision = Literal["promote", "continue", "rollback"]
MetricKind = Literal["proportion", "continuous"]
FloatArray = NDArray[np.float64]

#: Canary metrics: whether each is a proportion (0/1 per row) and whether lower is better.
CANARY_METRICS: dict[str, tuple[MetricKind, bool]] = {
    "error_rate": ("proportion", True),
    "ctr": ("proportion", False),
    "absolute_error": ("continuous", True),
    "squared_error": ("continuous", True),
    "log_loss": ("continuous", True),
}


# -- the tests --------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A two-sample comparison of the challenger (b) against the champion (a).

    ``difference`` is ``b - a`` in the metric's units; ``p_value`` is two-sided.
    ``df`` is the Welch degrees of freedom (None for the z-test).
    """

    name: str
    value_a: float
    value_b: float
    difference: float
    statistic: float
    p_value: float
    df: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "champion": self.value_a,
            "challenger": self.value_b,
            "difference": self.difference,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "df": self.df,
        }


def two_proportion_ztest(successes_a: int, n_a: int, successes_b: int, n_b: int) -> Comparison:
    """Two-sided z-test of equal proportions with the pooled variance.

    ``z = (p_b - p_a) / sqrt(p (1 - p) (1/n_a + 1/n_b))`` with ``p`` the pooled proportion;
    ``z**2`` is Pearson's chi-square of the 2x2 table without continuity correction, and
    the result equals statsmodels' ``proportions_ztest`` (order b, a).

    Raises:
        InsufficientDataError: an arm has no rows.
        ValueError: a count is negative or exceeds its rows.

    >>> result = two_proportion_ztest(150, 1000, 90, 1000)
    >>> round(result.difference, 3), round(result.statistic, 4), round(result.p_value, 6)
    (-0.06, -4.1286, 3.6e-05)
    """
    for successes, n, arm in ((successes_a, n_a, "a"), (successes_b, n_b, "b")):
        if n <= 0:
            raise InsufficientDataError(f"arm {arm} has no rows", reason="insufficient_data")
        if not 0 <= successes <= n:
            raise ValueError(f"expected 0 <= successes <= n for arm {arm}, got {successes}/{n}")
    p_a, p_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    variance = pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b)
    difference = p_b - p_a
    if variance == 0.0:
        # Both arms all-0 or all-1: no evidence of a difference (statsmodels returns nan).
        return Comparison("two_proportion_z", p_a, p_b, difference, 0.0, 1.0)
    z = difference / math.sqrt(variance)
    p_value = float(2.0 * stats.norm.sf(abs(z)))
    return Comparison("two_proportion_z", p_a, p_b, difference, z, p_value)


def welch_t_test(a: ArrayLike, b: ArrayLike) -> Comparison:
    """Welch's two-sided t-test of equal means (unequal variances).

    Equals ``scipy.stats.ttest_ind(b, a, equal_var=False)``.

    Raises:
        InsufficientDataError: an arm has fewer than two values.

    >>> result = welch_t_test([1.0, 2.0, 3.0, 4.0], [2.0, 3.5, 4.0, 5.5, 6.0])
    >>> round(result.statistic, 4), round(result.df, 3), round(result.p_value, 4)
    (1.7612, 6.99, 0.1216)
    """
    values_a, values_b = _finite(a, "a"), _finite(b, "b")
    n_a, n_b = values_a.size, values_b.size
    mean_a, mean_b = float(values_a.mean()), float(values_b.mean())
    var_a, var_b = float(values_a.var(ddof=1)), float(values_b.var(ddof=1))
    se2_a, se2_b = var_a / n_a, var_b / n_b
    difference = mean_b - mean_a
    standard_error = math.sqrt(se2_a + se2_b)
    if standard_error == 0.0:
        same = difference == 0.0
        return Comparison(
            "welch_t",
            mean_a,
            mean_b,
            difference,
            0.0 if same else math.copysign(math.inf, difference),
            1.0 if same else 0.0,
            float(n_a + n_b - 2),
        )
    t = difference / standard_error
    df = (se2_a + se2_b) ** 2 / (se2_a**2 / (n_a - 1) + se2_b**2 / (n_b - 1))
    p_value = float(2.0 * stats.t.sf(abs(t), df))
    return Comparison("welch_t", mean_a, mean_b, difference, t, p_value, df)


def bootstrap_difference_ci(
    a: ArrayLike,
    b: ArrayLike,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Confidence interval of ``mean(b) - mean(a)`` by the BCa bootstrap, seeded.

    Each arm is resampled independently (``scipy.stats.bootstrap``, ``paired=False``);
    the same seed gives the same interval.

    Raises:
        InsufficientDataError: an arm has fewer than two values.
        ValueError: ``confidence`` is not in (0, 1).

    >>> rng = np.random.default_rng(3)
    >>> low, high = bootstrap_difference_ci(rng.normal(1.0, 1, 400), rng.normal(1.3, 1, 400))
    >>> round(low, 3), round(high, 3)
    (0.162, 0.437)
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"expected confidence in (0, 1), got {confidence}")
    values_a, values_b = _finite(a, "a"), _finite(b, "b")

    def difference(x: FloatArray, y: FloatArray, axis: int) -> FloatArray:
        return np.asarray(np.mean(y, axis=axis) - np.mean(x, axis=axis))

    if np.ptp(values_a) == 0.0 and np.ptp(values_b) == 0.0:
        value = float(values_b[0] - values_a[0])
        return value, value
    result = stats.bootstrap(
        (values_a, values_b),
        difference,
        paired=False,
        vectorized=True,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="BCa",
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


@dataclass(frozen=True)
class SequentialResult:
    """The mixture SPRT at one look.

    ``statistic`` is the mixture likelihood ratio Λ of "the difference is not zero" against
    "it is zero"; the rule stops when Λ ≥ ``threshold`` = 1/alpha. ``always_valid_p`` is
    ``min(1, 1/Λ)`` (or the smaller one carried from earlier looks): a p-value that stays
    valid however many times it was looked at.
    """

    statistic: float
    threshold: float
    tau: float
    always_valid_p: float
    crossed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": "mixture_sprt",
            "statistic": self.statistic,
            "threshold": self.threshold,
            "tau": self.tau,
            "always_valid_p": self.always_valid_p,
            "crossed": self.crossed,
        }


def mixture_sprt(
    difference: float,
    variance: float,
    *,
    tau: float,
    alpha: float,
    previous_p: float | None = None,
) -> SequentialResult:
    """The normal-mixture sequential probability ratio test of "difference = 0".

    With an estimated difference ``d ~ N(θ, V)`` (``V = variance``, the squared standard
    error) and a normal mixing distribution ``θ ~ N(0, τ²)`` over the alternatives, the
    mixture likelihood ratio is::

        Λ = sqrt(V / (V + τ²)) · exp(τ² d² / (2 V (V + τ²)))

    and ``P(Λ ever ≥ 1/alpha | θ = 0) ≤ alpha`` (Ville's inequality), so the test may be
    applied after every batch of traffic. ``tau`` is the size of difference that matters
    (the test is most powerful near it). The variance is estimated from the data, which
    makes the guarantee approximate at small samples: hence a minimum of rows per arm.

    Raises:
        ValueError: ``tau`` or ``variance`` is not positive, or ``alpha`` not in (0, 1).

    >>> result = mixture_sprt(-0.06, 0.000216, tau=0.02, alpha=0.025)
    >>> round(result.statistic, 2), result.crossed
    (132.59, True)
    """
    if not tau > 0.0:
        raise ValueError(f"expected tau > 0, got {tau}")
    if not variance > 0.0:
        raise ValueError(f"expected variance > 0, got {variance}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"expected alpha in (0, 1), got {alpha}")
    tau2 = tau * tau
    log_ratio = 0.5 * math.log(variance / (variance + tau2)) + tau2 * difference**2 / (
        2.0 * variance * (variance + tau2)
    )
    statistic = math.exp(min(log_ratio, 700.0))
    p_value = min(1.0, 1.0 / statistic)
    if previous_p is not None:
        p_value = min(p_value, previous_p)
    return SequentialResult(statistic, 1.0 / alpha, tau, p_value, statistic >= 1.0 / alpha)


# -- the arms ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ArmData:
    """What one arm served during the canary.

    Attributes:
        outcomes: one value per labelled row: 0/1 (error, click) or a per-row loss.
        rows: rows the arm served (labelled or not).
        invalid: served rows whose prediction or score is missing or impossible.
        latency: the logged latency of each served row, when the logs carry it.
    """

    outcomes: FloatArray
    rows: int
    invalid: int = 0
    latency: FloatArray | None = None

    @classmethod
    def from_outcomes(
        cls,
        outcomes: Sequence[float] | FloatArray,
        *,
        rows: int | None = None,
        invalid: int = 0,
        latency: Sequence[float] | FloatArray | None = None,
    ) -> ArmData:
        values = np.asarray(outcomes, dtype=np.float64)
        return cls(
            values,
            int(values.size if rows is None else rows),
            invalid,
            None if latency is None else np.asarray(latency, dtype=np.float64),
        )

    @property
    def labelled(self) -> int:
        return int(self.outcomes.size)

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "labelled": self.labelled,
            "invalid": self.invalid,
            "value": float(self.outcomes.mean()) if self.labelled else None,
            "latency_p95": _p95(self.latency),
        }


def arm_from_rows(
    frame: pd.DataFrame,
    *,
    metric: str,
    task: str,
    label: str,
    prediction: str | None = None,
    score: str | None = None,
    positive_class: object = 1,
    latency: str | None = None,
) -> ArmData:
    """One arm's :class:`ArmData` from the rows it served (labels joined).

    A row is *invalid* when the column the metric judges (the prediction, or the score for
    ``log_loss``) is missing, or a score lies outside [0, 1]; it is *labelled* when it is
    valid and has a label. ``ctr`` reads the label as the click (> 0).

    Raises:
        InvalidInputError: a column the metric needs is not in the rows.

    >>> rows = pd.DataFrame({"y": [1, 0, 1, None], "p": [1, 1, None, 0]})
    >>> arm = arm_from_rows(rows, metric="error_rate", task="binary_classification",
    ...                     label="y", prediction="p")
    >>> arm.outcomes.tolist(), arm.rows, arm.invalid
    ([0.0, 1.0], 4, 1)
    """
    if metric not in CANARY_METRICS:
        raise ValueError(f"expected metric in {', '.join(CANARY_METRICS)}, got {metric!r}")
    judged = None if metric == "ctr" else score if metric == "log_loss" else prediction
    for role, column in (("label", label), ("judged", judged), ("latency", latency)):
        if column is not None and column not in frame.columns:
            raise InvalidInputError(
                f"canary rows have no {role} column {column!r}", reason="missing_column"
            )
    if metric != "ctr" and judged is None:
        needed = "score" if metric == "log_loss" else "prediction"
        raise InvalidInputError(f"canary metric {metric} needs schema.{needed}", reason="config")
    valid = pd.Series(True, index=frame.index)
    if judged is not None:
        valid &= frame[judged].notna()
        if metric == "log_loss":
            values = pd.to_numeric(frame[judged], errors="coerce")
            valid &= values.between(0.0, 1.0)
    invalid = int((~valid).sum())
    rows = frame[valid & frame[label].notna()]
    outcomes: FloatArray
    if metric == "error_rate":
        assert judged is not None
        outcomes = row_errors(rows[label], rows[judged], task)
    elif metric == "ctr":
        outcomes = (as_float_array(rows[label], role="label") > 0).astype(np.float64)
    elif metric == "log_loss":
        assert judged is not None
        truth = np.asarray(
            [normalise_label(value) == normalise_label(positive_class) for value in rows[label]],
            dtype=np.bool_,
        )
        outcomes = log_loss_terms(truth, as_float_array(rows[judged], role="score"))
    else:
        assert judged is not None
        error = as_float_array(rows[label], role="label") - as_float_array(
            rows[judged], role="prediction"
        )
        outcomes = np.abs(error) if metric == "absolute_error" else error**2
    latencies = (
        None if latency is None else pd.to_numeric(frame[latency], errors="coerce").to_numpy(float)
    )
    return ArmData(np.asarray(outcomes, dtype=np.float64), len(frame), invalid, latencies)


# -- the decision -----------------------------------------------------------------------


@dataclass(frozen=True)
class CanarySettings:
    """How a canary is judged (``retraining.canary`` in the monitor definition).

    Attributes:
        metric: one of :data:`CANARY_METRICS`.
        alpha: the total false-promotion rate (half sequential, half at the horizon).
        min_rows: labelled rows per arm before any decision but a guardrail.
        max_rows: labelled rows per arm at which the fixed-horizon test decides.
        duration_seconds: the time box; at its end the fixed-horizon test decides.
        min_effect: the mixture SPRT's ``tau``, in the metric's units; None: 0.02 for a
            proportion, a fifth of the pooled standard deviation for a continuous metric.
        max_invalid_share: guardrail on the challenger's invalid predictions.
        max_latency_increase: guardrail on the challenger's p95 latency, relative.
        seed: of the bootstrap.
    """

    metric: str = "error_rate"
    alpha: float = 0.05
    min_rows: int = 200
    max_rows: int = 5000
    duration_seconds: float = 86_400.0
    min_effect: float | None = None
    max_invalid_share: float = 0.01
    max_latency_increase: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.metric not in CANARY_METRICS:
            allowed = ", ".join(CANARY_METRICS)
            raise ValueError(f"expected metric in {allowed}, got {self.metric!r}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"expected alpha in (0, 1), got {self.alpha}")
        if not 2 <= self.min_rows <= self.max_rows:
            raise ValueError(
                f"expected 2 <= min_rows <= max_rows, got {self.min_rows} and {self.max_rows}"
            )

    @property
    def kind(self) -> MetricKind:
        return CANARY_METRICS[self.metric][0]

    @property
    def lower_is_better(self) -> bool:
        return CANARY_METRICS[self.metric][1]


@dataclass(frozen=True)
class Guardrail:
    """One guardrail: ``breached`` when ``value`` exceeds ``limit``."""

    name: str
    value: float | None
    limit: float
    breached: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "limit": self.limit,
            "breached": self.breached,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CanaryDecision:
    """The outcome of one analysis, with every number it rests on.

    ``improvement`` is positive when the challenger is better, whatever the metric's
    direction (``champion - challenger`` for an error, ``challenger - champion`` for CTR).
    """

    decision: Decision
    reason: str
    metric: str
    champion: dict[str, Any]
    challenger: dict[str, Any]
    improvement: float | None = None
    test: Comparison | None = None
    sequential: SequentialResult | None = None
    interval: tuple[float, float] | None = None
    guardrails: tuple[Guardrail, ...] = field(default_factory=tuple)
    elapsed_seconds: float = 0.0
    duration_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "metric": self.metric,
            "champion": self.champion,
            "challenger": self.challenger,
            "improvement": self.improvement,
            "test": None if self.test is None else self.test.to_dict(),
            "sequential": None if self.sequential is None else self.sequential.to_dict(),
            "interval": None if self.interval is None else list(self.interval),
            "guardrails": [guardrail.to_dict() for guardrail in self.guardrails],
            "elapsed_seconds": self.elapsed_seconds,
            "duration_seconds": self.duration_seconds,
        }


def analyse_canary(
    champion: ArmData,
    challenger: ArmData,
    settings: CanarySettings,
    *,
    elapsed_seconds: float,
    previous_p: float | None = None,
) -> CanaryDecision:
    """Decide promote, continue or rollback from the two arms' traffic so far.

    In order: a breached guardrail rolls back at once; below ``min_rows`` labelled rows
    per arm the canary continues (or, past the time box, rolls back for want of traffic);
    the mixture SPRT stops early when it crosses (promote if the challenger is better,
    roll back if worse); at ``max_rows`` or the time box the fixed-horizon test decides
    (promote only if the challenger is significantly better; for a continuous metric the
    bootstrap interval must agree); otherwise continue.

    Args:
        champion: the champion arm.
        challenger: the challenger arm.
        settings: how to judge.
        elapsed_seconds: time since the canary started.
        previous_p: the always-valid p-value of the previous analysis, if any.
    """
    timed_out = elapsed_seconds >= settings.duration_seconds
    common: dict[str, Any] = {
        "metric": settings.metric,
        "champion": champion.summary(),
        "challenger": challenger.summary(),
        "elapsed_seconds": float(elapsed_seconds),
        "duration_seconds": float(settings.duration_seconds),
    }
    guardrails = _guardrails(champion, challenger, settings)
    common["guardrails"] = guardrails
    breached = [guardrail for guardrail in guardrails if guardrail.breached]
    if breached:
        return CanaryDecision("rollback", f"guardrail breached: {breached[0].detail}", **common)
    n = min(champion.labelled, challenger.labelled)
    if n < settings.min_rows:
        if timed_out:
            reason = (
                f"time box of {settings.duration_seconds:.0f} s ended with {n} labelled rows "
                f"in the smaller arm (fewer than min_rows={settings.min_rows}): the champion "
                "keeps serving"
            )
            return CanaryDecision("rollback", reason, **common)
        reason = f"waiting for traffic: {n} of {settings.min_rows} labelled rows per arm"
        return CanaryDecision("continue", reason, **common)

    test, variance, interval = _compare(champion, challenger, settings)
    sign = -1.0 if settings.lower_is_better else 1.0
    improvement = sign * test.difference
    common.update(improvement=improvement, test=test, interval=interval)
    half = settings.alpha / 2.0
    sequential: SequentialResult | None = None
    if variance > 0.0:
        sequential = mixture_sprt(
            test.difference,
            variance,
            tau=_tau(champion, challenger, settings),
            alpha=half,
            previous_p=previous_p,
        )
    common["sequential"] = sequential
    better = "better" if improvement > 0 else "worse"
    if sequential is not None and sequential.crossed:
        reason = (
            f"sequential test stopped early: the challenger is {better} on {settings.metric} "
            f"({short_number(test.value_b)} vs {short_number(test.value_a)}, mixture SPRT "
            f"{short_number(sequential.statistic)} >= {short_number(sequential.threshold)})"
        )
        return CanaryDecision("promote" if improvement > 0 else "rollback", reason, **common)
    if n >= settings.max_rows or timed_out:
        horizon = f"{n} labelled rows per arm" if n >= settings.max_rows else "the time box"
        agrees = interval is None or (interval[0] > 0 if sign > 0 else interval[1] < 0)
        if test.p_value < half and improvement > 0 and agrees:
            reason = (
                f"fixed-horizon test at {horizon}: the challenger is better on "
                f"{settings.metric} ({short_number(test.value_b)} vs {short_number(test.value_a)}, "
                f"p={short_number(test.p_value)} < {short_number(half)})"
            )
            return CanaryDecision("promote", reason, **common)
        reason = (
            f"fixed-horizon test at {horizon}: the challenger was not shown better on "
            f"{settings.metric} ({short_number(test.value_b)} vs {short_number(test.value_a)}, "
            f"p={short_number(test.p_value)}): the champion keeps serving"
        )
        return CanaryDecision("rollback", reason, **common)
    reason = (
        f"no decision yet: {settings.metric} {short_number(test.value_b)} (challenger) vs "
        f"{short_number(test.value_a)} (champion) on {n} labelled rows per arm, "
        f"p={short_number(test.p_value)}"
    )
    return CanaryDecision("continue", reason, **common)


def _compare(
    champion: ArmData, challenger: ArmData, settings: CanarySettings
) -> tuple[Comparison, float, tuple[float, float] | None]:
    """The fixed-horizon test, the variance of the difference and (continuous) the
    bootstrap interval."""
    a, b = champion.outcomes, challenger.outcomes
    if settings.kind == "proportion":
        test = two_proportion_ztest(int(a.sum()), a.size, int(b.sum()), b.size)
        p_a, p_b = test.value_a, test.value_b
        variance = p_a * (1 - p_a) / a.size + p_b * (1 - p_b) / b.size
        return test, variance, None
    test = welch_t_test(a, b)
    variance = float(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    interval = bootstrap_difference_ci(a, b, confidence=1.0 - settings.alpha, seed=settings.seed)
    return test, variance, interval


def _tau(champion: ArmData, challenger: ArmData, settings: CanarySettings) -> float:
    if settings.min_effect is not None:
        return settings.min_effect
    if settings.kind == "proportion":
        return 0.02
    pooled = np.concatenate([champion.outcomes, challenger.outcomes])
    spread = float(pooled.std(ddof=1))
    return 0.2 * spread if spread > 0 else 1e-9


def _guardrails(
    champion: ArmData, challenger: ArmData, settings: CanarySettings
) -> tuple[Guardrail, ...]:
    found: list[Guardrail] = []
    if challenger.rows:
        share = challenger.invalid / challenger.rows
        breached = share > settings.max_invalid_share
        found.append(
            Guardrail(
                "invalid_predictions",
                share,
                settings.max_invalid_share,
                breached,
                f"{challenger.invalid} of {challenger.rows} challenger rows have a missing or "
                f"invalid prediction ({share:.2%}, limit {settings.max_invalid_share:.2%})",
            )
        )
    base, new = _p95(champion.latency), _p95(challenger.latency)
    enough = (
        champion.latency is not None
        and challenger.latency is not None
        and min(_finite_count(champion.latency), _finite_count(challenger.latency))
        >= settings.min_rows
    )
    if enough and base is not None and new is not None and base > 0:
        increase = new / base - 1.0
        found.append(
            Guardrail(
                "latency_p95",
                increase,
                settings.max_latency_increase,
                increase > settings.max_latency_increase,
                f"challenger p95 latency {short_number(new)} vs champion {short_number(base)} "
                f"(+{increase:.1%}, limit +{settings.max_latency_increase:.0%})",
            )
        )
    return tuple(found)


def _finite(values: ArrayLike, arm: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    array = array[np.isfinite(array)]
    if array.size < 2:
        raise InsufficientDataError(
            f"arm {arm} needs at least two values, got {array.size}", reason="insufficient_data"
        )
    return array


def _finite_count(values: FloatArray) -> int:
    return int(np.isfinite(values).sum())


def _p95(values: FloatArray | None) -> float | None:
    if values is None:
        return None
    finite = values[np.isfinite(values)]
    return float(np.quantile(finite, 0.95)) if finite.size else None
