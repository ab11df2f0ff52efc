"""CUSUM: the two-sided tabular cumulative-sum control chart (Page 1954)."""

from __future__ import annotations

import math
from typing import Any

from driftline.detectors.base import DriftDetector, check_int, check_real


class CUSUM(DriftDetector):
    """Detect a shift of a numeric stream's mean away from an in-control target.

    **Input:** any finite number per update (a score, a loss, a feature's value).

    With in-control mean ``target`` and slack ``delta`` (often called ``k``), each value
    updates an upper and a lower cumulative sum::

        upper = max(0, upper + x - (target + delta))
        lower = max(0, lower + (target - delta) - x)

    and a drift is signalled when either exceeds ``threshold`` (often called ``h``). The
    textbook choice, for a stream whose standard deviation is ``sigma``, is
    ``delta = sigma / 2`` and ``threshold = 4 sigma`` to ``5 sigma``; both are in the
    stream's units, and the defaults suit a stream with ``sigma`` of about 1.

    When ``target`` is None, the first ``min_instances`` values after (re-)arming estimate it
    as their mean and the sums start with the next value; after a drift the target is
    estimated afresh from the new regime. When ``target`` is given, the sums start with the
    first value, no drift is signalled before ``min_instances`` values, and a re-armed
    detector keeps comparing with the same target.

    Parameters:
        min_instances: values used to estimate the target, or seen before any drift (>= 1).
        delta: slack ``k`` per value, in the stream's units (>= 0).
        threshold: decision interval ``h``, in the stream's units (> 0).
        target: the in-control mean, or None to estimate it.

    >>> import random
    >>> rng = random.Random(7)
    >>> stream = [rng.gauss(0.0, 1.0) for _ in range(1000)]
    >>> stream += [rng.gauss(1.0, 1.0) for _ in range(1000)]
    >>> detector = CUSUM(threshold=10.0)
    >>> [i for i, x in enumerate(stream) if detector.update(x).drift_detected]
    [1029]

    References:
        Page, E. S. (1954). Continuous inspection schemes. Biometrika 41(1/2), 100-115.
        Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.,
        section 9.1 (the tabular CUSUM).
    """

    name = "cusum"
    state_fields = ("count", "total", "mean", "upper", "lower")

    def __init__(
        self,
        *,
        min_instances: int = 30,
        delta: float = 0.5,
        threshold: float = 5.0,
        target: float | None = None,
    ) -> None:
        super().__init__()
        self._min_instances = check_int("min_instances", min_instances, 1)
        self._delta = check_real("delta", delta, 0.0, low_open=False)
        self._threshold = check_real("threshold", threshold, 0.0)
        self._target = None if target is None else check_real("target", target, -math.inf)
        self._reset()

    @property
    def params(self) -> dict[str, Any]:
        return {
            "min_instances": self._min_instances,
            "delta": self._delta,
            "threshold": self._threshold,
            "target": self._target,
        }

    @property
    def target(self) -> float | None:
        """The in-control mean in use (None while it is being estimated)."""
        return self._mean

    @property
    def upper(self) -> float:
        """The upper cumulative sum (evidence of an increase)."""
        return self._upper

    @property
    def lower(self) -> float:
        """The lower cumulative sum (evidence of a decrease)."""
        return self._lower

    def _reset(self) -> None:
        self._count = 0
        self._total = 0.0
        self._mean = self._target
        self._upper = 0.0
        self._lower = 0.0

    def _step(self, x: float) -> None:
        self._count += 1
        if self._mean is None:
            self._total += x
            if self._count == self._min_instances:
                self._mean = self._total / self._count
            return
        self._upper = max(0.0, self._upper + (x - (self._mean + self._delta)))
        self._lower = max(0.0, self._lower + ((self._mean - self._delta) - x))
        if self._count >= self._min_instances:
            self._drift_detected = self._upper > self._threshold or self._lower > self._threshold
