"""The canary's decision: promote, continue or roll back (:func:`analyse_canary`), from the
two arms' traffic so far, the guardrails and the significance tests, as judged by
:class:`CanarySettings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from driftline.canary.arms import CANARY_METRICS, ArmData, FloatArray, MetricKind, p95
from driftline.canary.significance import (
    Comparison,
    SequentialResult,
    bootstrap_difference_ci,
    mixture_sprt,
    two_proportion_ztest,
    welch_t_test,
)
from driftline.formatting import short_number

Decision = Literal["promote", "continue", "rollback"]


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
    base, new = p95(champion.latency), p95(challenger.latency)
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


def _finite_count(values: FloatArray) -> int:
    return int(np.isfinite(values).sum())
