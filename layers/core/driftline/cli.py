"""The ``driftline`` command line.

Exit codes: 0 all checks pass, 1 a check failed or the dataset drifted (``detect``: a
drift was detected; ``backtest``: a check fired), 2 bad input or configuration (the message
names the file and the key; no traceback).

Every command's options are parsed here; the work is done by the core modules:
``evaluate`` by :mod:`driftline.evaluation`, ``detect`` by :mod:`driftline.replay`,
``backtest`` by :mod:`driftline.backtest`, ``demo`` by :mod:`driftline.demo`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from driftline import __version__
from driftline.backtest import backtest
from driftline.config import MonitorDefinition, dump_json_schema, load_monitor_definition
from driftline.detectors import DETECTORS, DriftDetector, detector_from_dict, make_detector
from driftline.errors import ConfigError, DriftlineError, InvalidInputError
from driftline.evaluation import EvaluationResult, capture_columns, evaluate, profile_spec
from driftline.formatting import short_number
from driftline.io import TableReader, open_table
from driftline.labels import JoinReport, LabelTable, join_labels
from driftline.profile.dataset import DatasetProfile, Reference, build_reference, profile_frames
from driftline.replay import CHUNK_ROWS, detect_in_file
from driftline.report import render_report

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``driftline`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except DriftlineError as exc:
        print(f"driftline: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FileNotFoundError as exc:
        print(f"driftline: error: no such file: {exc.filename}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except IsADirectoryError as exc:
        print(
            f"driftline: error: expected a file, got a directory: {exc.filename}", file=sys.stderr
        )
        return EXIT_BAD_INPUT
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="driftline", description="Serverless ML-model monitoring: drift, quality, checks."
    )
    parser.add_argument("--version", action="version", version=f"driftline {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "evaluate",
        help="evaluate current data against reference data with a monitor definition",
        description="Profile the reference and current files, compute drift and data quality, "
        "decide the checks and print the result JSON. Exit 0 ok, 1 a check failed or the "
        "dataset drifted, 2 bad input.",
    )
    run.add_argument("--config", required=True, type=Path, help="monitor definition (YAML)")
    run.add_argument("--reference", required=True, type=Path, help="baseline data file")
    run.add_argument("--current", required=True, type=Path, nargs="+", help="current data file(s)")
    run.add_argument(
        "--labels",
        type=Path,
        nargs="+",
        default=[],
        help="late-label file(s) (flat id+label columns, or SageMaker ground truth) joined to "
        "the current data by schema.id",
    )
    run.add_argument("--output", type=Path, help="also write the result JSON to this file")
    run.add_argument(
        "--report", type=Path, help="also write the self-contained HTML report to this file"
    )
    run.add_argument("--format", choices=("json", "text"), default="json", help="stdout format")
    run.add_argument("--evaluation-id", help="default: a hash of the inputs (deterministic)")
    run.add_argument(
        "--chunk-rows", type=positive_int, default=100_000, help="rows read at a time (>= 1)"
    )
    run.set_defaults(handler=_evaluate_command)

    check = commands.add_parser("validate", help="validate a monitor definition")
    check.add_argument("--config", required=True, type=Path, help="monitor definition (YAML)")
    check.set_defaults(handler=_validate_command)

    schema = commands.add_parser("schema", help="print the monitor definition's JSON Schema")
    schema.set_defaults(handler=_schema_command)
    demo = commands.add_parser(
        "demo",
        help="run the five scenarios end to end on the local runtime (moto, no AWS, no Docker)",
        description="Deploy template.yaml in moto, upload generated data with planted drift, "
        "fire the schedules and print each scenario's timeline. Exit 0 when every scenario "
        "reached its expected outcome, 1 otherwise (naming which).",
    )
    demo.add_argument(
        "--scenario",
        action="append",
        choices=("churn", "credit", "fraud", "recommender", "concept"),
        help="run only this scenario (repeatable); default all five",
    )
    demo.add_argument(
        "--output", type=Path, default=Path("driftline-demo"), help="folder for the reports"
    )
    demo.add_argument("--template", type=Path, help="template.yaml (default: the repository's)")
    demo.set_defaults(handler=_demo_command)
    _add_replay_commands(commands)
    return parser


def positive_int(text: str) -> int:
    """An option's value as an integer of at least 1 (argparse exits 2 with the message).

    >>> positive_int("500")
    500
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer >= 1, got '0'
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _demo_command(args: argparse.Namespace) -> int:
    # Imported here: the demo needs moto and boto3, which the other commands do not.
    from driftline.demo import ROOT, run_demo  # noqa: PLC0415
    from driftline.demo.scenarios import SCENARIOS  # noqa: PLC0415

    names = args.scenario or list(SCENARIOS)
    template = args.template or ROOT / "template.yaml"
    if not template.is_file():
        raise InvalidInputError(f"no template at {template}; pass --template", reason="no_template")
    results = run_demo(names, template=template, output=args.output, out=sys.stdout)
    failed = [name for name, unmet in results.items() if unmet]
    print(
        f"\n{len(results) - len(failed)} of {len(results)} scenarios reached their expected "
        f"outcome"
        + (f"; not reached: {', '.join(failed)}" if failed else "")
        + f". Reports in {args.output}/"
    )
    return EXIT_FAILED if failed else EXIT_OK


