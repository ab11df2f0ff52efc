"""The interface every streaming drift detector implements, and its saved form.

A detector reads one value at a time with :meth:`DriftDetector.update`, which returns the
detector so calls chain. After each update, the read-only properties ``drift_detected`` and
``warning_detected`` say what that update found. A detector that fired re-arms itself on the
next update: it forgets its statistics and starts learning the new regime, as River's do.

A detector is a value: :meth:`DriftDetector.to_dict` gives a small JSON-able dict
``{"detector": name, "version": 1, "params": {...}, "state": {...}}`` and
:meth:`DriftDetector.from_dict` rebuilds it exactly, so resuming from a saved state gives the
same detections as a run that was never interrupted. ``version`` is the format of the saved
form, not the optimistic-locking version the store keeps next to it.
"""

from __future__ import annotations

import abc
import copy
import inspect
import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar, Self

#: Format of the dict written by :meth:`DriftDetector.to_dict`.
STATE_VERSION = 1
_BASE_STATE = ("n", "drift_detected", "warning_detected")


class DriftDetector(abc.ABC):
    """A streaming change detector with a serialisable state.

    Subclasses set ``name`` (the registry name), ``binary_input`` (whether ``x`` must be an
    error indicator 0/1 rather than any finite number) and ``state_fields`` (the attributes,
    stored with a leading underscore, that make up the state), and implement ``params``,
    ``_reset`` and ``_step``.
    """

    name: ClassVar[str]
    binary_input: ClassVar[bool] = False
    state_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._n = 0
        self._drift_detected = False
        self._warning_detected = False

    @property
    def n(self) -> int:
        """Samples seen since the detector was created (re-arming does not reset it)."""
        return self._n

    @property
    def drift_detected(self) -> bool:
        """Whether the last update detected a drift."""
        return self._drift_detected

    @property
    def warning_detected(self) -> bool:
        """Whether the detector is in its warning zone after the last update."""
        return self._warning_detected

    @property
    @abc.abstractmethod
    def params(self) -> dict[str, Any]:
        """The constructor's keyword arguments (a fresh dict)."""

    @abc.abstractmethod
    def _reset(self) -> None:
        """Forget the statistics (not ``n`` and not the flags)."""

    @abc.abstractmethod
    def _step(self, x: float) -> None:
        """Add one validated value and set the flags."""

    def _restart_pending(self) -> bool:
        """Whether the last update ended a test, so the next one starts afresh."""
        return self._drift_detected

    def update(self, x: float) -> Self:
        """Add one value of the stream and return the detector.

        Raises:
            ValueError: ``x`` is not finite, or not 0/1 for a detector of error indicators.
            TypeError: ``x`` is not a real number.
        """
        value = _as_bit(x) if self.binary_input else _as_finite(x)
        if self._restart_pending():
            self._drift_detected = False
            self._warning_detected = False
            self._reset()
        self._n += 1
        self._step(value)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The detector as a JSON-able dict (parameters and the full state)."""
        state: dict[str, Any] = {
            "n": self._n,
            "drift_detected": self._drift_detected,
            "warning_detected": self._warning_detected,
        }
        for field in self.state_fields:
            state[field] = copy.deepcopy(getattr(self, "_" + field))
        return {
            "detector": self.name,
            "version": STATE_VERSION,
            "params": self.params,
            "state": state,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a detector saved by :meth:`to_dict`.

        Raises:
            ValueError: the dict is not a saved detector of this class and format version.
        """
        _expect_keys("saved detector", data, ("detector", "version", "params", "state"))
        if data["detector"] != cls.name:
            raise ValueError(f"expected a saved {cls.name} detector, got {data['detector']!r}")
        if data["version"] != STATE_VERSION:
            raise ValueError(f"expected state version {STATE_VERSION}, got {data['version']!r}")
        detector = cls.from_params(data["params"])
        state = data["state"]
        _expect_keys(f"{cls.name} state", state, (*_BASE_STATE, *cls.state_fields))
        detector._n = state["n"]
        detector._drift_detected = state["drift_detected"]
        detector._warning_detected = state["warning_detected"]
        for field in cls.state_fields:
            setattr(detector, "_" + field, copy.deepcopy(state[field]))
        return detector

    @classmethod
    def parameter_names(cls) -> dict[str, bool]:
        """Each constructor parameter, mapped to whether it is required."""
        signature = inspect.signature(cls.__init__)
        return {
            p.name: p.default is inspect.Parameter.empty
            for p in signature.parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Self:
        """Build the detector, naming any unknown or missing parameter in a ``ValueError``."""
        if not isinstance(params, Mapping):
            raise ValueError(f"expected params to be a mapping, got {type(params).__name__}")
        names = cls.parameter_names()
        allowed = ", ".join(sorted(names))
        for key in params:
            if key not in names:
                raise ValueError(f"unknown parameter {key!r} for {cls.name}; allowed: {allowed}")
        for key, required in names.items():
            if required and key not in params:
                raise ValueError(f"missing parameter {key!r} for {cls.name}; allowed: {allowed}")
        return cls(**params)

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{type(self).__name__}({args})"


def _expect_keys(what: str, data: object, keys: tuple[str, ...]) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected {what} to be a mapping, got {type(data).__name__}")
    if set(data) != set(keys):
        raise ValueError(f"expected {what} keys {sorted(keys)}, got {sorted(data)}")


def _as_finite(x: object) -> float:
    if type(x) is float:
        value = x
    elif isinstance(x, numbers.Real):
        value = float(x)
    else:
        raise TypeError(f"expected a real number, got {type(x).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite value, got {value}")
    return value


def _as_bit(x: object) -> float:
    if x == 1:
        return 1.0
    if x == 0:
        return 0.0
    raise ValueError(f"expected an error indicator 0 or 1, got {x!r}")


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int, if it is one and at least ``minimum``; else a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"expected {name} to be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_real(
    name: str,
    value: object,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = True,
    high_open: bool = True,
) -> float:
    """``value`` as a float, if it is a real number in the interval; else a ``ValueError``."""
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        number = float(value)
        above = number > low if low_open else number >= low
        below = number < high if high_open else number <= high
        if above and below:
            return number
    if low == -math.inf and high == math.inf:
        allowed = f"{name} to be a finite number"
    elif high == math.inf:
        allowed = f"{name} {'>' if low_open else '>='} {low:g}"
    else:
        brackets = ("(" if low_open else "[", ")" if high_open else "]")
        allowed = f"{name} in {brackets[0]}{low:g}, {high:g}{brackets[1]}"
    raise ValueError(f"expected {allowed}, got {value!r}")
