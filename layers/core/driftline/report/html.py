"""One self-contained HTML page per evaluation, written for the person on call.

:func:`render_report` turns a result document (docs/result.md) into a page that loads
nothing: inline CSS, inline SVG charts, no script, no font or image to fetch, and a
Content-Security-Policy that would block any of them. Every name and value from the data
is escaped. The same arguments always give the same bytes, so a report can be stored under
its evaluation id as often as the evaluation is retried.

The page reads top-down in the order an on-call engineer needs it: status and what was
requested, the failed checks, performance (overall, per segment, the estimate made before
the labels against them and its running coverage, worst slices, over time),
detectors, drift with distributions, data quality, then the checks that passed or could not
be decided (docs/report.md).

>>> page = render_report({"model": "churn", "evaluation_id": "e1", "status": "ok",
...                       "checks": [{"name": "accuracy-floor", "status": "pass"}]})
>>> page.startswith("<!DOCTYPE html>"), "<title>OK · churn" in page, "<script" in page
(True, True, False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from driftline.profile.dataset import DatasetProfile
from driftline.report.detector_section import detector_section
from driftline.report.drift_section import drift_section, outputs_section
from driftline.report.estimate_section import estimate_section
from driftline.report.figures import figure, items, mapping, number, share, text
from driftline.report.markup import Html, cell, join, table, tag
from driftline.report.performance_section import (
    headline_metrics,
    history_section,
    performance_section,
    status_badge,
    worst_slices_section,
)
from driftline.report.style import STYLESHEET

#: Version of the report's layout (in the page's ``generator`` meta tag).
REPORT_VERSION = 1

#: Nothing may load: styles are inline, charts are inline SVG, there is no script.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

#: Actions in the order of their severity, with what each means for the reader.
ACTIONS = {
    "emergency_retrain": "Emergency retraining on the most recent data (then a canary, "
    "when the definition deploys one)",
    "retrain": "Retraining on the definition's training window",
    "notify": "A notification to the on-call topic",
}

#: New categories listed by name per column (the rest are counted).
LISTED_CATEGORIES = 5


def render_report(
    result: Mapping[str, Any],
    *,
    reference: DatasetProfile | None = None,
    current: DatasetProfile | None = None,
    history: Sequence[Mapping[str, Any]] = (),
    detectors: Mapping[str, Any] | None = None,
) -> str:
    """The HTML report of one evaluation.

    Args:
        result: the evaluation's result document (``EvaluationResult.to_dict()``, or the
            same JSON read back); missing parts are left out of the page, not an error.
        reference: the baseline's profile; with ``current``, each drift row gets a chart
            of the reference and current distributions.
        current: the evaluated data's profile (same bins as ``reference``).
        history: earlier result documents of the same model, oldest first; with at least
            one, the page charts status, headline metrics and drift over time (an entry
            with this result's evaluation id is left out).
        detectors: per detector check, what it read and where it fired:
            ``{"error-adwin": {"n": 4000, "fired": [1234], "warnings": [[1100, 1233]]}}``
            (also accepts the detector entries of ``driftline backtest``).

    Returns:
        A complete HTML document (UTF-8 text), identical for identical arguments.
    """
    model = text(result.get("model")) or "unknown model"
    status = text(result.get("status")) or "unknown"
    sections: list[tuple[str, str, Html | None]] = [
        ("failed-checks", "Failed checks", failed_checks_section(result)),
        ("actions", "Actions", actions_section(result)),
        ("performance", "Performance", performance_section(result)),
        ("estimate", "Estimate", estimate_section(result)),
        ("worst-slices", "Worst slices", worst_slices_section(result)),
        ("history", "Over time", history_section(result, history)),
        ("detectors", "Detectors", detector_section(detectors)),
        ("drift", "Input drift", drift_section(result, reference, current)),
        ("outputs", "Output drift", outputs_section(result, reference, current)),
        ("quality", "Data quality", quality_section(result)),
        ("checks", "Other checks", other_checks_section(result)),
    ]
    present = [(anchor, title, body) for anchor, title, body in sections if body is not None]
    contents = tag(
        "nav",
        *(tag("a", title, href=f"#{anchor}") for anchor, title, _ in present),
        class_="contents",
        aria_label="Sections",
    )
    body = tag(
        "main",
        header(result, model, status),
        contents,
        *(body for _, _, body in present),
        tag(
            "footer",
            f"driftline report {REPORT_VERSION} of result version "
            f"{figure(result.get('version'))}. Self-contained: no scripts, nothing loaded "
            "from the network.",
        ),
    )
    head = tag(
        "head",
        tag("meta", charset="utf-8"),
        tag("meta", http_equiv="Content-Security-Policy", content=CONTENT_SECURITY_POLICY),
        tag("meta", name="viewport", content="width=device-width, initial-scale=1"),
        tag("meta", name="generator", content=f"driftline report {REPORT_VERSION}"),
        tag(
            "title", f"{status.upper()} · {model} · evaluation {text(result.get('evaluation_id'))}"
        ),
        tag("style", Html(STYLESHEET)),
    )
    return "<!DOCTYPE html>\n" + tag("html", head, tag("body", body), lang="en") + "\n"


def header(result: Mapping[str, Any], model: str, status: str) -> Html:
    """Model, status badge, evaluation id, window and rows, then the headline in words."""
    window = mapping(result.get("window"))
    start, end = text(window.get("start")), text(window.get("end"))
    period = f"window {start or '…'} → {end or '…'}" if start or end else "window not given"
    rows = mapping(result.get("rows"))
    meta = tag(
        "p",
        tag("span", f"evaluation {text(result.get('evaluation_id')) or 'without id'}"),
        tag("span", period),
        tag(
            "span",
            f"reference {figure(rows.get('reference'))} rows, "
            f"current {figure(rows.get('current'))} rows",
        ),
        class_="meta",
    )
    return tag(
        "header",
        tag("h1", model, status_badge(status)),
        meta,
        headline(result, status),
        class_="top",
    )


def headline(result: Mapping[str, Any], status: str) -> Html:
    """The few sentences that say what happened and what was asked for."""
    checks = [mapping(c) for c in items(result.get("checks"))]
    failed = [c for c in checks if c.get("status") == "fail"]
    skipped = [c for c in checks if c.get("status") == "skip"]
    opening = {
        "critical": "Critical: a check that retrains the model failed.",
        "warning": "Warning: a check failed; no retraining was asked for.",
        "ok": "OK: no check failed.",
    }.get(status, f"Status {status}.")
    lines: list[Html | str] = []
    if checks:
        lines.append(
            f"{len(failed)} of {len(checks)} checks failed"
            + (f", {len(skipped)} could not be decided" if skipped else "")
            + "."
        )
    else:
        lines.append("The monitor definition has no checks.")
    for wanted in items(result.get("actions")):
        entry = mapping(wanted)
        lines.append(
            join(
                [
                    "Asked for: ",
                    tag("strong", text(entry.get("action"))),
                    f" by {', '.join(text(name) for name in items(entry.get('checks')))}.",
                ]
            )
        )
    drift = mapping(result.get("drift"))
    features = mapping(drift.get("features"))
    drifted = [name for name, f in features.items() if mapping(f).get("drifted") is True]
    if features:
        evaluated = sum(1 for f in features.values() if not mapping(f).get("skipped"))
        lines.append(
            f"Input drift: {len(drifted)} of {evaluated} features drifted"
            + (f" ({', '.join(drifted)})" if drifted else "")
            + (" — the dataset counts as drifted." if drift.get("dataset_drifted") is True else ".")
        )
    performance = mapping(result.get("performance"))
    overall = mapping(performance.get("overall"))
    baseline = mapping(mapping(performance.get("baseline")).get("overall"))
    shown = headline_metrics(overall, limit=2)
    if shown:
        labelled = mapping(mapping(performance.get("labels")).get("overall")).get("labelled")
        lines.append(
            "Performance: "
            + ", ".join(
                f"{name} {figure(overall.get(name))} (baseline {figure(baseline.get(name))})"
                for name in shown
            )
            + (f" on {figure(labelled)} labelled rows." if labelled is not None else ".")
        )
    known = status if status in ("critical", "warning", "ok") else "unknown"
    return tag(
        "div",
        tag("strong", opening),
        tag("ul", *(tag("li", line) for line in lines)),
        class_=f"headline {known}",
    )


def _severity(check: Mapping[str, Any]) -> int:
    action = text(check.get("action"))
    order = list(ACTIONS)
    return order.index(action) if action in order else len(order)


def failed_checks_section(result: Mapping[str, Any]) -> Html:
    """The failed checks, most severe action first: value, threshold, baseline, detail."""
    checks = [mapping(c) for c in items(result.get("checks"))]
    failed = sorted((c for c in checks if c.get("status") == "fail"), key=_severity)
    title = tag("h2", f"Failed checks ({len(failed)})", id="failed-checks")
    if not failed:
        return join([title, tag("p", "No check failed.", class_="good")])
    rows = [
        tag(
            "tr",
            check_name_cell(check, "name nowrap"),
            check_value_cell(check, "num bad"),
            cell(figure(check.get("threshold")), "num"),
            cell(figure(check.get("baseline")), "num"),
            cell(text(check.get("segment")) or "all rows"),
            cell(tag("strong", text(check.get("action")))),
            cell(text(check.get("detail")), "detail"),
            class_="failed"
            if _severity(check) < list(ACTIONS).index("notify")
            else "failed notify",
        )
        for check in failed
    ]
    return join(
        [
            title,
            table(
                ["Check", "Value", "Threshold", "Baseline", "Segment", "Action", "What was found"],
                rows,
                numeric=(1, 2, 3),
            ),
        ]
    )


def check_name_cell(check: Mapping[str, Any], css: str) -> Html:
    """A check's name, marked *estimated* when its value is an estimate from the scores, not
    a measurement (it carries an ``estimate``; one skipped for want of an estimate says so
    in its detail).

    >>> str(check_name_cell({"name": "auc-est", "estimate": {"rows": 10}}, "name"))
    '<td class="name">auc-est<span class="sub estimated">estimated</span></td>'
    """
    estimated = bool(mapping(check.get("estimate")))
    mark = tag("span", "estimated", class_="sub estimated") if estimated else None
    return cell(join([text(check.get("name")), mark]), css)


def check_value_cell(check: Mapping[str, Any], css: str) -> Html:
    """A check's value; an estimate's with its 95 % interval, the rows estimated and the
    label coverage under it.

    >>> cell = check_value_cell({"value": 0.72, "estimate": {"lower": 0.69, "upper": 0.75,
    ...     "rows": 3000, "labels": {"rows": 3000, "labelled": 0, "coverage": 0.0}}}, "num")
    >>> "0.72" in cell, "95% interval 0.69 – 0.75" in cell, "3,000 rows estimated" in cell
    (True, True, True)
    >>> "label coverage 0% (0 of 3,000)" in cell
    True
    """
    value = figure(check.get("value"))
    estimate = mapping(check.get("estimate"))
    if not estimate:
        return cell(value, css)
    labels = mapping(estimate.get("labels"))
    return cell(
        join(
            [
                value,
                tag(
                    "span",
                    f"95% interval {figure(estimate.get('lower'))} – "
                    f"{figure(estimate.get('upper'))}",
                    class_="sub",
                ),
                tag("span", f"{figure(estimate.get('rows'))} rows estimated", class_="sub"),
                tag(
                    "span",
                    f"label coverage {share(labels.get('coverage'))} "
                    f"({figure(labels.get('labelled'))} of {figure(labels.get('rows'))})",
                    class_="sub",
                ),
            ]
        ),
        css,
    )


def actions_section(result: Mapping[str, Any]) -> Html | None:
    """What the failed checks ask for, most severe first (None when nothing is asked)."""
    wanted = [mapping(entry) for entry in items(result.get("actions"))]
    if not wanted:
        return None
    entries = [
        tag(
            "li",
            tag("strong", text(entry.get("action"))),
            f" — {ACTIONS.get(text(entry.get('action')), 'as the definition configures it')}; "
            f"asked by {', '.join(text(name) for name in items(entry.get('checks')))}.",
        )
        for entry in wanted
    ]
    return join(
        [
            tag("h2", "Actions", id="actions"),
            tag("ul", *entries),
            tag(
                "p",
                "Each action runs once per cooldown and is deduplicated; the notification "
                "says what was actually started (for example the retraining execution).",
                class_="muted",
            ),
        ]
    )


def quality_section(result: Mapping[str, Any]) -> Html | None:
    """Rows, rejected rows, volume, absent and unknown columns, then one row per column."""
    quality = mapping(result.get("data_quality"))
    if not quality:
        return None
    dataset = mapping(quality.get("_dataset"))
    facts = []
    if dataset:
        facts.append(
            f"{figure(dataset.get('rows'))} rows, {figure(dataset.get('bad_rows'))} rejected "
            f"({share(dataset.get('bad_row_share'))}); volume {figure(dataset.get('volume_ratio'))}"
            " × the baseline's."
        )
        absent = [text(c) for c in items(dataset.get("absent_columns"))]
        unknown = [text(c) for c in items(dataset.get("unknown_columns"))]
        if absent:
            facts.append(f"Monitored columns missing from the data: {', '.join(absent)}.")
        if unknown:
            facts.append(f"Columns the definition does not name: {', '.join(unknown)}.")
    rows = []
    for name, entry in quality.items():
        if name == "_dataset":
            continue
        figures = mapping(entry)
        new = [text(c) for c in items(figures.get("new_categories"))]
        listed = ", ".join(new[:LISTED_CATEGORIES])
        if len(new) > LISTED_CATEGORIES:
            listed += f" and {len(new) - LISTED_CATEGORIES} more"
        rows.append(
            tag(
                "tr",
                cell(name, "name"),
                _share_cell(figures.get("missing_share")),
                _share_cell(figures.get("type_violation_share")),
                _share_cell(figures.get("out_of_range_share")),
                cell(figure(figures.get("infinite")), "num"),
                cell(listed or "—", "warn-text" if new else None),
                _share_cell(figures.get("new_category_share")),
            )
        )
    return join(
        [
            tag("h2", "Data quality", id="quality"),
            *(tag("p", fact) for fact in facts),
            table(
                [
                    "Column",
                    "Missing",
                    "Not a number",
                    "Outside baseline range",
                    "Infinite",
                    "New categories",
                    "New category share",
                ],
                rows,
                numeric=(1, 2, 3, 4, 6),
            )
            if rows
            else None,
        ]
    )


def _share_cell(value: Any) -> Html:
    measured = number(value)
    return cell(share(value), "num warn-text" if measured else "num")


def other_checks_section(result: Mapping[str, Any]) -> Html | None:
    """Checks that could not be decided (with why), then the checks that passed."""
    checks = [mapping(c) for c in items(result.get("checks"))]
    skipped = [c for c in checks if c.get("status") == "skip"]
    passed = [c for c in checks if c.get("status") == "pass"]
    if not skipped and not passed:
        return None
    parts: list[Html | None] = [tag("h2", "Other checks", id="checks")]
    if skipped:
        parts.append(tag("h3", f"Could not be decided ({len(skipped)})"))
        parts.append(
            table(
                ["Check", "Segment", "Action", "Why"],
                [
                    tag(
                        "tr",
                        check_name_cell(c, "name"),
                        cell(text(c.get("segment")) or "all rows"),
                        cell(text(c.get("action"))),
                        cell(text(c.get("detail")), "detail"),
                    )
                    for c in skipped
                ],
            )
        )
    if passed:
        parts.append(
            tag(
                "details",
                tag("summary", f"Passed ({len(passed)})"),
                table(
                    ["Check", "Value", "Threshold", "Baseline", "Segment", "Detail"],
                    [
                        tag(
                            "tr",
                            check_name_cell(c, "name"),
                            check_value_cell(c, "num"),
                            cell(figure(c.get("threshold")), "num"),
                            cell(figure(c.get("baseline")), "num"),
                            cell(text(c.get("segment")) or "all rows"),
                            cell(text(c.get("detail")), "detail"),
                        )
                        for c in passed
                    ],
                    numeric=(1, 2, 3),
                ),
                open="open" if not skipped and len(passed) <= 10 else None,
            )
        )
    return join(parts)
