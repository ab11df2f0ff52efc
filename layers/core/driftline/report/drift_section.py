"""The drift part of the report: features, outputs and segments, with distributions.

Each compared column gets one row: the method, the effect and the p-value adjusted for the
evaluation's family of tests, the values compared on each side, the rule that decided
(``adjusted p < 0.01 (holm, 126 tests) and ks ≥ 0.02``), the verdict and, when both
profiles are given, a small chart of the reference and current distributions. Drifted
columns come first. (Results written before 2026-12 hold a statistic, a p-value and a
single rule such as ``statistic ≥ 0.2``; they are shown in the same columns.)

>>> result = {"drift": {"dataset_drifted": False, "share_drifted": 0.0,
...     "dataset_drift_share": 0.5, "features": {"age": {"method": "psi",
...     "statistic": 0.01, "p_value": None, "threshold": 0.2,
...     "direction": "statistic >= threshold", "drifted": False}}}}
>>> "drift when statistic ≥ 0.2" in drift_section(result, None, None)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftline.profile.categorical import CategoricalProfile
from driftline.profile.dataset import DatasetProfile
from driftline.profile.numeric import NumericProfile
from driftline.report.charts import bar_chart, percent
from driftline.report.distributions import column_distribution
from driftline.report.figures import figure, mapping, share, text
from driftline.report.markup import Html, cell, join, table, tag


def drift_section(
    result: Mapping[str, Any],
    reference: DatasetProfile | None,
    current: DatasetProfile | None,
) -> Html:
    """The input-drift section: dataset verdict, per-feature table, per-segment summary."""
    drift = mapping(result.get("drift"))
    features = mapping(drift.get("features"))
    evaluated = [f for f in features.values() if not mapping(f).get("skipped")]
    drifted = [name for name, f in features.items() if mapping(f).get("drifted") is True]
    verdict = "Dataset drift" if drift.get("dataset_drifted") is True else "No dataset drift"
    summary = tag(
        "p",
        tag("strong", verdict, class_="bad" if drift.get("dataset_drifted") is True else None),
        f": {len(drifted)} of {len(evaluated)} features drifted "
        f"({share(drift.get('share_drifted'))}; the dataset counts as drifted from "
        f"{share(drift.get('dataset_drift_share'))})."
        + (f" Drifted: {', '.join(drifted)}." if drifted else ""),
    )
    parts: list[Html | None] = [
        tag("h2", "Input drift", id="drift"),
        summary,
        legend() if reference is not None and current is not None else None,
        drift_table(features, reference, current) if features else tag("p", "No features."),
        segment_drift(mapping(drift.get("segments"))),
    ]
    return join(parts)


def outputs_section(
    result: Mapping[str, Any],
    reference: DatasetProfile | None,
    current: DatasetProfile | None,
) -> Html | None:
    """Drift of the prediction, score and label columns (None when there are none)."""
    outputs = mapping(mapping(result.get("drift")).get("outputs"))
    if not outputs:
        return None
    return join(
        [
            tag("h2", "Prediction, score and label drift", id="outputs"),
            tag(
                "p",
                "A shift in what the model predicts, or in the labels that come back, often "
                "shows before a metric can be measured.",
                class_="muted",
            ),
            drift_table(outputs, reference, current),
        ]
    )


def legend() -> Html:
    """The colour key of the distribution charts."""
    return tag(
        "p",
        "Distributions:",
        tag("span", class_="swatch ref"),
        "reference (baseline)",
        tag("span", class_="swatch cur"),
        "current",
        tag("span", class_="swatch out"),
        "outside the baseline's range",
        class_="legend",
    )


def drift_table(
    columns: Mapping[str, Any],
    reference: DatasetProfile | None,
    current: DatasetProfile | None,
) -> Html:
    """One row per column: method, statistic, p-value, rule, verdict (drifted first)."""
    with_charts = reference is not None and current is not None
    ordered = sorted(
        columns.items(),
        key=lambda item: (
            0
            if mapping(item[1]).get("drifted") is True
            else 2
            if mapping(item[1]).get("skipped")
            else 1
        ),
    )
    rows = []
    for name, entry in ordered:
        figures = mapping(entry)
        skipped = figures.get("skipped")
        if skipped:
            verdict = join([tag("span", "skipped", class_="flag skip"), " ", text(skipped)])
        elif figures.get("drifted") is True:
            verdict = tag("span", "DRIFTED", class_="flag bad")
        else:
            verdict = Html("no")
        decided = "effect" in figures
        rows_compared = (
            f"{figures['n_current']:,} / {figures['n_reference']:,}"
            if decided and figures.get("n_current") is not None
            else "—"
        )
        cells = [
            cell(name, "name"),
            cell(text(figures.get("method")) or "—"),
            cell(figure(figures.get("effect" if decided else "statistic")), "num"),
            cell(figure(figures.get("p_adjusted" if decided else "p_value")), "num"),
            cell(rows_compared, "num"),
            cell(rule(figures)),
            cell(verdict),
        ]
        if with_charts:
            assert reference is not None and current is not None
            cells.append(cell(distribution_cell(name, reference, current)))
        css = "failed notify" if figures.get("drifted") is True else None
        rows.append(tag("tr", *cells, class_=css))
    headers = ["Column", "Method", "Effect", "Adjusted p", "n current / reference", "Rule"]
    headers.append("Drifted")
    if with_charts:
        headers.append("Reference vs current")
    return table(headers, rows, numeric=(2, 3, 4))


def rule(figures: Mapping[str, Any]) -> str:
    """How a drift figure is compared, in words: ``drift when p-value < 0.05``, or for a
    decision of an evaluation ``drift when adjusted p < 0.01 (holm, 126 tests) and ks ≥
    0.02``."""
    threshold = figure(figures.get("threshold"))
    if "effect" in figures:
        size = f"{text(figures.get('effect_measure'))} ≥ {threshold}"
        missing = mapping(figures.get("missing_share"))
        if missing:
            size = (
                f"({size} or missing share {_share(missing.get('reference'))} → "
                f"{_share(missing.get('current'))} moved ≥ "
                f"{figure(figures.get('min_missing_change'))}, each credible on its own)"
            )
        return (
            f"drift when adjusted p < {figure(figures.get('alpha'))} "
            f"({text(figures.get('correction'))}, {figures.get('family')} tests) and {size}"
        )
    direction = text(figures.get("direction"))
    if not direction:
        return f"threshold {threshold}" if figures.get("threshold") is not None else "—"
    written = (
        direction.replace("p_value", "p-value")
        .replace(">=", "≥")
        .replace("<=", "≤")
        .replace("threshold", threshold)
    )
    return f"drift when {written}"


def _share(value: Any) -> str:
    return f"{value:.1%}".replace("%", " %") if isinstance(value, (int, float)) else "—"


def distribution_cell(name: str, reference: DatasetProfile, current: DatasetProfile) -> Html:
    """A column's reference-vs-current chart with a one-line summary under it."""
    before = reference.columns.get(name)
    after = current.columns.get(name)
    if before is None or after is None:
        return Html(tag("span", "no profile of this column", class_="muted"))
    distribution = column_distribution(before, after)
    if distribution is None:
        return Html(tag("span", "profiles not comparable (different bins)", class_="muted"))
    axis = None
    if isinstance(before, NumericProfile) and before.edges:
        axis = (figure(before.edges[0]), figure(before.edges[-1]))
    chart = bar_chart(distribution.bars, kind=distribution.kind, axis=axis, label=name)
    return join([chart, tag("span", column_summary(before, after), class_="sub")])


