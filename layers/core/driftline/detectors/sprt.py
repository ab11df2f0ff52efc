"""SPRT: Wald's sequential probability ratio test for a Bernoulli rate (Wald 1945)."""

from __future__ import annotations

import math
from typing import Any, Literal

from driftline.detectors.base import DriftDetector, check_real

Decision = Literal["h0", "h1"]


class SPRT(DriftDetector):
    """Decide sequentially whether a success rate is ``p0`` or has moved to ``p1``.

    **Input:** one Bernoulli outcome per update: 1 for a success (a click, a conversion, an
    error, whatever rate is watched), 0 otherwise.

    Each outcome adds its log-likelihood ratio to the running sum ``llr``: ``ln(p1 / p0)``
    for a 1, ``ln((1 - p1) / (1 - p0))`` for a 0. With Wald's boundaries
    ``A = ln((1 - beta) / alpha)`` and ``B = ln(beta / (1 - alpha))``, the test accepts H1
    (the rate is ``p1``) when ``llr >= A``, accepts H0 (the rate is ``p0``) when
    ``llr <= B``, and otherwise asks for more data. Accepting H1 is a drift; either decision
    ends the test, and the next update starts a new one from ``llr = 0``. ``decision`` says
    which hypothesis the last update accepted, if any. ``p1`` may lie below ``p0`` to watch
    for a drop.

    Parameters:
        p0: the rate under H0 (no change), in (0, 1).
        p1: the rate under H1 (the change to detect), in (0, 1) and not ``p0``.
        alpha: probability of accepting H1 when H0 holds (false alarm), in (0, 1).
        beta: probability of accepting H0 when H1 holds (miss), in (0, 1 - alpha).

    >>> import random
    >>> rng = random.Random(5)
    >>> clicks = [int(rng.random() < 0.05) for _ in range(1000)]
    >>> clicks += [int(rng.random() < 0.10) for _ in range(300)]
    >>> detector = SPRT(p0=0.05, p1=0.10)
    >>> [(i, detector.decision) for i, x in enumerate(clicks) if detector.update(x).decision]
    [(331, 'h0'), (428, 'h0'), (691, 'h0'), (747, 'h0'), (803, 'h0'), (928, 'h0'),
     (1025, 'h1'), (1252, 'h1')]

    References:
        Wald, A. (1945). Sequential tests of statistical hypotheses. The Annals of
        Mathematical Statistics 16(2), 117-186.
    """

    name = "sprt"
    binary_input = True
    state_fields = ("count", "llr", "decision")

    def __init__(self, *, p0: float, p1: float, alpha: float = 0.05, beta: float = 0.1) -> None:
        super().__init__()
        self._p0 = check_real("p0", p0, 0.0, 1.0)
        self._p1 = check_real("p1", p1, 0.0, 1.0)
        if self._p1 == self._p0:
            raise ValueError(f"expected p1 different from p0, got p0 = p1 = {p1!r}")
        self._alpha = check_real("alpha", alpha, 0.0, 1.0)
        self._beta = check_real("beta", beta, 0.0, 1.0 - self._alpha)
        self._log_success = math.log(self._p1 / self._p0)
        self._log_failure = math.log((1.0 - self._p1) / (1.0 - self._p0))
        self._accept_h1 = math.log((1.0 - self._beta) / self._alpha)
        self._accept_h0 = math.log(self._beta / (1.0 - self._alpha))
        self._reset()

    @property
    def params(self) -> dict[str, Any]:
        return {"p0": self._p0, "p1": self._p1, "alpha": self._alpha, "beta": self._beta}

    @property
    def decision(self) -> Decision | None:
        """``"h1"`` or ``"h0"`` if the last update ended the test with that decision."""
        return self._decision

    @property
    def log_likelihood_ratio(self) -> float:
        """The running log-likelihood ratio of H1 against H0 in the current test."""
        return self._llr

    @property
    def boundaries(self) -> tuple[float, float]:
        """Wald's ``(B, A)``: accept H0 at or below ``B``, H1 at or above ``A``."""
        return self._accept_h0, self._accept_h1

    def _restart_pending(self) -> bool:
        return self._decision is not None

    def _reset(self) -> None:
        self._count = 0
        self._llr = 0.0
        self._decision: Decision | None = None

    def _step(self, x: float) -> None:
        self._count += 1
        self._llr += self._log_success if x == 1.0 else self._log_failure
        if self._llr >= self._accept_h1:
            self._decision = "h1"
            self._drift_detected = True
        elif self._llr <= self._accept_h0:
            self._decision = "h0"
