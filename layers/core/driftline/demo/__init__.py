"""``driftline demo``: the mission's five scenarios end to end on the local runtime.

Each scenario deploys template.yaml in moto (:class:`~driftline.local.LocalRuntime`), uploads
generated data whose drift is planted, fires the schedule, and prints a timeline: what
arrived (with the scenario's notes on what the data mean), what each function did, what the
on-call engineer was told and what was held back, which executions started and, for each,
the steps it went through, and the scenario's summary lines (the credit scenario's estimate
before its labels against what the labels showed). After each step the demo waits for the
executions that step started; a canary waiting for traffic gets live requests routed by the
registry's split (:mod:`driftline.demo.serving`), so retraining runs to its decision. It
then checks the scenario reached its expected outcome; the command exits 0 only if every
scenario did (an execution still running at the end counts as not reached).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from driftline.aws.model_store import ModelRegistry
from driftline.aws.s3 import ObjectStore
from driftline.aws.store import Table
from driftline.config.loading import load_monitor_definition
from driftline.demo.scenarios import SCENARIOS, Outcome, Scenario
from driftline.demo.serving import serve_canary
from driftline.local import LocalRuntime

ROOT = Path(__file__).resolve().parents[4]


#: How long the demo waits for the executions of one step (training, a canary's analyses).
SETTLE_SECONDS = 90.0
#: Batches of live traffic a canary may ask for (a "continue" decision asks for more).
MAX_TRAFFIC_BATCHES = 5


def run_demo(
    names: Sequence[str], *, template: Path, output: Path, out: TextIO
) -> dict[str, list[str]]:
    """Run the named scenarios; returns scenario → unmet expectations (empty: reached)."""
    results: dict[str, list[str]] = {}
    for name in names:
        scenario = SCENARIOS[name]
        started = time.perf_counter()
        out.write(f"\n=== {scenario.title} ({name}) ===\nexpected: {scenario.expected}\n")
        outcome = _run(scenario, template=template, output=output / name, out=out)
        if scenario.summary is not None:
            for line in scenario.summary(outcome):
                out.write(f"  {line}\n")
        unmet = scenario.verify(outcome)
        unmet += [
            f"execution {e} was still running when the demo stopped" for e in outcome.unfinished
        ]
        results[name] = unmet
        verdict = "REACHED" if not unmet else "NOT REACHED: " + "; ".join(unmet)
        out.write(f"outcome: {verdict} ({time.perf_counter() - started:.1f} s)\n")
    return results


def _run(scenario: Scenario, *, template: Path, output: Path, out: TextIO) -> Outcome:
    outcome = Outcome()
    output.mkdir(parents=True, exist_ok=True)
    anchor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # What the functions print (JSON logs, EMF metrics: CloudWatch Logs on AWS) goes to a
    # file beside the reports, so the timeline stays readable.
    with (output / "functions.log").open("w", encoding="utf-8") as logs, _function_output(logs):
        return _play(scenario, anchor, template=template, output=output, out=out, outcome=outcome)


@contextlib.contextmanager
def _function_output(stream: TextIO) -> Iterator[None]:
    """Send the handlers' stdout and the powertools logger to ``stream``; quiet moto's
    warning that it does not run the SageMaker integration (the demo never uses it)."""
    # Imported here: building the handlers' AWS clients needs botocore, which the layer
    # build's import tracing stubs (infrastructure/precompile.py walks every module).
    from driftline.aws.handler import logger as handler_logger  # noqa: PLC0415

    handlers = [
        h
        for h in logging.getLogger(handler_logger.name).handlers
        if isinstance(h, logging.StreamHandler)
    ]
    previous = [h.setStream(stream) for h in handlers]
    moto_logger = logging.getLogger("moto.stepfunctions")
    level = moto_logger.level
    moto_logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(stream):
            yield
    finally:
        moto_logger.setLevel(level)
        for handler, old in zip(handlers, previous, strict=True):
            if old is not None:
                handler.setStream(old)


def _play(
    scenario: Scenario,
    anchor: datetime,
    *,
    template: Path,
    output: Path,
    out: TextIO,
    outcome: Outcome,
) -> Outcome:
    runtime = LocalRuntime(template, stack=f"demo-{scenario.name}")
    runtime.start()
    canaries = _Canaries(scenario, runtime, outcome, out)
    try:
        for kind, target, payload in scenario.steps(anchor):
            if kind == "note":
                out.write(f"  -- {target}\n")
                continue
            if kind == "upload":
                body = payload.to_csv(index=False) if isinstance(payload, pd.DataFrame) else payload
                rows = f" ({len(payload):,} rows)" if isinstance(payload, pd.DataFrame) else ""
                out.write(f"  upload {target}{rows}\n")
                runtime.upload(str(target), body)
            else:
                out.write(f"  schedule fires at {target:%Y-%m-%d %H:%M} UTC\n")
                runtime.run_schedules(target)
            canaries.report()
            # Executions this step started run to their end (serving their canaries live
            # traffic) before the next step: the timeline reads in order, and training sees
            # exactly the data that had arrived when the check failed.
            canaries.settle()
        outcome.executions = runtime.executions()
        for execution in outcome.executions:
            outcome.retraining[execution["name"]] = canaries.describe(execution)
        _read_stored(runtime, scenario, outcome)
        _save_reports(runtime, outcome, output)
        if runtime.failures():
            out.write(f"    FAILED invocations: {len(runtime.failures())}\n")
            for failure in runtime.failures()[:3]:
                out.write("      " + failure.error.strip().splitlines()[-1] + "\n")  # type: ignore[union-attr]
    finally:
        outcome.unfinished = runtime.stop(timeout=SETTLE_SECONDS)
    return outcome


def _report(runtime: LocalRuntime, seen: int, outcome: Outcome, out: TextIO) -> int:
    """Print the calls and notifications since ``seen``; returns the new count."""
    for call in runtime.invocations[seen:]:
        _describe_call(call, outcome, out)
    for message in runtime.notifications():
        outcome.notifications.append(message)
        out.write(f"    NOTIFY  {message.get('Subject')}\n")
        body_text = str(message.get("Message", "")).split("--- machine-readable ---")[0]
        for line in body_text.strip().splitlines()[1:6]:
            if line.strip():
                out.write(f"            {line.strip()[:110]}\n")
    return len(runtime.invocations)


class _Canaries:
    """Follows a scenario's executions: waits for them, serves their canaries live traffic
    (:mod:`driftline.demo.serving`) and prints what each went through."""

    def __init__(
        self, scenario: Scenario, runtime: LocalRuntime, outcome: Outcome, out: TextIO
    ) -> None:
        self.scenario = scenario
        self.runtime = runtime
        self.outcome = outcome
        self.out = out
        self.seen = 0
        self.served: dict[str, int] = {}
        self.printed: set[str] = set()

    def report(self) -> None:
        """Print the handler calls and notifications since the last report."""
        self.seen = _report(self.runtime, self.seen, self.outcome, self.out)

    def settle(self) -> None:
        """Wait until no execution runs, serving each canary that waits for traffic."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            running = self.runtime.running()
            for execution in running:
                states = self.runtime.states(execution["executionArn"])
                waits = states.count("WaitForTraffic")
                name = execution["name"]
                if (
                    states[-1:] == ["WaitForTraffic"]
                    and waits > self.served.get(name, 0)
                    and waits <= MAX_TRAFFIC_BATCHES
                ):
                    self.served[name] = waits
                    self._serve(execution, batch=waits)
                    self.report()
            for execution in self.runtime.executions():
                if execution["status"] != "RUNNING" and execution["name"] not in self.printed:
                    self.printed.add(execution["name"])
                    self.report()
                    self._print(self.describe(execution))
            if not running or time.monotonic() > deadline:
                return
            time.sleep(0.2)

    def _serve(self, execution: dict[str, Any], *, batch: int) -> None:
        if self.scenario.live is None:
            return
        sfn = self.runtime.client("stepfunctions")
        request = json.loads(
            sfn.describe_execution(executionArn=execution["executionArn"])["input"]
        )
        definition = load_monitor_definition(self.scenario.config)
        store = ObjectStore(self.runtime.client("s3"), self.runtime.bucket)
        registry = ModelRegistry(
            self.runtime.client("dynamodb"), self.runtime.name_of("MonitorTable"), store
        )
        segments = [str(s) for s in request.get("segments") or []]
        if definition.retraining is None or definition.retraining.scope != "segments":
            segments = []
        served = serve_canary(
            definition=definition,
            registry=registry,
            upload=self.runtime.upload,
            traffic=self.scenario.live,
            now=datetime.now(UTC),
            seed=batch,
            segments=segments,
            endpoint=self.scenario.endpoint,
        )
        cohort = f" ({', '.join(segments)})" if segments else ""
        self.out.write(f"    CANARY  {execution['name']}: {served.describe()}{cohort}\n")

    def describe(self, execution: dict[str, Any]) -> dict[str, Any]:
        sfn = self.runtime.client("stepfunctions")
        description = sfn.describe_execution(executionArn=execution["executionArn"])
        return {
            "name": execution["name"],
            "status": description["status"],
            "states": self.runtime.states(execution["executionArn"]),
            "output": json.loads(description.get("output") or "null"),
        }

    def _print(self, run: dict[str, Any]) -> None:
        out = self.out
        steps = [
            s
            for s in run["states"]
            if s not in ("ChooseBackend", "GatesPassed", "DeployMode", "CanaryDecision")
        ]
        out.write(f"    EXECUTION {run['name']}: {run['status']}\n")
        out.write(f"      steps: {' -> '.join(_compact(steps))}\n")
        output = run["output"] or {}
        prepared = output.get("prepared") or {}
        if prepared.get("configured") is False:
            out.write(f"      {prepared.get('reason')}\n")
        if prepared.get("rows"):
            rows = prepared["rows"]
            scope = f" of {', '.join(prepared['segments'])}" if prepared.get("segments") else ""
            out.write(
                f"      trained on {rows['train']:,} labelled rows{scope}, "
                f"judged on the newest {rows['holdout']:,}\n"
            )
        evaluation = output.get("evaluation") or {}
        if evaluation:
            out.write(
                f"      holdout {evaluation['metric']}: challenger {_num(evaluation['challenger'])}"
                f" vs champion {_num(evaluation['champion'])}; gates "
                + (
                    "passed"
                    if evaluation.get("passed")
                    else f"blocked by {evaluation.get('blocked_by')}"
                )
                + "\n"
            )
        analysis = output.get("analysis") or {}
        if analysis:
            champion, challenger = analysis["champion"], analysis["challenger"]
            out.write(
                f"      canary {analysis['metric']}: challenger {_num(challenger.get('value'))} "
                f"on {challenger.get('labelled', 0):,} rows vs champion "
                f"{_num(champion.get('value'))} on {champion.get('labelled', 0):,}\n"
            )
            test = analysis.get("test") or {}
            sequential = analysis.get("sequential") or {}
            figures = []
            if test:
                figures.append(f"{test['name']} p = {_num(test.get('p_value'))}")
            if sequential:
                figures.append(
                    f"mixture SPRT always-valid p = {_num(sequential.get('always_valid_p'))}"
                    + (" (crossed)" if sequential.get("crossed") else "")
                )
            if figures:
                out.write(f"      {'; '.join(figures)}\n")
            out.write(f"      decision: {analysis['decision'].upper()}: {analysis['reason']}\n")
        if run["output"] is None and run["status"] != "SUCCEEDED":
            out.write("      (the execution failed: its notification above says why)\n")


