"""EDDM: the early drift detection method of Baena-García et al. (2006)."""

from __future__ import annotations

from typing import Any

from driftline.detectors.base import DriftDetector, check_int, check_real


class EDDM(DriftDetector):
    """Detect a rise of a model's error rate from the distance between its errors.

    **Input:** an error indicator per prediction: 1 when the prediction was wrong, 0 when it
    was right.

    EDDM follows the number of predictions between two consecutive errors: its running mean
    ``p`` and sample standard deviation ``s``. While the model is stable or improving,
    ``p + 2 s`` grows; EDDM remembers its maximum and, at each error, compares the ratio
    ``level = (p + 2 s) / max(p + 2 s)``:

    * ``level < alpha``: warning zone;
    * ``level < beta``: drift.

    The maximum is tracked once more than ``warm_start`` predictions were seen, and levels
    are tested once more than ``warm_start`` errors were seen. The level only changes at an
    error, so the warning flag keeps the zone of the last error in between. Detections and
    warnings equal River's ``drift.binary.EDDM`` with the same parameters, including its
    choice that an error setting a new maximum, or signalling a drift, leaves the warning
    flag as the previous error set it.

    Parameters:
        warm_start: predictions, and errors, seen before any warning or drift (>= 0).
        alpha: level below which the detector warns, in (0, 1).
        beta: level below which the detector signals a drift, in (0, alpha].

    >>> import random
    >>> rng = random.Random(3)
    >>> errors = [int(rng.random() < 0.1) for _ in range(2000)]
    >>> errors += [int(rng.random() < 0.3) for _ in range(2000)]
    >>> detector = EDDM(alpha=0.9, beta=0.8)
    >>> [i for i, x in enumerate(errors) if detector.update(x).drift_detected]
    [2263]

    References:
        Baena-García, M., del Campo-Ávila, J., Fidalgo, R., Bifet, A., Gavaldà, R. and
        Morales-Bueno, R. (2006). Early drift detection method. Fourth International
        Workshop on Knowledge Discovery from Data Streams, 77-86.
    """

    name = "eddm"
    binary_input = True
    state_fields = ("count", "errors", "last_error", "mean", "m2", "max_level")

    def __init__(self, *, warm_start: int = 30, alpha: float = 0.95, beta: float = 0.9) -> None:
        super().__init__()
        self._warm_start = check_int("warm_start", warm_start, 0)
        self._alpha = check_real("alpha", alpha, 0.0, 1.0)
        self._beta = check_real("beta", beta, 0.0, self._alpha, high_open=False)
        self._reset()

    @property
    def params(self) -> dict[str, Any]:
        return {"warm_start": self._warm_start, "alpha": self._alpha, "beta": self._beta}

    def _reset(self) -> None:
        self._count = 0
        self._errors = 0
        self._last_error = 0
        # Running mean and sum of squared deviations (Welford) of the distances.
        self._mean = 0.0
        self._m2 = 0.0
        self._max_level: float | None = None

    def _step(self, x: float) -> None:
        self._count += 1
        if x != 1.0:
            return
        self._errors += 1
        distance = self._count - self._last_error
        self._last_error = self._count
        previous_mean = self._mean
        self._mean += (1.0 / self._errors) * (distance - previous_mean)
        self._m2 += (distance - previous_mean) * (distance - self._mean)
        if self._count <= self._warm_start:
            return
        std = (self._m2 / (self._errors - 1)) ** 0.5 if self._errors > 1 else 0.0
        level = self._mean + 2 * std
        if self._max_level is None or level > self._max_level:
            self._max_level = level
        elif self._errors > self._warm_start:
            ratio = level / self._max_level
            if ratio < self._beta:
                self._drift_detected = True
            else:
                self._warning_detected = ratio < self._alpha
