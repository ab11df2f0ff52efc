"""DDM: the drift detection method of Gama, Medas, Castillo and Rodrigues (2004)."""

from __future__ import annotations

import math
from typing import Any

from driftline.detectors.base import DriftDetector, check_int, check_real


class DDM(DriftDetector):
    """Detect a rise of a model's error rate from its stream of errors.

    **Input:** an error indicator per prediction: 1 when the prediction was wrong, 0 when it
    was right.

    After ``i`` predictions with error rate ``p`` the binomial standard deviation is
    ``s = sqrt(p (1 - p) / i)``. Once more than ``warm_start`` predictions were seen, DDM
    remembers ``p_min`` and ``s_min`` at the point where ``p + s`` was lowest (ties move the
    point forward) and compares each new ``p + s`` with them:

    * ``p + s > p_min + warning_threshold * s_min``: warning zone;
    * ``p + s > p_min + drift_threshold * s_min``: drift (the warning flag is then off).

    The warning flag is evaluated at every update. Detections and warnings equal River's
    ``drift.binary.DDM`` with the same parameters.

    Parameters:
        warm_start: predictions seen before any warning or drift (>= 0).
        warning_threshold: standard deviations above the minimum for a warning (> 0; the
            default 2 is about 95 % confidence).
        drift_threshold: standard deviations above the minimum for a drift (at least
            ``warning_threshold``; the default 3 is about 99 % confidence).

    >>> import random
    >>> rng = random.Random(3)
    >>> errors = [int(rng.random() < 0.1) for _ in range(2000)]
    >>> errors += [int(rng.random() < 0.3) for _ in range(2000)]
    >>> detector = DDM()
    >>> [i for i, x in enumerate(errors) if detector.update(x).drift_detected]
    [2250]

    References:
        Gama, J., Medas, P., Castillo, G. and Rodrigues, P. (2004). Learning with drift
        detection. Advances in Artificial Intelligence - SBIA 2004, LNCS 3171, 286-295.
    """

    name = "ddm"
    binary_input = True
    state_fields = ("count", "error_rate", "p_min", "s_min")

    def __init__(
        self,
        *,
        warm_start: int = 30,
        warning_threshold: float = 2.0,
        drift_threshold: float = 3.0,
    ) -> None:
        super().__init__()
        self._warm_start = check_int("warm_start", warm_start, 0)
        self._warning_threshold = check_real("warning_threshold", warning_threshold, 0.0)
        self._drift_threshold = check_real(
            "drift_threshold", drift_threshold, self._warning_threshold, low_open=False
        )
        self._reset()

    @property
    def params(self) -> dict[str, Any]:
        return {
            "warm_start": self._warm_start,
            "warning_threshold": self._warning_threshold,
            "drift_threshold": self._drift_threshold,
        }

    @property
    def error_rate(self) -> float:
        """Error rate since the detector was (re-)armed."""
        return self._error_rate

    def _reset(self) -> None:
        self._count = 0
        self._error_rate = 0.0
        self._p_min: float | None = None
        self._s_min: float | None = None

    def _step(self, x: float) -> None:
        self._count += 1
        self._error_rate += (1.0 / self._count) * (x - self._error_rate)
        p = self._error_rate
        s = math.sqrt(p * (1 - p) / self._count)
        if self._count <= self._warm_start:
            return
        if self._p_min is None or self._s_min is None or p + s <= self._p_min + self._s_min:
            self._p_min, self._s_min = p, s
        level = p + s
        self._warning_detected = level > self._p_min + self._warning_threshold * self._s_min
        if level > self._p_min + self._drift_threshold * self._s_min:
            self._drift_detected = True
            self._warning_detected = False
