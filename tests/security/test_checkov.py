"""checkov on template.yaml: nothing failed, and every suppression justified in place.

checkov is not a dev dependency: it pins boto3 1.35, botocore 1.35 and packaging 23.2, so
``pip install checkov`` into the project's environment downgrades the boto3/botocore that
driftline, moto and powertools run on (measured: checkov 3.3.30). Like the SAM CLI it gets
its own virtual environment (about 30 s)::

    python -m venv ~/.venvs/checkov && ~/.venvs/checkov/bin/pip install checkov

The test finds it through ``$CHECKOV``, then ``PATH``, then ``~/.venvs/checkov/bin``, and
skips with that instruction when it is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = (
    "checkov is not installed (it would downgrade boto3/botocore in the project's "
    "environment): python -m venv ~/.venvs/checkov && ~/.venvs/checkov/bin/pip install "
    "checkov, or set CHECKOV to its executable"
)


def find_checkov() -> str | None:
    candidates = [os.environ.get("CHECKOV"), shutil.which("checkov"),
                  str(Path.home() / ".venvs" / "checkov" / "bin" / "checkov")]  # fmt: skip
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    checkov = find_checkov()
    if os.environ.get("CHECKOV") and checkov != os.environ["CHECKOV"]:
        # CI sets CHECKOV (.ci/run): a broken install must fail, never skip quietly
        pytest.fail(f"CHECKOV={os.environ['CHECKOV']!r} is not an executable file")
    if checkov is None:
        pytest.skip(INSTALL)
    completed = subprocess.run(
        [checkov, "--file", "template.yaml", "--framework", "cloudformation", "--output",
         "json", "--compact", "--skip-download"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""},
        check=False,
    )  # fmt: skip
    assert completed.stdout.strip(), completed.stderr
    report = json.loads(completed.stdout)
    reports = report if isinstance(report, list) else [report]
    (cloudformation,) = [r for r in reports if r["check_type"] == "cloudformation"]
    return dict(cloudformation)


def test_checkov_parses_the_template(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 30
    assert summary["passed"] >= 90


def test_checkov_finds_nothing_that_is_not_justified(checkov_report: dict[str, Any]) -> None:
    failed = [
        (check["check_id"], check["resource"])
        for check in checkov_report["results"]["failed_checks"]
    ]
    assert failed == []


def test_every_check_checkov_skipped_was_skipped_with_a_comment(
    checkov_report: dict[str, Any],
) -> None:
    skipped = checkov_report["results"]["skipped_checks"]
    assert skipped
    for check in skipped:
        comment = check.get("check_result", {}).get("suppress_comment", "")
        assert len(comment.split()) >= 15, (check["check_id"], check["resource"], comment)
