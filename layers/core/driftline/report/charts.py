"""Small inline SVG charts: distributions, lines over time, detector timelines.

Charts are plain SVG elements inside the HTML page: no script, no external resource, and
colours come from the page's CSS classes (so they follow its light or dark theme). Each
chart carries a text alternative (``aria-label``) and a tooltip per mark (``<title>``), and
every label passes through :func:`driftline.report.markup.tag`, so names from the data are
text, never markup. Coordinates are rounded to 0.01 px, so the same input always gives the
same bytes.

>>> from driftline.report.distributions import Bar
>>> svg = bar_chart((Bar("a", 0.5, 0.25), Bar("b", 0.5, 0.75)), kind="categorical")
>>> svg.startswith("<svg"), svg.count("<rect")
(True, 4)
>>> timeline(100, [40], [], label="adwin").count('class="fire"')
1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from driftline.report.distributions import Bar
from driftline.report.markup import Html, join, tag

#: Width of the distribution charts in the drift table (px).
BAR_CHART_WIDTH = 300
#: Width of line charts and timelines (px).
WIDE_CHART_WIDTH = 520
#: Line series drawn per chart (more would not be readable); colours ``s0`` ... ``s5``.
MAX_SERIES = 6


def percent(share: float) -> str:
    """A share as a percentage a person reads at a glance (``0.4%``, ``12%``).

    >>> percent(0.0), percent(0.004), percent(0.1234), percent(1.0)
    ('0%', '0.4%', '12%', '100%')
    """
    if share == 0:
        return "0%"
    if share < 0.01:
        return f"{share * 100:.1f}%"
    return f"{share * 100:.0f}%"


def bar_chart(
    bars: Sequence[Bar], *, kind: str, axis: tuple[str, str] | None = None, label: str = ""
) -> Html:
    """Reference (grey) and current (blue) shares of a column's bins or categories.

    Args:
        bars: the bins (numeric) or categories, in display order.
        kind: ``"numeric"`` (vertical bars, bins left to right) or ``"categorical"``
            (one row per category, with the two shares written out).
        axis: for numeric charts, the labels of the first and last baseline edge, written
            under the bins they bound.
        label: what the chart shows, for the text alternative.

    Returns:
        An ``<svg>`` element.
    """
    summary = "; ".join(
        f"{bar.label}: reference {percent(bar.reference)}, current {percent(bar.current)}"
        for bar in bars
    )
    alternative = f"{label}: {summary}" if label else summary
    if kind == "numeric":
        return _vertical_bars(bars, axis, alternative)
    return _horizontal_bars(bars, alternative)


def _vertical_bars(bars: Sequence[Bar], axis: tuple[str, str] | None, alternative: str) -> Html:
    width, height, top, bottom = BAR_CHART_WIDTH, 88, 4.0, 68.0
    peak = max((max(bar.reference, bar.current) for bar in bars), default=0.0) or 1.0
    group = (width - 4) / max(len(bars), 1)
    marks: list[Html] = []
    first_inside: float | None = None
    last_inside: float | None = None
    for index, bar in enumerate(bars):
        x = 2 + index * group
        if not bar.outside:
            first_inside = x if first_inside is None else first_inside
            last_inside = x + group
        tooltip = f"{bar.label}: reference {percent(bar.reference)}, current {percent(bar.current)}"
        for offset, share, css in (
            (0.1, bar.reference, "ref"),
            (0.5, bar.current, "cur out" if bar.outside else "cur"),
        ):
            bar_height = share / peak * (bottom - top)
            marks.append(
                tag(
                    "rect",
                    tag("title", tooltip),
                    x=x + offset * group,
                    y=bottom - bar_height,
                    width=group * 0.4,
                    height=max(bar_height, 0.0),
                    class_=css,
                )
            )
    marks.append(tag("line", x1=2, y1=bottom, x2=width - 2, y2=bottom, class_="axis"))
    if axis is not None and first_inside is not None and last_inside is not None:
        marks.append(_axis_text(first_inside, bottom + 14, axis[0], width))
        marks.append(_axis_text(last_inside, bottom + 14, axis[1], width))
    return _svg(width, height, alternative, marks)


def _horizontal_bars(bars: Sequence[Bar], alternative: str) -> Html:
    row, bar_left, bar_width = 17.0, 114.0, 106.0
    width = BAR_CHART_WIDTH
    height = row * len(bars) + 4
    peak = max((max(bar.reference, bar.current) for bar in bars), default=0.0) or 1.0
    marks: list[Html] = []
    for index, bar in enumerate(bars):
        y = 2 + index * row
        name = bar.label + (" (new)" if bar.new else "")
        tooltip = f"{name}: reference {percent(bar.reference)}, current {percent(bar.current)}"
        marks.append(
            tag(
                "text",
                tag("title", tooltip),
                _shorten(name, 18),
                x=0,
                y=y + 12,
                class_="label new" if bar.new else ("label rest" if bar.rest else "label"),
            )
        )
        for offset, share, css in ((2.0, bar.reference, "ref"), (8.5, bar.current, "cur")):
            marks.append(
                tag(
                    "rect",
                    tag("title", tooltip),
                    x=bar_left,
                    y=y + offset,
                    width=share / peak * bar_width,
                    height=6,
                    class_=css,
                )
            )
        marks.append(
            tag(
                "text",
                f"{percent(bar.reference)} → {percent(bar.current)}",
                x=width,
                y=y + 12,
                class_="value",
                text_anchor="end",
            )
        )
    return _svg(width, height, alternative, marks)


@dataclass(frozen=True)
class Series:
    """One line: its name and a value per point (None: no value there, the line breaks).

    Attributes:
        name: shown in the legend and the tooltips.
        values: one per x position.
        emphasis: drawn thicker (the overall figure among segments).
    """

    name: str
    values: tuple[float | None, ...]
    emphasis: bool = False


def line_chart(
    series: Sequence[Series],
    labels: Sequence[str],
    *,
    threshold: float | None = None,
    label: str = "",
) -> Html:
    """Lines over evaluations, with an optional dashed threshold.

    Args:
        series: at most :data:`MAX_SERIES` lines (more are left out), each with one value
            per label.
        labels: the x positions (evaluations, oldest first).
        threshold: a horizontal line (a check's threshold), drawn in red.
        label: what the chart shows, for the text alternative.

    Returns:
        An ``<svg>`` element.
    """
    shown = list(series[:MAX_SERIES])
    width, height = WIDE_CHART_WIDTH, 170
    left, right, top, bottom = 56.0, width - 14.0, 10.0, 138.0
    values = [v for line in shown for v in line.values if v is not None]
    if threshold is not None:
        values.append(threshold)
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        pad = abs(high) * 0.1 or 0.5
        low, high = low - pad, high + pad
    else:
        pad = (high - low) * 0.08
        low, high = low - pad, high + pad
    count = max(len(labels), 1)

    def x_of(index: int) -> float:
        return left + (right - left) * (index / (count - 1) if count > 1 else 0.5)

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    marks: list[Html] = [
        tag("line", x1=left, y1=bottom, x2=right, y2=bottom, class_="axis"),
        tag("line", x1=left, y1=top, x2=left, y2=bottom, class_="axis"),
    ]
    for tick in (low + pad, (low + high) / 2, high - pad):
        marks.append(
            tag("line", x1=left - 3, y1=y_of(tick), x2=right, y2=y_of(tick), class_="grid")
        )
        marks.append(tag("text", f"{tick:.3g}", x=left - 6, y=y_of(tick) + 4, text_anchor="end"))
    step = max(1, -(-count // 6))
    for index, text in enumerate(labels):
        if index % step and index != count - 1:
            continue
        anchor = "start" if index == 0 and count > 1 else ("end" if index == count - 1 else None)
        marks.append(
            tag(
                "text",
                tag("title", text),
                _shorten(text, 14),
                x=x_of(index),
                y=bottom + 18,
                text_anchor=anchor or "middle",
            )
        )
    if threshold is not None:
        marks.append(
            tag(
                "line",
                tag("title", f"threshold {threshold:.4g}"),
                x1=left,
                y1=y_of(threshold),
                x2=right,
                y2=y_of(threshold),
                class_="thr",
            )
        )
    for number, line in enumerate(shown):
        css = f"line s{number}" + (" strong" if line.emphasis else "")
        for run in _runs(line.values):
            points = " ".join(f"{x_of(i):.2f},{y_of(v):.2f}" for i, v in run)
            marks.append(tag("polyline", points=points, class_=css))
        for index, value in enumerate(line.values):
            if value is None:
                continue
            marks.append(
                tag(
                    "circle",
                    tag("title", f"{line.name}, {labels[index]}: {value:.4g}"),
                    cx=x_of(index),
                    cy=y_of(value),
                    r=3 if line.emphasis else 2.5,
                    class_=f"dot s{number}",
                )
            )
    alternative = (label + ": " if label else "") + "; ".join(
        f"{line.name} " + ", ".join("none" if v is None else f"{v:.4g}" for v in line.values)
        for line in shown
    )
    return _svg(width, height, alternative, marks)


def timeline(
    n: int, fired: Sequence[int], warnings: Sequence[tuple[int, int]], *, label: str = ""
) -> Html:
    """Where a detector fired (red marks) and warned (amber spans) along ``n`` values.

    Args:
        n: values the detector read (positions 0 to n - 1).
        fired: positions after which it detected a drift.
        warnings: runs ``(first, last)`` of positions where it was in its warning zone.
        label: what the timeline shows, for the text alternative.

    Returns:
        An ``<svg>`` element.
    """
    width, height = WIDE_CHART_WIDTH, 50
    left, right, middle = 8.0, width - 8.0, 22.0
    last = max(n - 1, *fired, *(end for _, end in warnings), 1)

    def x_of(position: int) -> float:
        return left + (right - left) * min(max(position, 0), last) / last

    marks: list[Html] = [tag("line", x1=left, y1=middle, x2=right, y2=middle, class_="axis")]
    for first, end in warnings:
        marks.append(
            tag(
                "rect",
                tag("title", f"warning from value {first:,} to {end:,}"),
                x=x_of(first),
                y=middle - 7,
                width=max(x_of(end) - x_of(first), 1.5),
                height=14,
                class_="warn",
            )
        )
    for position in fired:
        marks.append(
            tag(
                "line",
                tag("title", f"drift detected at value {position:,}"),
                x1=x_of(position),
                y1=middle - 12,
                x2=x_of(position),
                y2=middle + 12,
                class_="fire",
            )
        )
    marks.append(tag("text", "0", x=left, y=height - 3))
    marks.append(tag("text", f"{last:,}", x=right, y=height - 3, text_anchor="end"))
    where = ", ".join(f"{p:,}" for p in fired) or "nowhere"
    alternative = f"{label}: {n:,} values, drift detected at {where}"
    return _svg(width, height, alternative, marks)


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Consecutive stretches of values that are not None (each drawn as one polyline)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((index, value))
    return [run for run in runs if run]


def _axis_text(x: float, y: float, text: str, width: int) -> Html:
    anchor = "start" if x < 24 else ("end" if x > width - 24 else "middle")
    return tag("text", text, x=x, y=y, text_anchor=anchor)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(width: int, height: float, alternative: str, marks: Sequence[Html]) -> Html:
    return tag(
        "svg",
        join(marks),
        width=width,
        height=height,
        viewBox=f"0 0 {width} {height:g}",
        role="img",
        aria_label=alternative,
        class_="chart",
    )
