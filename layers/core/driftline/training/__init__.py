"""The ``lambda`` training backend: fit a scikit-learn estimator, judge it on a time holdout.

This package is the only one that imports scikit-learn, in its estimators (the monitoring
path never does, and the retraining steps import it only in the steps that train or
predict). It is pure: frames
and settings in, models, predictions and verdicts out.

1. :func:`split_by_time` keeps the most recent share of the labelled rows as the holdout,
   so the challenger is judged on data later than any it was trained on.
2. :func:`train_model` builds the estimator named in the monitor definition from an
   allow-list (:data:`ESTIMATORS`), behind imputation and one-hot encoding, seeded.
3. :func:`compare_on_holdout` judges challenger against champion on the holdout, overall
   and per segment, through the gates: better by the margin, no segment worse beyond the
   tolerance, the fairness gate when configured. Metrics are driftline's own
   (:mod:`driftline.metrics`), so a gate means what a monitoring check means.

Models travel as joblib bytes; :func:`load_model` verifies their SHA-256 *before*
unpickling (:func:`driftline.model_store.verify_artifact`).

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> frame = pd.DataFrame({"x": rng.normal(size=400), "t": range(400)})
>>> frame["y"] = (frame["x"] + rng.normal(scale=0.5, size=400) > 0).astype(int)
>>> train, holdout = split_by_time(frame, time="t", holdout_share=0.25)
>>> spec = TrainingSpec(task="binary_classification", label="y", numeric=("x",))
>>> model = train_model(train, spec)
>>> predictions = predict(model, holdout, spec)
>>> round(float((predictions.prediction == holdout["y"].to_numpy()).mean()), 3)
0.82

The package's rooms:

- :mod:`~driftline.training.data`: what to train (``TrainingSpec``), the time split, the
  features and labels;
- :mod:`~driftline.training.estimators`: the allow-list, fitting, predictions, joblib bytes;
- :mod:`~driftline.training.gates`: the holdout comparison and its gates.
"""

from __future__ import annotations

from collections.abc import Sequence

from driftline.training.data import (
    TrainingSpec,
    default_estimator,
    feature_columns,
    limit_rows,
    split_by_time,
)
from driftline.training.estimators import (
    ESTIMATORS,
    EstimatorSpec,
    Predictions,
    build_estimator,
    dump_model,
    load_model,
    logged_predictions,
    predict,
    train_model,
)
from driftline.training.gates import (
    GATE_METRICS,
    Gate,
    GateSettings,
    HoldoutComparison,
    compare_on_holdout,
    default_metric,
)

__all__: Sequence[str] = (
    "ESTIMATORS",
    "GATE_METRICS",
    "EstimatorSpec",
    "Gate",
    "GateSettings",
    "HoldoutComparison",
    "Predictions",
    "TrainingSpec",
    "build_estimator",
    "compare_on_holdout",
    "default_estimator",
    "default_metric",
    "dump_model",
    "feature_columns",
    "limit_rows",
    "load_model",
    "logged_predictions",
    "predict",
    "split_by_time",
    "train_model",
)
