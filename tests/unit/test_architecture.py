"""The core's dependency rule: it never imports boto3 (adapters do), and it stays lint- and
type-clean (ruff and mypy run as part of the test suite, so CI and the README's test command
enforce them)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE_MODULES = [
    "driftline.config",
    "driftline.errors",
    "driftline.io",
    "driftline.profile.dataset",
    "driftline.stats",
    "driftline.drift",
    "driftline.quality",
    "driftline.checks",
    "driftline.evaluation",
    "driftline.metrics",
    "driftline.detectors",
    "driftline.detector_feed",
    "driftline.labels",
    "driftline.alerts",
    "driftline.performance",
    "driftline.replay",
    "driftline.report",
    "driftline.cli",
]


def test_core_imports_no_boto3() -> None:
    # GIVEN a fresh interpreter WHEN every core module is imported
    code = (
        "import sys\n"
        f"for name in {CORE_MODULES!r}: __import__(name)\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore'))\n"
        "print(','.join(leaked))\n"
    )
    env_path = str(ROOT / "layers" / "core")
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": env_path, "PATH": ""},
    )
    # THEN neither boto3 nor botocore was loaded
    assert completed.stdout.strip() == ""


def test_profiling_a_batch_imports_no_scipy() -> None:
    # GIVEN a fresh interpreter WHEN the modules a profile_batch cold start imports are
    # loaded and a batch is profiled with its reference's bins
    code = (
        "import sys\n"
        "import pandas as pd\n"
        "import driftline.checks, driftline.drift, driftline.evaluation, driftline.quality\n"
        "from driftline.profile.dataset import ProfileSpec, build_reference, profile_frame\n"
        "frame = pd.DataFrame({'x': [float(i % 7) for i in range(100)], 'c': ['a', 'b'] * 50})\n"
        "spec = ProfileSpec(columns={'x': 'numeric', 'c': 'categorical'})\n"
        "reference = build_reference(lambda: [frame], spec)\n"
        "profile_frame(frame, spec, reference.bins)\n"
        "print('scipy' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "layers" / "core"), "PATH": ""},
    )
    # THEN scipy was never loaded: it costs about a second of the function's cold start
    # (scipy.stats is imported where a p-value is first computed)
    assert completed.stdout.strip() == "False"


def _tool(name: str) -> list[str]:
    if shutil.which(name) is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return [name]


def test_ruff_finds_nothing() -> None:
    lint = subprocess.run(
        [*_tool("ruff"), "check", "."], check=False, cwd=ROOT, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = subprocess.run(
        [*_tool("ruff"), "format", "--check", "."],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


def test_mypy_strict_on_the_core_passes() -> None:
    typed = subprocess.run([*_tool("mypy")], check=False, cwd=ROOT, capture_output=True, text=True)
    assert typed.returncode == 0, typed.stdout + typed.stderr
