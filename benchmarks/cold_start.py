"""Cold start and deployment size of the built functions (``sam build`` output).

Two builds of template.yaml, both with ``sam build --parallel`` (no Docker):

* **with .pyc**: ``.aws-sam/build``, the normal build (the layers' Makefiles compile the
  modules a cold start imports with CPython 3.12, see docs/deploy.md);
* **sources only**: ``benchmarks/data/sam-build-sources``, the same build with
  ``PYTHON312=`` (empty), so neither layer ships bytecode.

A build is reused while it is newer than every file it is made from (template.yaml,
functions/, layers/); ``--rebuild`` forces both.

Each function's handler module is then imported by a fresh CPython 3.12 laid out as Lambda
lays it out: ``-I -S -B`` (no site-packages, no user site, nothing written), ``sys.path`` =
the function's code folder, the analysis layer, the core layer, then a folder holding
boto3/botocore for 3.12 (the Lambda runtime provides those, compiled), installed once into
``benchmarks/data/py312-runtime`` with Python 3.12's pip. Timed inside the child:

* **import**: ``import app`` (the handler module and everything it imports);
* **first call setup**: ``driftline.aws.handler.services()`` (the boto3 clients, built on the
  first invocation) and the lazily imported readers (``fastparquet``, pandas' CSV parser),
  what the first invocation of the profiling function adds;
* **process**: the child's wall time from ``exec`` to exit, interpreter start included.

Best of N per function and build, interleaved. ``python -X importtime`` of the profiling
function once per build says which packages the import time goes to.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import harness

#: Shown first in the tables: the function the cold-start target is about.
PROFILING_FUNCTION = "ProfileBatchFunction"
PYC_BUILD = harness.REPO / ".aws-sam" / "build"
SOURCES_BUILD = harness.DATA / "sam-build-sources"
RUNTIME = harness.DATA / "py312-runtime"
SAM_VENV = Path("/tmp/sam-venv")
SAM_VERSION = "1.170.0"
BUILD_INPUTS = ("template.yaml", "functions", "layers", "infrastructure/precompile.py")

CHILD = """
import json, sys, time
started = time.perf_counter()
sys.path[:0] = sys.argv[1:]
import app
imported = time.perf_counter()
try:
    from driftline.aws.handler import services
    services()
    import fastparquet, pandas.io.parsers
    setup = time.perf_counter() - imported
except Exception:  # a function without these (another layer): import time only
    setup = float("nan")
print(json.dumps({"import_seconds": imported - started, "setup_seconds": setup}))
"""

ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "DRIFTLINE_BUCKET": "bench-bucket",
    "DRIFTLINE_TABLE": "bench-table",
    "DRIFTLINE_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:bench",
    "DRIFTLINE_EVENT_BUS": "bench",
    "DRIFTLINE_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:b",
    "DRIFTLINE_SCHEDULE_GROUP": "bench",
    "DRIFTLINE_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/bench",
    "DRIFTLINE_EVALUATE_ARN": "arn:aws:lambda:us-east-1:123456789012:function:bench-evaluate",
    "POWERTOOLS_SERVICE_NAME": "driftline",
    "POWERTOOLS_METRICS_NAMESPACE": "Driftline",
    "LOG_LEVEL": "INFO",
}


class SkipError(Exception):
    """A prerequisite (sam, Python 3.12, a build) is not available: the section is skipped."""


def find_python312() -> str | None:
    """A CPython 3.12 that runs: on PATH (a pyenv shim may not), else in pyenv's versions."""
    candidates = [shutil.which("python3.12")]
    candidates += [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]
    probe = "import sys; assert sys.version_info[:2] == (3, 12)"
    for candidate in filter(None, candidates):
        if (
            subprocess.run([candidate, "-c", probe], capture_output=True, check=False).returncode
            == 0
        ):
            return candidate
    return None


def find_sam(*, install: bool = True) -> str:
    """``sam`` on PATH, or in /tmp/sam-venv (created on demand, about 40 s)."""
    found = shutil.which("sam")
    if found:
        return found
    sam = SAM_VENV / "bin" / "sam"
    if sam.exists():
        return str(sam)
    if not install:
        raise SkipError("sam is not on PATH")
    print(f"installing aws-sam-cli=={SAM_VERSION} into {SAM_VENV} (about 40 s, once) ...")
    for step in (
        [sys.executable, "-m", "venv", str(SAM_VENV)],
        [str(SAM_VENV / "bin" / "pip"), "install", "--quiet", f"aws-sam-cli=={SAM_VERSION}"],
    ):
        if subprocess.run(step, capture_output=True, check=False).returncode != 0:
            raise SkipError(f"could not install the SAM CLI: {' '.join(step)} failed")
    return str(sam)


def _newest_input() -> float:
    newest = 0.0
    for name in BUILD_INPUTS:
        path = harness.REPO / name
        files: Iterable[Path] = path.rglob("*") if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                newest = max(newest, file.stat().st_mtime)
    return newest