def column_summary(
    before: NumericProfile | CategoricalProfile, after: NumericProfile | CategoricalProfile
) -> str:
    """Mean (numeric) and missing share, reference → current, in a few words."""
    parts = []
    if isinstance(before, NumericProfile) and isinstance(after, NumericProfile):
        if before.n and after.n:
            parts.append(f"mean {figure(before.mean)} → {figure(after.mean)}")
        parts.append(f"values {before.n:,} → {after.n:,}")
    else:
        parts.append(f"values {before.count - before.missing:,} → {after.count - after.missing:,}")
    if before.missing or after.missing:
        parts.append(
            f"missing {percent(before.missing / before.count if before.count else 0.0)}"
            f" → {percent(after.missing / after.count if after.count else 0.0)}"
        )
    return "; ".join(parts)


def segment_drift(segments: Mapping[str, Any]) -> Html | None:
    """Per segment: whether its data drifted and which features did."""
    if not segments:
        return None
    rows = []
    for key, report in segments.items():
        figures = mapping(report)
        drifted = [
            name
            for name, entry in mapping(figures.get("features")).items()
            if mapping(entry).get("drifted") is True
        ]
        outputs = [
            name
            for name, entry in mapping(figures.get("outputs")).items()
            if mapping(entry).get("drifted") is True
        ]
        flag = (
            tag("span", "DRIFTED", class_="flag bad")
            if figures.get("dataset_drifted") is True
            else Html("no")
        )
        rows.append(
            tag(
                "tr",
                cell(key, "name"),
                cell(flag),
                cell(share(figures.get("share_drifted")), "num"),
                cell(", ".join(drifted) or "—"),
                cell(", ".join(outputs) or "—"),
            )
        )
    return join(
        [
            tag("h3", "Drift per segment"),
            table(
                [
                    "Segment",
                    "Dataset drift",
                    "Features drifted",
                    "Drifted features",
                    "Drifted outputs",
                ],
                rows,
                numeric=(2,),
            ),
        ]
    )
