"""The Page–Hinkley test for a change in the mean (Page 1954), as River implements it."""

from __future__ import annotations

from typing import Any, Literal

from driftline.detectors.base import DriftDetector, check_int, check_real

Mode = Literal["up", "down", "both"]
MODES: tuple[Mode, ...] = ("up", "down", "both")


class PageHinkley(DriftDetector):
    """Detect a shift of a numeric stream's mean away from its running mean.

    **Input:** any finite number per update (a score, a loss, a feature's value).

    With ``mean`` the running mean of the values since the detector was armed, each value
    adds its deviation to two faded cumulative sums::

        up   = alpha * up   + (x - mean) - delta
        down = alpha * down + (x - mean) + delta

    An increase shows as ``up`` rising above its running minimum, a decrease as ``down``
    falling below its running maximum. Once ``min_instances`` values were seen, a drift is
    signalled when the watched gap (``up - min(up)`` for ``"up"``, ``max(down) - down`` for
    ``"down"``, either for ``"both"``) exceeds ``threshold``. Detections equal River's
    ``drift.PageHinkley`` with the same parameters.

    Parameters:
        min_instances: values seen before any drift (>= 1).
        delta: magnitude of change tolerated per value, in the stream's units (>= 0).
        threshold: the gap that signals a drift, often called lambda (> 0).
        alpha: fading factor of the cumulative sums, in (0, 1]; 1 means no fading.
        mode: which direction to watch: ``"up"``, ``"down"`` or ``"both"``.

    >>> import random
    >>> rng = random.Random(7)
    >>> stream = [rng.gauss(0.0, 1.0) for _ in range(1000)]
    >>> stream += [rng.gauss(1.0, 1.0) for _ in range(1000)]
    >>> detector = PageHinkley()
    >>> [i for i, x in enumerate(stream) if detector.update(x).drift_detected]
    [1044]

    References:
        Page, E. S. (1954). Continuous inspection schemes. Biometrika 41(1/2), 100-115.
        Hinkley, D. V. (1971). Inference about the change-point from cumulative sum tests.
        Biometrika 58(3), 509-523.
    """

    name = "page_hinkley"
    state_fields = ("count", "mean", "up", "down", "min_up", "max_down")

    def __init__(
        self,
        *,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: Mode = "both",
    ) -> None:
        super().__init__()
        self._min_instances = check_int("min_instances", min_instances, 1)
        self._delta = check_real("delta", delta, 0.0, low_open=False)
        self._threshold = check_real("threshold", threshold, 0.0)
        self._alpha = check_real("alpha", alpha, 0.0, 1.0, high_open=False)
        if mode not in MODES:
            raise ValueError(f"expected mode in {', '.join(MODES)}, got {mode!r}")
        self._mode: Mode = mode
        self._reset()

    @property
    def params(self) -> dict[str, Any]:
        return {
            "min_instances": self._min_instances,
            "delta": self._delta,
            "threshold": self._threshold,
            "alpha": self._alpha,
            "mode": self._mode,
        }

    def _reset(self) -> None:
        self._count = 0
        self._mean = 0.0
        self._up = 0.0
        self._down = 0.0
        # None until the first value. River starts them at inf and -1, which the first
        # value always replaces since delta >= 0.
        self._min_up: float | None = None
        self._max_down: float | None = None

    def _step(self, x: float) -> None:
        self._count += 1
        self._mean += (1.0 / self._count) * (x - self._mean)
        deviation = x - self._mean
        self._up = self._alpha * self._up + deviation - self._delta
        self._down = self._alpha * self._down + deviation + self._delta
        if self._min_up is None or self._up < self._min_up:
            self._min_up = self._up
        if self._max_down is None or self._down > self._max_down:
            self._max_down = self._down
        if self._count < self._min_instances:
            return
        rise = self._up - self._min_up > self._threshold
        fall = self._max_down - self._down > self._threshold
        if self._mode == "up":
            self._drift_detected = rise
        elif self._mode == "down":
            self._drift_detected = fall
        else:
            self._drift_detected = rise or fall
