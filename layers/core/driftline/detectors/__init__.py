"""Streaming concept-drift detectors with a serialisable state.

Every detector reads a stream one value at a time (``update(x)`` returns the detector), says
what the last update found through the read-only ``drift_detected`` and
``warning_detected``, re-arms itself after a drift, and saves to and restores from a small
JSON-able dict, so a Lambda can keep it in DynamoDB between invocations.

=================  ==================================  ====================================
name               input                               detects
=================  ==================================  ====================================
``adwin``          any number                          a change in the mean (windowing)
``ddm``            error indicator 0/1                 a rise of the error rate
``eddm``           error indicator 0/1                 shorter distances between errors
``page_hinkley``   any number                          a shift from the running mean
``cusum``          any number                          a shift from an in-control target
``sprt``           Bernoulli outcome 0/1               a rate moving from ``p0`` to ``p1``
=================  ==================================  ====================================

>>> detector = make_detector("ddm", warm_start=50)
>>> saved = detector.update(1).update(0).to_dict()
>>> saved["detector"], saved["state"]["n"]
('ddm', 2)
>>> detector_from_dict(saved).n
2
>>> make_detector("sprt", p0=0.05, p1=0.1, delta=0.01)
Traceback (most recent call last):
...
ValueError: unknown parameter 'delta' for sprt; allowed: alpha, beta, p0, p1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftline.detectors.adwin import ADWIN
from driftline.detectors.base import STATE_VERSION, DriftDetector
from driftline.detectors.cusum import CUSUM
from driftline.detectors.ddm import DDM
from driftline.detectors.eddm import EDDM
from driftline.detectors.page_hinkley import PageHinkley
from driftline.detectors.sprt import SPRT

#: Every detector class by the name a monitor definition uses.
DETECTORS: dict[str, type[DriftDetector]] = {
    cls.name: cls for cls in (ADWIN, DDM, EDDM, PageHinkley, CUSUM, SPRT)
}


def _detector_class(name: object) -> type[DriftDetector]:
    if not isinstance(name, str) or name not in DETECTORS:
        allowed = ", ".join(sorted(DETECTORS))
        raise ValueError(f"unknown detector {name!r}; expected one of {allowed}")
    return DETECTORS[name]


def make_detector(name: str, **params: Any) -> DriftDetector:
    """A new detector by its registry name.

    Raises:
        ValueError: the name or a parameter is unknown, a required parameter is missing, or
            a value is out of range; the message lists what is allowed.
    """
    return _detector_class(name).from_params(params)


def detector_from_dict(data: Mapping[str, Any]) -> DriftDetector:
    """Restore any detector saved by ``to_dict``, choosing the class by its ``detector`` key.

    Raises:
        ValueError: the dict is not a saved detector.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a saved detector mapping, got {type(data).__name__}")
    return _detector_class(data.get("detector")).from_dict(data)


__all__ = [
    "ADWIN",
    "CUSUM",
    "DDM",
    "DETECTORS",
    "EDDM",
    "SPRT",
    "STATE_VERSION",
    "DriftDetector",
    "PageHinkley",
    "detector_from_dict",
    "make_detector",
]
