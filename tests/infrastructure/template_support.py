"""What the infrastructure tests share: the handler contract, paths, small helpers.

(A plain module rather than conftest.py so that the tests can import its names.)
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"

# The handler contract: logical id → code folder.
FUNCTIONS = {
    "ConfigureFunction": "functions/configure",
    "BuildBaselineFunction": "functions/build_baseline",
    "ProfileBatchFunction": "functions/profile_batch",
    "IngestLabelsFunction": "functions/ingest_labels",
    "EvaluateFunction": "functions/evaluate",
    "RetrainFunction": "functions/retrain",
}
# S3-triggered functions and the prefix each one is notified for.
S3_TRIGGERS = {
    "ConfigureFunction": "config/",
    "BuildBaselineFunction": "baselines/",
    "ProfileBatchFunction": "inference/",
    "IngestLabelsFunction": "labels/",
}
ENVIRONMENT = (
    "DRIFTLINE_BUCKET",
    "DRIFTLINE_TABLE",
    "DRIFTLINE_TOPIC_ARN",
    "DRIFTLINE_EVENT_BUS",
    "DRIFTLINE_STATE_MACHINE_ARN",
    "DRIFTLINE_SCHEDULE_GROUP",
    "DRIFTLINE_SCHEDULER_ROLE_ARN",
    "DRIFTLINE_EVALUATE_ARN",
    "DRIFTLINE_PROFILE_BATCH_ARN",
    "DRIFTLINE_INGEST_LABELS_ARN",
    "DRIFTLINE_MAX_FILE_BYTES",
    "DRIFTLINE_MAX_FILE_ROWS",
    "DRIFTLINE_MAX_BASELINE_BYTES",
    "DRIFTLINE_MAX_BASELINE_ROWS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "LOG_LEVEL",
)
BUCKET_NAME = "${BucketNamePrefix}-${AWS::AccountId}-${AWS::Region}"
BUCKET_ARN = "arn:${AWS::Partition}:s3:::" + BUCKET_NAME
EVALUATE_ARN = (
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
    "${AWS::StackName}-evaluate"
)


def load_script(name: str) -> ModuleType:
    """Import ``infrastructure/<name>.py`` (a script folder, not a package)."""
    module_name = f"driftline_infrastructure_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = REPO / "infrastructure" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def sub_text(value: Any) -> Any:
    """The text of a ``Fn::Sub`` without variables; anything else unchanged."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"]
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def find_sam() -> str | None:
    return shutil.which("sam")


def find_python312() -> str | None:
    """A CPython 3.12 to precompile the layers with: $PYTHON312, PATH, or pyenv's versions."""
    candidates = [os.environ.get("PYTHON312"), shutil.which("python3.12")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(path) for path in sorted(pyenv_root.glob("versions/3.12*/bin/python3.12"))]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            completed = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if completed.stdout.strip() == "True":
            return candidate
    return None


#: Where boto3 for Python 3.12 is installed once (shared with benchmarks/cold_start.py).
RUNTIME_BOTO3 = REPO / "benchmarks" / "data" / "py312-runtime"


def find_runtime_boto3(python312: str) -> Path | None:
    """A folder holding boto3 for Python 3.12, what the Lambda runtime provides: installed
    by ``python312``'s pip at the version of this environment's boto3 the first time."""
    if (RUNTIME_BOTO3 / "boto3").is_dir():
        return RUNTIME_BOTO3
    import boto3

    command = [python312, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--target", str(RUNTIME_BOTO3), f"boto3=={boto3.__version__}"]
    completed = subprocess.run(command, capture_output=True, timeout=600, check=False)
    return RUNTIME_BOTO3 if completed.returncode == 0 else None
