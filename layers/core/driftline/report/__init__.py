"""HTML reports of evaluations: one self-contained page per result (docs/report.md).

>>> from driftline.report import render_report
>>> "<svg" in render_report({"model": "m", "status": "ok"})
False
"""

from __future__ import annotations

from driftline.report.html import render_report

__all__ = ["render_report"]
