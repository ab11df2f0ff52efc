"""The mistakes producers make, each fed through the whole local deployment (template.yaml
on moto, the real handlers): every case ends handled correctly, or with its file quarantined
or held with a machine-readable reason and one page. Never a crash, a lost batch or a wrong
number.

For every case the matrix checks the same invariants:

- no handler invocation ended in an unhandled exception;
- every uploaded inference file's rows are accounted for exactly once: profiled (the stored
  profile's rows and bad rows add up to the file's), quarantined (its reason file) or held
  (its item in the table);
- the pages are exactly the expected ones, each once;
- where the case is "handled correctly", the figures equal those of the clean run.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.local import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
HOURS = (8, 9, 10, 11, 12)
DEFINITION = """
model: churn
schema:
  id: customer_id
  timestamp: event_time
  task: binary_classification
  prediction: churn_predicted
  score: churn_score
  label: churned
  positive_class: 1
  features: {tenure: numeric, charges: numeric, plan: categorical}
  segments: [plan]
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.6, action: notify}
  - {name: error-adwin, detector: adwin, signal: error, action: notify}
schedule: rate(1 day)
windows: [P1D, P7D]
"""


def frame(rows: int, *, seed: int, hour: int = 10, day: int = 24, accuracy: float = 0.9):
    rng = np.random.default_rng(seed)
    predicted = rng.integers(0, 2, rows)
    wrong = rng.random(rows) > accuracy
    start = pd.Timestamp(f"2026-11-{day:02d}T{hour:02d}:00:00Z")
    return pd.DataFrame(
        {
            "customer_id": [f"c{day}{hour:02d}{i:05d}" for i in range(rows)],
            "event_time": start + pd.to_timedelta(np.sort(rng.integers(0, 3600, rows)), unit="s"),
            "tenure": rng.gamma(2.0, 12.0, rows).round(1),
            "charges": rng.normal(70.0, 20.0, rows).round(2),
            "plan": rng.choice(["basic", "pro", "team"], rows),
            "churn_score": rng.random(rows).round(4),
            "churn_predicted": predicted,
            "churned": np.where(wrong, 1 - predicted, predicted),
        }
    )


def csv(data: pd.DataFrame) -> bytes:
    return data.to_csv(index=False).encode()


def jsonl_labels(data: pd.DataFrame, *, as_text: bool = False) -> bytes:
    return "".join(
        json.dumps({"customer_id": i, "churned": str(int(y)) if as_text else int(y)}) + "\n"
        for i, y in zip(data["customer_id"], data["churned"], strict=True)
    ).encode()


BATCHES = {hour: frame(400, seed=hour, hour=hour, accuracy=0.9 if hour < 11 else 0.4)
           for hour in HOURS}  # fmt: skip


def batch_key(hour: int) -> str:
    return f"inference/churn/2026/11/24/{hour:02d}/batch.csv"


def labels_key(hour: int, suffix: str = "csv") -> str:
    return f"labels/churn/2026/11/24/h{hour:02d}.{suffix}"


# -- the deployment, driven -------------------------------------------------------------


@dataclass
class Run:
    """One deployment fed one case: what it stored, paged and counted."""

    runtime: LocalRuntime
    uploaded: dict[str, int] = field(default_factory=dict)  # inference key -> rows
    seen: list[dict[str, Any]] = field(default_factory=list)  # every page, once played

    def upload(self, key: str, body: bytes, *, rows: int | None = None) -> None:
        if key.startswith("inference/"):
            self.uploaded[key] = rows if rows is not None else body.count(b"\n") - 1
        self.runtime.upload(key, body)

    def deploy(self, definition: str = DEFINITION) -> None:
        self.upload("baselines/churn/reference.csv", csv(frame(3000, seed=1, hour=0, day=1)))
        self.upload("config/churn.yaml", definition.encode())

    def s3(self) -> Any:
        return self.runtime.client("s3")

    def get(self, key: str) -> bytes:
        body = self.s3().get_object(Bucket=self.runtime.bucket, Key=key)["Body"].read()
        return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body

    def keys(self, prefix: str) -> list[str]:
        pages = (
            self.s3()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.runtime.bucket, Prefix=prefix)
        )
        return [item["Key"] for page in pages for item in page.get("Contents", ())]

    def delete(self, key: str) -> None:
        self.s3().delete_object(Bucket=self.runtime.bucket, Key=key)

    def table_items(self, kind: str) -> list[dict[str, Any]]:
        items = self.runtime.client("dynamodb").scan(
            TableName=self.runtime.name_of("MonitorTable")
        )["Items"]
        return [
            json.loads(item["state"]["S"])
            for item in items
            if item["SK"]["S"].startswith(f"{kind}#") and "state" in item
        ]

    def pages(self) -> list[dict[str, Any]]:
        found = []
        for message in self.runtime.notifications():
            text = message.get("Message", "")
            machine = (
                json.loads(text.split("--- machine-readable ---\n", 1)[1])
                if "--- machine-readable ---" in text
                else json.loads(text)
                if text.startswith("{")
                else {}
            )
            found.append({"subject": message.get("Subject", ""), **machine})
        return found

    def report(self, window: str = "P1D") -> dict[str, Any]:
        key = f"reports/churn/churn-{window}-{NOW:%Y%m%dT%H%M}.json"
        return dict(json.loads(self.get(key)))

    def accounted(self) -> dict[str, str]:
        """How each uploaded inference file's rows are accounted for (exactly one way)."""
        profiled = {}
        for key in self.keys("profiles/churn/batches/"):
            document = json.loads(self.get(key))
            profile = document["profile"]
            profiled[document["source"]] = profile["rows"] + profile.get("bad_rows", 0)
        held = {item["key"] for item in self.table_items("HELD")}
        outcome = {}
        for key, rows in self.uploaded.items():
            ways = []
            if key in profiled:
                assert profiled[key] == rows, (key, profiled[key], rows)
                ways.append("profiled")
            if self.keys(f"quarantine/{key}.reason.json"):
                ways.append("quarantined")
            if key in held:
                ways.append("held")
            assert len(ways) == 1, (key, ways)
            outcome[key] = ways[0]
        return outcome


