"""The rings, checked over the modules on disk: the core (every module of
layers/core/driftline outside the adapter packages) never imports boto3, never reads the
environment or the clock; what the Lambda layer ships never needs what it leaves out; and
the code stays lint- and type-clean (ruff and mypy run as part of the test suite, so CI and
the README's test command enforce them)."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "core" / "driftline"
#: The adapter packages, where boto3 belongs: driftline.aws talks to AWS through it (the
#: Lambda runtime provides it); driftline.local runs template.yaml on moto and its boto3
#: clients; driftline.demo drives the local runtime. Every other module is core.
ADAPTERS = ("aws", "local", "demo")


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """The dotted name of the module at ``path``, a file of ``package``.

    >>> module_name(PACKAGE / "stats" / "__init__.py"), module_name(PACKAGE / "canary.py")
    ('driftline.stats', 'driftline.canary')
    """
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_files(package: Path = PACKAGE) -> list[Path]:
    """Every module file of ``package`` outside :data:`ADAPTERS`, as found on disk."""
    return sorted(
        path for path in package.rglob("*.py") if path.relative_to(package).parts[0] not in ADAPTERS
    )


def core_modules(package: Path = PACKAGE) -> list[str]:
    """The dotted names of :func:`core_files`."""
    return [module_name(path, package) for path in core_files(package)]


#: Imports each module named on the command line in turn, with boto3 and botocore refused:
#: a module that imports them (itself, or through another module, at import time) fails,
#: and the innermost driftline module asking is named. Prints {module: why} as JSON.
IMPORT_WITHOUT_BOTO3 = """\
import importlib, json, sys

class RefuseBoto3:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in ("boto3", "botocore"):
            return None
        frame = sys._getframe(1)
        while frame and not frame.f_globals.get("__name__", "").startswith("driftline"):
            frame = frame.f_back
        asking = frame.f_globals["__name__"] if frame else "?"
        raise ImportError(f"{asking} imports {name}")

sys.meta_path.insert(0, RefuseBoto3())
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError as exc:
        failed[name] = str(exc)
print(json.dumps(failed))
"""


def imports_without_boto3(modules: list[str], core: Path) -> dict[str, str]:
    """Run :data:`IMPORT_WITHOUT_BOTO3` with ``core`` as the package's folder."""
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_WITHOUT_BOTO3, *modules],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(core), "PATH": ""},
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    failed: dict[str, str] = json.loads(completed.stdout)
    return failed


def test_every_core_module_found_on_disk_imports_without_boto3() -> None:
    # GIVEN every core module on disk (the ones a hand-kept list once missed among them)
    modules = core_modules()
    assert {"driftline.canary", "driftline.training", "driftline.cli"} <= set(modules)

    # WHEN each is imported in a fresh interpreter that refuses boto3 and botocore
    failed = imports_without_boto3(modules, PACKAGE.parent)

    # THEN each one imports: none of them needs either (else: which module asked for which)
    assert failed == {}, sorted(set(failed.values()))


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import boto3\n", "driftline.uploads imports boto3"),
        ("from driftline.aws import s3\n", "driftline.aws.s3 imports botocore"),
    ],
)
def test_a_new_core_module_importing_boto3_is_found_and_named(
    tmp_path: Path, source: str, reason: str
) -> None:
    # GIVEN a copy of the package with a new core module that imports boto3, or an
    # adapter module that imports botocore
    copy = tmp_path / "driftline"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "uploads.py").write_text(source, encoding="utf-8")

    # WHEN the copy's core modules are found and imported as the test above does
    modules = core_modules(copy)
    failed = imports_without_boto3(modules, tmp_path)

    # THEN the new module is found, and it alone fails, naming the module that asked
    assert "driftline.uploads" in modules
    assert failed == {"driftline.uploads": reason}


#: Names that read the environment (as ``os.<name>`` or imported from os), and the ``time``
#: module's clock reads (as ``time.<name>`` or imported from time).
ENVIRONMENT_READS = frozenset({"environ", "environb", "getenv", "getenvb"})
TIME_READS = frozenset(
    {"time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns"}
    | {"process_time", "localtime", "gmtime", "ctime", "asctime"}
)
#: Methods reading the clock, whatever they are called on (datetime, date, pd.Timestamp).
CLOCK_METHODS = frozenset({"now", "utcnow", "today"})


