"""What the act step does about an evaluation: notify, remind, resolve, retrain, or wait.

An evaluation says which checks failed; acting on it needs memory. Per model, driftline keeps
one :class:`AlertState` per check (is it firing, since when, when was someone last told) and
one :class:`ActionState` per retraining action (when did the last execution start).
:func:`plan_actions` takes an evaluation, that memory and the current time and returns an
:class:`ActionPlan`: the notifications to publish, the retraining executions to start, the
states to write back, and why anything was held back. It does no I/O and reads no clock, so
the same inputs always give the same plan; the act function's adapters carry it out.

The rules (docs/alerts.md):

- a check that newly fails fires; every new failure of one evaluation goes into **one**
  ``firing`` notification, which also lists the checks still failing;
- a check still failing is quiet until ``actions.notify.cooldown`` has passed since someone was
  last told, then one ``reminder`` lists every failing check; a retraining started by the
  evaluation is always announced, so it makes a reminder due as well;
- a firing check that passes again goes into one ``resolved`` notification;
- a skipped check changes nothing;
- a check with a persistence rule (``persist: {windows: K, of: M}``) fires only when it
  failed in K of its last M decided evaluations of the same window length; until then it is
  ``pending``, and nothing is sent or started for it;
- ``retrain`` and ``emergency_retrain`` start at most one execution per cooldown window
  each; ``emergency_retrain`` ignores the ``retrain`` cooldown, and when one evaluation asks
  for both only ``emergency_retrain`` starts; a ``retrain`` waits out its cooldown after
  either kind of start;
- every state remembers the last :data:`RECENT_EVALUATIONS` evaluations it has handled, so a
  redelivered evaluation changes nothing and sends nothing.

One room per part of the decision, each a module of this package:

- :mod:`~driftline.alerts.planning`: :func:`plan_actions` and the :class:`ActionPlan`;
- :mod:`~driftline.alerts.reading`: the evaluation result as the planner reads it;
- :mod:`~driftline.alerts.transitions`: how an evaluation moves each check's alert state;
- :mod:`~driftline.alerts.retrain_starts`: which retraining executions start, cooldowns;
- :mod:`~driftline.alerts.notifications`: the notifications' message, subject and body;
- :mod:`~driftline.alerts.states`: the alert and action states, saved and read back;
- :mod:`~driftline.alerts.identifiers`: fingerprints, execution names, dedup keys;
- :mod:`~driftline.alerts.windows`: several windows' results combined into one;
- :mod:`~driftline.alerts.persistence`: the persistence rule's history and tally;
- :mod:`~driftline.alerts.false_alarms`: the false pages a month a stationary model gets.

>>> from datetime import datetime, timedelta, timezone
>>> from driftline.config import load_monitor_definition
>>> definition = load_monitor_definition('''
... model: churn
... schema: {task: binary_classification, prediction: p, label: y, features: {tenure: numeric}}
... baseline: {path: baselines/churn/reference.csv}
... checks: [{name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}]
... ''')
>>> result = {"model": "churn", "evaluation_id": "e1", "status": "critical", "checks": [
...     {"name": "accuracy-floor", "status": "fail", "value": 0.8217, "threshold": 0.85,
...      "baseline": 0.8674, "segment": None, "action": "retrain",
...      "detail": "accuracy is 0.8217, below the minimum 0.85"}]}
>>> now = datetime(2024, 6, 1, 3, 0, tzinfo=timezone.utc)
>>> plan = plan_actions(definition, result, {}, {}, now)
>>> [(n.kind, n.subject) for n in plan.notifications]
[('firing', '[driftline] churn: CRITICAL - accuracy-floor failed (accuracy 0.8217 < 0.85)')]
>>> plan.retrain_starts[0].execution_name
'churn-retrain-e1-9b1d3bbba97c'
>>> plan.alert_states["accuracy-floor"].status, plan.action_states["retrain"].last_started
('firing', '2024-06-01T03:00:00Z')

The same evaluation delivered again, an hour later, with the states the first run wrote:

>>> again = plan_actions(
...     definition, result, plan.alert_states, plan.action_states, now + timedelta(hours=1)
... )
>>> again.empty, again.suppressed
(True, ['evaluation e1 already handled: accuracy-floor, retrain'])
"""

from __future__ import annotations

from driftline.alerts.false_alarms import (
    false_pages_per_month,
    retrain_starts_per_month,
    rule_met_probability,
)
from driftline.alerts.identifiers import (
    DEDUP_KEY_LIMIT,
    EXECUTION_NAME_LIMIT,
    alert_fingerprint,
    dedup_key,
    execution_name,
)
from driftline.alerts.notifications import (
    MESSAGE_VERSION,
    SUBJECT_LIMIT,
    Notification,
    NotificationKind,
)
from driftline.alerts.planning import ActionPlan, plan_actions
from driftline.alerts.reading import WORST_SLICES_SHOWN
from driftline.alerts.retrain_starts import RetrainAction, RetrainStart
from driftline.alerts.states import (
    RECENT_EVALUATIONS,
    STATE_VERSION,
    ActionState,
    AlertState,
    AlertStatus,
    Outcome,
)
from driftline.alerts.windows import combine_windows, windowed_name

__all__ = [
    "DEDUP_KEY_LIMIT",
    "EXECUTION_NAME_LIMIT",
    "MESSAGE_VERSION",
    "RECENT_EVALUATIONS",
    "STATE_VERSION",
    "SUBJECT_LIMIT",
    "WORST_SLICES_SHOWN",
    "ActionPlan",
    "ActionState",
    "AlertState",
    "AlertStatus",
    "Notification",
    "NotificationKind",
    "Outcome",
    "RetrainAction",
    "RetrainStart",
    "alert_fingerprint",
    "combine_windows",
    "dedup_key",
    "execution_name",
    "false_pages_per_month",
    "plan_actions",
    "retrain_starts_per_month",
    "rule_met_probability",
    "windowed_name",
]
