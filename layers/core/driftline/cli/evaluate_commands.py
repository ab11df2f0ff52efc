"""``driftline evaluate``, ``validate`` and ``schema``: the files read and profiled chunk by
chunk (labels joined by id), the evaluation written as JSON, HTML or a text summary.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

import pandas as pd

from driftline.cli.exit_codes import EXIT_FAILED, EXIT_OK
from driftline.config.definition import MonitorDefinition
from driftline.config.json_schema import dump_json_schema
from driftline.config.loading import load_monitor_definition
from driftline.errors import ConfigError, DriftlineError, InvalidInputError
from driftline.evaluation import EvaluationResult, capture_columns, evaluate, profile_spec
from driftline.formatting import short_number
from driftline.io import TableReader, open_table
from driftline.labels import JoinReport, LabelTable, join_labels
from driftline.profile.dataset import DatasetProfile, Reference, build_reference, profile_frames
from driftline.report import render_report


def validate_command(args: argparse.Namespace) -> int:
    """``driftline validate``: load the definition and say what it monitors."""
    definition = _load_definition(args.config)
    print(
        f"{args.config}: valid monitor definition for model {definition.model!r} "
        f"({len(definition.schema_.features)} features, {len(definition.checks)} checks)"
    )
    return EXIT_OK


def schema_command(args: argparse.Namespace) -> int:
    """``driftline schema``: print the monitor definition's JSON Schema."""
    sys.stdout.write(dump_json_schema())
    return EXIT_OK


def evaluate_command(args: argparse.Namespace) -> int:
    """``driftline evaluate``: print the result; 1 if a check failed or the data drifted."""
    definition = _load_definition(args.config)
    reference = load_reference(args.reference, definition, chunk_rows=args.chunk_rows)
    labels = (
        load_labels(args.labels, definition, chunk_rows=args.chunk_rows) if args.labels else None
    )
    join = JoinReport()
    current = load_profile(
        args.current, definition, reference, chunk_rows=args.chunk_rows, labels=labels, join=join
    )
    evaluation_id = args.evaluation_id or _content_id(
        [args.config, args.reference, *args.current, *args.labels]
    )
    result = evaluate(
        definition,
        reference,
        current,
        evaluation_id=evaluation_id,
        label_join=join.to_dict(labels) if labels is not None else None,
    )
    document = json.dumps(result.to_dict(), indent=2)
    if args.output:
        args.output.write_text(document + "\n", encoding="utf-8")
    if args.report:
        html = render_report(result.to_dict(), reference=reference.profile, current=current)
        args.report.write_text(html, encoding="utf-8")
    if args.format == "json":
        print(document)
    else:
        write_text_summary(result, sys.stdout)
    return EXIT_FAILED if result.failed else EXIT_OK


def _load_definition(path: Path) -> MonitorDefinition:
    return load_monitor_definition(path.read_bytes(), source=str(path))


def _open(path: Path, definition: MonitorDefinition, chunk_rows: int) -> TableReader:
    return open_table(
        path, name=str(path), chunk_rows=chunk_rows, capture=capture_columns(definition)
    )


def load_reference(path: Path, definition: MonitorDefinition, *, chunk_rows: int) -> Reference:
    """Profile a baseline file in two passes (bins first, then counts)."""
    spec = profile_spec(definition)
    readers: list[TableReader] = []

    def frames() -> Iterator[pd.DataFrame]:
        reader = _open(path, definition, chunk_rows)
        readers.append(reader)
        yield from reader

    try:
        reference = build_reference(
            frames,
            spec,
            bins=definition.drift.bins,
            max_categories=definition.drift.max_categories,
            source=str(path),
        )
    except DriftlineError as exc:
        raise naming(path, exc) from exc
    return reference.with_bad_rows(readers[-1].report.bad_rows)


def load_labels(
    paths: Sequence[Path], definition: MonitorDefinition, *, chunk_rows: int
) -> LabelTable:
    """Collect late labels (id → label) from label files.

    Raises:
        ConfigError: the definition has no ``schema.id`` or ``schema.label`` to join on.
    """
    schema = definition.schema_
    if schema.id is None or schema.label is None:
        raise ConfigError("--labels needs schema.id and schema.label in the monitor definition")
    table = LabelTable()
    for path in paths:
        for frame in _open(path, definition, chunk_rows):
            try:
                table.add(frame, id=schema.id, label=schema.label)
            except InvalidInputError as exc:
                raise naming(path, exc) from exc
    return table


