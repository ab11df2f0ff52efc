"""The full-scale load run: ``python -m tests.load`` (from the repository root).

1,000 batch uploads across 10 models by default (``--models``, ``--batches`` per model,
``--rows`` per batch), each run twice on fresh local deployments: once clean and once with
every event delivered twice in one shuffled order (tests/load/harness.py says exactly what
is compared). Prints the figures as JSON (also written to ``--out``), and every difference;
exits 1 if there is one. The functions' own log lines go to ``--log``. About 20 minutes on
two cores; tests/load/test_load.py runs a small version in the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .harness import Scale, build_scenario, compare, figures, run_clean, run_raced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load", description=__doc__)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--batches", type=int, default=100, help="per model")
    parser.add_argument("--rows", type=int, default=30, help="per batch")
    parser.add_argument("--seed", type=int, default=Scale(1, 1, 1).seed)
    parser.add_argument("--out", type=Path, default=None, help="write the figures here")
    parser.add_argument("--log", type=Path, default=None, help="the functions' log lines")
    args = parser.parse_args(argv)
    scale = Scale(models=args.models, batches=args.batches, rows=args.rows, seed=args.seed)
    scenario = build_scenario(scale)
    print(f"{scale.uploads} batch uploads across {scale.models} models: clean run ...",
          file=sys.stderr, flush=True)  # fmt: skip
    clean = run_clean(scenario, log=args.log)
    print(f"clean run: {clean.seconds:.0f} s; raced run ...", file=sys.stderr, flush=True)
    raced = run_raced(scenario, log=args.log)
    print(f"raced run: {raced.seconds:.0f} s", file=sys.stderr, flush=True)
    problems = compare(scenario, clean, raced)
    result = {"command": "python -m tests.load " + " ".join(argv or sys.argv[1:]),
              **figures(scenario, clean, raced), "problems": problems}  # fmt: skip
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
