"""The ``driftline`` command line.

Exit codes: 0 all checks pass, 1 a check failed or the dataset drifted (``detect``: a
drift was detected; ``backtest``: a check fired), 2 bad input or configuration (the message
names the file and the key; no traceback).

Every command's options are parsed here; the work is done by the core modules:
``evaluate`` by :mod:`driftline.evaluation`, ``detect`` by :mod:`driftline.replay`,
``backtest`` by :mod:`driftline.backtest`, ``demo`` by :mod:`driftline.demo`.

The package's rooms:

- :mod:`~driftline.cli.main`: the parser, every command's options, and :func:`main`;
- :mod:`~driftline.cli.evaluate_commands`: ``evaluate``, ``validate``, ``schema``;
- :mod:`~driftline.cli.replay_commands`: ``detect``, ``backtest``;
- :mod:`~driftline.cli.demo_command`: ``demo``;
- :mod:`~driftline.cli.exit_codes`: the exit codes.
"""

from __future__ import annotations

from driftline.cli.evaluate_commands import (
    load_labels,
    load_profile,
    load_reference,
    naming,
    write_text_summary,
)
from driftline.cli.exit_codes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from driftline.cli.main import main, positive_int
from driftline.cli.replay_commands import build_detector, parse_param, parse_params, parse_value

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_OK",
    "build_detector",
    "load_labels",
    "load_profile",
    "load_reference",
    "main",
    "naming",
    "parse_param",
    "parse_params",
    "parse_value",
    "positive_int",
    "write_text_summary",
]
