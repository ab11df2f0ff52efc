"""Estimated performance in the report: this window's estimate made from the scores before
the labels (``performance.estimated``: each metric with its 95 % interval, overall and per
segment, the rows estimated and the class prior), then the estimate against the labels: the
model's running coverage and this window's reconciled metrics (estimate, interval, measured
value, error, inside or not), overall and per segment, from ``performance.reconciled``
(docs/result.md).

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

A window without labels shows its estimate alone; a regression model's is made by its loss
model:

>>> unlabelled = {"performance": {"estimated": {"method": "cbpe",
...     "overall": {"auc": {"value": 0.72, "lower": 0.69, "upper": 0.75, "method": "cbpe"}},
...     "segments": {}, "rows": {"overall": 3000, "segments": {}}},
...     "reconciled": {"overall": {"skip": "labels cover 0 of 3,000 rows (0.00%)"}}}}
>>> page = estimate_section(unlabelled)
>>> "3,000 rows" in page, "0.69 – 0.75" in page
(True, True)
>>> unlabelled["performance"]["estimated"]["method"] = "loss_model"
>>> "Estimated from the predictions and features of 3,000 rows" in estimate_section(unlabelled)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftline.report.figures import figure, mapping, number, share, text
from driftline.report.markup import Html, cell, join, table, tag


def estimate_section(result: Mapping[str, Any]) -> Html | None:
    """This window's estimate and the estimate reconciled with the labels (None when the
    performance is neither estimated nor reconciled)."""
    performance = mapping(result.get("performance"))
    estimated = mapping(performance.get("estimated"))
    reconciled = mapping(performance.get("reconciled"))
    has_estimate = bool(mapping(estimated.get("overall"))) and "skip" not in estimated
    has_reconciled = bool(reconciled) and "skip" not in reconciled
    if not has_estimate and not has_reconciled:
        return None
    parts: list[Html | None] = [tag("h2", "Estimated performance", id="estimate")]
    if has_estimate:
        parts += estimated_part(estimated, mapping(performance.get("overall")))
    if has_reconciled:
        parts += reconciled_part(reconciled, heading=has_estimate)
    return join(parts)


def estimated_part(estimated: Mapping[str, Any], measured: Mapping[str, Any]) -> list[Html]:
    """The estimate made from the scores: a metric per row, overall and per segment (value
    over its 95 % interval), the rows estimated, the label coverage and the class prior."""
    rows_estimated = mapping(estimated.get("rows"))
    coverage = number(measured.get("label_coverage"))
    labels = (
        f"; labels cover {share(coverage)} of the window's rows" if coverage is not None else ""
    )
    how = (
        "predictions and features of {rows} rows, before their labels (a loss model fitted "
        "on the baseline's labelled rows)"
        if estimated.get("method") == "loss_model"
        else "scores of {rows} rows, before their labels (confidence-based estimation on "
        "the baseline's calibration)"
    )
    reconciled = mapping(mapping(estimated.get("interval")).get("reconciled_error"))
    widened = [str(name) for name in reconciled.get("widens") or []]
    wider = (
        f" (for {', '.join(widened)}: on the latest {figure(reconciled.get('batches'))} "
        "batches reconciled with their labels, where it was wider)"
        if widened
        else ""
    )
    intro = tag(
        "p",
        f"Estimated from the {how.format(rows=figure(rows_estimated.get('overall')))}; each "
        "95% interval covers the window's sampling error and the estimator's own error "
        f"measured on the baseline{wider}{labels}.",
    )
    overall = mapping(estimated.get("overall"))
    segments = {key: mapping(value) for key, value in mapping(estimated.get("segments")).items()}
    segment_rows = mapping(rows_estimated.get("segments"))
    headers = [
        "Metric",
        "Overall",
        *(f"{key} ({figure(segment_rows.get(key))} rows)" for key in segments),
    ]
    body = [
        tag(
            "tr",
            cell(name, "name"),
            estimate_cell(overall.get(name)),
            *(estimate_cell(scope.get(name)) for scope in segments.values()),
        )
        for name in overall
    ]
    parts = [intro, table(headers, body, numeric=range(1, len(headers)))]
    prior = label_shift_line(
        mapping(estimated.get("label_shift")), classes="expected_class_shares" in estimated
    )
    if prior is not None:
        parts.append(prior)
    return parts


def estimate_cell(entry: Any) -> Html:
    """One estimate: its value over its 95 % interval ("—" when there is none)."""
    figures = mapping(entry)
    if number(figures.get("value")) is None:
        return cell("—", "num")
    interval = f"{figure(figures.get('lower'))} – {figure(figures.get('upper'))}"
    return cell(join([figure(figures.get("value")), tag("span", interval, class_="sub")]), "num")


def label_shift_line(shift: Mapping[str, Any], *, classes: bool = False) -> Html | None:
    """The class prior estimated for the window against the baseline's, and what it may
    mean (docs/performance.md, "Label shift"); ``classes``: a multiclass model's shares."""
    if classes and "skip" in shift:
        return tag("p", f"The class shares are not estimated: {text(shift['skip'])}.")
    if isinstance(shift.get("prior"), Mapping):
        return class_shares_line(shift)
    prior = number(shift.get("prior"))
    if "skip" in shift:
        return tag("p", f"The positive class share is not estimated: {text(shift['skip'])}.")
    if prior is None:
        return None
    if shift.get("consistent") is False:
        reading = (
            "the predictions fit no mix of the baseline's classes: something other than the "
            "prior changed"
        )
    elif shift.get("shifted"):
        at_prior = mapping(shift.get("accuracy_at_prior"))
        reading = (
            "shifted beyond chance, and the predictions fit a change of the prior; if that is "
            "what happened the estimates above are biased, and the accuracy to expect at that "
            f"prior is {figure(at_prior.get('value'))} ({figure(at_prior.get('lower'))} – "
            f"{figure(at_prior.get('upper'))})"
        )
    else:
        reading = "not shifted beyond chance"
    return tag(
        "p",
        "Positive class share, estimated from the predictions (black-box shift estimation): "
        f"{share(prior)} (95% interval {share(shift.get('lower'))} – "
        f"{share(shift.get('upper'))}) against {share(shift.get('baseline_prior'))} in the "
        f"baseline: {reading}.",
    )


