"""The template passes cfn-lint (which also runs the SAM transform) and `sam validate --lint`."""

from __future__ import annotations

import os
import subprocess

import pytest
from template_support import REPO, TEMPLATE, find_sam


def test_cfn_lint_reports_nothing_including_informational_rules() -> None:
    # GIVEN cfn-lint with its informational rules switched on
    api = pytest.importorskip("cfnlint.api", reason="cfn-lint is not installed")

    # WHEN it lints the template
    matches = api.lint_file(TEMPLATE, config=api.ManualArgs(include_checks=["I"]))

    # THEN there is nothing to report
    assert [str(match) for match in matches] == []


def test_sam_validate_lint_accepts_the_template() -> None:
    sam = find_sam()
    if sam is None:
        pytest.skip("sam is not on PATH (pip install aws-sam-cli; see docs/deploy.md)")

    # WHEN sam validates and lints the template offline
    completed = subprocess.run(
        [sam, "validate", "--lint", "--template-file", str(TEMPLATE)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "eu-west-1"},
        check=False,
    )

    # THEN it says the template is valid
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "is a valid SAM Template" in completed.stdout + completed.stderr
