"""How often a model that has not changed pages anyway: the false pages and retraining starts
a month that a per-evaluation false-alarm probability, a persistence rule and the cooldowns
give (docs/alerts.md, "Persistence and the false-page rate").

The model: evaluations are independent and stationary, and each fails with probability
``alpha``, the per-evaluation family-wise false-alarm probability (the chance that the checks
of one evaluation find a failure where there is none). A check with ``persist: {windows: K,
of: M}`` has its rule met at evaluation t when t fails and at least K of the M latest, t
included, fail, so at least K - 1 of the M - 1 before it::

    P = alpha * P(Binomial(M - 1, alpha) >= K - 1)
      = sum over j = K..M of C(M - 1, j - 1) * alpha**j * (1 - alpha)**(M - j)

Within a run of consecutive failures the count of failures among the M latest never
decreases (each step adds a failure and drops at most one), so the alert fires (a page) at
the first evaluation of a run where the rule is met, and a page at t is "rule met at t, and
not at t - 1 with t - 1 failing". The second event has probability ``alpha * P`` (t - 1 met
the rule, then t failed), so a page is exactly ``(1 - alpha) * P`` per evaluation in the
steady state. Without a rule (K = M = 1) this is ``alpha * (1 - alpha)``: a failure after a
pass.
"""

from __future__ import annotations

import math
from datetime import timedelta

from driftline.config.checks import PersistSpec
from driftline.config.durations import parse_duration

#: The month the figures are per: 30 days.
MONTH_DAYS = 30


def rule_met_probability(alpha: float, persist: PersistSpec | None = None) -> float:
    """The probability that the rule is met at a given evaluation (it fails, with at least
    ``windows`` failures among the ``of`` latest), for independent evaluations each failing
    with probability ``alpha``. Without a rule, ``alpha``.

    >>> from driftline.config import PersistSpec
    >>> round(rule_met_probability(0.05, PersistSpec(windows=2, of=2)), 6)
    0.0025
    >>> round(rule_met_probability(0.05, PersistSpec(windows=3, of=4)), 6)
    0.000363

    Raises:
        ValueError: ``alpha`` outside [0, 1].
    """
    _check_alpha(alpha)
    if persist is None:
        return alpha
    k, m = persist.windows, persist.of
    return sum(math.comb(m - 1, j - 1) * alpha**j * (1 - alpha) ** (m - j) for j in range(k, m + 1))


def false_pages_per_month(
    alpha: float,
    evaluations_per_day: float,
    persist: PersistSpec | None = None,
    *,
    cooldown: str | timedelta = "PT6H",
) -> float:
    """Expected false problem notifications (``firing`` pages and ``reminder`` notifications)
    of one check in a 30-day month of a stationary model, in the steady state.

    Pages: ``(1 - alpha) * P`` per evaluation (:func:`rule_met_probability`), exactly, under
    the model. Reminders: an alert still failing ``r = ceil(cooldown / spacing)``
    evaluations after someone was told is reminded; each further ``r`` consecutive failures
    cost one more, so each page brings ``alpha**r / (1 - alpha**r)`` reminders on average.
    The notify cooldown never holds back a page: an alert that resolved fires again at its
    next failure that meets the rule.

    Args:
        alpha: the per-evaluation family-wise false-alarm probability, in [0, 1).
        evaluations_per_day: how many evaluations a day (24 hourly, 1 daily), positive.
        persist: the check's rule, or None (a failure fires at once).
        cooldown: ``actions.notify.cooldown`` (an ISO 8601 duration or a ``timedelta``).

    >>> round(false_pages_per_month(0.05, 24), 2)
    34.2
    >>> from driftline.config import PersistSpec
    >>> round(false_pages_per_month(0.05, 24, PersistSpec(windows=3, of=4)), 3)
    0.248

    Raises:
        ValueError: ``alpha`` outside [0, 1), a spacing that is not positive, or a cooldown
            that is not a positive duration.
    """
    _check_alpha(alpha)
    if alpha == 1:
        raise ValueError("expected alpha in [0, 1), got 1: a check that always fails")
    spacing = _spacing(evaluations_per_day)
    wait = _duration(cooldown)
    evaluations = MONTH_DAYS * evaluations_per_day
    pages = evaluations * (1 - alpha) * rule_met_probability(alpha, persist)
    r = max(1, math.ceil(wait / spacing))
    return pages * (1 + alpha**r / (1 - alpha**r))


def retrain_starts_per_month(
    alpha: float,
    evaluations_per_day: float,
    persist: PersistSpec | None = None,
    *,
    cooldown: str | timedelta = "P1D",
) -> float:
    """Expected false retraining starts of one check in a 30-day month, in the steady state:
    an approximation, never above the exact count without a cooldown.

    A failing check whose alert is firing asks for its action at every evaluation where the
    rule is met (probability ``P``, :func:`rule_met_probability`); the action then starts
    unless one started less than ``cooldown`` ago, which blocks the next
    ``w = ceil(cooldown / spacing) - 1`` evaluations. Counted as a renewal process with
    independent asks (a dead time of ``w`` after each start), a month has
    ``N * P / (1 + P * w)`` starts of ``N`` evaluations: exact when ``w`` is 0, otherwise an
    approximation, since asks come in runs (docs/alerts.md gives its error against a
    simulation); ``N * P`` is the bound without a cooldown.

    >>> round(retrain_starts_per_month(0.05, 24), 2)
    16.74
    >>> round(retrain_starts_per_month(0.05, 1), 2)
    1.5
    """
    _check_alpha(alpha)
    spacing = _spacing(evaluations_per_day)
    blocked = max(0, math.ceil(_duration(cooldown) / spacing) - 1)
    asked = rule_met_probability(alpha, persist)
    return MONTH_DAYS * evaluations_per_day * asked / (1 + asked * blocked)


def _check_alpha(alpha: float) -> None:
    if not 0 <= alpha <= 1:
        raise ValueError(f"expected alpha in [0, 1], got {alpha}")


def _spacing(evaluations_per_day: float) -> timedelta:
    if not evaluations_per_day > 0 or not math.isfinite(evaluations_per_day):
        raise ValueError(f"expected evaluations_per_day > 0, got {evaluations_per_day}")
    return timedelta(days=1) / evaluations_per_day


def _duration(cooldown: str | timedelta) -> timedelta:
    wait = parse_duration(cooldown) if isinstance(cooldown, str) else cooldown
    if wait <= timedelta(0):
        raise ValueError(f"expected a positive cooldown, got {cooldown}")
    return wait
