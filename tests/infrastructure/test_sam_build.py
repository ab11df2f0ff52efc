"""`sam build` without Docker: the layers build with their Makefiles, fit the size budget,
and (with a CPython 3.12 at hand, the runtime's version) import and compute.

Skipped when `sam` is not on PATH (pip install aws-sam-cli; docs/deploy.md). A few minutes.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from template_support import (
    FUNCTIONS,
    REPO,
    TEMPLATE,
    find_python312,
    find_runtime_boto3,
    find_sam,
    load_script,
)

pytestmark = pytest.mark.slow

SMOKE = """\
import io, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import numpy, pandas, scipy.stats, yaml, pydantic, fastparquet
import aws_lambda_powertools.logging, aws_lambda_powertools.metrics
import driftline.drift, driftline.evaluation, driftline.io, driftline.config
assert numpy.__file__.endswith(".pyc"), numpy.__file__
assert "/site-packages/" not in pandas.__file__, pandas.__file__
frame = pandas.read_csv(io.StringIO("x,y\\n1,a\\n2,b\\n3,a\\n"))
path = sys.argv[3]
frame.to_parquet(path, engine="fastparquet")
assert pandas.read_parquet(path, engine="fastparquet").to_dict("list") == frame.to_dict("list")
assert 0 < scipy.stats.kstwo.sf(0.2, 50) < 1
print("ok")
"""

#: Run by Python 3.12 with one function's folders alone on sys.path (argv[3:]: its code, its
#: layers, the runtime's boto3), as Lambda lays them out: imports the handler module and,
#: given "walk" (argv[2]), every module of the driftline package in the core layer (argv[1]).
#: Prints the driftline modules imported.
HANDLER_IMPORTS = """\
import importlib, pkgutil, sys
core, mode = sys.argv[1:3]
sys.path[:0] = sys.argv[3:]
import app
assert callable(app.handler)
import driftline
assert driftline.__file__.startswith(core), driftline.__file__
def fail(name):
    raise ImportError(f"cannot import {name}")
if mode == "walk":
    for info in pkgutil.walk_packages(driftline.__path__, "driftline.", onerror=fail):
        importlib.import_module(info.name)
