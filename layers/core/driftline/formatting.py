"""How a figure is written in a message: numbers to four significant digits, data values
never (only their kind).

Alert texts, retraining and canary decisions, and the ``--format text`` summary all write
their figures this way, so one value reads the same wherever it appears.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def short_number(value: float | None, *, missing: str = "n/a") -> str:
    """``value`` to four significant digits (``g`` format), or ``missing`` for None.

    >>> short_number(0.123456), short_number(12345.6), short_number(3), short_number(None)
    ('0.1235', '1.235e+04', '3', 'n/a')
    >>> short_number(None, missing="-")
    '-'
    """
    return missing if value is None else f"{float(value):.4g}"


def value_kind(value: object) -> str:
    """What kind of value a data cell holds, for an error message that must not quote it.

    >>> value_kind("4111 1111 1111 1111"), value_kind(float("nan")), value_kind(2.5)
    ('text', 'no value', 'a number')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number" if math.isfinite(value) else "a number that is not finite"
    if isinstance(value, str):
        return "text"
    return f"a value of type {type(value).__name__}"
