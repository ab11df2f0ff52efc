"""``python -m driftline.cli``: the ``driftline`` command."""

from __future__ import annotations

import sys

from driftline.cli.main import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