def _validate_command(args: argparse.Namespace) -> int:
    definition = _load_definition(args.config)
    print(
        f"{args.config}: valid monitor definition for model {definition.model!r} "
        f"({len(definition.schema_.features)} features, {len(definition.checks)} checks)"
    )
    return EXIT_OK


def _schema_command(args: argparse.Namespace) -> int:
    sys.stdout.write(dump_json_schema())
    return EXIT_OK


def _evaluate_command(args: argparse.Namespace) -> int:
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
    profile = reference.profile.with_bad_rows(readers[-1].report.bad_rows)
    return Reference(profile, reference.bins)


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


# --- driftline detect and driftline backtest ----------------------------------------------


def _add_replay_commands(commands: Any) -> None:
    """Register ``detect`` and ``backtest`` on the ``driftline`` parser's subparsers.

    Args:
        commands: the object ``ArgumentParser.add_subparsers`` returned.
    """
    detect = commands.add_parser(
        "detect",
        help="replay one numeric column through a streaming drift detector",
        description="Feed one column of a CSV, JSON Lines or Parquet file, row by row, to a "
        "drift detector and print the positions (0-based data rows) where it detected a drift "
        "and the runs of positions where it warned. Exit 0 no drift, 1 a drift was detected, "
        "2 bad input.",
    )
    detect.add_argument(
        "--detector",
        help=f"one of {', '.join(DETECTORS)} (optional with --state-in, which names it)",
    )
    detect.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a detector parameter (repeatable), e.g. delta=0.002; int, float, true/false or text",
    )
    detect.add_argument("--input", required=True, type=Path, help="the stream (one value a row)")
    detect.add_argument("--column", help="the column to read; default: the file's only column")
    detect.add_argument("--state-in", type=Path, help="resume from a detector saved by --state-out")
    detect.add_argument("--state-out", type=Path, help="save the detector after the last row")
    detect.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help="rows read at a time")
    detect.set_defaults(handler=_detect_command)

    replay = commands.add_parser(
        "backtest",
        help="replay inference logs through a monitor definition's detector and metric checks",
        description="Join the logs with their labels, sort them by event time and replay them "
        "through every detector check (labelled rows in time order) and every metric check "
        "(tumbling windows of the definition's first window length). Prints when each check "
        "would have fired. Loads the logs into memory. Exit 0 nothing fired, 1 a check fired, "
        "2 bad input.",
    )
    replay.add_argument("--config", required=True, type=Path, help="monitor definition (YAML)")
    replay.add_argument(
        "--input", required=True, type=Path, nargs="+", help="inference log file(s)"
    )
    replay.add_argument("--labels", type=Path, nargs="+", help="label file(s), joined by id")
    replay.add_argument(
        "--reference", type=Path, help="baseline data with labels (for relative metric checks)"
    )
    replay.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help="rows read at a time")
    replay.set_defaults(handler=_backtest_command)


def _detect_command(args: argparse.Namespace) -> int:
    """``driftline detect``: print the detections as JSON; 1 if a drift was detected."""
    params = parse_params(args.param)
    state = _read_state(args.state_in) if args.state_in else None
    detector = build_detector(args.detector, params, state=state)
    seen_before = detector.n
    column, found = detect_in_file(
        detector, args.input, column=args.column, chunk_rows=_chunk_rows(args.chunk_rows)
    )
    document: dict[str, Any] = {
        "detector": detector.name,
        "params": detector.params,
        "input": str(args.input),
        "column": column,
        "seen_before": seen_before,
        "rows": found.rows,
        "detections": found.drifts,
        "warnings": [list(run) for run in found.warnings],
    }
    if args.state_out:
        saved = detector.to_dict()
        args.state_out.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
        document["state"] = saved
    print(_compact_json(document))
    return EXIT_FAILED if found.drifts else EXIT_OK


