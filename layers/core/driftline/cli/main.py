"""The ``driftline`` parser: every command, with the options of ``evaluate``, ``validate``,
``schema`` and ``demo`` (``detect`` and ``backtest`` add theirs), each command's handler in
the room of its group; :func:`main`, the console script, turns a bad input into exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from driftline import __version__
from driftline.cli.demo_command import demo_command
from driftline.cli.evaluate_commands import evaluate_command, schema_command, validate_command
from driftline.cli.exit_codes import EXIT_BAD_INPUT
from driftline.cli.replay_commands import add_replay_commands
from driftline.errors import DriftlineError


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
    run.set_defaults(handler=evaluate_command)

    check = commands.add_parser("validate", help="validate a monitor definition")
    check.add_argument("--config", required=True, type=Path, help="monitor definition (YAML)")
    check.set_defaults(handler=validate_command)

    schema = commands.add_parser("schema", help="print the monitor definition's JSON Schema")
    schema.set_defaults(handler=schema_command)
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
    demo.set_defaults(handler=demo_command)
    add_replay_commands(commands)
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
