"""``driftline demo``: the mission's five scenarios end to end on the local runtime.

Each scenario deploys template.yaml in moto (:class:`~driftline.local.LocalRuntime`), uploads
generated data whose drift is planted, fires the schedule, and prints a timeline: what
arrived, what each function did, what the on-call engineer was told, which executions
started. It then checks the scenario reached its expected outcome; the command exits 0 only
if every scenario did.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from driftline.demo.scenarios import SCENARIOS, Outcome, Scenario
from driftline.local import LocalRuntime

ROOT = Path(__file__).resolve().parents[4]


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
        unmet = scenario.verify(outcome)
        results[name] = unmet
        verdict = "REACHED" if not unmet else "NOT REACHED: " + "; ".join(unmet)
        out.write(f"outcome: {verdict} ({time.perf_counter() - started:.1f} s)\n")
    return results


def _run(scenario: Scenario, *, template: Path, output: Path, out: TextIO) -> Outcome:
    outcome = Outcome()
    output.mkdir(parents=True, exist_ok=True)
    with LocalRuntime(template, stack=f"demo-{scenario.name}") as runtime:
        seen = 0
        for kind, target, payload in scenario.steps():
            if kind == "upload":
                body = payload.to_csv(index=False) if isinstance(payload, pd.DataFrame) else payload
                rows = f" ({len(payload):,} rows)" if isinstance(payload, pd.DataFrame) else ""
                out.write(f"  upload {target}{rows}\n")
                runtime.upload(str(target), body)
            else:
                out.write(f"  schedule fires at {target:%Y-%m-%d %H:%M} UTC\n")
                runtime.run_schedules(target)
            for call in runtime.invocations[seen:]:
                _describe_call(call, outcome, out)
            seen = len(runtime.invocations)
            for message in runtime.notifications():
                outcome.notifications.append(message)
                out.write(f"    NOTIFY  {message.get('Subject')}\n")
                body_text = str(message.get("Message", "")).split("--- machine-readable ---")[0]
                for line in body_text.strip().splitlines()[1:6]:
                    if line.strip():
                        out.write(f"            {line.strip()[:110]}\n")
        outcome.executions = runtime.executions()
        for execution in outcome.executions:
            out.write(f"    EXECUTION {execution['name']}: {execution['status']}\n")
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
        if runtime.failures():
            out.write(f"    FAILED invocations: {len(runtime.failures())}\n")
            for failure in runtime.failures()[:3]:
                out.write("      " + failure.error.strip().splitlines()[-1] + "\n")  # type: ignore[union-attr]
    return outcome


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
