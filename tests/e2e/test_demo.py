"""`driftline demo`: the five scenarios reach their expected outcomes on the local runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftline.cli import main


def test_demo_reaches_every_expected_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    assert "5 of 5 scenarios reached their expected outcome" in out
    assert out.count("outcome: REACHED") == 5
    # The timeline names what arrived, what was said and what started.
    assert (
        "NOTIFY  [driftline] churn: CRITICAL - accuracy-floor failed (accuracy 0.84 < 0.85)" in out
    )
    assert "EXECUTION churn-retrain-" in out
    report = json.loads(next((tmp_path / "credit").glob("*.json")).read_text())
    checks = {c["name"]: c["status"] for c in report["checks"]}
    assert checks == {"subprime-gini": "fail", "prime-gini": "pass"}


def test_one_scenario_and_a_missed_expectation_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftline.demo import scenarios

    # A scenario whose expectation cannot be met must make the command fail, naming it.
    monkeypatch.setattr(
        scenarios.SCENARIOS["credit"], "verify", lambda outcome: ["planted failure"]
    )
    code = main(["demo", "--scenario", "credit", "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "NOT REACHED: planted failure" in out
    assert "0 of 1 scenarios reached their expected outcome; not reached: credit" in out