def _compact(states: list[str]) -> list[str]:
    """The states in order, a canary's wait-and-analyse loop shown once with its count."""
    loops = states.count("AnalyseCanary")
    shown: list[str] = []
    for state in states:
        if state in ("WaitForTraffic", "AnalyseCanary") and state in shown:
            continue
        shown.append(state)
    if loops > 1:
        shown = [f"AnalyseCanary (x{loops})" if s == "AnalyseCanary" else s for s in shown]
    return shown


def _num(value: Any) -> str:
    if value is None:
        return "n/a"
    number = float(value)
    return f"{number:.2e}" if number != 0 and abs(number) < 1e-3 else f"{number:.4g}"


def _save_reports(runtime: LocalRuntime, outcome: Outcome, output: Path) -> None:
    store = runtime.client("s3")
    for page in store.get_paginator("list_objects_v2").paginate(
        Bucket=runtime.bucket, Prefix="reports/"
    ):
        for item in page.get("Contents", ()):
            body = store.get_object(Bucket=runtime.bucket, Key=item["Key"])["Body"].read()
            target = output / Path(item["Key"]).name
            if item["Key"].endswith(".html"):
                target.write_bytes(body)
                continue
            document = _read_json(body)
            outcome.reports[item["Key"]] = document
            target.write_text(json.dumps(document, indent=2))


