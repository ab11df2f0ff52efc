"""Checks decide pass / fail / skip from a value, its bounds and its baseline."""

from __future__ import annotations

import math

import pytest

from driftline.checks import CheckResult, judge, overall_status
from driftline.config import CheckSpec


def spec(**fields: object) -> CheckSpec:
    return CheckSpec.model_validate({"name": "c", "metric": "accuracy", **fields})


@pytest.mark.parametrize(("value", "status"), [(0.84, "fail"), (0.85, "pass"), (0.86, "pass")])
def test_min_bound_fails_strictly_below(value: float, status: str) -> None:
    result = judge(spec(min=0.85, action="retrain"), value, baseline=None)
    assert result.status == status
    assert result.threshold == 0.85
    assert result.action == "retrain"


def test_relative_drop_uses_the_baseline_and_reports_the_effective_threshold() -> None:
    check = CheckSpec(name="gini", metric="gini", max_relative_drop=0.05)
    # 6 % below a baseline of 0.5 fails, 4 % below passes
    failed = judge(check, 0.47, baseline=0.5)
    passed = judge(check, 0.48, baseline=0.5)
    assert failed.status == "fail" and passed.status == "pass"
    assert math.isclose(failed.threshold or 0, 0.475)
    assert "6.0% below its baseline 0.5" in failed.detail


def test_relative_increase_on_a_negative_baseline_uses_its_magnitude() -> None:
    check = CheckSpec(name="r2", metric="r2", max_relative_increase=0.1)
    # ceiling = -1.0 + 0.1 * |-1.0| = -0.9
    assert judge(check, -0.95, baseline=-1.0).status == "pass"
    assert judge(check, -0.95, baseline=-1.0).threshold == pytest.approx(-0.9)
    assert judge(check, -0.85, baseline=-1.0).status == "fail"


@pytest.mark.parametrize("baseline", [None, 0.0, float("nan")])
def test_relative_check_without_usable_baseline_is_skipped_with_reason(
    baseline: float | None,
) -> None:
    result = judge(
        CheckSpec(name="g", metric="gini", max_relative_drop=0.05), 0.4, baseline=baseline
    )
    assert result.status == "skip"
    assert "relative check skipped" in result.detail


def test_absolute_bound_still_decides_when_relative_baseline_is_missing() -> None:
    check = CheckSpec(name="g", metric="gini", min=0.3, max_relative_drop=0.05)
    assert judge(check, 0.2, baseline=None).status == "fail"


def test_value_that_cannot_be_computed_is_skipped() -> None:
    assert judge(spec(min=0.5), float("nan"), baseline=0.9).status == "skip"
    assert judge(spec(min=0.5), None, baseline=0.9).status == "skip"


def test_segment_is_named_in_result_and_detail() -> None:
    check = CheckSpec(name="s", metric="gini", segment={"risk": "subprime"}, min=0.5)
    result = judge(check, 0.4, baseline=None)
    assert result.segment == "risk=subprime"
    assert "in risk=subprime" in result.detail


def _result(status: str, action: str) -> CheckResult:
    return CheckResult("c", status, 0.0, 0.0, None, None, action, "")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([], "ok"),
        ([("pass", "retrain"), ("skip", "retrain")], "ok"),
        ([("fail", "notify"), ("pass", "retrain")], "warning"),
        ([("fail", "notify"), ("fail", "retrain")], "critical"),
        ([("fail", "emergency_retrain")], "critical"),
    ],
)
def test_overall_status_follows_failed_actions(
    results: list[tuple[str, str]], expected: str
) -> None:
    assert overall_status([_result(s, a) for s, a in results]) == expected


def test_result_json_has_no_infinite_numbers() -> None:
    result = CheckResult("c", "fail", float("inf"), 0.1, float("nan"), None, "notify", "")
    body = result.to_dict()
    assert body["value"] is None and body["baseline"] is None and body["threshold"] == 0.1
