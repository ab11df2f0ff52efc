"""Champion–challenger canary analysis: is the challenger better on live traffic?

During a canary the challenger serves a small share of the requests and the champion the
rest. Each arm's labelled rows give one *outcome* per row: a 0/1 error or click (a
proportion metric) or a per-row loss such as the absolute error (a continuous metric).
:func:`analyse_canary` compares the arms and decides:

``promote``
    the challenger is better, with statistical significance;
``rollback``
    a guardrail is breached, the challenger is significantly worse, or it was not shown
    better by the fixed horizon or the time box (the champion keeps serving: a canary
    must earn its promotion);
``continue``
    not enough evidence yet; analyse again after more traffic.

The statistics, each a small pure function checked against scipy and statsmodels:

- :func:`two_proportion_ztest` (pooled), for error rate or CTR;
- :func:`welch_t_test` and a seeded :func:`bootstrap_difference_ci` for continuous metrics;
- :func:`mixture_sprt`, a sequential rule valid at every look, so a clear difference stops
  the canary early without inflating the false-promotion rate by peeking.

The significance level is split: half for the sequential rule (early stops), half for the
fixed-horizon test at the end, so the chance of promoting a challenger that is not better
is at most ``alpha`` (a union bound) however often the canary is analysed.

>>> champion = ArmData.from_outcomes([1.0] * 150 + [0.0] * 850)     # 15 % errors
>>> challenger = ArmData.from_outcomes([1.0] * 90 + [0.0] * 910)    # 9 % errors
>>> settings = CanarySettings(metric="error_rate", min_rows=200, max_rows=5000)
>>> decision = analyse_canary(champion, challenger, settings, elapsed_seconds=600)
>>> decision.decision, round(decision.test.p_value, 5), decision.sequential.crossed
('promote', 4e-05, True)

References:
    Wald, A. (1945). Sequential tests of statistical hypotheses. *Ann. Math. Statist.* 16.
    Robbins, H. (1970). Statistical methods related to the law of the iterated logarithm.
    Johari, R., Koomen, P., Pekelis, L., Walsh, D. (2017). Peeking at A/B tests: why it
    matters, and what to do about it. *KDD '17* (the mixture SPRT used here).
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. *Biometrika* 34.

The package's rooms:

- :mod:`~driftline.canary.significance`: the tests (z-test, Welch, bootstrap, mixture SPRT);
- :mod:`~driftline.canary.arms`: what each arm served, read from its rows, and the metrics;
- :mod:`~driftline.canary.decision`: the settings, the guardrails and the decision.
"""

from __future__ import annotations

from driftline.canary.arms import CANARY_METRICS, ArmData, MetricKind, arm_from_rows
from driftline.canary.decision import (
    CanaryDecision,
    CanarySettings,
    Decision,
    Guardrail,
    analyse_canary,
)
from driftline.canary.significance import (
    Comparison,
    SequentialResult,
    bootstrap_difference_ci,
    mixture_sprt,
    two_proportion_ztest,
    welch_t_test,
)

__all__ = [
    "CANARY_METRICS",
    "ArmData",
    "CanaryDecision",
    "CanarySettings",
    "Comparison",
    "Decision",
    "Guardrail",
    "MetricKind",
    "SequentialResult",
    "analyse_canary",
    "arm_from_rows",
    "bootstrap_difference_ci",
    "mixture_sprt",
    "two_proportion_ztest",
    "welch_t_test",
]
