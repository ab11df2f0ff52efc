"""Checks: turn measured figures into pass / fail / skip decisions with a reason.

A check compares one value with absolute bounds (``min``/``max``) or with its baseline
(``max_relative_drop``/``max_relative_increase``). Every result carries the value, the
effective threshold, the baseline, the segment, the action to take and a one-line detail a
person can read at 3 a.m. A check that cannot be decided (no data, no baseline) is ``skip``
with the reason: never a false pass or fail.

>>> from driftline.config import CheckSpec
>>> spec = CheckSpec(name="acc", metric="accuracy", min=0.85, action="retrain")
>>> judge(spec, 0.84, baseline=0.9).status
'fail'
>>> spec = CheckSpec(name="gini", metric="gini", max_relative_drop=0.05)
>>> result = judge(spec, 0.56, baseline=0.6)
>>> result.status, round(result.threshold, 4)
('fail', 0.57)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from driftline.config.checks import BUILT_IN_CHECKS, CheckSpec
from driftline.config.data import probability_columns
from driftline.config.definition import MonitorDefinition

Status = Literal["pass", "fail", "skip"]


def effective_checks(definition: MonitorDefinition) -> list[CheckSpec]:
    """The checks an evaluation decides: the definition's own, then every built-in check
    (:data:`driftline.config.BUILT_IN_CHECKS`) that applies to the model and that none of
    them replaces by name. ``scores-in-range`` applies to a classifier with probability
    columns (:func:`driftline.config.data.probability_columns`), ``schema-columns`` to
    every model.

    >>> from driftline.config import load_monitor_definition
    >>> definition = load_monitor_definition(
    ...     "{model: m, schema: {task: regression, features: {a: numeric}}, "
    ...     "baseline: {path: b.csv}, checks: [{name: a-missing, quality: missing_share, "
    ...     "feature: a, max: 0.1}]}")
    >>> [(check.name, check.quality, check.max) for check in effective_checks(definition)]
    [('a-missing', 'missing_share', 0.1), ('schema-columns', 'absent_columns', 0.0)]
    >>> binary = load_monitor_definition(
    ...     "{model: m, schema: {task: binary_classification, score: p, "
    ...     "features: {a: numeric}}, baseline: {path: b.csv}}")
    >>> [(check.name, check.quality, check.max) for check in effective_checks(binary)]
    [('schema-columns', 'absent_columns', 0.0), ('scores-in-range', 'out_of_range_scores', 0.0)]
    """
    named = {check.name for check in definition.checks}
    scored = bool(probability_columns(definition.schema_))
    built_in = [
        check
        for check in BUILT_IN_CHECKS
        if check.name not in named and (scored or check.quality != "out_of_range_scores")
    ]
    return [*definition.checks, *built_in]


@dataclass(frozen=True)
class EstimateEvidence:
    """What an estimated check's value stands on (``estimated: true``): the estimate's 95 %
    interval and what it covers, the rows estimated, and the label coverage of the scope it
    was decided in (its labelled rows of all its rows; labels need not have arrived).

    >>> evidence = EstimateEvidence(0.69, 0.73, "sampling", 3_998, 4_000, 0)
    >>> for part in evidence.describe().split("; "): print(part)
    estimated from the scores: 95% interval 0.69-0.73, 3,998 rows estimated
    label coverage 0 of 4,000 rows (0.0%)

    A regression model's estimate (``method="loss_model"``) is from the baseline's loss
    model, and its detail says so.
    """

    lower: float
    upper: float
    covers: str
    rows: int
    window_rows: int
    labelled: int
    method: str = "cbpe"

    @property
    def coverage(self) -> float | None:
        """Labelled rows over rows (None without rows)."""
        return self.labelled / self.window_rows if self.window_rows else None

    def describe(self) -> str:
        """The evidence as a check's detail quotes it."""
        coverage = self.coverage
        share = f" ({coverage:.1%})" if coverage is not None else ""
        source = "the loss model" if self.method == "loss_model" else "the scores"
        return (
            f"estimated from {source}: 95% interval {self.lower:.4g}-{self.upper:.4g}, "
            f"{self.rows:,} rows estimated; label coverage {self.labelled:,} of "
            f"{self.window_rows:,} rows{share}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``estimate`` of a check in the result JSON (docs/result.md)."""
        return {
            "method": self.method,
            "lower": _json_number(self.lower),
            "upper": _json_number(self.upper),
            "covers": self.covers,
            "rows": self.rows,
            "labels": {
                "rows": self.window_rows,
                "labelled": self.labelled,
                "coverage": _json_number(self.coverage),
            },
        }


@dataclass(frozen=True)
class CheckResult:
    """The decision of one check; ``estimate`` is what an estimated check's value stands on
    (None for every other check, and for an estimated one with no estimate to read)."""

    name: str
    status: Status
    value: float | None
    threshold: float | None
    baseline: float | None
    segment: str | None
    action: str
    detail: str
    estimate: EstimateEvidence | None = None

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "value": _json_number(self.value),
            "threshold": _json_number(self.threshold),
            "baseline": _json_number(self.baseline),
            "segment": self.segment,
            "action": self.action,
            "detail": self.detail,
        }
        if self.estimate is not None:
            document["estimate"] = self.estimate.to_dict()
        return document


