"""Shared pytest configuration: make the core package importable without installing it."""

from __future__ import annotations

import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "layers" / "core"
if str(CORE) not in sys.path:
    sys.path.insert(0, str(CORE))
# Test support modules beside this file (moto_support) import as top-level modules.
TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.append(str(TESTS))
