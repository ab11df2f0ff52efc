"""How the report writes numbers and reads the loosely typed parts of a result document.

A result is JSON read back from storage (or an older version of it), so the report never
assumes a key is present or a value has the expected type: :func:`mapping`, :func:`items`
and :func:`number` turn anything unexpected into "nothing to show" instead of an error.

>>> figure(0.82175), figure(8.021841621520284e-41), figure(4000), figure(None)
('0.8218', '8.022e-41', '4,000', '—')
>>> change(0.82175, 0.8674, "accuracy")
('−0.04565 (−5.3%)', 'worse')
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

#: Metrics where a higher value is better (the others listed below are better lower).
HIGHER_IS_BETTER = frozenset(
    {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "f1_macro",
        "f1_micro",
        "precision_macro",
        "recall_macro",
        "auc",
        "gini",
        "r2",
        "ctr",
        "conversion_rate",
        "precision_at_k",
        "recall_at_k",
        "map_at_k",
        "ndcg_at_k",
        "mrr",
        "label_coverage",
    }
)
#: Metrics where a lower value is better.
LOWER_IS_BETTER = frozenset(
    {"error_rate", "log_loss", "brier", "mae", "rmse", "mape", "mse", "latency"}
)
#: Metrics shown first, in this order, when a table or chart has room for a few only.
HEADLINE_METRICS = (
    "accuracy",
    "auc",
    "gini",
    "f1",
    "precision",
    "recall",
    "mae",
    "rmse",
    "mape",
    "r2",
    "ctr",
    "ndcg_at_k",
    "precision_at_k",
    "map_at_k",
)
NOTHING = "—"


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> Sequence[Any]:
    """``value`` if it is a list or tuple, else an empty sequence."""
    return value if isinstance(value, list | tuple) else ()


def number(value: Any) -> float | None:
    """``value`` as a float if it is a real number (not a bool; numpy's count), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def finite(value: Any) -> float | None:
    """``value`` as a float if it is a finite number, else None (a gap in a chart)."""
    measured = number(value)
    return measured if measured is not None and math.isfinite(measured) else None


def text(value: Any) -> str:
    """``value`` as text for the page ("" for None)."""
    return "" if value is None else str(value)


def figure(value: Any) -> str:
    """A value as a person reads it: 4 significant digits, thousands separators."""
    if value is None:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value.is_integer() and abs(value) >= 1e4 and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.4g}".replace("-", "−") if value < 0 else f"{value:.4g}"
    return str(value)


def share(value: Any) -> str:
    """A share in [0, 1] as a percentage (``6.8%``); other values as :func:`figure`."""
    measured = number(value)
    if measured is None or not math.isfinite(measured):
        return figure(value)
    if measured == 0:
        return "0%"
    percent = measured * 100
    return f"{percent:.2g}%" if abs(percent) < 1 else f"{percent:.1f}%".replace(".0%", "%")


def direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when neither is known."""
    if metric in HIGHER_IS_BETTER:
        return 1
    if metric in LOWER_IS_BETTER:
        return -1
    return 0


def relative_change(current: Any, baseline: Any) -> str:
    """The change from ``baseline`` to ``current`` in percent of the baseline (``−6.8%``).

    >>> relative_change(0.78, 0.8366), relative_change(1.0, 0.0)
    ('−6.8%', '')
    """
    now, before = number(current), number(baseline)
    if now is None or before is None or before == 0 or not math.isfinite(now - before):
        return ""
    relative = (now - before) / abs(before) * 100
    return f"{'−' if relative < 0 else '+'}{abs(relative):.1f}%"


def change(current: Any, baseline: Any, metric: str) -> tuple[str, str]:
    """The change from ``baseline`` to ``current`` and whether it is ``better`` or ``worse``.

    Returns:
        The signed difference (with the relative change when the baseline is not 0) and
        ``"better"``, ``"worse"`` or ``""`` (no change, unknown direction or no numbers).
    """
    now, before = number(current), number(baseline)
    if now is None or before is None or not (math.isfinite(now) and math.isfinite(before)):
        return NOTHING, ""
    difference = now - before
    written = figure(difference) if difference < 0 else "+" + figure(difference)
    if before != 0:
        written += f" ({relative_change(now, before)})"
    verdict = ""
    if difference != 0 and direction(metric) != 0:
        verdict = "better" if difference * direction(metric) > 0 else "worse"
    return written, verdict