def _read_stored(runtime: LocalRuntime, scenario: Scenario, outcome: Outcome) -> None:
    """The figures of the metrics table the scenario names, every evaluation's."""
    if not scenario.stored:
        return
    table = Table(runtime.client("dynamodb"), runtime.name_of("MonitorTable"))
    model = load_monitor_definition(scenario.config).model
    for record, segment in scenario.stored:
        outcome.stored[(record, segment)] = table.metric(
            model, record, segment=segment, start="0", end="~"
        )


def _read_json(body: bytes) -> Any:
    return json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)


def _describe_call(call: Any, outcome: Outcome, out: TextIO) -> None:
    result = call.result or {}
    if call.error:
        out.write(f"    {call.function}: ERROR {call.error.strip().splitlines()[-1]}\n")
        return
    for item in result.get("objects", []):
        status = item.get("status") or ("labels joined" if "joined" in item else "done")
        extra = []
        if "rows" in item:
            extra.append(f"{item['rows']:,} rows")
        if "joined" in item:
            extra.append(f"{item['joined']:,} labels joined")
        for check, fired in (item.get("detectors") or {}).items():
            if fired:
                outcome.detections.setdefault(check, []).append(item["key"])
                extra.append(f"{check} fired")
        if item.get("quality"):
            extra.append(f"quality {item['quality']}")
        out.write(
            f"    {call.function}: {status}{' (' + ', '.join(extra) + ')' if extra else ''}\n"
        )
    for evaluation in result.get("evaluations", []):
        for window in evaluation.get("windows", []):
            out.write(
                f"    evaluate {evaluation['model']} {window['window']}: {window['status']}\n"
            )
        for held in (evaluation.get("acted") or {}).get("suppressed", []):
            out.write(f"    held    {held}\n")