def performance(report: dict[str, Any]) -> dict[str, Any]:
    """The performance figures of a report and its non-detector checks (detector fires
    depend on arrival order: docs/reliability.md)."""
    return {
        "rows": report["rows"],
        "performance": report["performance"],
        "checks": [(c["name"], c["status"], c["value"]) for c in report["checks"]
                   if not c["name"].startswith("error-")],
    }  # fmt: skip


def clean_inputs(run: Run) -> None:
    for hour in HOURS:
        run.upload(batch_key(hour), csv(BATCHES[hour].drop(columns="churned")))
    for hour in HOURS:
        data = BATCHES[hour]
        run.upload(labels_key(hour), csv(data[["customer_id", "churned"]]))


# -- the cases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One mistake: what is uploaded (after the model is deployed unless ``deploy`` is
    False), how each inference file ends, the pages (kind, reason) expected, and whether
    the figures must equal the clean run's."""

    feed: Callable[[Run], None]
    ends: str | dict[str, str]  # one way for every inference file, or key -> way
    pages: list[tuple[str, str | None]]
    same_figures: bool = False
    check: Callable[[Run], None] | None = None
    deploy: bool = True


def labels_as_text(run: Run) -> None:
    for hour in HOURS:  # labels first, as JSON strings
        run.upload(labels_key(hour, "jsonl"), jsonl_labels(BATCHES[hour], as_text=True))
    for hour in HOURS:
        run.upload(batch_key(hour), csv(BATCHES[hour].drop(columns="churned")))