def class_shares_line(shift: Mapping[str, Any]) -> Html:
    """A multiclass model's class shares estimated for the window against the baseline's,
    and what they may mean."""
    priors, lower, upper = (mapping(shift.get(key)) for key in ("prior", "lower", "upper"))
    baseline, shifted = mapping(shift.get("baseline_prior")), mapping(shift.get("shifted"))
    shares = "; ".join(
        f"{text(name)} {share(priors.get(name))} ({share(lower.get(name))} – "
        f"{share(upper.get(name))}, baseline {share(baseline.get(name))})"
        for name in priors
    )
    moved = [str(name) for name in priors if shifted.get(name)]
    if shift.get("consistent") is False:
        reading = (
            "the predictions fit no mix of the baseline's classes: something other than the "
            "class shares changed"
        )
    elif moved:
        at_prior = mapping(shift.get("accuracy_at_prior"))
        reading = (
            f"{text(', '.join(moved))} shifted beyond chance, and the predictions fit a change "
            "of the class shares; if that is what happened the estimates above are biased, and "
            f"the accuracy to expect at those shares is {figure(at_prior.get('value'))} "
            f"({figure(at_prior.get('lower'))} – {figure(at_prior.get('upper'))})"
        )
    else:
        reading = "none shifted beyond chance"
    return tag(
        "p",
        "Class shares, estimated from the predictions (black-box shift estimation; 95% "
        f"intervals): {shares}: {reading}.",
    )


def reconciled_part(reconciled: Mapping[str, Any], *, heading: bool) -> list[Html | None]:
    """The running coverage and this window's estimate against its labels."""
    parts: list[Html | None] = [
        tag("h3", "Against the labels") if heading else None,
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
    return parts


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