def forbidden_uses(source: str) -> list[str]:
    """Where ``source`` reads the environment or the clock, or imports boto3 or botocore
    (anywhere: at module level or inside a function), as ``"<line>: <what>"``.

    >>> forbidden_uses("import os\\nx = os.environ.get('A')")
    ['2: os.environ']
    >>> forbidden_uses("from datetime import time\\nt = time(12, 0)")
    []
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            owner = ast.unparse(node.value)
            if (
                node.attr in ENVIRONMENT_READS
                or node.attr in CLOCK_METHODS
                or (owner == "time" and node.attr in TIME_READS)
            ):
                found.append(f"{node.lineno}: {owner}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module in ("os", "time"):
            reads = ENVIRONMENT_READS if node.module == "os" else TIME_READS
            found += [
                f"{node.lineno}: from {node.module} import {alias.name}"
                for alias in node.names
                if alias.name in reads
            ]
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            found += [
                f"{node.lineno}: import {name}"
                for name in names
                if name and name.partition(".")[0] in ("boto3", "botocore")
            ]
    return found


def test_no_core_module_reads_the_environment_or_the_clock_or_imports_boto3_lazily() -> None:
    # GIVEN every core module on disk WHEN its source is read
    found = {
        module_name(path): reads
        for path in core_files()
        if (reads := forbidden_uses(path.read_text(encoding="utf-8")))
    }

    # THEN none reads os.environ or the clock (settings and time come in as arguments), and
    # none imports boto3 even inside a function, where the import test cannot see it
    assert found == {}


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import os\nx = os.getenv('A')\n", ["2: os.getenv"]),
        ("from os import environ\n", ["1: from os import environ"]),
        ("from datetime import UTC, datetime\nx = datetime.now(UTC)\n", ["2: datetime.now"]),
        ("import pandas as pd\nx = pd.Timestamp.utcnow()\n", ["2: pd.Timestamp.utcnow"]),
        ("import time\nx = time.monotonic()\n", ["2: time.monotonic"]),
        ("def f():\n    import botocore.config\n", ["2: import botocore.config"]),
        ("from datetime import datetime\nx = datetime(2026, 1, 1).time()\n", []),
    ],
)
def test_forbidden_uses_are_found_wherever_they_are(source: str, found: list[str]) -> None:
    assert forbidden_uses(source) == found


def left_out_of_the_layer() -> list[str]:
    """The packages of driftline the Lambda layer leaves out (``LEFT_OUT`` in
    layers/core/Makefile), as dotted names."""
    makefile = (ROOT / "layers" / "core" / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^LEFT_OUT = (.*)$", makefile, flags=re.MULTILINE)
    assert match, "layers/core/Makefile has no LEFT_OUT line"
    return [f"driftline.{name}" for name in match.group(1).split()]


def imports_of(path: Path) -> Iterator[tuple[int, str, bool]]:
    """Each module ``path`` imports, with its line and whether the import runs when the
    module is imported (outside any function). ``from a import b`` yields ``a`` and ``a.b``;
    a relative import is resolved against the package of ``path``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            in_function.update(ast.walk(node))
    package = module_name(path).split(".") if path.is_relative_to(PACKAGE) else []
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            anchor = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*anchor, *([node.module] if node.module else [])])
            names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            yield node.lineno, name, node not in in_function


def test_what_lambda_runs_needs_nothing_the_layer_leaves_out() -> None:
    # GIVEN what the core layer leaves out (the demo, the local runtime) and moto, which
    # the local runtime needs
    left_out = left_out_of_the_layer()
    assert {"driftline.demo", "driftline.local"} <= set(left_out)
    excluded = [*left_out, "moto"]

    def within(name: str, packages: list[str]) -> bool:
        return any(name == package or name.startswith(f"{package}.") for package in packages)

    # WHEN every import of the handlers and of the modules the layer ships is listed
    shipped = [path for path in PACKAGE.rglob("*.py") if not within(module_name(path), left_out)]
    found = [
        (path.relative_to(ROOT).as_posix(), line, name, at_import)
        for path in sorted([*(ROOT / "functions").glob("*/app.py"), *shipped])
        for line, name, at_import in imports_of(path)
        if within(name, excluded)
    ]

    # THEN only the CLI imports any of it, and only inside a function (the `driftline demo`
    # command, which runs from the installed package): nothing loads it at import time
    assert [
        hit for hit in found if hit[0] != "layers/core/driftline/cli/demo_command.py" or hit[3]
    ] == []


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
