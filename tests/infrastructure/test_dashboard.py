"""The CloudWatch dashboard of template.yaml shows only metrics the code really emits.

The dashboard finds driftline's own metrics with SEARCH expressions over the namespace's
dimensions (models are configured after deployment). The expected names and dimensions are
not written down here: a small deployment runs on the local runtime (template.yaml in moto,
the real handlers), its Embedded Metric Format lines and log lines are captured, and every
metric, dimension set and log field the dashboard refers to must be among them. Renaming a
metric or a dimension in the code, or in the dashboard alone, fails these tests.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from template_support import TEMPLATE

from driftline.aws.handler import logger as handler_logger
from driftline.demo import data
from driftline.demo.scenarios import CHURN
from driftline.local import LocalRuntime
from driftline.local.template import load_template
from driftline.metrics.catalogue import METRICS

pytestmark = pytest.mark.slow

PSEUDO = {"AWS::Region": "eu-west-1", "AWS::StackName": "stack", "AWS::AccountId": "1" * 12}
_PLACEHOLDER = re.compile(r"\$\{([^}!][^}]*)\}")
_SEARCH = re.compile(r"SEARCH\('\{([^}]*)\}\s+MetricName=\"([^\"]+)\"',\s*'(\w+)',\s*(\d+)\)")


# -- the dashboard, as CloudFormation would render it ---------------------------------------


@dataclass(frozen=True)
class Placeholder:
    """What a ``${...}`` of the body stood for: a resource (Ref or attribute) or a pseudo."""

    logical_id: str
    attribute: str | None


def render_dashboard(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Placeholder]]:
    """The dashboard body as JSON, each resource placeholder replaced by a unique token."""
    resources = template["Resources"]
    (dashboard,) = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    text, variables = (body, {}) if isinstance(body, str) else body
    placeholders: dict[str, Placeholder] = {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return str(variables[name])
        if name in PSEUDO:
            return PSEUDO[name]
        logical, _, attribute = name.partition(".")
        if logical not in resources:
            raise AssertionError(f"dashboard refers to ${{{name}}}, not a resource")
        token = f"@{len(placeholders)}@"
        placeholders[token] = Placeholder(logical, attribute or None)
        return token

    rendered = _PLACEHOLDER.sub(replace, text).replace("${!", "${")
    return json.loads(rendered), placeholders


@dataclass(frozen=True)
class MetricReference:
    namespace: str
    dimensions: frozenset[str]
    name: str
    widget: str
    dimension_values: tuple[str, ...] = ()


def metric_references(body: dict[str, Any]) -> list[MetricReference]:
    """Every metric a metric widget reads: SEARCH expressions and explicit metric rows."""
    found: list[MetricReference] = []
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        title = widget["properties"]["title"]
        for row in widget["properties"]["metrics"]:
            if isinstance(row[0], dict):
                expression = row[0]["expression"]
                for schema, name, _stat, _period in _SEARCH.findall(expression):
                    namespace, *dimensions = (part.strip() for part in schema.split(","))
                    found.append(MetricReference(namespace, frozenset(dimensions), name, title))
                continue
            namespace, name, *rest = row
            pairs = [item for item in rest if isinstance(item, str)]
            found.append(
                MetricReference(
                    namespace,
                    frozenset(pairs[0::2]),
                    name,
                    title,
                    tuple(pairs[1::2]),
                )
            )
    return found


# -- what the code emits ---------------------------------------------------------------------


@dataclass
class Emitted:
    """EMF metrics and log lines printed by the handlers of a small deployment."""

    metrics: set[tuple[str, frozenset[str], str]] = field(default_factory=set)
    logs: list[dict[str, Any]] = field(default_factory=list)

    def names(self, namespace: str, dimensions: frozenset[str]) -> set[str]:
        return {m for ns, dims, m in self.metrics if ns == namespace and dims == dimensions}


def parse_emf(text: str) -> set[tuple[str, frozenset[str], str]]:
    found = set()
    for line in text.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimensions in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    found.add((directive["Namespace"], frozenset(dimensions), metric["Name"]))
    return found


@pytest.fixture(scope="module")
def emitted() -> Iterator[Emitted]:
    """A churn model on the local runtime: baseline, definition, one month of predictions
    with labels, a scheduled evaluation, and a label file without ids (quarantined)."""
    stdout, logs = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(logs)
    handler.setFormatter(handler_logger.registered_formatter)
    logging.getLogger(handler_logger.name).addHandler(handler)
    october = data.churn(800, accuracy=0.9, seed=1, start=pd.Timestamp("2026-10-01T00:00:00Z"))
    november = data.churn(600, accuracy=0.8, seed=2, start=pd.Timestamp("2026-11-01T00:00:00Z"))
    try:
        with (
            LocalRuntime(TEMPLATE, stack="dashboard") as runtime,
            contextlib.redirect_stdout(stdout),
        ):
            runtime.upload("baselines/churn/2026-10.csv", october.to_csv(index=False))
            runtime.upload("config/churn.yaml", CHURN)
            runtime.upload(
                "inference/churn/2026/11/01/00/predictions.csv",
                november.drop(columns="churned").to_csv(index=False),
            )
            runtime.upload(
                "labels/churn/2026/11/29/outcomes.csv",
                november[["customer_id", "churned"]].to_csv(index=False),
            )
            runtime.upload("labels/churn/2026/11/29/no-ids.csv", "churned\n1\n")
            runtime.run_schedules(datetime(2026, 11, 30, tzinfo=UTC))
            assert runtime.failures() == []
    finally:
        logging.getLogger(handler_logger.name).removeHandler(handler)
    result = Emitted(parse_emf(stdout.getvalue()))
    result.logs = [json.loads(line) for line in logs.getvalue().splitlines() if line.strip()]
    yield result


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def dashboard(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Placeholder]]:
    return render_dashboard(template)


def unknown_driftline_metrics(
    references: list[MetricReference], emitted: Emitted, namespace: str
) -> list[str]:
    """The references to driftline's namespace that the code does not emit.

    Evaluation figures depend on the model's task (a churn model emits no rmse): a name is
    also accepted under the evaluation's dimensions when it is a performance metric of
    ``driftline.metrics.catalogue``, or the estimate of one (``estimated_rmse``), and those
    dimensions carried such metrics in the run.
    """
    registry = {name.replace(".", "_") for name in METRICS}
    unknown = []
    for reference in references:
        if reference.namespace != namespace:
            continue
        names = emitted.names(namespace, reference.dimensions)
        if reference.name in names:
            continue
        if names & registry and reference.name.removeprefix("estimated_") in registry:
            continue
        unknown.append(
            f"{reference.widget}: {reference.name} with dimensions "
            f"{sorted(reference.dimensions)} (emitted there: {sorted(names) or 'nothing'})"
        )
    return unknown


# -- tests ------------------------------------------------------------------------------------


def test_the_run_emitted_what_the_dashboard_is_built_on(emitted: Emitted) -> None:
    # GIVEN the captured output of a real (local) deployment: the run itself is sound
    namespaces = {namespace for namespace, _, _ in emitted.metrics}
    assert namespaces == {"Driftline"}
    assert emitted.names("Driftline", frozenset({"model", "reason"})) == {"RejectedFiles"}
    assert "drift_share_drifted" in emitted.names("Driftline", frozenset({"model", "window"}))


def test_every_driftline_metric_on_the_dashboard_is_emitted_by_the_code(
    dashboard: tuple[dict[str, Any], dict[str, Placeholder]], emitted: Emitted
) -> None:
    body, _ = dashboard
    references = metric_references(body)
    (namespace,) = {namespace for namespace, _, _ in emitted.metrics}

    ours = [r for r in references if not r.namespace.startswith("AWS/")]
    assert {r.namespace for r in ours} == {namespace}
    assert unknown_driftline_metrics(references, emitted, namespace) == []
    # ... and each kind of figure the functions emit has a place on it
    shown = {(r.dimensions, r.name) for r in ours}
    for dimensions, name in (
        (frozenset({"model", "window"}), "drift_share_drifted"),
        (frozenset({"model", "window"}), "accuracy"),
        (frozenset({"model", "window"}), "estimated_accuracy"),
        (frozenset({"model", "window"}), "estimate_coverage"),
        (frozenset({"model"}), "Rows"),
        (frozenset({"model"}), "BadRows"),
        (frozenset({"model", "reason"}), "RejectedFiles"),
        (frozenset({"model", "window"}), "Status"),
        (frozenset({"model", "window"}), "FailedChecks"),
        (frozenset({"model", "segment", "window"}), "accuracy"),
        (frozenset({"model", "kind"}), "Alerts"),
        (frozenset({"action", "model"}), "RetrainingsStarted"),
    ):
        assert (dimensions, name) in shown, name


def test_the_check_catches_a_renamed_metric_or_dimension(
    dashboard: tuple[dict[str, Any], dict[str, Placeholder]], emitted: Emitted
) -> None:
    # GIVEN the dashboard with a metric and a dimension renamed (as a drift between the
    # code and the dashboard would)
    body, _ = dashboard
    text = json.dumps(body)
    renamed_metric = json.loads(text.replace('drift_share_drifted\\"', 'share_drifted\\"'))
    renamed_dimension = json.loads(text.replace(",model,reason}", ",model,cause}"))

    # THEN the check names both
    assert any(
        "share_drifted" in problem
        for problem in unknown_driftline_metrics(
            metric_references(renamed_metric), emitted, "Driftline"
        )
    )
    assert any(
        "cause" in problem
        for problem in unknown_driftline_metrics(
            metric_references(renamed_dimension), emitted, "Driftline"
        )
    )


def test_every_expression_is_a_search_with_a_unique_id(
    dashboard: tuple[dict[str, Any], dict[str, Placeholder]],
) -> None:
    # Each expression is one SEARCH (its schema, metric name, statistic and period parsed
    # above); metric math across two searches would pair their lines by position, not by
    # model, so the dashboard has none.
    body, _ = dashboard
    expressions = 0
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        rows = [row[0] for row in widget["properties"]["metrics"] if isinstance(row[0], dict)]
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids)), widget["properties"]["title"]
        for row in rows:
            assert _SEARCH.fullmatch(row["expression"]), row["expression"]
            expressions += 1
    assert expressions >= 8


def test_aws_metrics_name_this_stacks_resources(
    dashboard: tuple[dict[str, Any], dict[str, Placeholder]], template: dict[str, Any]
) -> None:
    body, placeholders = dashboard
    resources = template["Resources"]
    expected_kind = {
        "FunctionName": ("AWS::Serverless::Function", None),
        "TopicName": ("AWS::SNS::Topic", "TopicName"),
        "StateMachineArn": ("AWS::Serverless::StateMachine", None),
        "QueueName": ("AWS::SQS::Queue", "QueueName"),
    }
    errors_of: set[str] = set()
    for reference in metric_references(body):
        if not reference.namespace.startswith("AWS/"):
            continue
        (dimension,) = reference.dimensions
        (value,) = reference.dimension_values
        target = placeholders[value]
        kind, attribute = expected_kind[dimension]
        assert resources[target.logical_id]["Type"] == kind, reference
        assert target.attribute == attribute, reference
        if reference.namespace == "AWS/Lambda" and reference.name == "Errors":
            errors_of.add(target.logical_id)
    functions = {k for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert errors_of == functions  # every function's errors, none missing

    (alarms_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    shown = {placeholders[arn].logical_id for arn in alarms_widget["properties"]["alarms"]}
    alarms = {k for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert shown == alarms


def test_log_widgets_query_this_stacks_log_groups_for_fields_the_code_logs(
    dashboard: tuple[dict[str, Any], dict[str, Placeholder]],
    template: dict[str, Any],
    emitted: Emitted,
) -> None:
    body, placeholders = dashboard
    resources = template["Resources"]
    log_widgets = [w for w in body["widgets"] if w["type"] == "log"]
    assert log_widgets
    for widget in log_widgets:
        query = widget["properties"]["query"]
        sources = re.findall(r"SOURCE '([^']+)'", query)
        assert sources, query
        for source in sources:
            assert resources[placeholders[source].logical_id]["Type"] == "AWS::Logs::LogGroup"
        (message,) = re.findall(r"filter message = '([^']+)'", query)
        lines = [line for line in emitted.logs if line.get("message") == message]
        assert lines, f"no handler logged {message!r}"
        fields = set(re.findall(r"`([^`]+)`", query)) | set(re.findall(r"\bby (\w+)", query))
        for listed in re.findall(r"\| fields ([^|]+)", query):
            fields |= {name.strip() for name in listed.split(",")}
        assert fields, query
        for name in fields - {"@timestamp"}:
            assert any(_lookup(line, name) is not None for line in lines), (message, name)


def _lookup(document: Any, dotted: str) -> Any:
    """A field as Logs Insights names it (``windows.0.status``)."""
    for part in dotted.split("."):
        if isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        elif isinstance(document, dict) and part in document:
            document = document[part]
        else:
            return None
    return document
