"""infrastructure/size_report.py and infrastructure/precompile.py on small made-up inputs."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from template_support import load_script

MIB = 2**20

BUILT_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Layers: [!Ref Small, !Ref Big]
Resources:
  Small:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: Small}
  Big:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: Big}
  Extra:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: Extra}
  Lean:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: Lean}
  Heavy:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: Heavy, Layers: [!Ref Extra]}
"""


def _file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)


@pytest.fixture
def build_dir(tmp_path: Path) -> Path:
    """A fake `sam build` output: Lean = 1 + 2 + 5 MiB, Heavy = 3 + 2 + 5 + 2 MiB."""
    (tmp_path / "template.yaml").write_text(BUILT_TEMPLATE, encoding="utf-8")
    _file(tmp_path / "Lean/app.py", 1 * MIB)
    _file(tmp_path / "Heavy/app.py", 3 * MIB)
    _file(tmp_path / "Small/python/small/__init__.py", 2 * MIB)
    _file(tmp_path / "Big/python/big/core.so", 4 * MIB)
    _file(tmp_path / "Big/python/big/data/table.bin", 1 * MIB)
    _file(tmp_path / "Extra/python/extra/__init__.py", 2 * MIB)
    return tmp_path


def test_size_report_adds_each_functions_layers(build_dir: Path) -> None:
    # GIVEN a build where Lean has the global layers and Heavy one more of its own
    size_report = load_script("size_report")

    # WHEN the functions are measured
    sizes = {size.name: size for size in size_report.function_sizes(build_dir)}

    # THEN each total is its code plus the global layers plus its own (SAM appends them)
    assert sizes["Lean"].layer_bytes == {"Small": 2 * MIB, "Big": 5 * MIB}
    assert sizes["Lean"].total_bytes == 8 * MIB
    assert sizes["Heavy"].layer_bytes == {"Small": 2 * MIB, "Big": 5 * MIB, "Extra": 2 * MIB}
    assert sizes["Heavy"].total_bytes == 12 * MIB


def test_size_report_fails_a_function_over_the_budget(
    build_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size_report = load_script("size_report")

    # WHEN the budget lies between the two functions' totals
    code = size_report.main(["--build-dir", str(build_dir), "--limit-mib", "10", "--top", "2"])

    # THEN the report names the heavy one and exits 1
    output = capsys.readouterr()
    assert code == 1
    assert "Heavy" in output.err and "Lean" not in output.err
    assert "OVER BUDGET" in output.out
    assert "Big largest (MiB): big 5.0" in output.out


def test_size_report_passes_within_the_budget(build_dir: Path) -> None:
    size_report = load_script("size_report")
    assert size_report.main(["--build-dir", str(build_dir), "--limit-mib", "12"]) == 0


def test_size_report_without_a_build_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size_report = load_script("size_report")
    assert size_report.main(["--build-dir", str(tmp_path / "missing")]) == 2
    assert "run `sam build` first" in capsys.readouterr().err


def test_size_report_refuses_a_layer_it_cannot_measure(build_dir: Path) -> None:
    # GIVEN a function using a published layer, given by ARN (not in the build)
    text = BUILT_TEMPLATE.replace(
        "Layers: [!Ref Extra]", "Layers: [arn:aws:lambda:eu-west-1:123456789012:layer:x:1]"
    )
    (build_dir / "template.yaml").write_text(text, encoding="utf-8")
    size_report = load_script("size_report")

    # THEN measuring it is an error, not a silent undercount
    with pytest.raises(size_report.BuildError, match="not built by this template"):
        size_report.function_sizes(build_dir)


def test_precompile_sourceless_leaves_importable_bytecode_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a layer folder with a package of two modules, one of them imported
    precompile = load_script("precompile")
    layer = tmp_path / "python"
    _write(layer / "tinypkg/__init__.py", "from tinypkg.used import VALUE\n")
    _write(layer / "tinypkg/used.py", "VALUE = 42\n")
    _write(layer / "tinypkg/unused.py", "VALUE = 0\n")
    monkeypatch.syspath_prepend(str(layer))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    importlib.import_module("tinypkg")

    # WHEN the imported modules under the layer are compiled, sources removed
    sources = precompile.imported_sources(layer)
    written = precompile.compile_sources(sources, layer, sourceless=True)
    for name in ("tinypkg", "tinypkg.used"):
        monkeypatch.delitem(sys.modules, name)

    # THEN only the imported modules became .pyc, the unused one kept its source ...
    assert [p.relative_to(layer).as_posix() for p in sources] == [
        "tinypkg/__init__.py",
        "tinypkg/used.py",
    ]
    assert written > 0
    assert sorted(p.name for p in (layer / "tinypkg").iterdir()) == [
        "__init__.pyc",
        "unused.py",
        "used.pyc",
    ]
    # ... the package imports from bytecode alone, recording Lambda's path for tracebacks
    module = importlib.import_module("tinypkg.used")
    assert module.VALUE == 42
    assert module.__file__.endswith("used.pyc")
    code = module.__loader__.get_code("tinypkg.used")
    assert code.co_filename == "/opt/python/tinypkg/used.py"
    monkeypatch.delitem(sys.modules, "tinypkg.used")
    monkeypatch.delitem(sys.modules, "tinypkg")


def test_precompile_stubs_what_the_lambda_runtime_provides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a handler that imports botocore at import time (the runtime provides it)
    precompile = load_script("precompile")
    handler = tmp_path / "app.py"
    _write(handler, "from botocore_like_runtime import Thing\n")
    monkeypatch.setattr(precompile, "RUNTIME_PROVIDED", ("botocore_like_runtime",))
    stubs = precompile._RuntimeProvidedStubs()
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, stubs])

    # WHEN the handler file is traced
    failures = precompile.import_entries([], [], [handler])

    # THEN it imports against the stub instead of failing
    assert failures == []
    for name in [n for n in sys.modules if n.startswith(("botocore_like_runtime", "_traced"))]:
        monkeypatch.delitem(sys.modules, name)


def test_precompile_prunes_only_what_the_trace_never_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a layer package with a subpackage, a module and an extension module, none imported
    precompile = load_script("precompile")
    layer = tmp_path / "python"
    _write(layer / "prunepkg/__init__.py", "")
    _write(layer / "prunepkg/formats/__init__.py", "")
    _write(layer / "prunepkg/formats/matlab.py", "X = 1\n")
    _write(layer / "prunepkg/_docs.py", "DOCS = {}\n")
    _file(layer / "prunepkg/_simd.cpython-312-x86_64-linux-gnu.so", 1000)
    _write(layer / "prunepkg/kept.py", "Y = 2\n")

    # WHEN they are pruned
    deleted = precompile.prune(["prunepkg.formats", "prunepkg._docs", "prunepkg._simd"], layer)

    # THEN exactly they are gone, and the bytes say how much
    assert sorted(p.name for p in (layer / "prunepkg").iterdir()) == ["__init__.py", "kept.py"]
    assert deleted == len("X = 1\n") + len("DOCS = {}\n") + 1000

    # AND a module the trace imported, or one that is not there, is refused, deleting nothing
    monkeypatch.setitem(sys.modules, "prunepkg.kept", object())
    with pytest.raises(precompile.PruneError, match=r"the trace imported prunepkg\.kept"):
        precompile.prune(["prunepkg"], layer)
    with pytest.raises(precompile.PruneError, match=r"prunepkg\.moved: nothing of that name"):
        precompile.prune(["prunepkg.moved"], layer)
    assert (layer / "prunepkg" / "kept.py").is_file()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