left_out = ("moto", "driftline.demo", "driftline.local")
loaded = sorted(m for m in sys.modules for n in left_out if m == n or m.startswith(n + "."))
assert not loaded, loaded
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] == "driftline")))
"""


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sam = find_sam()
    if sam is None:
        pytest.skip("sam is not on PATH (pip install aws-sam-cli; see docs/deploy.md)")
    build = tmp_path_factory.mktemp("sam") / "build"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "eu-west-1"}
    python312 = find_python312()
    if python312:
        env["PYTHON312"] = python312
    completed = subprocess.run(
        [sam, "build", "--template-file", str(TEMPLATE), "--build-dir", str(build), "--parallel"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    return build


def test_every_function_with_its_layers_fits_the_budget(build_dir: Path) -> None:
    # WHEN the built functions are measured
    size_report = load_script("size_report")
    sizes = size_report.function_sizes(build_dir)

    # THEN every function of the template is there with its two layers (the retraining
    # function: the training layer in place of the analysis layer), within the 200 MiB budget
    assert len(sizes) == len(FUNCTIONS)
    assert size_report.LAMBDA_LIMIT_ONLY == {}
    # ... but for a build without a CPython 3.12: the training layer's pruning needs the
    # trace, so it ships unpruned (~219 MiB, inside Lambda's 250 MiB) and the report says so
    pruned = find_python312() is not None
    for size in sizes:
        second = "TrainingLayer" if size.name == "RetrainFunction" else "AnalysisLayer"
        assert set(size.layer_bytes) == {"CoreLayer", second}, size
        if size.name == "RetrainFunction" and not pruned:
            assert size.total_bytes <= size_report.LAMBDA_LIMIT_BYTES, size
        else:
            assert size.total_bytes <= size_report.DEFAULT_LIMIT_MIB * 2**20, size
    assert size_report.main(["--build-dir", str(build_dir)]) == (0 if pruned else 1)


def test_layers_hold_what_the_functions_import_and_nothing_they_must_not(
    build_dir: Path,
) -> None:
    core = build_dir / "CoreLayer" / "python"
    analysis = build_dir / "AnalysisLayer" / "python"

    # THEN the core layer is the driftline package, the analysis layer its dependencies ...
    assert (core / "driftline" / "__init__.py").is_file()
    for package in ("numpy", "pandas", "scipy", "yaml", "pydantic"):
        assert (analysis / package).is_dir(), package
    for package in ("fastparquet", "aws_lambda_powertools", "aws_xray_sdk"):
        assert (analysis / package).is_dir(), package
    # ... without what is too big, training-only, or provided by the runtime, nor
    # datasketches, which only the tests use (driftline reads old KLL bytes itself) ...
    for absent in ("pyarrow", "sklearn", "boto3", "botocore", "bin", "datasketches"):
        assert not (analysis / absent).exists(), absent
    for layer in ("AnalysisLayer", "TrainingLayer"):  # nor its extension or metadata
        assert not list((build_dir / layer / "python").glob("*datasketches*")), layer
    # ... and trimmed: no test suites, headers or bytecode of another Python
    assert not list(analysis.rglob("tests"))
    assert not list(analysis.rglob("*.h"))
    assert not [p for p in (core.rglob("*.pyc")) if "cpython-312" not in p.name]


def test_core_layer_is_the_package_without_the_demo_and_the_local_runtime(
    build_dir: Path,
) -> None:
    # WHEN the modules of the built core layer are listed beside the package's sources
    package = REPO / "layers" / "core" / "driftline"
    built = build_dir / "CoreLayer" / "python" / "driftline"
    sources = {path.relative_to(package) for path in package.rglob("*.py")}
    shipped = {path.relative_to(built) for path in built.rglob("*.py")}

    # THEN the layer ships every module but those of driftline.demo and driftline.local,
    # which Lambda never runs (layers/core/Makefile, LEFT_OUT) ...
    left_out = {path for path in sources if path.parts[0] in ("demo", "local")}
    assert left_out, "the package has no demo/ or local/ to leave out"
    assert shipped == sources - left_out
    assert not (built / "demo").exists() and not (built / "local").exists()
    # ... and no layer holds moto, which driftline.local needs
    for layer in ("CoreLayer", "AnalysisLayer", "TrainingLayer"):
        assert not (build_dir / layer / "python" / "moto").exists(), layer


def _import_on_lambda_layout(
    build_dir: Path, tmp_path: Path, function: str, *, walk: bool
) -> set[str]:
    """Run HANDLER_IMPORTS for ``function``; the driftline modules it imported."""
    python312 = find_python312()
    if python312 is None:
        pytest.skip("no CPython 3.12 here: the layers were built without bytecode")
    runtime = find_runtime_boto3(python312)
    if runtime is None:
        pytest.skip("could not install boto3 for Python 3.12 (the runtime's copy)")
    layers = next(
        size.layer_bytes
        for size in load_script("size_report").function_sizes(build_dir)
        if size.name == function
    )
    # Lambda's order: the function's code, its layers (the core layer first, as Globals
    # lists it), the runtime's packages.
    folders = [build_dir / function, *(build_dir / name / "python" for name in layers), runtime]
    script = tmp_path / "handler_imports.py"
    script.write_text(HANDLER_IMPORTS, encoding="utf-8")
    core = build_dir / "CoreLayer" / "python"
    completed = subprocess.run(
        [python312, "-I", "-S", "-B", str(script), str(core), "walk" if walk else "handler"]
        + [str(folder) for folder in folders],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return set(completed.stdout.split())


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_handler_imports_from_its_built_layers_alone(
    build_dir: Path, tmp_path: Path, function: str
) -> None:
    # GIVEN the function's folders alone on sys.path, as on Lambda
    # WHEN its handler module is imported
    imported = _import_on_lambda_layout(build_dir, tmp_path, function, walk=False)

    # THEN it imports, driftline from the core layer, without the demo, the local runtime
    # or moto (HANDLER_IMPORTS asserts both)
    assert "driftline.aws.handler" in imported


def test_every_module_of_the_core_layer_imports_beside_the_training_layer(
    build_dir: Path, tmp_path: Path
) -> None:
    # GIVEN the retrain function's folders alone on sys.path: the training layer holds
    # every package driftline imports (the analysis layer's and scikit-learn)
    # WHEN every module of the core layer is imported there
    imported = _import_on_lambda_layout(build_dir, tmp_path, "RetrainFunction", walk=True)

    # THEN each one imports: no module the layer ships needs driftline.demo,
    # driftline.local or moto at import time
    core = build_dir / "CoreLayer" / "python"
    shipped = {_module_name(path, core) for path in (core / "driftline").rglob("*.py")}
    assert "driftline.training" in shipped
    assert shipped <= imported


def _module_name(path: Path, root: Path) -> str:
    """The dotted name of the module at ``path`` under the ``sys.path`` folder ``root``."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_trimmed_layers_import_and_compute_on_python_312(build_dir: Path, tmp_path: Path) -> None:
    python312 = find_python312()
    if python312 is None:
        pytest.skip("no CPython 3.12 here: the layers were built without bytecode")

    # GIVEN the layers alone on sys.path (no site-packages), as on Lambda
    script = tmp_path / "smoke.py"
    script.write_text(textwrap.dedent(SMOKE), encoding="utf-8")
    completed = subprocess.run(
        [
            python312,
            "-I",
            "-S",
            "-B",
            str(script),
            str(build_dir / "AnalysisLayer" / "python"),
            str(build_dir / "CoreLayer" / "python"),
            str(tmp_path / "frame.parquet"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # THEN driftline imports from precompiled bytecode, and CSV, Parquet and scipy work
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert completed.stdout.strip() == "ok"
    assert list((build_dir / "CoreLayer" / "python" / "driftline").glob("__pycache__/*.pyc"))


def test_retraining_trains_on_the_pruned_training_layer(build_dir: Path) -> None:
    python312 = find_python312()
    if python312 is None:
        pytest.skip("no CPython 3.12 here: the training layer was built unpruned")
    runtime = find_runtime_boto3(python312)
    if runtime is None:
        pytest.skip("could not install boto3 for Python 3.12 (the runtime's copy)")
    training = build_dir / "TrainingLayer" / "python"

    # GIVEN the retrain function's folders alone on sys.path, as on Lambda: its code, the
    # core layer, the training layer (pruned of what the build's trace never imported), and
    # boto3 standing in for the runtime's
    # WHEN every allowed estimator is trained, saved, reloaded and judged there
    completed = subprocess.run(
        [
            python312,
            "-I",
            "-S",
            "-B",
            str(REPO / "infrastructure" / "training_smoke.py"),
            str(build_dir / "RetrainFunction"),
            str(build_dir / "CoreLayer" / "python"),
            str(training),
            str(runtime),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # THEN all of it runs, on the layer's own scikit-learn and without what was pruned
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert completed.stdout.startswith("ok: "), completed.stdout
    assert (training / "sklearn").is_dir() and (training / "scipy").is_dir()
    for pruned in ("scipy/io", "sklearn/datasets", "aws_lambda_powertools/event_handler"):
        assert not (training / pruned).exists(), pruned
    assert not (build_dir / "RetrainFunction" / "sklearn").exists()


def test_quickstart_evaluation_runs_on_the_built_layers(build_dir: Path) -> None:
    python312 = find_python312()
    if python312 is None:
        pytest.skip("no CPython 3.12 here: the layers were built without bytecode")

    # GIVEN the README's quickstart, run by Python 3.12 with only the built layers
    example = REPO / "examples" / "churn"
    code = (
        "import sys; sys.path[:0] = sys.argv[1:3]; from driftline.cli import main; "
        "sys.exit(main(['evaluate', '--config', sys.argv[3], '--reference', sys.argv[4], "
        "'--current', sys.argv[5], '--format', 'json']))"
    )
    completed = subprocess.run(
        [
            python312,
            "-I",
            "-S",
            "-B",
            "-c",
            code,
            str(build_dir / "AnalysisLayer" / "python"),
            str(build_dir / "CoreLayer" / "python"),
            str(example / "monitor.yaml"),
            str(example / "reference.csv"),
            str(example / "current.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # THEN it evaluates (0: all checks pass, 1: some fail; 2 would be bad input or a crash)
    assert completed.returncode in (0, 1), completed.stderr[-4000:]
    assert '"checks"' in completed.stdout