def _backtest_command(args: argparse.Namespace) -> int:
    """``driftline backtest``: print what each check would have found; 1 if one fired."""
    definition = load_monitor_definition(args.config.read_bytes(), source=str(args.config))
    chunk_rows = _chunk_rows(args.chunk_rows)
    result = backtest(
        definition,
        args.input,
        labels=args.labels or (),
        reference=args.reference,
        chunk_rows=chunk_rows,
    )
    print(json.dumps(result, indent=2))
    return EXIT_FAILED if result["first_fired"] is not None else EXIT_OK


def _chunk_rows(value: int) -> int:
    if value < 1:
        raise InvalidInputError(f"--chunk-rows: expected an integer >= 1, got {value}")
    return value


def parse_value(text: str) -> bool | int | float | str:
    """A ``--param`` value: ``true``/``false``, an integer, a number, else the text itself.

    >>> parse_value("30"), parse_value("2.5e-3"), parse_value("TRUE"), parse_value("both")
    (30, 0.0025, True, 'both')
    """
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_param(text: str) -> tuple[str, bool | int | float | str]:
    """Split a ``KEY=VALUE`` argument and parse the value with :func:`parse_value`.

    Raises:
        ConfigError: no ``=`` or an empty key.

    >>> parse_param("delta=0.01"), parse_param("mode=up"), parse_param("clock=8")
    (('delta', 0.01), ('mode', 'up'), ('clock', 8))
    """
    key, equals, value = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise ConfigError(
            f"--param {text!r}: expected KEY=VALUE, e.g. delta=0.002",
            reason="invalid_parameter",
            parameter=text,
        )
    return key, parse_value(value.strip())


def parse_params(texts: Sequence[str]) -> dict[str, Any]:
    """All ``--param`` arguments as a mapping.

    Raises:
        ConfigError: a malformed argument, or a key given twice.
    """
    params: dict[str, Any] = {}
    for text in texts:
        key, value = parse_param(text)
        if key in params:
            raise ConfigError(
                f"--param {key} is given twice ({params[key]!r} and {value!r})",
                reason="invalid_parameter",
                parameter=key,
            )
        params[key] = value
    return params


def build_detector(
    name: str | None, params: Mapping[str, Any], *, state: Mapping[str, Any] | None = None
) -> DriftDetector:
    """A new detector from its name and parameters, or one restored from ``state``.

    A restored detector keeps the parameters it was saved with: ``name`` and ``params``, if
    given, must agree with them.

    Raises:
        ConfigError: no name and no state, an unknown detector or parameter (the message
            lists the allowed ones), a value out of range, or a disagreement with ``state``.
        InvalidInputError: ``state`` is not a saved detector.
    """
    if name is not None and name not in DETECTORS:
        raise ConfigError(
            f"--detector: unknown detector {name!r}; expected one of {', '.join(DETECTORS)}",
            reason="unknown_detector",
            detector=name,
        )
    if state is None:
        if name is None:
            raise ConfigError(
                f"--detector is required (one of {', '.join(DETECTORS)}) unless --state-in "
                "names it",
                reason="missing_detector",
            )
        try:
            return make_detector(name, **params)
        except ValueError as exc:
            raise ConfigError(f"--param: {exc}", reason="invalid_parameter") from None
    try:
        detector = detector_from_dict(state)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(
            f"--state-in: not a saved detector: {exc}", reason="invalid_state"
        ) from None
    if name is not None and name != detector.name:
        raise ConfigError(
            f"--detector {name} disagrees with --state-in, which holds a {detector.name} detector",
            reason="state_mismatch",
        )
    saved = detector.params
    allowed = ", ".join(sorted(saved))
    for key, value in params.items():
        if key not in saved:
            raise ConfigError(
                f"--param: unknown parameter {key!r} for {detector.name}; allowed: {allowed}",
                reason="invalid_parameter",
                parameter=key,
            )
        if value != saved[key]:
            raise ConfigError(
                f"--param {key}={value!r} disagrees with the saved detector's {key}="
                f"{saved[key]!r}; a resumed detector keeps the parameters it was saved with",
                reason="state_mismatch",
                parameter=key,
            )
    return detector


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"{path}: not a JSON detector state ({exc})", reason="invalid_state", file=str(path)
        ) from None
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"{path}: expected a JSON object saved by --state-out, got {type(data).__name__}",
            reason="invalid_state",
            file=str(path),
        )
    return data


def _compact_json(document: Mapping[str, Any]) -> str:
    """One top-level key a line, each value on one line (lists of positions stay short)."""
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in document.items()]
    return "{\n" + ",\n".join(lines) + "\n}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
