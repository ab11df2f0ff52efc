"""The metrics package depends on numpy and pandas only: scikit-learn is the tests' oracle,
never an import of the package, and boto3 never enters the core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[3] / "layers" / "core"


def test_metrics_import_neither_sklearn_nor_boto3() -> None:
    # GIVEN a fresh interpreter WHEN the metrics package is imported
    code = (
        "import sys\n"
        "import driftline.metrics\n"
        "banned = ('sklearn', 'boto3', 'botocore')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in banned)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(CORE), "PATH": ""},
    )
    # THEN none of them was loaded
    assert completed.stdout.strip() == ""
