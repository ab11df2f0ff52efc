"""``driftline demo``: the five scenarios on the local runtime (the demo package is imported
only when the command runs: it needs moto and boto3, which the other commands do not).
"""

from __future__ import annotations

import argparse
import sys

from driftline.cli.exit_codes import EXIT_FAILED, EXIT_OK
from driftline.errors import InvalidInputError


def demo_command(args: argparse.Namespace) -> int:
    """``driftline demo``: run the scenarios; 1 if one did not reach its expected outcome."""
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
