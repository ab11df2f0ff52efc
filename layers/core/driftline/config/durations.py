"""Durations in a monitor definition (windows, cooldowns, time boxes): ISO 8601 weeks, days,
hours, minutes and seconds, positive and at most :data:`MAX_DURATION`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import Field

from driftline.config.messages import KeyedError, shown

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)


#: The longest duration a definition may give (windows, cooldowns, training windows, the
#: retraining time boxes): about ten years. Durations are added to and subtracted from
#: times (a window's start is its end minus its length), and a longer one would take them
#: past the calendar's range (year 1 to 9999) or mean nothing a monitor can act on.
MAX_DURATION = timedelta(days=3660)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of weeks, days, hours, minutes and seconds.

    Years and months are refused: their length varies, and a window must be exact.

    >>> parse_duration("P7D"), parse_duration("PT6H30M")
    (datetime.timedelta(days=7), datetime.timedelta(seconds=23400))
    >>> parse_duration("P100000000D")
    Traceback (most recent call last):
    ...
    ValueError: expected a duration of at most P3660D (about 10 years), got 'P100000000D'

    Raises:
        ValueError: the text is not such a duration, it is zero, or it is longer than
            :data:`MAX_DURATION`.
    """
    match = _DURATION.fullmatch(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(
            f"expected an ISO 8601 duration such as P1D, P7D or PT6H, got {shown(text)}"
        )
    too_long = (
        f"expected a duration of at most P{MAX_DURATION.days}D (about 10 years), got {shown(text)}"
    )
    try:
        parts = {key: int(value) for key, value in match.groupdict().items() if value}
        duration = timedelta(**parts)
    except (OverflowError, ValueError):  # past timedelta's range, or too many digits to read
        raise ValueError(too_long) from None
    if duration <= timedelta(0):
        raise ValueError(f"expected a positive duration, got {shown(text)}")
    if duration > MAX_DURATION:
        raise ValueError(too_long)
    return duration


Duration = Annotated[
    str, Field(description="ISO 8601 duration, e.g. P1D, P7D, PT6H; at most P3660D (10 years)")
]


def check_duration(value: str, key: str) -> None:
    """Refuse a duration that :func:`parse_duration` refuses, naming its key path.

    >>> check_duration("P1Y", "windows[0]")
    Traceback (most recent call last):
    ...
    driftline.config.messages.KeyedError: windows[0]: expected an ISO 8601 duration such as \
P1D, P7D or PT6H, got 'P1Y'
    """
    try:
        parse_duration(value)
    except ValueError as exc:
        raise KeyedError(key, str(exc)) from None
