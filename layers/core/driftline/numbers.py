"""Values as numbers, the way every profile reads a column that should be numeric.

``pd.to_numeric(values, errors="coerce")`` turns text that is not a number into NaN, but
raises ``OverflowError`` on a Python ``int`` beyond the float range, which is what pandas'
CSV parser (and JSON) give for a 400-digit number in an otherwise integral column. One such
field would crash the function instead of being profiled; here it is ±inf, exactly as the
text ``1e400`` is read.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def coerce_numbers(values: pd.Series[Any]) -> pd.Series[Any]:
    """``values`` as numbers: NaN where a value is not one, ±inf past the float range.

    >>> coerce_numbers(pd.Series([1, 10**400, "x", None], dtype=object)).tolist()
    [1.0, inf, nan, nan]
    """
    try:
        return pd.to_numeric(values, errors="coerce")
    except OverflowError:
        return pd.to_numeric(values.map(_big_int_as_float), errors="coerce")


def _big_int_as_float(value: Any) -> Any:
    """An integer too large for a float as ±inf; any other value unchanged.

    >>> _big_int_as_float(-(10**400)), _big_int_as_float(3), _big_int_as_float("x")
    (-inf, 3.0, 'x')
    """
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return value
