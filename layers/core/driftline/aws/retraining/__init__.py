"""The retraining steps the state machine runs (infrastructure/statemachines/retrain.asl.json),
one room per part of the run:

- :mod:`~driftline.aws.retraining.steps`: the steps in the order they run, and the dispatch
  of a task's event to its step (``run_step``);
- :mod:`~driftline.aws.retraining.context`: what every step gets (the adapters, its event)
  and the settings it reads from the monitor definition;
- :mod:`~driftline.aws.retraining.data`: the training data read back (kept rows, labels);
- :mod:`~driftline.aws.retraining.preparation`: ``prepare``: training data and holdout;
- :mod:`~driftline.aws.retraining.backends`: ``train`` (``lambda``) and ``collect``
  (``sagemaker``, ``external``);
- :mod:`~driftline.aws.retraining.gates`: ``evaluate`` on the holdout, ``register``;
- :mod:`~driftline.aws.retraining.rollout`: ``deploy_canary``, ``analyse_canary``,
  ``promote``, ``rollback``;
- :mod:`~driftline.aws.retraining.messages`: ``notify``: how it ended, told to on-call.
"""

from __future__ import annotations

from driftline.aws.retraining.context import RetrainingServices, StepEvent
from driftline.aws.retraining.steps import STEPS, run_step

__all__ = ["STEPS", "RetrainingServices", "StepEvent", "run_step"]
