"""The evaluation as the planner reads it: a result (an evaluation result's dict or the
result JSON) checked, with its checks, its window and its worst error slices."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from driftline.checks import CheckResult, EstimateEvidence, overall_status
from driftline.errors import InvalidInputError
from driftline.evaluation import ACTION_ORDER

#: Worst error slices shown in a notification (the report has them all).
WORST_SLICES_SHOWN = 3


@dataclass(frozen=True)
class CheckedEvaluation:
    """An evaluation result as :func:`read_result` checked it: its checks, the window it
    covers (either end may be unknown), the windows of the checks that carry their own (a
    combined run's, :func:`~driftline.alerts.windows.combine_windows`) and at most
    :data:`WORST_SLICES_SHOWN` worst slices."""

    model: str
    evaluation_id: str
    status: str
    window_start: str | None
    window_end: str | None
    checks: tuple[CheckResult, ...]
    worst_slices: tuple[dict[str, Any], ...]
    check_windows: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def window_of(self, check: str) -> tuple[str | None, str | None]:
        """The ``(start, end)`` of the window a check was decided on."""
        return self.check_windows.get(check, (self.window_start, self.window_end))


def read_result(document: Mapping[str, Any], model: str) -> CheckedEvaluation:
    """Check an evaluation result (its dict or the result JSON) for the planner.

    Raises:
        InvalidInputError: ``invalid_result``: not a mapping, a required key missing, another
            model's result, an empty evaluation id, checks not a list, or a check without a
            name, a known status or a known action.
    """

    def bad(message: str) -> InvalidInputError:
        return InvalidInputError(f"evaluation result: {message}", reason="invalid_result")

    if not isinstance(document, Mapping):
        raise bad(f"expected a mapping, got {type(document).__name__}")
    for key in ("model", "evaluation_id", "checks"):
        if key not in document:
            raise bad(f"{key}: required key is missing")
    if document["model"] != model:
        raise bad(f"model: the result is for {document['model']!r}, the definition for {model!r}")
    evaluation_id = document["evaluation_id"]
    if not isinstance(evaluation_id, str) or not evaluation_id:
        raise bad(f"evaluation_id: expected a non-empty string, got {evaluation_id!r}")
    raw_checks = document["checks"]
    if not isinstance(raw_checks, Sequence) or isinstance(raw_checks, str):
        raise bad(f"checks: expected a list, got {type(raw_checks).__name__}")
    checks: list[CheckResult] = []
    check_windows: dict[str, tuple[str | None, str | None]] = {}
    for index, item in enumerate(raw_checks):
        where = f"checks[{index}]"
        if not isinstance(item, Mapping):
            raise bad(f"{where}: expected a mapping, got {type(item).__name__}")
        name, status, action = item.get("name"), item.get("status"), item.get("action")
        if not isinstance(name, str) or not name:
            raise bad(f"{where}.name: expected a non-empty string, got {name!r}")
        if status not in ("pass", "fail", "skip"):
            raise bad(f"{where}.status: expected pass, fail or skip, got {status!r}")
        if action not in ACTION_ORDER:
            raise bad(f"{where}.action: expected one of {', '.join(ACTION_ORDER)}, got {action!r}")
        segment = item.get("segment")
        own_window = item.get("window")
        if isinstance(own_window, Mapping):
            check_windows[name] = (
                _optional_text(own_window.get("start")),
                _optional_text(own_window.get("end")),
            )
        checks.append(
            CheckResult(
                name,
                status,
                _number(item.get("value")),
                _number(item.get("threshold")),
                _number(item.get("baseline")),
                None if segment is None else str(segment),
                action,
                str(item.get("detail") or ""),
                _estimate(item.get("estimate")),
            )
        )
    status = document.get("status")
    if status not in ("ok", "warning", "critical"):
        status = overall_status(checks)
    window = document.get("window")
    window = window if isinstance(window, Mapping) else {}
    slices = document.get("worst_slices")
    slices = slices if isinstance(slices, Sequence) and not isinstance(slices, str) else []
    return CheckedEvaluation(
        model=model,
        evaluation_id=evaluation_id,
        status=str(status),
        window_start=_optional_text(window.get("start")),
        window_end=_optional_text(window.get("end")),
        checks=tuple(checks),
        worst_slices=tuple(
            _slice(item) for item in slices[:WORST_SLICES_SHOWN] if isinstance(item, Mapping)
        ),
        check_windows=check_windows,
    )


def _slice(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "slice": str(item.get("slice", "")),
        "rows": int(item.get("rows", 0)),
        "metric": str(item.get("metric", "")),
        "value": _number(item.get("value")),
        "overall": _number(item.get("overall")),
        "gap": _number(item.get("gap")),
        "z": _number(item.get("z")),
    }


def _estimate(value: Any) -> EstimateEvidence | None:
    """An estimated check's ``estimate`` (docs/result.md), or None when absent or not of
    that shape: the detail still says what it stood on.

    >>> read = _estimate({"lower": 0.69, "upper": 0.73, "covers": "sampling", "rows": 3998,
    ...                   "labels": {"rows": 4000, "labelled": 0}})
    >>> read.lower, read.upper, read.rows, read.window_rows, read.labelled
    (0.69, 0.73, 3998, 4000, 0)
    >>> _estimate({"lower": "?"}) is None
    True
    """
    if not isinstance(value, Mapping):
        return None
    labels = value.get("labels")
    labels = labels if isinstance(labels, Mapping) else {}
    lower, upper = _number(value.get("lower")), _number(value.get("upper"))
    counts = [_count(value.get("rows")), _count(labels.get("rows")), _count(labels.get("labelled"))]
    if lower is None or upper is None or None in counts:
        return None
    rows, window_rows, labelled = (int(count or 0) for count in counts)
    method = value.get("method")
    return EstimateEvidence(
        lower,
        upper,
        str(value.get("covers") or ""),
        rows,
        window_rows,
        labelled,
        method if method == "loss_model" else "cbpe",
    )


def _count(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number >= 0 and number.is_integer() else None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)