def load_profile(
    paths: Sequence[Path],
    definition: MonitorDefinition,
    reference: Reference,
    *,
    chunk_rows: int,
    labels: LabelTable | None = None,
    join: JoinReport | None = None,
) -> DatasetProfile:
    """Profile current files with the reference's bins (one chunk in memory at a time),
    joining ``labels`` to each chunk by ``schema.id`` when given (accumulated in ``join``)."""
    spec = profile_spec(definition)
    schema = definition.schema_
    total: DatasetProfile | None = None
    for path in paths:
        reader = _open(path, definition, chunk_rows)
        frames: Iterable[pd.DataFrame] = reader
        if labels is not None:
            assert schema.id is not None and schema.label is not None
            frames = _joined(
                reader,
                labels,
                id_column=schema.id,
                label=schema.label,
                join=join or JoinReport(),
                path=path,
            )
        profile = profile_frames(frames, spec, reference.bins, source=str(path))
        profile = profile.with_bad_rows(reader.report.bad_rows)
        total = profile if total is None else total.merge(profile)
    if total is None:
        raise InvalidInputError("no current data file given", reason="no_input")
    return total


def _joined(
    frames: Iterable[pd.DataFrame],
    labels: LabelTable,
    *,
    id_column: str,
    label: str,
    join: JoinReport,
    path: Path,
) -> Iterator[pd.DataFrame]:
    for frame in frames:
        try:
            yield join_labels(frame, labels, id=id_column, label=label, report=join)[0]
        except InvalidInputError as exc:
            raise naming(path, exc) from exc


def naming(path: Path, exc: DriftlineError) -> DriftlineError:
    """A copy of ``exc`` whose message names ``path`` once: put first, unless the message
    starts with it already (the readers name their file).

    >>> str(naming(Path("a.csv"), InvalidInputError("a.csv: the file is empty")))
    'a.csv: the file is empty'
    >>> str(naming(Path("a.csv"), InvalidInputError("no rows")))
    'a.csv: no rows'
    """
    message = str(exc)
    if not message.startswith(f"{path}: "):
        message = f"{path}: {message}"
    return type(exc)(message, reason=exc.reason, **exc.details)


def _content_id(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def write_text_summary(result: EvaluationResult, out: TextIO) -> None:
    """A short, human summary of an evaluation (``--format text``)."""
    document = result.to_dict()
    drift = result.drift
    quality = document["data_quality"]["_dataset"]
    out.write(
        f"model {result.model}: status {result.status.upper()} "
        f"(evaluation {result.evaluation_id})\n"
        f"rows: reference {result.reference_rows}, current {result.current_rows}, "
        f"rejected {quality['bad_rows']}\n"
        f"drift: {sum(f.drifted for f in drift.features.values())} of {drift.evaluated} "
        f"features drifted ({drift.share_drifted:.0%}); dataset "
        f"{'DRIFTED' if drift.dataset_drifted else 'stable'}\n"
    )
    rows: list[tuple[str, ...]] = []
    for name, feature in {**drift.features, **drift.outputs}.items():
        if feature.result is None:
            rows.append((name, "-", "-", "-", "-", f"skipped: {feature.skipped}"))
            continue
        r = feature.result
        rows.append(
            (
                name,
                r.method,
                short_number(r.statistic, missing="-"),
                short_number(r.p_value, missing="-"),
                f"{r.threshold:g}",
                "DRIFTED" if r.drifted else "ok",
            )
        )
    _table(out, ("column", "method", "statistic", "p_value", "threshold", "verdict"), rows)
    performance = document["performance"]
    if performance["overall"]:
        labels = performance["labels"]["overall"]
        baseline = performance["baseline"]["overall"]
        shown = [
            f"{name} {value:.4g}"
            + (f" (baseline {baseline[name]:.4g})" if isinstance(baseline.get(name), float) else "")
            for name, value in performance["overall"].items()
            if name in _HEADLINE_METRICS
        ]
        out.write(
            f"performance on {labels['labelled']} labelled of {labels['rows']} rows: "
            + ", ".join(shown)
            + "\n"
        )
    if result.worst_slices:
        out.write("worst slices:\n")
        for item in result.worst_slices[:5]:
            out.write(
                f"  {item.slice}: {item.metric} {item.value:.4g} vs {item.overall:.4g} overall "
                f"({item.rows} rows)\n"
            )
    if result.checks:
        out.write("checks:\n")
        order = {"fail": 0, "skip": 1, "pass": 2}
        for check in sorted(result.checks, key=lambda c: order[c.status]):
            action = f" -> {check.action}" if check.status == "fail" else ""
            out.write(f"  {check.status.upper():4} {check.name}: {check.detail}{action}\n")
    for wanted in document["actions"]:
        out.write(f"actions: {wanted['action']} ({', '.join(wanted['checks'])})\n")


_HEADLINE_METRICS = ("accuracy", "f1", "auc", "gini", "mae", "rmse", "r2", "ctr", "ndcg_at_k")


def _table(out: TextIO, header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        out.write(
            "  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + "\n"
        )