def label_not_a_class(run: Run) -> None:
    body = jsonl_labels(BATCHES[10], as_text=True).replace(b'"1"', b'"maybe"', 1)
    run.upload(labels_key(10, "jsonl"), body)
    run.upload(batch_key(10), csv(BATCHES[10].drop(columns="churned")))


def no_value_in_the_reason(run: Run) -> None:
    reason = run.get(f"quarantine/{labels_key(10, 'jsonl')}.reason.json")
    assert b"maybe" not in reason


def reference_missing(run: Run) -> None:
    (reference,) = run.keys("profiles/churn/reference/")
    run.delete(reference)
    clean_inputs(run)
    run.runtime.run_schedules(NOW)  # the schedule must not crash either


def reference_missing_then_restored(run: Run) -> None:
    reference_missing(run)
    run.runtime.notifications()  # the held page is checked by the case before
    run.upload("baselines/churn/reference.csv", csv(frame(3000, seed=1, hour=0, day=1)))


def replaced_file(run: Run) -> None:
    broken = BATCHES[10].drop(columns="churned").assign(tenure=np.nan, plan="?")
    run.upload(batch_key(10), csv(broken))
    clean_inputs(run)  # the corrected bytes under the same key, and the rest


def labels_shuffled(run: Run) -> None:
    for hour in HOURS:
        run.upload(batch_key(hour), csv(BATCHES[hour].drop(columns="churned")))
    for hour in (12, 9, 11, 8, 10):
        run.upload(labels_key(hour), csv(BATCHES[hour][["customer_id", "churned"]]))


def before_the_definition(run: Run) -> None:
    clean_inputs(run)
    run.deploy()


def definition_with(old: str, new: str) -> Callable[[Run], None]:
    """Deploy a definition with one mistake (validation must refuse it), then the inputs."""

    def feed(run: Run) -> None:
        assert old in DEFINITION
        run.deploy(DEFINITION.replace(old, new))
        clean_inputs(run)

    return feed


def column_absent(run: Run) -> None:
    clean_inputs(run)
    run.upload(
        batch_key(13), csv(frame(400, seed=13, hour=13).drop(columns=["churned", "charges"]))
    )


def schema_columns_fired(run: Run) -> None:
    firing = [p for p in run.seen if p.get("kind") == "firing"]
    assert [p["about"] for p in firing if "schema-columns" in p["about"]] == [["schema-columns"]]


def past_the_row_limit(run: Run) -> None:
    """A gzip of 600,000 short rows (the default limit is 500,000 rows per file)."""
    clean_inputs(run)
    rows = 600_000
    head = "customer_id,tenure,charges,plan,churn_score,churn_predicted\n"
    body = head + "x,1,2,basic,0.5,1\n" * rows
    run.upload(batch_key(13).replace(".csv", ".csv.gz"), gzip.compress(body.encode()), rows=rows)


def header_only(run: Run) -> None:
    clean_inputs(run)
    run.upload(batch_key(13), csv(BATCHES[10].drop(columns="churned").iloc[:0]))


