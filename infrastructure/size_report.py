"""Unzipped size of each function with its layers, after ``sam build``.

Lambda refuses a function whose code and layers unzip to more than 250 MiB (262,144,000
bytes); driftline's own budget is 200 MiB, to leave room for what later issues add. This
reads the template ``sam build`` wrote (``.aws-sam/build/template.yaml``), adds up the
files of each function's code folder and of each layer it uses, prints one row per
function, and exits 1 if any total is over the budget (Lambda's limit for the few functions
of ``LAMBDA_LIMIT_ONLY``, each with its reason) (2 if the build is missing or
names something it cannot measure).

Usage::

    sam build && python infrastructure/size_report.py [--build-dir .aws-sam/build]
        [--limit-mib 200] [--top 8]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftline.local.template import load_template as read_template

MIB = 2**20
DEFAULT_LIMIT_MIB = 200.0
LAMBDA_LIMIT_BYTES = 262_144_000  # 250 MiB: function code + all layers, unzipped
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
#: Functions held to Lambda's own limit instead of the budget, each with the reason. None
#: at present: the retraining function, which used to carry scikit-learn on top of the
#: analysis layer (220 MiB), has a layer of its own that fits (layers/training).
LAMBDA_LIMIT_ONLY: dict[str, str] = {}


class BuildError(Exception):
    """The build folder or its template is missing, or names something not measurable."""


@dataclass(frozen=True)
class FunctionSize:
    """One function: its code folder's size and each layer's, in bytes."""

    name: str
    code_bytes: int
    layer_bytes: Mapping[str, int]

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + sum(self.layer_bytes.values())


def limit_for(name: str, budget_bytes: float) -> float:
    """The most bytes function ``name`` may take: the budget, or Lambda's limit for the
    functions of :data:`LAMBDA_LIMIT_ONLY`.

    >>> limit_for("ProfileBatchFunction", 200 * MIB) / MIB
    200.0
    """
    return LAMBDA_LIMIT_BYTES if name in LAMBDA_LIMIT_ONLY else budget_bytes


def folder_bytes(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (what unzipping the folder's zip takes)."""
    files = (path for path in folder.rglob("*") if path.is_file() and not path.is_symlink())
    return sum(path.stat().st_size for path in files)


def load_template(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BuildError(f"{path} not found: run `sam build` first")
    try:
        return read_template(path)
    except ValueError as exc:
        raise BuildError(str(exc)) from None


def _code_folder(properties: Mapping[str, Any], build_dir: Path, what: str) -> Path:
    uri = properties.get("CodeUri", properties.get("ContentUri"))
    if not isinstance(uri, str) or uri.startswith("s3://"):
        raise BuildError(f"{what}: code location {uri!r} is not a local build folder")
    folder = build_dir / uri
    if not folder.is_dir():
        raise BuildError(f"{what}: build folder {folder} not found")
    return folder


def function_sizes(build_dir: Path) -> list[FunctionSize]:
    """Measure every function of the built template in ``build_dir``.

    Raises:
        BuildError: the build is missing, or a function uses a layer given by ARN (it is
            not in the build, so its size is unknown here).
    """
    template = load_template(build_dir / "template.yaml")
    resources: dict[str, Any] = template["Resources"]
    global_layers = template.get("Globals", {}).get("Function", {}).get("Layers", [])
    layer_cache: dict[str, int] = {}
    sizes = []
    for name, resource in sorted(resources.items()):
        if resource.get("Type") not in FUNCTION_TYPES:
            continue
        properties = resource.get("Properties", {})
        code_bytes = folder_bytes(_code_folder(properties, build_dir, name))
        layer_bytes: dict[str, int] = {}
        # SAM appends a function's Layers to the global ones (a function cannot drop them).
        references = [*global_layers, *properties.get("Layers", [])]
        for reference in references:
            layer = reference.get("Ref") if isinstance(reference, dict) else None
            if layer not in resources or resources[layer].get("Type") not in LAYER_TYPES:
                raise BuildError(f"{name}: layer {reference!r} is not built by this template")
            if layer not in layer_cache:
                layer_properties = resources[layer].get("Properties", {})
                layer_cache[layer] = folder_bytes(_code_folder(layer_properties, build_dir, layer))
            layer_bytes[layer] = layer_cache[layer]
        sizes.append(FunctionSize(name, code_bytes, layer_bytes))
    return sizes


def largest_entries(folder: Path, count: int) -> list[tuple[str, int]]:
    """The ``count`` largest top-level entries of a layer's ``python/`` folder."""
    root = folder / "python" if (folder / "python").is_dir() else folder
    entries = [
        (entry.name, folder_bytes(entry) if entry.is_dir() else entry.stat().st_size)
        for entry in root.iterdir()
    ]
    return sorted(entries, key=lambda item: -item[1])[:count]


def render(sizes: Sequence[FunctionSize], limit_bytes: float) -> str:
    layers = sorted({layer for size in sizes for layer in size.layer_bytes})
    header = ["function", "code", *layers, "total", ""]
    rows = [header]
    for size in sizes:
        limit = limit_for(size.name, limit_bytes)
        if size.total_bytes > limit:
            verdict = "OVER LAMBDA'S LIMIT" if limit == LAMBDA_LIMIT_BYTES else "OVER BUDGET"
        elif limit != limit_bytes:
            verdict = "ok (Lambda's limit: " + LAMBDA_LIMIT_ONLY[size.name] + ")"
        else:
            verdict = "ok"
        rows.append(
            [
                size.name,
                f"{size.code_bytes / MIB:.2f}",
                *(
                    f"{size.layer_bytes[layer] / MIB:.2f}" if layer in size.layer_bytes else "-"
                    for layer in layers
                ),
                f"{size.total_bytes / MIB:.2f}",
                verdict,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.append(
        f"sizes in MiB, unzipped; budget {limit_bytes / MIB:.0f} MiB "
        f"(Lambda's limit: {LAMBDA_LIMIT_BYTES / MIB:.0f} MiB)"
    )
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--limit-mib", type=float, default=DEFAULT_LIMIT_MIB)
    parser.add_argument(
        "--top", type=int, default=0, help="also list the N largest packages of each layer"
    )
    args = parser.parse_args(argv)
    try:
        sizes = function_sizes(args.build_dir)
    except BuildError as exc:
        print(f"size_report: {exc}", file=sys.stderr)
        return 2
    if not sizes:
        print(f"size_report: no function in {args.build_dir / 'template.yaml'}", file=sys.stderr)
        return 2
    limit_bytes = args.limit_mib * MIB
    print(render(sizes, limit_bytes))
    if args.top:
        template = load_template(args.build_dir / "template.yaml")
        for layer in sorted({layer for size in sizes for layer in size.layer_bytes}):
            folder = args.build_dir / template["Resources"][layer]["Properties"]["ContentUri"]
            listed = ", ".join(
                f"{name} {size / MIB:.1f}" for name, size in largest_entries(folder, args.top)
            )
            print(f"{layer} largest (MiB): {listed}")
    over = [size.name for size in sizes if size.total_bytes > limit_for(size.name, limit_bytes)]
    if over:
        print(f"size_report: over {args.limit_mib:g} MiB: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