def ensure_build(build_dir: Path, *, bytecode: bool, rebuild: bool = False) -> str:
    """``sam build`` into ``build_dir`` unless a build newer than its inputs is there."""
    template = build_dir / "template.yaml"
    if not rebuild and template.exists() and template.stat().st_mtime > _newest_input():
        return "reused"
    python312 = find_python312()
    if bytecode and python312 is None:
        raise SkipError("no CPython 3.12 found: the build would ship no bytecode")
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "PYTHON312": (python312 or "") if bytecode else "",
    }
    command = [find_sam(), "build", "--parallel", "--build-dir", str(build_dir)]
    print(f"sam build --build-dir {build_dir} ({'with' if bytecode else 'without'} .pyc) ...")
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=harness.REPO, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SkipError(f"sam build failed: {completed.stderr[-1500:]}")
    return f"built in {time.perf_counter() - started:.0f} s"


def ensure_runtime(python312: str) -> None:
    """boto3 and botocore for Python 3.12 (what the Lambda runtime provides), compiled."""
    if (RUNTIME / "boto3").is_dir():
        return
    import boto3

    command = [python312, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--target", str(RUNTIME), f"boto3=={boto3.__version__}"]
    if subprocess.run(command, capture_output=True, check=False).returncode != 0:
        raise SkipError(f"could not install boto3 for Python 3.12 into {RUNTIME}")


def _paths(build_dir: Path, function: str) -> list[str]:
    """``sys.path`` as Lambda lays it out: code, the function's layers, the runtime's boto3."""
    layers = _layers_of(build_dir)[function]
    return [
        str(build_dir / function),
        *(str(build_dir / layer / "python") for layer in layers),
        str(RUNTIME),
    ]


def _layers_of(build_dir: Path) -> dict[str, list[str]]:
    """Each built function's layers (logical ids), in the template's order."""
    return {size["function"]: list(size["layer_bytes"]) for size in sizes(build_dir)}


def import_once(python312: str, build_dir: Path, function: str) -> dict[str, float]:
    """One cold import of ``function``'s handler in a fresh Python 3.12."""
    started = time.perf_counter()
    result = harness.run_child(
        [python312, "-I", "-S", "-B", "-c", CHILD, *_paths(build_dir, function)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **ENVIRONMENT},
    )
    result["process_seconds"] = time.perf_counter() - started
    return result


def top_imports(python312: str, build_dir: Path, function: str, count: int = 8) -> list[Any]:
    """The packages that take longest to import, by their modules' own time
    (``-X importtime``), for the handler module of ``function``."""
    code = "import sys; sys.path[:0] = sys.argv[1:]; import app"
    completed = subprocess.run(
        [python312, "-I", "-S", "-B", "-X", "importtime", "-c", code, *_paths(build_dir, function)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **ENVIRONMENT},
    )
    return parse_importtime(completed.stderr, count)


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


def parse_importtime(text: str, count: int = 8) -> list[tuple[str, float]]:
    """Seconds spent importing each top-level package (the sum of its modules' own times,
    so nothing is counted twice), largest first.

    >>> trace = ("import time: 5000 | 5000 |     numpy.core\\n"
    ...          "import time: 10000 | 15000 |   numpy\\n"
    ...          "import time: 2000 | 17000 | driftline\\n")
    >>> parse_importtime(trace)
    [('numpy', 0.015), ('driftline', 0.002)]
    """
    totals: dict[str, float] = {}
    for line in text.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            package = match.group(3).split(".", 1)[0]
            totals[package] = totals.get(package, 0.0) + int(match.group(1)) / 1e6
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:count]
    return [(name, round(seconds, 6)) for name, seconds in ranked]


