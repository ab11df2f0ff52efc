"""The performance part of the report: now, per segment, over time, and where it fails.

* :func:`performance_section`: every metric of the labelled rows next to its 95 % interval
  and its baseline, the change in words (``worse``/``better``), then one row per segment,
  the label coverage, metrics that could not be computed and why, and fairness rates.
* :func:`worst_slices_section`: the slices whose error stands out most.
* :func:`history_section`: status and headline metrics over earlier evaluations, as line
  charts (overall thick, segments thin, a check's threshold dashed).

>>> result = {"performance": {"overall": {"accuracy": 0.8}, "segments": {},
...     "baseline": {"overall": {"accuracy": 0.9}}}}
>>> "worse" in performance_section(result)
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from driftline.report.charts import MAX_SERIES, Series, line_chart
from driftline.report.figures import (
    HEADLINE_METRICS,
    change,
    figure,
    finite,
    items,
    mapping,
    number,
    relative_change,
    share,
    text,
)
from driftline.report.markup import Html, cell, join, table, tag

_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})T00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?$")

#: Metrics in the per-segment table and in the charts over time.
SHOWN_METRICS = 4


def headline_metrics(metrics: Mapping[str, Any], *, limit: int = SHOWN_METRICS) -> list[str]:
    """The most telling metrics present (accuracy, AUC, ... for the task at hand)."""
    present = [name for name in HEADLINE_METRICS if number(metrics.get(name)) is not None]
    return present[:limit]


def checked_metric(checks: Sequence[Any], metric: str, value: Any) -> Mapping[str, Any] | None:
    """The overall check deciding ``metric`` (its detail names it and its value is it)."""
    for check in checks:
        entry = mapping(check)
        if (
            entry.get("segment") is None
            and text(entry.get("detail")).startswith(f"{metric} is ")
            and number(entry.get("value")) == number(value)
        ):
            return entry
    return None


def performance_section(result: Mapping[str, Any]) -> Html | None:
    """Performance overall and per segment (None when the model has no labels)."""
    performance = mapping(result.get("performance"))
    overall = mapping(performance.get("overall"))
    segments = mapping(performance.get("segments"))
    if not overall and not any(mapping(s) for s in segments.values()):
        return None
    baseline = mapping(performance.get("baseline"))
    intervals = mapping(performance.get("intervals"))
    labels = mapping(performance.get("labels"))
    checks = items(result.get("checks"))
    parts: list[Html | None] = [
        tag("h2", "Performance", id="performance"),
        coverage_line(mapping(labels.get("overall")), mapping(labels.get("join"))),
    ]
    failed_metrics = {
        name
        for name, value in overall.items()
        if mapping(checked_metric(checks, name, value)).get("status") == "fail"
    }
    rows = []
    for name, value in overall.items():
        if isinstance(value, Mapping | list):
            continue
        before = mapping(baseline.get("overall")).get(name)
        written, verdict = change(value, before, name)
        interval = items(mapping(intervals.get("overall")).get(name))
        rows.append(
            tag(
                "tr",
                cell(name, "name"),
                cell(figure(value), "num bad" if name in failed_metrics else "num"),
                cell(interval_text(interval), "num"),
                cell(figure(before), "num"),
                cell(
                    join([written, " ", tag("span", verdict, class_=verdict)])
                    if verdict
                    else written,
                    "num",
                ),
                class_="failed" if name in failed_metrics else None,
            )
        )
    if rows:
        parts.append(
            table(
                ["Metric", "Current", "95% interval", "Baseline", "Change"],
                rows,
                numeric=(1, 2, 3, 4),
            )
        )
    parts.append(segment_table(performance, checks))
    parts.append(undefined_list(mapping(performance.get("undefined"))))
    parts.append(fairness_table(mapping(performance.get("fairness"))))
    return join(parts)


def interval_text(interval: Sequence[Any]) -> str:
    """``0.8096 – 0.8333`` (or a dash without an interval)."""
    if len(interval) != 2:
        return "—"
    return f"{figure(interval[0])} – {figure(interval[1])}"


def coverage_line(labels: Mapping[str, Any], join_report: Mapping[str, Any]) -> Html:
    """How many rows have labels: the figures are of those rows only."""
    if not labels:
        return tag("p", "No label coverage figures.", class_="muted")
    rows, labelled = labels.get("rows"), labels.get("labelled")
    line = (
        f"Measured on {figure(labelled)} labelled rows of {figure(rows)} "
        f"({share(labels.get('coverage'))} label coverage)."
    )
    if join_report:
        line += (
            f" Late labels joined by id: {figure(join_report.get('joined'))}; "
            f"unmatched labels {figure(join_report.get('unmatched_labels'))}, "
            f"conflicting {figure(join_report.get('conflicting_labels'))}."
        )
    low = number(labels.get("coverage"))
    return tag("p", line, class_="warn-text" if low is not None and low < 0.5 else None)


def segment_table(performance: Mapping[str, Any], checks: Sequence[Any]) -> Html | None:
    """One row per segment: labelled rows and the headline metrics against the baseline."""
    segments = mapping(performance.get("segments"))
    if not segments:
        return None
    metrics: list[str] = []
    for figures in segments.values():
        for name in headline_metrics(mapping(figures)):
            if name not in metrics:
                metrics.append(name)
    metrics = [name for name in HEADLINE_METRICS if name in metrics][:SHOWN_METRICS]
    baseline = mapping(mapping(performance.get("baseline")).get("segments"))
    labels = mapping(mapping(performance.get("labels")).get("segments"))
    failed_segments = {
        text(mapping(check).get("segment"))
        for check in checks
        if mapping(check).get("status") == "fail" and mapping(check).get("segment")
    }
    rows = []
    for key, figures in segments.items():
        now = mapping(figures)
        before = mapping(baseline.get(key))
        cells = [cell(key, "name"), cell(figure(mapping(labels.get(key)).get("labelled")), "num")]
        for name in metrics:
            _, verdict = change(now.get(name), before.get(name), name)
            relative = relative_change(now.get(name), before.get(name))
            cells.append(
                cell(
                    join(
                        [
                            figure(now.get(name)),
                            tag(
                                "span",
                                f"baseline {figure(before.get(name))}",
                                f" ({relative})" if relative else None,
                                class_=f"sub {verdict}".strip(),
                            ),
                        ]
                    ),
                    "num",
                )
            )
        rows.append(tag("tr", *cells, class_="failed" if key in failed_segments else None))
    return join(
        [
            tag("h3", "Per segment"),
            table(
                ["Segment", "Labelled rows", *metrics],
                rows,
                numeric=range(1, len(metrics) + 2),
            ),
        ]
    )


def undefined_list(undefined: Mapping[str, Any]) -> Html | None:
    """Metrics that could not be computed, and why (one class only, no positives, ...)."""
    reasons = [
        (f"{name}", text(reason)) for name, reason in mapping(undefined.get("overall")).items()
    ]
    for key, scope in mapping(undefined.get("segments")).items():
        reasons += [(f"{name} in {key}", text(reason)) for name, reason in mapping(scope).items()]
    if not reasons:
        return None
    return join(
        [
            tag("h3", "Not computed"),
            tag("ul", *(tag("li", tag("strong", name), ": ", reason) for name, reason in reasons)),
        ]
    )


def fairness_table(fairness: Mapping[str, Any]) -> Html | None:
    """Positive and true-positive rates per sensitive group."""
    if not fairness:
        return None
    groups: list[str] = []
    for rates in fairness.values():
        groups += [group for group in mapping(rates) if group not in groups]
    rows = [
        tag(
            "tr",
            cell(rate, "name"),
            *(cell(figure(mapping(values).get(group)), "num") for group in groups),
        )
        for rate, values in fairness.items()
    ]
    return join(
        [
            tag("h3", "Fairness: rates per group"),
            table(["Rate", *groups], rows, numeric=range(1, len(groups) + 1)),
        ]
    )


def worst_slices_section(result: Mapping[str, Any]) -> Html | None:
    """The slices whose error differs most from the other rows (None when there are none)."""
    slices = items(result.get("worst_slices"))
    if not slices:
        return None
    rows = [
        tag(
            "tr",
            cell(text(mapping(entry).get("slice")), "name"),
            cell(figure(mapping(entry).get("rows")), "num"),
            cell(text(mapping(entry).get("metric"))),
            cell(figure(mapping(entry).get("value")), "num bad"),
            cell(figure(mapping(entry).get("overall")), "num"),
            cell(figure(mapping(entry).get("gap")), "num"),
            cell(figure(mapping(entry).get("z")), "num"),
        )
        for entry in slices
    ]
    return join(
        [
            tag("h2", "Where the model fails most (worst slices)", id="worst-slices"),
            tag(
                "p",
                "Slices of the labelled rows ranked by how far their error stands above the "
                "other rows' (z statistic); look at the top rows first.",
                class_="muted",
            ),
            table(
                ["Slice", "Rows", "Metric", "Slice value", "Overall", "Gap", "z"],
                rows,
                numeric=(1, 3, 4, 5, 6),
            ),
        ]
    )


def history_section(result: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> Html | None:
    """Status and metrics over earlier evaluations and this one (None without history)."""
    current_id = result.get("evaluation_id")
    earlier = [
        mapping(entry)
        for entry in history
        if current_id is None or mapping(entry).get("evaluation_id") != current_id
    ]
    if not earlier:
        return None
    points = [*earlier, result]
    labels = [point_label(point, index) for index, point in enumerate(points)]
    overall = mapping(mapping(result.get("performance")).get("overall"))
    checks = items(result.get("checks"))
    charts: list[Html] = []
    for metric in headline_metrics(overall):
        series = [
            Series(
                "overall",
                tuple(_metric(point, None, metric) for point in points),
                emphasis=True,
            )
        ]
        segment_keys = list(mapping(mapping(result.get("performance")).get("segments")))
        for key in segment_keys[: MAX_SERIES - 1]:
            series.append(Series(key, tuple(_metric(point, key, metric) for point in points)))
        check = checked_metric(checks, metric, overall.get(metric))
        threshold = finite(mapping(check).get("threshold")) if check else None
        charts.append(chart_figure(metric, series, labels, threshold))
    drift_shares = tuple(
        finite(mapping(point.get("drift")).get("share_drifted")) for point in points
    )
    if any(value is not None for value in drift_shares):
        threshold = finite(mapping(result.get("drift")).get("dataset_drift_share"))
        charts.append(
            chart_figure(
                "share of features drifted",
                [Series("share drifted", drift_shares, emphasis=True)],
                labels,
                threshold,
            )
        )
    status_rows = [
        tag(
            "tr",
            cell(label, "name"),
            cell(status_badge(text(point.get("status")))),
            cell(
                ", ".join(
                    text(mapping(c).get("name"))
                    for c in items(point.get("checks"))
                    if mapping(c).get("status") == "fail"
                )
                or "—"
            ),
        )
        for label, point in reversed(list(zip(labels, points, strict=True)))
    ]
    return join(
        [
            tag("h2", "Over time", id="history"),
            tag(
                "p",
                f"This evaluation and the {len(earlier)} before it, oldest on the left. "
                "Thick line: all rows; thin lines: segments; dashed red: the check's threshold.",
                class_="muted",
            ),
            tag("div", *charts, class_="charts"),
            tag("h3", "Status of each evaluation (newest first)"),
            table(["Evaluation", "Status", "Failed checks"], status_rows),
        ]
    )


def chart_figure(
    title: str, series: Sequence[Series], labels: Sequence[str], threshold: float | None
) -> Html:
    """A line chart with its caption and the legend of its lines."""
    legend = tag(
        "div",
        *(
            join([tag("span", class_=f"swatch s{index}"), line.name])
            for index, line in enumerate(series[:MAX_SERIES])
        ),
        class_="legend",
    )
    caption = tag(
        "figcaption",
        tag("strong", title),
        f" (threshold {figure(threshold)})" if threshold is not None else None,
    )
    return tag(
        "figure", caption, line_chart(series, labels, threshold=threshold, label=title), legend
    )


def point_label(point: Mapping[str, Any], index: int) -> str:
    """An evaluation on the x axis: its window's end, else its id, else its position.

    A time of midnight UTC is left out (``2024-07-01T00:00:00Z`` → ``2024-07-01``).
    """
    window = mapping(point.get("window"))
    for value in (window.get("end"), window.get("start"), point.get("evaluation_id")):
        if value:
            written = text(value)
            midnight = _MIDNIGHT.match(written)
            return midnight.group(1) if midnight else written
    return f"#{index + 1}"


def status_badge(status: str) -> Html:
    """``CRITICAL`` / ``WARNING`` / ``OK`` as a coloured badge."""
    known = status if status in ("critical", "warning", "ok") else "unknown"
    return tag("span", (status or "unknown").upper(), class_=f"badge {known}")


def _metric(point: Mapping[str, Any], segment: str | None, metric: str) -> float | None:
    performance = mapping(point.get("performance"))
    scope = (
        mapping(performance.get("overall"))
        if segment is None
        else mapping(mapping(performance.get("segments")).get(segment))
    )
    return finite(scope.get(metric))
