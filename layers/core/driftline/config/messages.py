"""How the monitor definition's error messages name what they are about: a received value
(:func:`shown`, a line at most whatever it holds), a key (:func:`key_part`), and the error of
a rule across keys, which knows the key path it belongs to (``KeyedError``)."""

from __future__ import annotations

import reprlib
from typing import Any


class _BoundedRepr(reprlib.Repr):
    """``reprlib.Repr`` that also shortens integers too long for ``repr()`` itself."""

    def repr_int(self, x: int, level: int) -> str:
        # repr() itself refuses integers of more than 4,300 digits.
        if x.bit_length() > 256:
            return f"<an integer of {x.bit_length()} bits>"
        return super().repr_int(x, level)


#: How error messages show a received value: bounded in length and depth, so that a huge or
#: self-referencing value (a YAML alias bomb) cannot make the message itself explode.
_SHOWN = _BoundedRepr()
_SHOWN.maxstring = 80
_SHOWN.maxother = 80
_SHOWN.maxlevel = 3
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 6
_SHOWN.maxlong = 40


def shown(value: Any) -> str:
    """A received value as error messages show it, at most a line long whatever it holds.

    >>> shown("x" * 1000)[:12], len(shown("x" * 1000)) < 100
    ("'xxxxxxxxxxx", True)
    >>> shown(10**5000)
    '<an integer of 16610 bits>'
    """
    return _SHOWN.repr(value)


class KeyedError(ValueError):
    """A cross-field error that knows the key path it belongs to."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def key_part(name: Any) -> str:
    """A key as a key path shows it, shortened past 80 characters.

    >>> key_part("plan"), key_part("k" * 200)[:12], len(key_part("k" * 200))
    ('plan', 'kkkkkkkkkkkk', 80)
    """
    text = str(name)
    return text if len(text) <= 80 else f"{text[:60]}...{text[-17:]}"
