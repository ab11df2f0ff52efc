"""The HTML report of an evaluation: content, order, escaping, self-containment, determinism.

The page is parsed with the standard library's HTML parser into a small tree, so the tests
assert on elements and text (what a browser would build), not on substrings of markup.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.cli import load_profile, load_reference
from driftline.config import load_monitor_definition
from driftline.evaluation import Window, evaluate, profile_spec
from driftline.profile.categorical import CategoricalProfile
from driftline.profile.dataset import DatasetProfile, ProfileSpec, build_reference, profile_frames
from driftline.profile.numeric import NumericProfile, numeric_edges_from_values
from driftline.report import render_report
from driftline.report.distributions import column_bars
from driftline.report.figures import change, figure, share

ROOT = Path(__file__).resolve().parents[2]
CHURN = ROOT / "examples" / "churn"
VOID = {"meta", "br", "hr", "img", "input", "link", "source", "col", "wbr"}


# --- a small DOM built with html.parser ---------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str) -> list[Node]:
        return [node for node in self.iter() if node.tag == tag]

    def by_id(self, anchor: str) -> Node:
        found = [node for node in self.iter() if node.attrs.get("id") == anchor]
        assert len(found) == 1, f"expected one element with id {anchor!r}, found {len(found)}"
        return found[0]

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class TreeBuilder(HTMLParser):
    """Builds :class:`Node` trees and fails on a mismatched or unclosed element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]
        self.declarations: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    builder = TreeBuilder()
    builder.feed(page)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements: " + ", ".join(
        node.tag for node in builder.stack[1:]
    )
    return builder.root


def own_text(node: Node) -> str:
    """The element's own text, without its children's (an SVG label without its tooltip)."""
    return "".join(child for child in node.children if isinstance(child, str))


def section_order(document: Node) -> list[str]:
    return [str(node.attrs["id"]) for node in document.find_all("h2")]


def rows(section: Node) -> list[list[str]]:
    """The text of each body row's cells (header rows left out)."""
    return [
        [cell.text().strip() for cell in row.find_all("td")]
        for row in section.find_all("tr")
        if row.find_all("td")
    ]


def section(document: Node, anchor: str) -> Node:
    """The elements from the section's heading up to the next heading, as one node."""
    main = document.find_all("main")[0]
    content = [child for child in main.children if isinstance(child, Node)]
    start = next(index for index, node in enumerate(content) if node.attrs.get("id") == anchor)
    end = next(
        (i for i in range(start + 1, len(content)) if content[i].tag in ("h2", "footer")),
        len(content),
    )
    return Node("section", {}, list(content[start:end]))


# --- the churn example -----------------------------------------------------------------------


@dataclass(frozen=True)
class Churn:
    result: dict[str, Any]  # as stored: the JSON round trip of ``live``
    live: dict[str, Any]  # EvaluationResult.to_dict() itself
    reference: DatasetProfile
    current: DatasetProfile


@cache
def churn() -> Churn:
    definition = load_monitor_definition(
        (CHURN / "monitor.yaml").read_bytes(), source="monitor.yaml"
    )
    reference = load_reference(CHURN / "reference.csv", definition, chunk_rows=100_000)
    current = load_profile([CHURN / "current.csv"], definition, reference, chunk_rows=100_000)
    result = evaluate(
        definition,
        reference,
        current,
        evaluation_id="churn-2024-06",
        window=Window("2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z"),
    ).to_dict()
    return Churn(json.loads(json.dumps(result)), result, reference.profile, current)


