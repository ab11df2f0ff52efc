"""``driftline detect`` and ``driftline backtest``: their options read and checked here (the
detector built or restored, ``--param`` values parsed), the replay done by
:mod:`driftline.replay` and :mod:`driftline.backtest`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from driftline.backtest import backtest
from driftline.cli.exit_codes import EXIT_FAILED, EXIT_OK
from driftline.config.loading import load_monitor_definition
from driftline.detectors import DETECTORS, DriftDetector, detector_from_dict, make_detector
from driftline.errors import ConfigError, InvalidInputError
from driftline.replay import CHUNK_ROWS, detect_in_file


def add_replay_commands(commands: Any) -> None:
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