def segment_key(spec: CheckSpec) -> str | None:
    """The ``column=value`` key of a check's segment selector (one column), or None."""
    if not spec.segment:
        return None
    return ",".join(f"{column}={value}" for column, value in sorted(spec.segment.items()))


def skip(spec: CheckSpec, reason: str, *, value: float | None = None) -> CheckResult:
    """A check that cannot be decided, with the reason."""
    return CheckResult(spec.name, "skip", value, None, None, segment_key(spec), spec.action, reason)


def judge(spec: CheckSpec, value: float | None, *, baseline: float | None) -> CheckResult:
    """Decide a metric or quality check on ``value`` (and its ``baseline``).

    Bounds are checked in the order min, max, relative drop, relative increase; the first
    one violated decides, and its effective absolute threshold is reported. An estimated
    check's detail names its measure ``estimated <metric>``.
    """
    measure = measure_of(spec)
    where = f" in {segment_key(spec)}" if spec.segment else ""
    if value is None or math.isnan(value):
        return skip(spec, f"{measure} could not be computed")
    bounds: list[tuple[float, bool, str]] = []  # (threshold, violated, description)
    if spec.min is not None:
        bounds.append((spec.min, value < spec.min, f"below the minimum {spec.min:g}"))
    if spec.max is not None:
        bounds.append((spec.max, value > spec.max, f"above the maximum {spec.max:g}"))
    relative = spec.max_relative_drop is not None or spec.max_relative_increase is not None
    if relative and (baseline is None or math.isnan(baseline) or baseline == 0):
        if not bounds:
            why = (
                "no baseline value"
                if baseline is None or math.isnan(baseline)
                else ("the baseline value is 0, so a relative change is undefined")
            )
            return CheckResult(
                spec.name,
                "skip",
                value,
                None,
                baseline,
                segment_key(spec),
                spec.action,
                f"{measure}{where} {value:.4g}: relative check skipped: {why}",
            )
    elif baseline is not None:
        if spec.max_relative_drop is not None:
            floor = baseline - spec.max_relative_drop * abs(baseline)
            change = (baseline - value) / abs(baseline)
            bounds.append(
                (
                    floor,
                    value < floor,
                    f"{change:.1%} below its baseline {baseline:.4g} "
                    f"(allowed drop {spec.max_relative_drop:.1%})",
                )
            )
        if spec.max_relative_increase is not None:
            ceiling = baseline + spec.max_relative_increase * abs(baseline)
            change = (value - baseline) / abs(baseline)
            bounds.append(
                (
                    ceiling,
                    value > ceiling,
                    f"{change:.1%} above its baseline {baseline:.4g} "
                    f"(allowed increase {spec.max_relative_increase:.1%})",
                )
            )
    for threshold, violated, description in bounds:
        if violated:
            return CheckResult(
                spec.name,
                "fail",
                value,
                threshold,
                baseline,
                segment_key(spec),
                spec.action,
                f"{measure}{where} is {value:.4g}, {description}",
            )
    reported = bounds[0][0] if bounds else None
    return CheckResult(
        spec.name,
        "pass",
        value,
        reported,
        baseline,
        segment_key(spec),
        spec.action,
        f"{measure}{where} is {value:.4g}, within bounds",
    )


def measure_of(spec: CheckSpec) -> str:
    """What a metric or quality check compares, as its detail names it.

    >>> measure_of(CheckSpec(name="a", metric="auc", estimated=True, min=0.8))
    'estimated auc'
    """
    measure = spec.metric or spec.quality or "value"
    return f"estimated {measure}" if spec.estimated else measure


def overall_status(results: list[CheckResult]) -> Literal["ok", "warning", "critical"]:
    """``critical`` if a failed check asks for retraining, ``warning`` for other failures."""
    failed = [result for result in results if result.status == "fail"]
    if any(result.action in ("retrain", "emergency_retrain") for result in failed):
        return "critical"
    return "warning" if failed else "ok"


def _json_number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