def history_of(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Three earlier evaluations of the same model, accuracy falling towards today's."""
    earlier = []
    for month, accuracy in ((3, 0.871), (4, 0.866), (5, 0.858)):
        point = copy.deepcopy(dict(result))
        point["evaluation_id"] = f"churn-2024-0{month}"
        point["window"] = {"start": None, "end": f"2024-0{month}-01T00:00:00Z"}
        point["performance"]["overall"]["accuracy"] = accuracy
        point["status"] = "ok"
        point["checks"] = [{**c, "status": "pass"} for c in point["checks"]]
        earlier.append(point)
    return earlier


@pytest.fixture(scope="module")
def example() -> Churn:
    return churn()


@pytest.fixture(scope="module")
def page(example: Churn) -> str:
    return render_report(
        example.result,
        reference=example.reference,
        current=example.current,
        history=history_of(example.result),
        detectors={"error-adwin": {"n": 4000, "fired": [2210], "warnings": [[2100, 2209]]}},
    )


@pytest.fixture(scope="module")
def document(page: str) -> Node:
    return parse(page)


# --- content -------------------------------------------------------------------------------


def test_report_is_one_complete_html_document(page: str, document: Node) -> None:
    # GIVEN the churn evaluation WHEN rendered THEN one html element with head and body
    assert page.startswith("<!DOCTYPE html>\n")
    assert [node.tag for node in document.children if isinstance(node, Node)] == ["html"]
    html = document.find_all("html")[0]
    assert [node.tag for node in html.children if isinstance(node, Node)] == ["head", "body"]
    assert document.find_all("meta")[0].attrs == {"charset": "utf-8"}


def test_header_names_model_evaluation_window_and_status(document: Node) -> None:
    # GIVEN a critical churn evaluation WHEN rendered
    title = document.find_all("title")[0].text()
    heading = document.find_all("h1")[0]
    meta = document.find_all("header")[0].text()
    # THEN the title leads with the status, the heading names the model with a badge
    assert title == "CRITICAL · churn · evaluation churn-2024-06"
    badge = heading.find_all("span")[0]
    assert "badge" in badge.classes() and "critical" in badge.classes()
    assert heading.text() == "churnCRITICAL"
    assert "evaluation churn-2024-06" in meta
    assert "window 2024-06-01T00:00:00Z → 2024-07-01T00:00:00Z" in meta
    assert "reference 5,000 rows, current 4,000 rows" in meta


def test_headline_says_what_failed_and_what_was_asked_for(document: Node) -> None:
    headline = next(node for node in document.iter() if "headline" in node.classes())
    words = " ".join(headline.text().split())
    assert words.startswith("Critical: a check that retrains the model failed.")
    # six of the example's checks failed; the other two are the built-in schema-columns
    # and scores-in-range
    assert "6 of 8 checks failed." in words
    assert "Asked for: retrain by accuracy-floor." in words
    # tenure_months drifted by its missing share (0 % -> 6.8 %), its values alike
    assert "Input drift: 3 of 4 features drifted (tenure_months, monthly_charges, region)" in words
    assert (
        "accuracy 0.8217 (baseline 0.8674), auc 0.6776 (baseline 0.6691) on 4,000 labelled rows"
        in words
    )


def test_sections_put_failed_checks_first_and_the_checks_that_passed_last(
    document: Node,
) -> None:
    assert section_order(document) == [
        "failed-checks",
        "actions",
        "performance",
        "estimate",
        "worst-slices",
        "history",
        "detectors",
        "drift",
        "outputs",
        "quality",
        "checks",  # the built-in schema-columns and scores-in-range checks, passing
    ]
    links = [node.attrs["href"] for node in document.find_all("nav")[0].find_all("a")]
    assert links == [f"#{anchor}" for anchor in section_order(document)]


def test_failed_checks_list_retrain_before_notify_with_every_figure(document: Node) -> None:
    table = rows(section(document, "failed-checks"))
    # THEN the retraining check comes first, then the notifications in definition order
    assert [row[0] for row in table] == [
        "accuracy-floor",
        "input-drift",
        "charges-drift",
        "score-drift",
        "tenure-missing",
        "new-regions",
    ]
    _, value, threshold, baseline, segment, action, detail = table[0]
    assert (value, threshold, baseline, segment, action) == (
        "0.8217",
        "0.85",
        "0.8674",
        "all rows",
        "retrain",
    )
    assert detail.startswith("accuracy is 0.8217, below the minimum 0.85 (95% CI")


def test_actions_are_explained_most_severe_first(document: Node) -> None:
    items = [" ".join(li.text().split()) for li in section(document, "actions").find_all("li")]
    assert items[0].startswith("retrain — Retraining on the definition's training window")
    assert items[0].endswith("asked by accuracy-floor.")
    assert items[1].startswith("notify — A notification to the on-call topic")


def test_drift_table_lists_drifted_features_first_with_rule_and_chart(
    example: Churn, document: Node
) -> None:
    table = rows(section(document, "drift"))
    features = [row[:7] for row in table[:4]]
    assert [row[0] for row in features] == ["tenure_months", "monthly_charges", "region", "plan"]
    # tenure_months: its values moved too little (ks below 0.02), its missing share enough
    tenure = features[0]
    assert tenure[1:3] == ["ks", "0.01236"] and tenure[6] == "DRIFTED"
    assert tenure[5].endswith(
        "and (ks ≥ 0.02 or missing share 0.0 % → 6.8 % moved ≥ 0.02, each credible on its own)"
    )
    name, method, effect, p_adjusted, compared, rule, verdict = features[1]
    assert (name, method, effect, verdict) == ("monthly_charges", "psi", "0.5615", "DRIFTED")
    # the evidence: the adjusted p-value, the rows on each side, the rule that decided
    assert float(p_adjusted) < 0.01
    rows_compared = (example.current.columns["monthly_charges"].n, example.reference.columns[
        "monthly_charges"].n)  # fmt: skip
    assert compared == f"{rows_compared[0]:,} / {rows_compared[1]:,}"
    assert rule.startswith("drift when adjusted p < 0.01 (holm, ") and rule.endswith("psi ≥ 0.2")
    assert features[3][6] == "no"
    charts = section(document, "drift").find_all("svg")
    # one chart per feature (the segment table has none)
    assert len(charts) == 4
    assert all(chart.attrs["role"] == "img" for chart in charts)


def drift_row(document: Node, name: str) -> int:
    """The row (and chart) of ``name`` in the drift table."""
    return [row[0] for row in rows(section(document, "drift"))].index(name)


def test_numeric_chart_uses_baseline_edges_and_marks_values_beyond_them(
    example: Churn, document: Node
) -> None:
    # GIVEN monthly_charges, whose current data has values above the baseline's maximum
    column = example.reference.columns["monthly_charges"]
    assert isinstance(column, NumericProfile) and column.edges is not None
    chart = section(document, "drift").find_all("svg")[drift_row(document, "monthly_charges")]
    current = [rect for rect in chart.find_all("rect") if "cur" in rect.classes()]
    # THEN one bar per baseline bin plus the overflow bin, which is marked as outside
    assert len(current) == len(column.edges) - 1 + 1
    assert "out" in current[-1].classes()
    assert current[-1].find_all("title")[0].text().startswith("≥ 123.1: reference 0%")
    cell_text = " ".join(
        rows(section(document, "drift"))[drift_row(document, "monthly_charges")][7].split()
    )
    assert "mean 69.76 → 81.42; values 5,000 → 4,000" in cell_text


def test_categorical_chart_flags_the_new_category(document: Node) -> None:
    chart = section(document, "drift").find_all("svg")[drift_row(document, "region")]
    labels = [own_text(text) for text in chart.find_all("text") if "label" in text.classes()]
    assert labels == ["south", "north", "east", "online-only (new)", "west"]
    values = [text.text() for text in chart.find_all("text") if "value" in text.classes()]
    assert values[3] == "0% → 20%"


def test_outputs_section_shows_prediction_score_and_label_drift(document: Node) -> None:
    table = rows(section(document, "outputs"))
    assert [row[0] for row in table] == ["churn_predicted", "churn_score", "churned"]
    assert [row[6] for row in table] == ["DRIFTED"] * 3
    assert len(section(document, "outputs").find_all("svg")) == 3


def test_segment_drift_table(document: Node) -> None:
    segments = [
        row for row in rows(section(document, "drift")) if row and row[0].startswith("plan=")
    ]
    assert segments[2] == [
        "plan=premium",
        "DRIFTED",
        "75%",
        "tenure_months, monthly_charges, region",
        # the prediction and label moved too (raw p 0.014 and 0.013), but not credibly
        # among the evaluation's 28 tests (adjusted p 0.15)
        "churn_score",
    ]


def test_data_quality_shows_missing_values_and_new_categories(document: Node) -> None:
    quality = section(document, "quality")
    assert "4,000 rows, 0 rejected (0%); volume 0.8 × the baseline's." in quality.text()
    table = {row[0]: row for row in rows(quality)}
    assert table["tenure_months"][1] == "6.8%"
    assert table["region"][5:] == ["online-only", "19.7%"]
    assert table["monthly_charges"][3] == "0.33%"


def test_performance_overall_with_interval_baseline_and_change(document: Node) -> None:
    performance = section(document, "performance")
    assert "Measured on 4,000 labelled rows of 4,000 (100% label coverage)." in performance.text()
    table = {row[0]: row for row in rows(performance) if len(row) == 5}
    assert table["accuracy"] == [
        "accuracy",
        "0.8217",
        "0.8096 – 0.8333",
        "0.8674",
        "−0.04565 (−5.3%) worse",
    ]
    assert table["error_rate"][4].endswith("worse")
    assert table["gini"][4].endswith("better")
    failed_row = next(
        row
        for row in performance.find_all("tr")
        if row.find_all("td") and row.find_all("td")[0].text() == "accuracy"
    )
    assert "failed" in failed_row.classes()


def test_performance_per_segment_against_its_own_baseline(document: Node) -> None:
    performance = section(document, "performance")
    segment_rows = [row for row in rows(performance) if row and row[0].startswith("plan=")]
    assert [row[0] for row in segment_rows] == ["plan=basic", "plan=plus", "plan=premium"]
    basic = segment_rows[0]
    assert basic[1] == "2,024"
    assert basic[2] == "0.7796baseline 0.8366 (−6.8%)"


def test_estimate_section_scores_the_estimate_against_the_labels(
    example: Churn, document: Node
) -> None:
    # GIVEN the churn example, fully labelled, whose accuracy fell below what the scores say
    reconciled = example.result["performance"]["reconciled"]
    assert reconciled["overall"]["accuracy"]["inside"] is False
    estimate = section(document, "estimate")
    # THEN the running coverage is said in words: 5 of this evaluation's 6 metrics inside
    assert (
        "Coverage of the estimate: 83.3% of 6 reconciled estimates (metrics of 1 evaluation, "
        "each metric's latest 100) had the measured value inside their 95% interval."
    ) in estimate.text()
    # AND each metric's estimate, interval, measured value and error, accuracy flagged outside
    table = {row[0]: row for row in rows(estimate) if len(row) == 6}
    assert table["accuracy"] == [
        "accuracy",
        "0.834",
        "0.823 – 0.845",
        "0.8217",
        "0.01223",
        "outside",
    ]
    assert table["auc"][5] == "inside"
    # AND per segment how many metrics were inside, naming the others
    segments = {row[0]: row for row in rows(estimate) if len(row) == 3}
    assert segments["plan=basic"] == ["plan=basic", "5 of 6", "outside: accuracy"]


def test_estimate_section_shows_the_windows_estimate_overall_and_per_segment(
    example: Churn, document: Node
) -> None:
    estimated = example.result["performance"]["estimated"]
    estimate = section(document, "estimate")
    # THEN the rows estimated and the label coverage are said
    assert "Estimated from the scores of 4,000 rows" in estimate.text()
    assert "labels cover 100% of the window's rows" in estimate.text()
    # AND each metric has its value over its interval, overall then per segment
    table = {row[0]: row for row in rows(estimate) if len(row) == 5}
    assert set(table) == set(estimated["overall"])
    accuracy = estimated["overall"]["accuracy"]
    basic = estimated["segments"]["plan=basic"]["accuracy"]
    assert table["accuracy"][1] == (
        f"{accuracy['value']:.4g}{accuracy['lower']:.4g} – {accuracy['upper']:.4g}"
    )
    assert (
        table["accuracy"][2] == f"{basic['value']:.4g}{basic['lower']:.4g} – {basic['upper']:.4g}"
    )
    headers = [th.text().strip() for th in estimate.find_all("th")]
    assert headers[:3] == ["Metric", "Overall", "plan=basic (2,024 rows)"]
    # AND the class prior's skip reason is given
    assert "The positive class share is not estimated: the baseline's predictions" in (
        estimate.text()
    )


def test_an_unlabelled_windows_estimate_is_shown_with_its_class_prior() -> None:
    # GIVEN a window without labels, its prior shifted and consistent with a prior shift
    interval = {"value": 0.72, "lower": 0.69, "upper": 0.75, "method": "cbpe"}
    result = {
        "performance": {
            "overall": {"label_coverage": 0.0},
            "estimated": {
                "method": "cbpe",
                "overall": {"auc": interval, "precision": {"skip": "no row predicted positive"}},
                "segments": {"tier=gold": {"auc": {**interval, "value": 0.61}}},
                "rows": {"overall": 3000, "segments": {"tier=gold": 900}},
                "label_shift": {
                    "method": "bbse",
                    "prior": 0.45,
                    "lower": 0.41,
                    "upper": 0.49,
                    "baseline_prior": 0.2,
                    "shifted": True,
                    "consistent": True,
                    "accuracy_at_prior": {"value": 0.7, "lower": 0.68, "upper": 0.72},
                },
            },
            "reconciled": {"overall": {"skip": "labels cover 0 of 3,000 rows (0.00%)"}},
        }
    }
    estimate = section(parse(render_report(result)), "estimate")
    # THEN the estimate is shown before any label, a metric without a value as "—"
    assert rows(estimate) == [
        ["auc", "0.720.69 – 0.75", "0.610.69 – 0.75"],
        ["precision", "—", "—"],
    ]
    assert "labels cover 0% of the window's rows" in estimate.text()
    # AND the prior, what it may mean, and the accuracy to expect at it
    assert (
        "Positive class share, estimated from the predictions (black-box shift estimation): "
        "45% (95% interval 41% – 49%) against 20% in the baseline: shifted beyond chance"
    ) in estimate.text()
    assert "the accuracy to expect at that prior is 0.7 (0.68 – 0.72)" in estimate.text()
    # AND the reconciliation part says none has been reconciled yet
    assert "This window is not reconciled: labels cover 0 of 3,000 rows" in estimate.text()


def test_the_estimate_says_which_intervals_the_reconciled_batches_widened() -> None:
    # GIVEN a deployed evaluation whose precision interval the reconciled batches widened
    interval = {"value": 0.72, "lower": 0.64, "upper": 0.80, "method": "cbpe"}
    result = {
        "performance": {
            "overall": {"label_coverage": 0.0},
            "estimated": {
                "method": "cbpe",
                "overall": {"precision": interval, "auc": interval},
                "segments": {},
                "rows": {"overall": 3000, "segments": {}},
                "interval": {
                    "level": 0.95,
                    "covers": {
                        "precision": "sampling_and_reconciled_error",
                        "auc": "sampling_and_model_error",
                    },
                    "reconciled_error": {"batches": 40, "widens": ["precision"], "terms": {}},
                },
            },
        }
    }
    estimate = section(parse(render_report(result)), "estimate")
    # THEN the report says the interval covers the error measured on those batches
    assert (
        "the estimator's own error measured on the baseline (for precision: on the latest 40 "
        "batches reconciled with their labels, where it was wider)"
    ) in estimate.text()
    # AND without widening it says the baseline alone
    del result["performance"]["estimated"]["interval"]["reconciled_error"]
    plain = section(parse(render_report(result)), "estimate")
    assert "measured on the baseline; labels cover 0%" in plain.text()


def test_a_multiclass_windows_class_shares_are_shown_each_against_the_baseline() -> None:
    # GIVEN a multiclass window whose gold share moved
    figure_ = {"value": 0.7, "lower": 0.68, "upper": 0.72, "method": "cbpe"}
    shift = {
        "method": "bbse",
        "prior": {"gold": 0.2, "silver": 0.8},
        "lower": {"gold": 0.17, "silver": 0.77},
        "upper": {"gold": 0.23, "silver": 0.83},
        "baseline_prior": {"gold": 0.4, "silver": 0.6},
        "shifted": {"gold": True, "silver": True},
        "consistent": True,
        "accuracy_at_prior": {"value": 0.81, "lower": 0.79, "upper": 0.83},
    }
    estimated = {
        "method": "cbpe",
        "overall": {"accuracy": figure_},
        "segments": {},
        "rows": {"overall": 2000, "segments": {}},
        "expected_class_shares": {"overall": {"gold": 0.3, "silver": 0.7}, "segments": {}},
        "label_shift": shift,
    }
    result = {"performance": {"overall": {"label_coverage": 0.0}, "estimated": estimated}}
    text = section(parse(render_report(result)), "estimate").text()
    # THEN each class's share is given with its interval and the baseline's
    assert (
        "Class shares, estimated from the predictions (black-box shift estimation; 95% "
        "intervals): gold 20% (17% – 23%, baseline 40%); silver 80% (77% – 83%, baseline 60%): "
        "gold, silver shifted beyond chance"
    ) in text
    assert "the accuracy to expect at those shares is 0.81 (0.79 – 0.83)" in text
    # AND a skipped estimate says why, of the class shares
    estimated["label_shift"] = {"skip": "the baseline has no labelled row of declared class 2"}
    text = section(parse(render_report(result)), "estimate").text()
    assert "The class shares are not estimated: the baseline has no labelled row" in text


def test_estimate_section_says_why_a_window_is_not_reconciled() -> None:
    # GIVEN a window whose labels have not all arrived, after reconciled evaluations
    result = {
        "performance": {
            "reconciled": {
                "overall": {"skip": "labels cover 10 of 4,000 rows (0.25%)"},
                "segments": {"plan=pro": {"skip": "labels cover 0 of 400 rows (0.00%)"}},
                "coverage": {
                    "share": 0.9,
                    "inside": 9,
                    "pairs": 10,
                    "evaluations": 2,
                    "trailing": 100,
                },
            }
        }
    }
    estimate = section(parse(render_report(result)), "estimate")
    # THEN the coverage so far and the reason are shown
    assert "Coverage of the estimate: 90%" in estimate.text()
    assert "This window is not reconciled: labels cover 10 of 4,000 rows (0.25%)." in (
        estimate.text()
    )
    assert rows(estimate) == [["plan=pro", "—", "labels cover 0 of 400 rows (0.00%)"]]
    # AND a model whose performance is not estimated has no such section
    skipped = {"performance": {"reconciled": {"skip": "not estimated"}}}
    assert "estimate" not in section_order(parse(render_report(skipped)))


def test_worst_slices_table(document: Node) -> None:
    table = rows(section(document, "worst-slices"))
    assert table[0][:3] == ["plan=basic & monthly_charges=[89.31, 123.1)", "578", "error_rate"]
    assert len(table) == 10


def test_history_charts_metrics_over_time_with_the_check_threshold(document: Node) -> None:
    history = section(document, "history")
    figures = history.find_all("figure")
    captions = [figure.find_all("figcaption")[0].text() for figure in figures]
    assert captions[0] == "accuracy (threshold 0.85)"
    assert captions[-1] == "share of features drifted (threshold 0.5)"
    accuracy = figures[0].find_all("svg")[0]
    thick = [line for line in accuracy.find_all("polyline") if "strong" in line.classes()]
    assert len(thick) == 1 and len(str(thick[0].attrs["points"]).split()) == 4
    assert len(accuracy.find_all("line")) >= 1
    assert any("thr" in line.classes() for line in accuracy.find_all("line"))
    # the x axis reads dates, not midnight timestamps
    ticks = [own_text(t) for t in accuracy.find_all("text") if t.find_all("title")]
    assert ticks == ["2024-03-01", "2024-04-01", "2024-05-01", "2024-07-01"]
    statuses = [row[:2] for row in rows(history)]
    assert statuses[0] == ["2024-07-01", "CRITICAL"] and statuses[-1] == ["2024-03-01", "OK"]


def test_history_leaves_out_an_entry_of_this_evaluation(example: Churn) -> None:
    # GIVEN a history holding only this very evaluation (a retried job)
    page = render_report(example.result, history=[example.result])
    # THEN there is nothing earlier to chart
    assert "history" not in section_order(parse(page))


def test_detector_timeline_marks_each_detection(document: Node) -> None:
    detectors = section(document, "detectors")
    assert "drift detected once, at value 2,210 of 4,000." in " ".join(detectors.text().split())
    svg = detectors.find_all("svg")[0]
    assert len([line for line in svg.find_all("line") if "fire" in line.classes()]) == 1
    assert len([rect for rect in svg.find_all("rect") if "warn" in rect.classes()]) == 1


def test_detectors_accept_backtest_entries() -> None:
    backtest_entry = {
        "name": "error-adwin",
        "kind": "detector",
        "detector": "adwin",
        "signal": "error",
        "segment": None,
        "rows": 500,
        "fired": [{"index": 321, "timestamp": "2024-06-02T03:00:00Z", "id": "a"}],
    }
    page = parse(render_report({"model": "fraud"}, detectors={"error-adwin": backtest_entry}))
    text = " ".join(section(page, "detectors").text().split())
    assert "error-adwin (adwin, error)" in text
    assert "drift detected once, at value 321 (2024-06-02T03:00:00Z) of 500." in text


def test_quiet_detector_says_so() -> None:
    page = parse(render_report({"model": "m"}, detectors={"ph": {"n": 50, "fired": []}}))
    assert "No drift detected in 50 values." in section(page, "detectors").text()


def test_without_profiles_the_drift_table_has_no_charts(example: Churn) -> None:
    document = parse(render_report(example.result))
    assert section(document, "drift").find_all("svg") == []
    assert rows(section(document, "drift"))[0][0] == "tenure_months"
    assert "history" not in section_order(document)
    assert "detectors" not in section_order(document)


def test_skipped_and_passed_checks_are_listed_after_the_rest() -> None:
    result = {
        "model": "credit",
        "status": "ok",
        "checks": [
            {
                "name": "gini",
                "status": "pass",
                "value": 0.6,
                "threshold": 0.57,
                "baseline": 0.6,
                "segment": "risk=prime",
                "action": "retrain",
                "detail": "ok",
            },
            {
                "name": "sub-gini",
                "status": "skip",
                "value": None,
                "threshold": None,
                "baseline": None,
                "segment": "risk=subprime",
                "action": "retrain",
                "detail": "no rows of segment risk=subprime in the current data",
            },
        ],
        "actions": [],
    }
    document = parse(render_report(result))
    assert section_order(document)[0] == "failed-checks"
    assert "No check failed." in section(document, "failed-checks").text()
    other = rows(section(document, "checks"))
    assert other[0] == [
        "sub-gini",
        "risk=subprime",
        "retrain",
        "no rows of segment risk=subprime in the current data",
    ]
    assert other[1][:5] == ["gini", "0.6", "0.57", "0.6", "risk=prime"]
    headline = " ".join(document.by_id("failed-checks").text().split())
    assert headline == "Failed checks (0)"


def test_regression_metrics_read_lower_error_as_better() -> None:
    result = {
        "model": "prices",
        "performance": {
            "overall": {"mae": 12.0, "r2": 0.7},
            "baseline": {"overall": {"mae": 10.0, "r2": 0.8}},
            "segments": {},
        },
    }
    table = {row[0]: row for row in rows(section(parse(render_report(result)), "performance"))}
    assert table["mae"][4] == "+2 (+20.0%) worse"
    assert table["r2"][4].endswith("worse")


# --- robustness and determinism ------------------------------------------------------------


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"model": "m", "checks": "not a list", "drift": [], "performance": None},
        {"model": "m", "checks": [None, 3, {"status": "fail"}], "actions": [{"checks": None}]},
        {"model": "m", "drift": {"features": {"x": {"statistic": float("inf")}}}},
        {"model": "m", "performance": {"overall": {"accuracy": float("nan")}, "segments": {}}},
    ],
)
def test_partial_or_malformed_documents_still_render(result: dict[str, Any]) -> None:
    document = parse(render_report(result))
    assert document.find_all("h1")


