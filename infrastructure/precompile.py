"""Write CPython bytecode for the modules a Lambda cold start imports, and only for those.

Lambda mounts layers read-only under ``/opt``, so a module without a ``.pyc`` is compiled
again on every cold start (about three times slower imports for numpy, pandas and scipy).
Compiling all of numpy, pandas and scipy would add about 34 MiB, and the budget of 200 MiB
for function + layers (docs/deploy.md) has no room for it. So this script imports the
handlers and the driftline package against the built layer, then compiles exactly the
``.py`` files that were imported from the layer.

With ``--sourceless`` each compiled module's ``.py`` is replaced by its ``.pyc`` (written
beside it, where Python loads bytecode without a source). That keeps the analysis layer
near its size without bytecode; the price is that tracebacks through numpy, pandas or scipy
show file and line but not the line's text. driftline's own layer keeps its sources.

Run it with the Lambda runtime's Python (3.12): bytecode is specific to the minor version.
The layer's wheels are manylinux x86_64 builds, so this works on an x86_64 Linux build host.
``.pyc`` files are ``unchecked-hash`` (valid whatever the timestamps become after zipping)
and record ``/opt/python/...`` as their source path, which is where Lambda mounts layers.

boto3, botocore and s3transfer come with the Lambda runtime, not with a layer. When they
are not installed here they are stubbed, so that modules importing them can still be traced.

``--prune NAME`` deletes a module or package the trace never imported (the retraining
function's layer leaves out parts of scipy and scikit-learn that training never reaches,
see layers/training/Makefile). Pruning is refused, and the build fails, when the trace did
import it (or a module inside it), when nothing of that name is there, or when an
``--import`` or ``--import-file`` failed: a new release that starts using a pruned part,
or moves it, stops the build instead of shipping a layer that fails at run time.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import pkgutil
import py_compile
import shutil
import sys
import types
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

LAMBDA_LAYER_ROOT = "/opt/python"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")


class _Placeholder(Exception):
    """What a stub's attributes are: usable as an exception class and as a class built at
    import time with any arguments (``RETRIES = botocore.config.Config(retries=...)``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args)


