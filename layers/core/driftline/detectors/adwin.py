"""ADWIN: adaptive windowing (Bifet & Gavaldà 2007), the ADWIN2 bucket variant."""

from __future__ import annotations

import math
from typing import Any

from driftline.detectors.base import DriftDetector, check_int, check_real


class ADWIN(DriftDetector):
    """Detect a change in the mean of a numeric stream by adaptive windowing.

    **Input:** any finite number per update: a loss, a score, or a 0/1 error indicator.

    ADWIN keeps the recent stream in an exponential histogram: row ``i`` holds up to
    ``max_buckets`` buckets, each summarising ``2**i`` values by their total and variance, so
    a window of ``w`` values takes O(log w) buckets. Every ``clock`` updates (once more than
    ``grace_period`` values are in the window) it tries every bucket boundary as a split into
    an older part ``W0`` of ``n0`` values and a newer part ``W1`` of ``n1``, both at least
    ``min_window_length`` long, and cuts when ``|mean(W0) - mean(W1)| > eps`` with ``s2``
    the (population) variance of the window::

        m     = 1 / (n0 - min_window_length + 1) + 1 / (n1 - min_window_length + 1)
        d     = ln(2 ln(w) / delta)
        eps   = sqrt(2 m s2 d) + 2/3 d m

    A cut drops the oldest bucket until no split passes the test, and the update reports a
    drift. As in River 0.26, the next update then starts from an empty window (the paper's
    ADWIN would carry on with the shrunken window). Detections equal River's ``drift.ADWIN``
    with the same parameters.

    Parameters:
        delta: confidence of the cut test, in (0, 1); smaller means fewer false alarms.
        clock: test for a cut every ``clock`` updates (>= 1).
        max_buckets: buckets kept per row before the two oldest are merged (>= 1).
        min_window_length: shortest sub-window a split may leave on either side (>= 1).
        grace_period: no test until the window holds more than this many values (>= 0).

    >>> import random
    >>> rng = random.Random(7)
    >>> stream = [rng.gauss(0.0, 1.0) for _ in range(1000)]
    >>> stream += [rng.gauss(1.0, 1.0) for _ in range(1000)]
    >>> detector = ADWIN()
    >>> [i for i, x in enumerate(stream) if detector.update(x).drift_detected]
    [1055]

    References:
        Bifet, A. and Gavaldà, R. (2007). Learning from time-changing data with adaptive
        windowing. Proceedings of the 2007 SIAM International Conference on Data Mining,
        443-448.
    """

    name = "adwin"
    state_fields = ("tick", "width", "total", "variance", "totals", "variances")

    def __init__(
        self,
        *,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        super().__init__()
        self._delta = check_real("delta", delta, 0.0, 1.0)
        self._clock = check_int("clock", clock, 1)
        self._max_buckets = check_int("max_buckets", max_buckets, 1)
        self._min_window_length = check_int("min_window_length", min_window_length, 1)
        self._grace_period = check_int("grace_period", grace_period, 0)
        self._reset()

    @property
    def params(self) -> dict[str, Any]:
        return {
            "delta": self._delta,
            "clock": self._clock,
            "max_buckets": self._max_buckets,
            "min_window_length": self._min_window_length,
            "grace_period": self._grace_period,
        }

    @property
    def width(self) -> int:
        """Number of values in the window."""
        return self._width

    @property
    def estimation(self) -> float:
        """Mean of the window (0.0 when it is empty)."""
        return self._total / self._width if self._width else 0.0

    def _reset(self) -> None:
        self._tick = 0
        self._width = 0
        self._total = 0.0
        self._variance = 0.0
        # Row i: totals and variances of buckets of 2**i values, oldest first.
        self._totals: list[list[float]] = [[]]
        self._variances: list[list[float]] = [[]]

    def _step(self, x: float) -> None:
        self._insert(x)
        self._tick += 1
        if self._tick % self._clock == 0 and self._width > self._grace_period:
            while self._cut_exists():
                self._drift_detected = True
                self._drop_oldest_bucket()

    def _insert(self, x: float) -> None:
        self._width += 1
        if self._width > 1:
            gap = x - self._total / (self._width - 1)
            self._variance += (self._width - 1) * gap * gap / self._width
        self._total += x
        self._totals[0].append(x)
        self._variances[0].append(0.0)
        row = 0
        while len(self._totals[row]) > self._max_buckets:
            size = 1 << row
            (t0, t1), (v0, v1) = self._totals[row][:2], self._variances[row][:2]
            gap = t0 / size - t1 / size
            if row + 1 == len(self._totals):
                self._totals.append([])
                self._variances.append([])
            self._totals[row + 1].append(t0 + t1)
            self._variances[row + 1].append(v0 + v1 + size * 0.5 * gap * gap)
            del self._totals[row][:2], self._variances[row][:2]
            row += 1

    def _cut_exists(self) -> bool:
        if self._width < 2:  # a single value has no split
            return False
        floor = self._min_window_length
        log_term = math.log(2.0 * math.log(self._width) / self._delta)
        window_variance = self._variance / self._width
        n0, n1, u0, u1 = 0, self._width, 0.0, self._total
        for row in range(len(self._totals) - 1, -1, -1):
            size = 1 << row
            for total in self._totals[row]:
                n0, n1, u0, u1 = n0 + size, n1 - size, u0 + total, u1 - total
                if n1 < floor:
                    return False
                if n0 < floor:
                    continue
                harmonic = 1.0 / (n0 - floor + 1.0) + 1.0 / (n1 - floor + 1.0)
                radicand = 2.0 * harmonic * window_variance * log_term
                if radicand < 0.0:  # rounding after a cut; River's NaN never cuts
                    continue
                bound = math.sqrt(radicand) + 2.0 / 3.0 * log_term * harmonic
                if abs(u0 / n0 - u1 / n1) > bound:
                    return True
        return False

    def _drop_oldest_bucket(self) -> None:
        last = len(self._totals) - 1
        size = 1 << last
        total, variance = self._totals[last].pop(0), self._variances[last].pop(0)
        self._width -= size
        self._total -= total
        gap = total / size - self._total / self._width
        self._variance -= variance + size * self._width * gap * gap / (size + self._width)
        while len(self._totals) > 1 and not self._totals[-1]:
            self._totals.pop()
            self._variances.pop()