CASES = {
    "labels-as-json-strings": Case(labels_as_text, "profiled", [], same_figures=True),
    "label-that-is-no-class": Case(
        label_not_a_class,
        "profiled",
        [("input_rejected", "invalid_label")],
        check=no_value_in_the_reason,
    ),
    "stored-baseline-profile-missing": Case(
        reference_missing, "held", [("inputs_held", "baseline_profile_missing")]
    ),
    "stored-baseline-profile-restored": Case(
        reference_missing_then_restored, "profiled", [], same_figures=True
    ),
    "inputs-before-the-definition": Case(
        before_the_definition,
        "profiled",
        [("inputs_held", "no_monitor_definition")],
        same_figures=True,
        deploy=False,
    ),
    "file-replaced-under-its-key": Case(replaced_file, "profiled", [], same_figures=True),
    "label-files-in-shuffled-order": Case(labels_shuffled, "profiled", [], same_figures=True),
    "ks-on-a-categorical-feature": Case(
        definition_with("checks:", "drift: {features: {plan: {method: ks}}}\nchecks:"),
        "held",
        [("input_rejected", "invalid_config"), ("inputs_held", "no_monitor_definition")],
        deploy=False,
    ),
    "a-window-of-a-million-years": Case(
        definition_with("windows: [P1D, P7D]", "windows: [P1D, P100000000D]"),
        "held",
        [("input_rejected", "invalid_config"), ("inputs_held", "no_monitor_definition")],
        deploy=False,
    ),
    "a-boolean-threshold": Case(
        definition_with("min: 0.6", "min: true"),
        "held",
        [("input_rejected", "invalid_config"), ("inputs_held", "no_monitor_definition")],
        deploy=False,
    ),
    "a-monitored-column-absent-from-a-batch": Case(
        column_absent, "profiled", [], check=schema_columns_fired
    ),
    "a-file-past-the-row-limit": Case(
        past_the_row_limit,
        {
            **{batch_key(h): "profiled" for h in HOURS},
            batch_key(13).replace(".csv", ".csv.gz"): "quarantined",
        },
        [("input_rejected", "too_many_rows")],
        same_figures=True,
    ),
    "a-header-only-batch": Case(
        header_only,
        {**{batch_key(h): "profiled" for h in HOURS}, batch_key(13): "quarantined"},
        [("input_rejected", "no_rows")],
    ),
}


def play(case: Case | None) -> tuple[Run, list[dict[str, Any]]]:
    runtime = LocalRuntime(ROOT / "template.yaml")
    runtime.start()
    run = Run(runtime)
    try:
        if case is None or case.deploy:
            run.deploy()
            runtime.notifications()
        (case.feed if case else clean_inputs)(run)
        pages = run.pages()
        runtime.run_schedules(NOW)
        later = run.pages()
        run.seen = pages + later
        pages += [p for p in later if p.get("kind") not in ("firing", "reminder")]
        return run, pages
    except BaseException:
        runtime.stop()
        raise


@pytest.fixture(scope="module")
def clean() -> dict[str, Any]:
    run, pages = play(None)
    try:
        report = run.report()
        # (the clean run must have something to compare: every row labelled, a detector fed)
        assert report["performance"]["labels"]["overall"]["labelled"] == 400 * len(HOURS)
        (state,) = run.table_items("DETECTOR")
        assert len(state["applied"]) == len(HOURS)
        assert set(run.accounted().values()) == {"profiled"}
        return {"report": report, "detectors": detectors(run), "pages": pages}
    finally:
        run.runtime.stop()


def detectors(run: Run) -> dict[str, Any]:
    return {item["detector"]["detector"]: item["detector"] for item in run.table_items("DETECTOR")}


@pytest.mark.parametrize("name", list(CASES))
def test_each_mistake_ends_handled_or_quarantined_or_held_with_one_page(
    name: str, clean: dict[str, Any]
) -> None:
    case = CASES[name]
    run, pages = play(case)
    try:
        # THEN no handler invocation crashed
        assert run.runtime.failures() == [], run.runtime.failures()[0].error
        # ... every inference file's rows are accounted for exactly once, as expected
        ways = run.accounted()
        expected = case.ends if isinstance(case.ends, dict) else dict.fromkeys(ways, case.ends)
        assert ways == expected
        # ... the pages are the expected ones, each once (the evaluation's own alerts, which
        # depend on the data, are compared with the clean run's instead)
        problems = [(p.get("kind"), p.get("reason")) for p in pages
                    if p.get("kind") not in ("firing", "reminder", "resolved")]  # fmt: skip
        assert sorted(problems) == sorted(case.pages)
        if case.same_figures:
            assert performance(run.report()) == performance(clean["report"])
            assert detectors(run) == clean["detectors"]
        if case.check is not None:
            case.check(run)
    finally:
        run.runtime.stop()
