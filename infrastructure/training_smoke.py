"""Run the retraining function's ``lambda`` backend end to end on small seeded frames.

Every estimator of the allow-list (``driftline.training.ESTIMATORS``) is trained for every
task it fits, once with scikit-learn's defaults and once with each allowed parameter set,
then serialised, reloaded through the hash check, used to predict, and judged on the
holdout by every gate metric of its task, per segment and (binary) with the fairness gate.
Gradient boosting is also trained on more than 10,000 rows, where scikit-learn turns on
early stopping. The rows come in through ``driftline.io`` as CSV and as Parquet, and the
monitor definition is parsed from YAML, as the retraining steps read them.

It has two uses, both against the built artifacts:

* ``layers/training/Makefile`` passes it to ``infrastructure/precompile.py`` with
  ``--import-file``: the trace then sees what training imports lazily (compiled to .pyc),
  and ``--prune`` refuses to delete any of it;
* ``tests/infrastructure/test_sam_build.py`` runs it with Python 3.12 and only the retrain
  function's folders on ``sys.path`` (``python3.12 -I -S -B training_smoke.py DIR...``),
  which proves the pruned layer still trains. It prints ``ok: <n> models``.

It runs when executed or imported (that is what the trace needs), takes about 15 s, and
writes nothing.
"""

from __future__ import annotations

import io
import sys

if __name__ == "__main__":
    sys.path[:0] = sys.argv[1:]

import numpy as np
import pandas as pd

from driftline import training
from driftline.aws import retraining  # noqa: F401  (imported as the handler imports it)
from driftline.config import load_monitor_definition
from driftline.io import open_table
from driftline.model_store import sha256_of

DEFINITION = """\
model: smoke
schema:
  id: request_id
  task: binary_classification
  label: y
  features: {x: numeric, z: numeric, region: categorical}
  segments: [region]
  sensitive: tier
baseline: {path: baselines/smoke/reference.csv}
retraining:
  backend: lambda
  estimator: gradient_boosting
  params: {max_iter: 5}
  fairness: {metric: disparate_impact, min: 0.0}
"""
#: Label column per task.
TASKS = {"binary_classification": "y", "multiclass_classification": "m", "regression": "v"}
#: Non-default values for every allowed parameter of each estimator.
PARAMS = {
    "logistic_regression": {
        "C": 0.5,
        "max_iter": 200,
        "tol": 1e-3,
        "class_weight": "balanced",
        "fit_intercept": False,
    },
    "random_forest": {
        "n_estimators": 5,
        "max_depth": 3,
        "min_samples_leaf": 2,
        "min_samples_split": 4,
        "max_features": "log2",
    },
    "gradient_boosting": {
        "learning_rate": 0.2,
        "max_iter": 5,
        "max_depth": 3,
        "max_leaf_nodes": 7,
        "min_samples_leaf": 5,
        "l2_regularization": 0.1,
    },
    "ridge": {"alpha": 2.0, "fit_intercept": False, "tol": 1e-3},
}
REGRESSION_METRICS = frozenset({"mae", "rmse", "mape", "r2"})
BINARY_ONLY_METRICS = frozenset({"precision", "recall", "f1", "auc", "gini", "log_loss", "brier"})


def labelled_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Numeric and categorical features with gaps; a label for each task."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(rows)],
            "t": pd.date_range("2026-11-01", periods=rows, freq="min").astype(str),
            "x": rng.normal(size=rows),
            "z": rng.uniform(size=rows),
            "region": rng.choice(["north", "south", None], rows),
            "tier": rng.choice(["a", "b"], rows),
        }
    )
    frame.loc[::17, "x"] = np.nan
    signal = frame["x"].fillna(0.0) + rng.normal(scale=0.5, size=rows)
    frame["y"] = (signal > 0).astype(int)
    frame["m"] = np.where(signal > 0.5, "high", np.where(signal < -0.5, "low", "mid"))
    frame["v"] = 2.0 * signal + frame["z"]
    return frame


def read_back(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` written as Parquet and as CSV and read back through ``driftline.io``."""
    parquet = io.BytesIO()
    frame.to_parquet(parquet, engine="fastparquet")
    csv = frame.to_csv(index=False).encode()
    for data, name in ((parquet.getvalue(), "rows.parquet"), (csv, "rows.csv")):
        rows = sum(len(chunk) for chunk in open_table(data, name=name))
        assert rows == len(frame), (name, rows)
    return pd.concat(list(open_table(csv, name="rows.csv")), ignore_index=True)


def train_and_judge(frame: pd.DataFrame, spec: training.TrainingSpec, sensitive: str) -> None:
    """Train, serialise, reload, predict and judge one model on ``frame``."""
    train, holdout = training.split_by_time(frame, time="t", holdout_share=0.25)
    model = training.train_model(train, spec)
    artifact = training.dump_model(model)
    reloaded = training.load_model(artifact, sha256_of(artifact))
    challenger = training.predict(reloaded, holdout, spec)
    champion = training.predict(model, holdout, spec)
    assert np.array_equal(challenger.prediction, champion.prediction), spec
    for metric in training.GATE_METRICS:
        if (spec.task == "regression") != (metric in REGRESSION_METRICS):
            continue
        if spec.task != "binary_classification" and metric in BINARY_ONLY_METRICS:
            continue
        fairness = {}
        if spec.task == "binary_classification":
            fairness = {"fairness_metric": "disparate_impact", "fairness_min": 0.0}
        settings = training.GateSettings(
            metric=metric,
            segments=("region",),
            min_segment_rows=5,
            sensitive=sensitive,
            **fairness,  # type: ignore[arg-type]
        )
        comparison = training.compare_on_holdout(
            holdout,
            label=spec.label,
            task=spec.task,
            challenger=challenger,
            champion=champion,
            settings=settings,
        )
        assert comparison.improvement == 0.0, (spec, metric, comparison.to_dict())


def exercise() -> int:
    """Every estimator for every task it fits, with default and with non-default
    parameters; returns how many models were trained."""
    definition = load_monitor_definition(DEFINITION)
    assert definition.retraining is not None and definition.schema_.sensitive == "tier"
    frame = read_back(labelled_frame(400))
    trained = 0
    for name, allowed in training.ESTIMATORS.items():
        for task, label in TASKS.items():
            if task not in allowed.tasks:
                continue
            for params in ({}, PARAMS[name]):
                spec = training.TrainingSpec(
                    task=task,
                    label=label,
                    numeric=("x", "z"),
                    categorical=("region",),
                    estimator=name,
                    params=params,
                    seed=1,
                )
                train_and_judge(frame, spec, sensitive="tier")
                trained += 1
    # Above 10,000 rows HistGradientBoosting holds out a validation share to stop early.
    large = labelled_frame(12_000, seed=1)
    spec = training.TrainingSpec(
        task="binary_classification",
        label="y",
        numeric=("x", "z"),
        categorical=("region",),
        estimator="gradient_boosting",
        params={"max_iter": 20},
    )
    train_and_judge(large, spec, sensitive="tier")
    return trained + 1


MODELS = exercise()

if __name__ == "__main__":
    print(f"ok: {MODELS} models")