@functools.cache
def _size_report() -> Any:
    """infrastructure/size_report.py (a script folder, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "driftline_size_report", harness.REPO / "infrastructure" / "size_report.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def sizes(build_dir: Path) -> list[dict[str, Any]]:
    """Unzipped size of each function with its layers (infrastructure/size_report.py)."""
    return [
        {
            "function": size.name,
            "code_bytes": size.code_bytes,
            "layer_bytes": dict(size.layer_bytes),
            "total_bytes": size.total_bytes,
        }
        for size in _size_report().function_sizes(build_dir)
    ]


def run(*, rounds: int = 3, rebuild: bool = False) -> dict[str, Any]:
    python312 = find_python312()
    if python312 is None:
        raise SkipError("no CPython 3.12 (python3.12 on PATH or in ~/.pyenv/versions)")
    builds = {"pyc": PYC_BUILD, "sources": SOURCES_BUILD}
    notes = {
        name: ensure_build(path, bytecode=name == "pyc", rebuild=rebuild)
        for name, path in builds.items()
    }
    ensure_runtime(python312)
    functions = sorted(_layers_of(PYC_BUILD), key=lambda name: (name != PROFILING_FUNCTION, name))
    runs: dict[str, dict[str, list[dict[str, float]]]] = {
        name: {function: [] for function in functions} for name in builds
    }
    errors: dict[str, str] = {}
    for _ in range(rounds):
        for function in functions:
            for name, path in builds.items():
                if f"{name}/{function}" in errors:
                    continue
                try:
                    runs[name][function].append(import_once(python312, path, function))
                except RuntimeError as exc:
                    errors[f"{name}/{function}"] = str(exc)[-500:]
    result: dict[str, Any] = {"python": python312, "rounds": rounds, "builds": {}}
    for name, path in builds.items():
        timings = {}
        for function, measured in runs[name].items():
            if not measured:
                timings[function] = {"error": errors[f"{name}/{function}"]}
                continue
            timings[function] = {
                key: min(run[key] for run in measured)
                for key in ("import_seconds", "setup_seconds", "process_seconds")
            }
        result["builds"][name] = {
            "path": str(path),
            "note": notes[name],
            "functions": timings,
            "top_imports": top_imports(python312, path, PROFILING_FUNCTION),
            "sizes": sizes(path),
        }
    return result


def render_cold_start(result: dict[str, Any], target_seconds: float = 1.5) -> str:
    pyc, sources = result["builds"]["pyc"], result["builds"]["sources"]
    rows = []
    for function, with_pyc in pyc["functions"].items():
        without = sources["functions"][function]
        if "error" in with_pyc or "error" in without:
            error = with_pyc.get("error") or without.get("error")
            rows.append([function, "failed", "-", "-", "-", "-", str(error)[-120:]])
            continue
        rows.append(
            [
                function,
                harness.seconds(with_pyc["import_seconds"]),
                harness.seconds(with_pyc["import_seconds"] + with_pyc["setup_seconds"]),
                harness.seconds(with_pyc["process_seconds"]),
                harness.seconds(without["import_seconds"]),
                harness.seconds(without["import_seconds"] + without["setup_seconds"]),
                harness.ratio(without["import_seconds"] / with_pyc["import_seconds"]),
            ]
        )
    profiling = pyc["functions"][PROFILING_FUNCTION]
    cold = profiling["import_seconds"] + profiling["setup_seconds"]
    top = ", ".join(f"{name} {seconds:.2f}" for name, seconds in pyc["top_imports"])
    top_sources = ", ".join(f"{name} {seconds:.2f}" for name, seconds in sources["top_imports"])
    return "\n".join(
        [
            harness.table(
                [
                    "function",
                    "import s (.pyc)",
                    "+ first-call setup s (.pyc)",
                    "process s (.pyc)",
                    "import s (sources)",
                    "+ setup s (sources)",
                    "sources / .pyc",
                ],
                rows,
            ),
            "",
            f"CPython 3.12 ({result['python']}), best of {result['rounds']}; builds: "
            f".pyc {pyc['note']}, sources {sources['note']}.",
            f"Where ProfileBatchFunction's import goes (-X importtime, s per package), .pyc: {top}",
            f"... sources only: {top_sources}",
            f"Target: cold start of the profiling function ≤ {target_seconds} s: import "
            f"{profiling['import_seconds']:.2f} s "
            f"({harness.verdict(profiling['import_seconds'] <= target_seconds)}); import + "
            f"first-call setup {cold:.2f} s ({harness.verdict(cold <= target_seconds)}).",
        ]
    )


def render_sizes(result: dict[str, Any], budget_mib: float = 200.0) -> str:
    mib = 2**20
    rows = []
    for name, label in (("pyc", "with .pyc"), ("sources", "sources only")):
        for size in result["builds"][name]["sizes"]:
            layers = dict(size["layer_bytes"])
            core = layers.pop("CoreLayer", 0)
            rows.append(
                [
                    f"{size['function']} ({label})",
                    f"{size['code_bytes'] / 1024:.1f} KiB",
                    ", ".join(f"{name} {value / mib:.2f}" for name, value in layers.items()),
                    f"{core / mib:.2f}",
                    f"{size['total_bytes'] / mib:.2f}",
                    f"{size['total_bytes'] / 262_144_000:.0%}",
                ]
            )
    largest = max(size["total_bytes"] for size in result["builds"]["pyc"]["sizes"]) / mib
    return "\n".join(
        [
            harness.table(
                [
                    "function (build)",
                    "code",
                    "data layer MiB",
                    "CoreLayer MiB",
                    "total MiB",
                    "of Lambda's 250 MB",
                ],
                rows,
            ),
            "",
            f"Target: every function + layers ≤ {budget_mib:.0f} MiB unzipped: largest "
            f"{largest:.2f} MiB ({harness.verdict(largest <= budget_mib)}); Lambda's limit is "
            "262,144,000 bytes (250 MiB).",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    result = run(rounds=args.rounds, rebuild=args.rebuild)
    print(render_cold_start(result))
    print()
    print(render_sizes(result))


if __name__ == "__main__":
    main()
