"""The estimate against the labels in the report: the model's running coverage, then this
window's reconciled metrics (estimate, interval, measured value, error, inside or not),
overall and per segment, from ``performance.reconciled`` (docs/result.md).

>>> result = {"performance": {"reconciled": {"min_share": 0.99,
...     "overall": {"accuracy": {"estimated": 0.83, "lower": 0.81, "upper": 0.85,
...                              "realised": 0.79, "error": 0.04, "inside": False}},
...     "segments": {}, "coverage": {"share": 0.5, "inside": 1, "pairs": 2,
...                                   "evaluations": 2, "trailing": 100}}}}
>>> page = estimate_section(result)
>>> "Coverage of the estimate: 50%" in page, "of 2 reconciled estimates" in page
(True, True)
>>> "metrics of 2 evaluations" in page
True

On AWS the coverage counts the batches reconciled when their labels landed:

>>> result["performance"]["reconciled"]["coverage"]["counts"] = "batches"
>>> "metrics of 2 batches of predictions reconciled when their labels landed" in (
...     estimate_section(result))
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftline.report.figures import figure, mapping, number, share, text
from driftline.report.markup import Html, cell, join, table, tag


def estimate_section(result: Mapping[str, Any]) -> Html | None:
    """The estimate reconciled with the labels (None when the performance is not estimated,
    so nothing could be reconciled)."""
    reconciled = mapping(mapping(result.get("performance")).get("reconciled"))
    if not reconciled or "skip" in reconciled:
        return None
    parts: list[Html | None] = [
        tag("h2", "Estimate against the labels", id="estimate"),
        coverage_line(mapping(reconciled.get("coverage"))),
    ]
    overall = mapping(reconciled.get("overall"))
    if "skip" in overall:
        parts.append(tag("p", f"This window is not reconciled: {text(overall['skip'])}."))
    elif overall:
        parts.append(
            tag(
                "p",
                "This window's estimate, made from the scores before the labels, against "
                "what its labels gave:",
            )
        )
        parts.append(metrics_table(overall))
    segments = mapping(reconciled.get("segments"))
    if segments:
        parts.append(tag("h3", "Per segment"))
        parts.append(segments_table(segments))
    return join(parts)


def coverage_line(coverage: Mapping[str, Any]) -> Html:
    """The running coverage in words, with what it should be, and what it counts: the
    batches reconciled when their labels landed (AWS), or whole windows (``counts``)."""
    pairs = number(coverage.get("pairs"))
    batches = coverage.get("counts") == "batches"
    if not pairs:
        needed = (
            "a batch of predictions whose rows are all (99%) labelled"
            if batches
            else "a window whose rows are all (99%) labelled"
        )
        return tag(
            "p",
            f"No estimate has been reconciled with labels yet: that needs {needed}.",
            class_="muted",
        )
    counted = number(coverage.get("evaluations"))
    if batches:
        plural = "" if counted == 1 else "es"
        what = f"batch{plural} of predictions reconciled when their labels landed"
    else:
        what = f"evaluation{'' if counted == 1 else 's'}"
    return tag(
        "p",
        tag("strong", f"Coverage of the estimate: {share(coverage.get('share'))}"),
        f" of {figure(coverage.get('pairs'))} reconciled estimates (metrics of "
        f"{figure(coverage.get('evaluations'))} {what}, each metric's latest "
        f"{figure(coverage.get('trailing'))}) had the measured value inside their 95% "
        "interval. It should be near 95%; well below it over many of them, the link "
        "between scores and labels has moved since the baseline and the estimates made "
        "before labels are off.",
    )


def metrics_table(metrics: Mapping[str, Any]) -> Html:
    rows = []
    for name, entry in metrics.items():
        figures = mapping(entry)
        inside = figures.get("inside")
        rows.append(
            tag(
                "tr",
                cell(name, "name"),
                cell(figure(figures.get("estimated")), "num"),
                cell(f"{figure(figures.get('lower'))} – {figure(figures.get('upper'))}", "num"),
                cell(figure(figures.get("realised")), "num"),
                cell(figure(figures.get("error")), "num"),
                cell("inside" if inside is True else "outside", None if inside else "bad"),
            )
        )
    return table(
        ["Metric", "Estimated", "95% interval", "Measured", "Error", "Measured value"],
        rows,
        numeric=(1, 2, 3, 4),
    )


def segments_table(segments: Mapping[str, Any]) -> Html:
    rows = []
    for key, entry in segments.items():
        scope = mapping(entry)
        if "skip" in scope:
            rows.append(tag("tr", cell(key, "name"), cell("—", "num"), cell(text(scope["skip"]))))
            continue
        outside = [
            name for name, figures in scope.items() if mapping(figures).get("inside") is False
        ]
        inside = len(scope) - len(outside)
        rows.append(
            tag(
                "tr",
                cell(key, "name"),
                cell(f"{inside} of {len(scope)}", "num"),
                cell(
                    f"outside: {', '.join(outside)}" if outside else "all inside",
                    "bad" if outside else None,
                ),
            )
        )
    return table(["Segment", "Inside the interval", "Detail"], rows, numeric=(1,))
