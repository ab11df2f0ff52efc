"""How a number is written in a message: four significant digits.

Alert texts, retraining and canary decisions, and the ``--format text`` summary all write
their figures this way, so one value reads the same wherever it appears.
"""

from __future__ import annotations


def short_number(value: float | None, *, missing: str = "n/a") -> str:
    """``value`` to four significant digits (``g`` format), or ``missing`` for None.

    >>> short_number(0.123456), short_number(12345.6), short_number(3), short_number(None)
    ('0.1235', '1.235e+04', '3', 'n/a')
    >>> short_number(None, missing="-")
    '-'
    """
    return missing if value is None else f"{float(value):.4g}"
