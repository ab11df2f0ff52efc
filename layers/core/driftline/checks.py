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
from driftline.config.definition import MonitorDefinition

Status = Literal["pass", "fail", "skip"]


def effective_checks(definition: MonitorDefinition) -> list[CheckSpec]:
    """The checks an evaluation decides: the definition's own, then every built-in check
    (:data:`driftline.config.BUILT_IN_CHECKS`) that none of them replaces by name.

    >>> from driftline.config import load_monitor_definition
    >>> definition = load_monitor_definition(
    ...     "{model: m, schema: {task: regression, features: {a: numeric}}, "
    ...     "baseline: {path: b.csv}, checks: [{name: a-missing, quality: missing_share, "
    ...     "feature: a, max: 0.1}]}")
    >>> [(check.name, check.quality, check.max) for check in effective_checks(definition)]
    [('a-missing', 'missing_share', 0.1), ('schema-columns', 'absent_columns', 0.0)]
    """
    named = {check.name for check in definition.checks}
    return [*definition.checks, *(check for check in BUILT_IN_CHECKS if check.name not in named)]


@dataclass(frozen=True)
class CheckResult:
    """The decision of one check."""

    name: str
    status: Status
    value: float | None
    threshold: float | None
    baseline: float | None
    segment: str | None
    action: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "value": _json_number(self.value),
            "threshold": _json_number(self.threshold),
            "baseline": _json_number(self.baseline),
            "segment": self.segment,
            "action": self.action,
            "detail": self.detail,
        }


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
    one violated decides, and its effective absolute threshold is reported.
    """
    measure = spec.metric or spec.quality or "value"
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
                f"{measure} {value:.4g}: relative check skipped: {why}",
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
    where = f" in {segment_key(spec)}" if spec.segment else ""
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
