"""The local runtime and the state machine's executions: it can run one after another, and
stopping waits for those still running (or names them)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from driftline.local import LocalRuntime

pytestmark = pytest.mark.slow

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def _start(runtime: LocalRuntime, name: str) -> str:
    """A retraining execution for a model with no definition: Prepare fails, the failure is
    notified, the execution ends (FAILED) within a second or two."""
    sfn = runtime.client("stepfunctions")
    return str(
        sfn.start_execution(
            stateMachineArn=runtime.arn_of("RetrainStateMachine"),
            name=name,
            input=json.dumps({"model": "ghost", "action": "retrain"}),
        )["executionArn"]
    )


def test_a_second_execution_starts_after_the_first_has_run() -> None:
    with LocalRuntime(TEMPLATE, stack="executions") as runtime:
        _start(runtime, "first")
        assert runtime.wait_for_executions(timeout=60) == []

        # WHEN another execution starts on the same state machine (moto copies the machine,
        # with the first execution's thread locks unless the runtime prevents it)
        second = _start(runtime, "second")
        assert runtime.wait_for_executions(timeout=60) == []

        # THEN it ran like the first
        states = runtime.states(second)
        assert states[0] == "Prepare" and states[-1] == "RetrainingFailed"
        assert sorted(e["status"] for e in runtime.executions()) == ["FAILED", "FAILED"]


def test_stop_waits_for_running_executions_to_end() -> None:
    runtime = LocalRuntime(TEMPLATE, stack="stopping")
    runtime.start()
    _start(runtime, "in-flight")

    unfinished = runtime.stop(timeout=60)

    # The execution ended before moto stopped: its last step (the failure notification)
    # reached the retrain function, and nothing was left running.
    assert unfinished == [] and runtime.unfinished == []
    steps = [c.event.get("step") for c in runtime.invocations if c.function == "RetrainFunction"]
    assert steps == ["prepare", "notify"]


def test_stop_names_the_executions_it_gave_up_on() -> None:
    runtime = LocalRuntime(TEMPLATE, stack="impatient")
    runtime.start()
    _start(runtime, "slow")
    started = time.monotonic()

    with pytest.warns(RuntimeWarning, match="still running after 0 s: slow"):
        unfinished = runtime.stop(timeout=0)

    assert unfinished == ["slow"] and runtime.unfinished == ["slow"]
    assert time.monotonic() - started < 5