def test_same_input_gives_the_same_bytes(example: Churn, page: str) -> None:
    # GIVEN the result read back from JSON (as stored) and a fresh copy of everything
    again = render_report(
        json.loads(json.dumps(example.result)),
        reference=example.reference,
        current=example.current,
        history=json.loads(json.dumps(history_of(example.result))),
        detectors={"error-adwin": {"n": 4000, "fired": [2210], "warnings": [[2100, 2209]]}},
    )
    assert again == page


def test_live_result_and_stored_json_render_identically(example: Churn) -> None:
    # a result's dict and its JSON round trip (tuples become lists) give the same page
    assert render_report(example.live) == render_report(example.result)


def test_other_processes_render_the_same_bytes(example: Churn, tmp_path: Path) -> None:
    # GIVEN a stored result WHEN two interpreters with different hash seeds render it
    stored = tmp_path / "result.json"
    stored.write_text(json.dumps(example.result), encoding="utf-8")
    code = (
        "import hashlib, json, sys\n"
        "from driftline.report import render_report\n"
        "result = json.loads(open(sys.argv[1], encoding='utf-8').read())\n"
        "page = render_report(result, history=[dict(result, evaluation_id='earlier')],\n"
        "                     detectors={'d': {'n': 10, 'fired': [4]}})\n"
        "print(hashlib.sha256(page.encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code, str(stored)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "layers" / "core"), "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    # THEN the pages are identical
    assert len(digests) == 1


# --- self-containment and escaping ---------------------------------------------------------

URL_ATTRIBUTES = {"src", "href", "xlink:href", "action", "formaction", "poster", "data", "srcset"}


def assert_self_contained(page: str, document: Node) -> None:
    forbidden = {"script", "img", "iframe", "object", "embed", "link", "base", "form", "video"}
    assert not [node.tag for node in document.iter() if node.tag in forbidden]
    for node in document.iter():
        for name, value in node.attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{node.tag}>"
            if name in URL_ATTRIBUTES:
                assert str(value).startswith("#"), f"{name}={value!r} on <{node.tag}>"
            if name == "style":
                assert "url(" not in str(value)
    styles = "".join(node.text() for node in document.find_all("style"))
    assert "url(" not in styles and "@import" not in styles and "@font-face" not in styles
    assert not re.search(r"https?://", page)
    assert "<script" not in page.lower()
    policy = next(
        node
        for node in document.find_all("meta")
        if node.attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert str(policy.attrs["content"]).startswith("default-src 'none';")


def test_churn_report_loads_nothing(page: str, document: Node) -> None:
    assert_self_contained(page, document)


SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def hostile() -> str:
    """A report whose names and values all try to become markup."""
    spec = ProfileSpec(columns={SCRIPT: "numeric", "region": "categorical"}, segments=("region",))
    rng = np.random.default_rng(7)
    baseline = pd.DataFrame(
        {SCRIPT: rng.normal(size=300), "region": rng.choice(["north", "south"], size=300)}
    )
    today = pd.DataFrame(
        {SCRIPT: rng.normal(1, size=200), "region": rng.choice(["north", IMAGE], size=200)}
    )
    reference = build_reference(lambda: [baseline], spec, bins=5)
    current = profile_frames([today], spec, reference.bins)
    feature = {
        "method": "psi",
        "statistic": 0.5,
        "p_value": None,
        "threshold": 0.2,
        "direction": "statistic >= threshold",
        "drifted": True,
    }
    check = {
        "name": SCRIPT,
        "status": "fail",
        "value": 0.5,
        "threshold": 0.2,
        "baseline": None,
        "segment": f"region={IMAGE}",
        "action": IMAGE,
        "detail": f"{SCRIPT} drifted in {IMAGE}",
    }
    result = {
        "model": SCRIPT,
        "evaluation_id": IMAGE,
        "window": {"start": SCRIPT, "end": IMAGE},
        "status": IMAGE,
        "drift": {
            "dataset_drifted": True,
            "share_drifted": 1.0,
            "features": {SCRIPT: feature, "region": {**feature, "skipped": IMAGE}},
            "outputs": {IMAGE: feature},
            "segments": {f"region={IMAGE}": {"features": {SCRIPT: feature}}},
        },
        "performance": {
            "overall": {"accuracy": 0.5},
            "segments": {f"region={IMAGE}": {"accuracy": 0.4}},
            "baseline": {"overall": {"accuracy": 0.6}},
            "undefined": {"overall": {"auc": SCRIPT}},
            "fairness": {"positive_rate": {IMAGE: 0.3, SCRIPT: 0.2}},
        },
        "worst_slices": [{"slice": f"region={IMAGE}", "rows": 40, "metric": SCRIPT}],
        "data_quality": {
            "region": {"missing_share": 0.0, "new_categories": [IMAGE, SCRIPT]},
            "_dataset": {"absent_columns": [SCRIPT], "unknown_columns": [IMAGE]},
        },
        "checks": [check],
        "actions": [{"action": IMAGE, "checks": [SCRIPT]}],
    }
    earlier = {**result, "evaluation_id": "x", "window": {"end": SCRIPT}}
    return render_report(
        result,
        reference=reference.profile,
        current=current,
        history=[earlier],
        detectors={SCRIPT: {"n": 10, "fired": [3], "detector": IMAGE, "signal": SCRIPT}},
    )


def test_hostile_names_render_as_text_never_as_markup(hostile: str) -> None:
    document = parse(hostile)
    # THEN no element or attribute came from the data...
    assert_self_contained(hostile, document)
    assert "<img" not in hostile.lower()
    # ...and the names are shown, as text, where they belong
    assert SCRIPT in document.find_all("h1")[0].text()
    assert SCRIPT in section(document, "drift").text()
    chart_labels = [
        t.text()
        for svg in section(document, "drift").find_all("svg")
        for t in svg.find_all("title")
    ]
    assert any(label.startswith(IMAGE) for label in chart_labels)
    assert IMAGE in document.find_all("title")[0].text()
    assert section(document, "detectors").find_all("h3")[0].text().startswith(SCRIPT)


def test_hostile_names_stay_inside_attribute_values(hostile: str) -> None:
    document = parse(hostile)
    labels = [
        str(node.attrs["aria-label"]) for node in document.iter() if "aria-label" in node.attrs
    ]
    assert any(IMAGE in label for label in labels)
    # every attribute the parser found is one the report writes
    written = {
        "charset",
        "http-equiv",
        "content",
        "name",
        "lang",
        "class",
        "id",
        "href",
        "role",
        "aria-label",
        "width",
        "height",
        "viewbox",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "points",
        "text-anchor",
        "open",
    }
    found = {name for node in document.iter() for name in node.attrs}
    assert found <= written, found - written


# --- the parts ------------------------------------------------------------------------------


def test_numeric_bars_are_shares_of_the_baseline_bins() -> None:
    edges = numeric_edges_from_values(np.arange(100.0), bins=4)
    reference = NumericProfile.from_values(np.arange(100.0), edges=edges)
    current = NumericProfile.from_values(np.array([10.0, 60.0, 60.0, 500.0]), edges=edges)
    bars = column_bars(reference, current)
    assert [bar.label for bar in bars] == ["[0, 24)", "[24, 49)", "[49, 74)", "[74, 99)", "≥ 99"]
    assert [bar.current for bar in bars] == [0.25, 0.0, 0.5, 0.0, 0.25]
    assert sum(bar.reference for bar in bars) == pytest.approx(1.0)
    assert bars[-1].outside and not bars[0].outside


def test_categorical_bars_keep_the_top_categories_and_pool_the_rest() -> None:
    names = [f"c{i}" for i in range(12)]
    reference = CategoricalProfile.from_values(names * 2, vocabulary=tuple(names))
    current = CategoricalProfile.from_values(["c0"] * 10 + ["zz"] * 5, vocabulary=tuple(names))
    bars = column_bars(reference, current, top=3)
    assert [bar.label for bar in bars] == ["c0", "zz", "c1", "all other categories"]
    assert bars[1].new and bars[3].rest
    assert sum(bar.current for bar in bars) == pytest.approx(1.0)
    assert sum(bar.reference for bar in bars) == pytest.approx(1.0)


def test_profiles_of_different_kinds_give_no_bars() -> None:
    numeric = NumericProfile.from_values(np.arange(5.0), edges=(0.0, 5.0))
    categorical = CategoricalProfile.from_values(["a"])
    assert column_bars(numeric, categorical) == ()


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (None, "—"),
        (True, "yes"),
        (12345, "12,345"),
        (0.5615319, "0.5615"),
        (float("inf"), "∞"),
        (-0.25, "−0.25"),
        (1e-40, "1e-40"),
        (40000.0, "40,000"),
        (np.int64(4000), "4,000"),
        (np.float64(0.25), "0.25"),
    ],
)
def test_figures_read_well(value: Any, written: str) -> None:
    assert figure(value) == written


