"""Performance in an evaluation: metrics overall and per segment, with their baselines, label
coverage, Wilson intervals, fairness by group, and the decision of metric checks.

Everything is read off the :class:`~driftline.metrics.PerformanceProfile` inside the current
and reference :class:`~driftline.profile.dataset.DatasetProfile` (a window is a merge of
profiles, so no raw rows are needed). Metrics are computed on labelled rows only; a check
with fewer labelled rows than its ``min_labelled_rows`` is ``skip`` with the reason.

>>> low, high = wilson_interval(84, 100)
>>> round(low, 4), round(high, 4)
(0.7558, 0.899)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from driftline.checks import CheckResult, judge, segment_key, skip
from driftline.config.checks import CheckSpec
from driftline.errors import InsufficientDataError
from driftline.metrics import PerformanceProfile, compute_metric
from driftline.metrics.encoding import Label
from driftline.profile.dataset import DatasetProfile

#: z for a two-sided 95 % interval.
Z_95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, *, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion.

    Unlike the normal approximation it stays inside [0, 1] and behaves at 0 and n
    successes. Wilson, E. B. (1927), "Probable inference, the law of succession, and
    statistical inference", JASA 22(158).

    Raises:
        ValueError: no trials, or successes outside [0, trials].
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(
            f"expected 0 <= successes <= trials and trials > 0, got {successes}/{trials}"
        )
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def proportion_counts(profile: PerformanceProfile) -> dict[str, tuple[int, int]]:
    """``(successes, trials)`` of every proportion metric the profile supports.

    Ratios of counts only (accuracy, error rate, positive rate, binary precision and
    recall, CTR, conversion rate, label coverage): where a Wilson interval is cheap.
    """
    counts: dict[str, tuple[int, int]] = {}
    if profile.rows:
        counts["label_coverage"] = (profile.labelled, profile.rows)
    confusion = profile.confusion
    if confusion is not None and confusion.n:
        n = confusion.n
        correct = sum(c for (truth, guess), c in confusion.cells.items() if truth == guess)
        counts["accuracy"] = (correct, n)
        counts["error_rate"] = (n - correct, n)
        positive = profile.positive_class
        if profile.task == "binary_classification" and positive is not None:
            tp = confusion.cells.get((positive, positive), 0)
            predicted = sum(c for (_, guess), c in confusion.cells.items() if guess == positive)
            actual = sum(c for (truth, _), c in confusion.cells.items() if truth == positive)
            counts["positive_rate"] = (predicted, n)
            if predicted:
                counts["precision"] = (tp, predicted)
            if actual:
                counts["recall"] = (tp, actual)
    ranking = profile.ranking
    if ranking is not None and ranking.impressions:
        counts["ctr"] = (ranking.clicks, ranking.impressions)
        if ranking.conversions is not None:
            counts["conversion_rate"] = (ranking.conversions, ranking.impressions)
    return counts


@dataclass(frozen=True)
class ScopePerformance:
    """Performance of one scope (the whole window, or one segment)."""

    rows: int
    labelled: int
    metrics: dict[str, float] = field(default_factory=dict)
    undefined: dict[str, str] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    fairness: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, profile: PerformanceProfile) -> ScopePerformance:
        metrics: dict[str, float] = {}
        undefined: dict[str, str] = {}
        for name, value in profile.metrics().items():
            if isinstance(value, str):
                undefined[name] = value
            elif math.isfinite(value):
                metrics[name] = value
            else:
                undefined[name] = f"{name} is not finite ({value})"
        if profile.rows:
            metrics["label_coverage"] = profile.labelled / profile.rows
        intervals = {
            name: wilson_interval(successes, trials)
            for name, (successes, trials) in proportion_counts(profile).items()
        }
        fairness: dict[str, dict[str, float]] = {}
        if profile.groups is not None and profile.groups.tallies:
            fairness = {
                "positive_rate": _by_group(profile.groups.positive_rates()),
                "true_positive_rate": _by_group(profile.groups.true_positive_rates()),
            }
        return cls(profile.rows, profile.labelled, metrics, undefined, intervals, fairness)

    def coverage(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "labelled": self.labelled,
            "coverage": self.labelled / self.rows if self.rows else None,
        }


def _by_group(rates: Mapping[Label, float]) -> dict[str, float]:
    return {str(group): rate for group, rate in rates.items() if math.isfinite(rate)}


@dataclass(frozen=True)
class PerformanceReport:
    """Current and baseline performance, overall and per segment."""

    overall: ScopePerformance | None
    segments: dict[str, ScopePerformance]
    baseline: ScopePerformance | None
    baseline_segments: dict[str, ScopePerformance]

    @classmethod
    def compare(cls, reference: DatasetProfile, current: DatasetProfile) -> PerformanceReport:
        def scope(profile: DatasetProfile) -> ScopePerformance | None:
            return ScopePerformance.of(profile.performance) if profile.performance else None

        def segments(profile: DatasetProfile) -> dict[str, ScopePerformance]:
            found = {key: scope(segment) for key, segment in profile.segments.items()}
            return {key: value for key, value in found.items() if value is not None}

        return cls(scope(current), segments(current), scope(reference), segments(reference))

    def to_dict(self) -> dict[str, Any]:
        """The ``performance`` section of the result JSON (docs/result.md)."""
        if self.overall is None:
            return {"overall": {}, "segments": {}}

        def per_scope(
            overall: ScopePerformance | None, segments: Mapping[str, ScopePerformance], what: str
        ) -> dict[str, Any]:
            return {
                "overall": _figures(getattr(overall, what)) if overall else {},
                "segments": {key: _figures(getattr(s, what)) for key, s in segments.items()},
            }

        current = per_scope(self.overall, self.segments, "metrics")
        return {
            "overall": current["overall"],
            "segments": current["segments"],
            "baseline": per_scope(self.baseline, self.baseline_segments, "metrics"),
            "labels": {
                "overall": self.overall.coverage(),
                "segments": {key: s.coverage() for key, s in self.segments.items()},
            },
            "intervals": per_scope(self.overall, self.segments, "intervals"),
            "undefined": per_scope(self.overall, self.segments, "undefined"),
            "fairness": self.overall.fairness,
        }


def _figures(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: list(value) if isinstance(value, tuple) else value for name, value in values.items()
    }


def decide_metric_check(
    check: CheckSpec, reference: DatasetProfile, current: DatasetProfile
) -> CheckResult:
    """Decide a ``metric`` check on one scope (the caller picks the segment's profiles).

    Skips, with the reason, when the model has no performance profile, when fewer rows are
    labelled than ``min_labelled_rows``, or when the metric is undefined on these rows (one
    class only for AUC, no actual positives for recall, ...).
    """
    assert check.metric is not None
    metric = check.metric
    key = segment_key(check)
    where = f" in {key}" if key else ""
    profile = current.performance
    if profile is None:
        return skip(check, f"{metric}: no performance profile (schema.label is not set)")
    if metric == "label_coverage":
        if profile.rows == 0:
            return skip(check, f"label_coverage{where}: no rows")
        base = reference.performance
        baseline = base.labelled / base.rows if base is not None and base.rows else None
        return judge(check, profile.labelled / profile.rows, baseline=baseline)
    if profile.labelled < check.min_labelled_rows:
        return skip(
            check,
            f"{metric}{where}: {profile.labelled} labelled rows of {profile.rows}, fewer than "
            f"min_labelled_rows {check.min_labelled_rows}",
        )
    try:
        value = compute_metric(profile, metric)
    except InsufficientDataError as exc:
        return skip(check, f"{metric}{where} is undefined: {exc}")
    baseline = baseline_value(reference.performance, metric)
    result = judge(check, value, baseline=baseline)
    counts = proportion_counts(profile).get(metric)
    evidence = f"{profile.labelled:,} labelled rows of {profile.rows:,}"
    if counts is not None:
        low, high = wilson_interval(*counts)
        evidence = f"95% CI {low:.4g}-{high:.4g}, " + evidence
    return CheckResult(
        result.name,
        result.status,
        result.value,
        result.threshold,
        result.baseline,
        result.segment,
        result.action,
        f"{result.detail} ({evidence})",
    )


def baseline_value(profile: PerformanceProfile | None, metric: str) -> float | None:
    """A metric of the baseline's labelled rows, or None when there are none or it is
    undefined (the baseline of a relative check)."""
    if profile is None or profile.labelled == 0:
        return None
    try:
        value = compute_metric(profile, metric)
    except InsufficientDataError:
        return None
    return value if math.isfinite(value) else None