class _StubModule(types.ModuleType):
    """A stand-in whose every attribute is a fresh class (enough for import-time use)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        placeholder = type(name, (_Placeholder,), {"__module__": self.__name__})
        setattr(self, name, placeholder)
        return placeholder


class _RuntimeProvidedStubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds stubs for the runtime-provided packages; consulted after the real finders."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.split(".", 1)[0] not in RUNTIME_PROVIDED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def import_entries(walk: Iterable[str], entries: Iterable[str], files: Iterable[Path]) -> list[str]:
    """Import every module of the ``walk`` packages, each of ``entries`` and each file.

    Returns:
        One line per module that could not be imported (name and error), for the log.
    """
    failures: list[str] = []

    def attempt(name: str, load: Any) -> None:
        try:
            load()
        except Exception as exc:  # tracing is best effort: report it and go on
            failures.append(f"{name}: {type(exc).__name__}: {exc}")

    for package_name in walk:
        attempt(package_name, lambda n=package_name: importlib.import_module(n))
        package = sys.modules.get(package_name)
        if package is None or not hasattr(package, "__path__"):
            continue
        for info in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
            attempt(info.name, lambda n=info.name: importlib.import_module(n))
    for name in entries:
        attempt(name, lambda n=name: importlib.import_module(n))
    for index, path in enumerate(files):
        attempt(str(path), lambda p=path, i=index: _import_file(p, f"_traced_file_{i}"))
    return failures


def _import_file(path: Path, name: str) -> None:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


class PruneError(Exception):
    """A module to prune was imported by the trace, or is not in the layer."""


def prune(names: Iterable[str], root: Path) -> int:
    """Delete the modules and packages ``names`` (dotted) from the layer folder ``root``.

    A package is its folder; a module is its ``.py``, ``.pyc`` or extension file.

    Returns:
        The bytes deleted.

    Raises:
        PruneError: the trace imported one of ``names`` or a module inside it (nothing is
            deleted then), or one of them is not under ``root``.
    """
    names = list(names)
    imported = sorted(
        module
        for module in sys.modules
        for name in names
        if module == name or module.startswith(name + ".")
    )
    if imported:
        raise PruneError(f"the trace imported {', '.join(imported[:5])}: not pruning it")
    found: dict[str, list[Path]] = {}
    for name in names:
        *parents, last = name.split(".")
        folder = root.joinpath(*parents)
        paths = [folder / last] if (folder / last).is_dir() else []
        paths += [
            path
            for path in (folder.glob(f"{last}.*") if folder.is_dir() else [])
            if path.is_file() and path.suffix in (".py", ".pyc", ".so")
        ]
        if not paths:
            raise PruneError(f"{name}: nothing of that name under {root}")
        found[name] = paths
    deleted = 0
    for paths in found.values():
        for path in paths:
            if path.is_dir():
                deleted += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
                shutil.rmtree(path)
            else:
                deleted += path.stat().st_size
                path.unlink()
    return deleted


def imported_sources(root: Path) -> list[Path]:
    """The ``.py`` files under ``root`` that back a module in ``sys.modules``."""
    root = root.resolve()
    found: set[Path] = set()
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename or not filename.endswith(".py"):
            continue
        path = Path(filename).resolve()
        if path.is_relative_to(root):
            found.add(path)
    return sorted(found)


def compile_sources(sources: Sequence[Path], root: Path, *, sourceless: bool) -> int:
    """Compile ``sources`` (all under ``root``); returns the bytes of bytecode written.

    Without ``sourceless`` the bytecode goes to ``__pycache__`` beside the source; with it,
    to ``<module>.pyc`` in the source's place, and the source is removed.
    """
    root = root.resolve()
    written = 0
    for source in sources:
        display = f"{LAMBDA_LAYER_ROOT}/{source.relative_to(root).as_posix()}"
        target = py_compile.compile(
            str(source),
            cfile=str(source.with_suffix(".pyc")) if sourceless else None,
            dfile=display,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        written += Path(target).stat().st_size
        if sourceless:
            source.unlink()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--compile-under", type=Path, required=True, help="compile only files under this folder"
    )
    parser.add_argument("--path", type=Path, action="append", default=[], help="add to sys.path")
    parser.add_argument("--walk", action="append", default=[], help="import a whole package")
    parser.add_argument("--import", dest="entries", action="append", default=[])
    parser.add_argument("--import-file", dest="files", type=Path, action="append", default=[])
    parser.add_argument(
        "--sourceless", action="store_true", help="replace each compiled .py by its .pyc"
    )
    parser.add_argument(
        "--prune",
        action="append",
        default=[],
        metavar="NAME",
        help="delete this module or package (dotted name) unless the trace imported it",
    )
    args = parser.parse_args(argv)
    if sys.version_info[:2] != (3, 12):
        print(f"precompile: needs Python 3.12, not {sys.version.split()[0]}", file=sys.stderr)
        return 2

    sys.dont_write_bytecode = True  # the imports below must not leave timestamp .pyc behind
    sys.meta_path.append(_RuntimeProvidedStubs())
    for path in reversed(args.path):
        sys.path.insert(0, str(path.resolve()))
    # A walked package may hold modules needing what no layer ships (driftline.local needs
    # moto); an entry named on the command line must import.
    walk_failures = import_entries(args.walk, [], [])
    entry_failures = import_entries([], args.entries, args.files)
    for line in walk_failures + entry_failures:
        print(f"precompile: not traced: {line}", file=sys.stderr)
    if args.prune and entry_failures:
        print("precompile: --prune refused: the trace is incomplete (above)", file=sys.stderr)
        return 1
    try:
        pruned = prune(args.prune, args.compile_under)
    except PruneError as exc:
        print(f"precompile: --prune refused: {exc}", file=sys.stderr)
        return 1
    if args.prune:
        print(f"precompile: pruned {len(args.prune)} never imported ({pruned / 2**20:.1f} MiB)")
    sources = imported_sources(args.compile_under)
    written = compile_sources(sources, args.compile_under, sourceless=args.sourceless)
    print(
        f"precompile: {len(sources)} modules under {args.compile_under} compiled "
        f"({written / 2**20:.1f} MiB of .pyc{', sources removed' if args.sourceless else ''})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