def test_shares_and_changes_in_words() -> None:
    assert (share(0.06825), share(0.5), share(0.0033), share(None)) == ("6.8%", "50%", "0.33%", "—")
    assert change(0.9, 0.8, "accuracy")[1] == "better"
    assert change(0.9, 0.8, "positive_rate")[1] == ""
    assert change(None, 0.8, "accuracy") == ("—", "")


def test_estimated_checks_are_marked_with_their_interval_rows_and_label_coverage() -> None:
    # GIVEN an unlabelled window of a calibrated model whose scores are squeezed: its AUC
    # floor, decided on the estimate, fails; its accuracy floor, also estimated, passes
    definition = load_monitor_definition(
        """
model: credit
schema: {task: binary_classification, prediction: approved, score: p, label: defaulted,
         features: {income: numeric}}
baseline: {path: b.csv}
checks:
  - {name: auc-est, metric: auc, estimated: true, min: 0.75}
  - {name: accuracy-est, metric: accuracy, estimated: true, min: 0.3}
"""
    )
    rng = np.random.default_rng(3)

    def frame(count: int, low: float, high: float) -> pd.DataFrame:
        score = rng.uniform(low, high, count)
        return pd.DataFrame(
            {
                "income": rng.normal(size=count),
                "p": score,
                "approved": (score >= 0.5).astype(int),
                "defaulted": (rng.uniform(size=count) < score).astype(int),
            }
        )

    spec = profile_spec(definition)
    reference = build_reference(lambda: [frame(5_000, 0.0, 1.0)], spec)
    current = profile_frames(
        [frame(2_000, 0.4, 0.6).drop(columns="defaulted")], spec, reference.bins
    )
    result = evaluate(definition, reference, current, evaluation_id="e").to_dict()
    checks = {check["name"]: check for check in result["checks"]}
    estimate = checks["auc-est"]["estimate"]

    # WHEN the report is rendered
    document = parse(render_report(result))

    # THEN the failed check's name is marked estimated, and its value shows the interval, the
    # rows estimated and the label coverage
    failed = section(document, "failed-checks")
    (row,) = [tr for tr in failed.find_all("tr") if tr.find_all("td")]
    name, value = row.find_all("td")[:2]
    assert own_text(name) == "auc-est"
    assert [span.text() for span in name.find_all("span") if "estimated" in span.classes()] == [
        "estimated"
    ]
    assert [span.text() for span in value.find_all("span")] == [
        f"95% interval {figure(estimate['lower'])} – {figure(estimate['upper'])}",
        "2,000 rows estimated",
        "label coverage 0% (0 of 2,000)",
    ]
    assert own_text(value) == figure(checks["auc-est"]["value"])
    assert rows(failed)[0][-1].startswith("estimated auc is ")
    # AND the passed estimated check is marked too, with its evidence
    passed = {row[0]: row for row in rows(section(document, "checks"))}
    assert "accuracy-estestimated" in passed
    assert "rows estimated" in passed["accuracy-estestimated"][1]
    # AND the built-in check, measured, is not marked
    assert "schema-columns" in passed
