"""Seeded streams and a recorder shared by the detector tests.

Numeric streams are Gaussian with unit variance; error streams are 0/1 indicators. Each comes
in three kinds: ``abrupt`` (the mean or rate jumps at the middle), ``gradual`` (it ramps
linearly over the middle 40 %) and ``none`` (stationary).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

SEEDS = (0, 1, 2)
KINDS = ("abrupt", "gradual", "none")


def _profile(kind: str, n: int) -> np.ndarray:
    """0 before the change and 1 after it, with a linear ramp for ``gradual``."""
    position = np.arange(n)
    if kind == "abrupt":
        return (position >= n // 2).astype(float)
    if kind == "gradual":
        return np.asarray(np.clip((position - 0.3 * n) / (0.4 * n), 0.0, 1.0))
    if kind == "none":
        return np.zeros(n)
    raise ValueError(f"unknown kind {kind!r}")


def gaussian_stream(seed: int, kind: str, n: int = 10_000, shift: float = 1.0) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(x) for x in rng.normal(shift * _profile(kind, n), 1.0)]


def error_stream(
    seed: int, kind: str, n: int = 10_000, low: float = 0.1, high: float = 0.3
) -> list[int]:
    rng = np.random.default_rng(seed)
    rate = low + (high - low) * _profile(kind, n)
    return [int(x) for x in rng.random(n) < rate]


def detections(detector: Any, stream: Iterable[float]) -> tuple[list[int], list[int]]:
    """Indices of the updates after which the detector reported a drift, and a warning."""
    drifts, warnings = [], []
    for i, x in enumerate(stream):
        detector.update(x)
        if detector.drift_detected:
            drifts.append(i)
        if getattr(detector, "warning_detected", False):
            warnings.append(i)
    return drifts, warnings
