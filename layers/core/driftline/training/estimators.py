"""The ``lambda`` training backend's estimators, the only module that imports scikit-learn:
the allow-list (:data:`ESTIMATORS`), the pipeline built from it and fitted
(:func:`train_model`), a model's predictions (or the ones the serving model logged), and
models as joblib bytes, verified before they are unpickled (:func:`load_model`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import joblib  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.compose import ColumnTransformer  # type: ignore[import-untyped]
from sklearn.ensemble import (  # type: ignore[import-untyped]
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression, Ridge  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # type: ignore[import-untyped]
from sklearn.utils._param_validation import (  # type: ignore[import-untyped]
    InvalidParameterError,
)

from driftline.errors import ConfigError, InsufficientDataError, InvalidInputError
from driftline.metrics.encoding import normalise_label
from driftline.model_store import verify_artifact
from driftline.training.data import TrainingSpec, class_array, feature_frame, label_array

_CLASSIFICATION = frozenset({"binary_classification", "multiclass_classification"})
_ALL = frozenset({*_CLASSIFICATION, "regression"})


@dataclass(frozen=True)
class EstimatorSpec:
    """An allowed estimator: its classes by task, and whether it wants scaled inputs."""

    classifier: Any
    regressor: Any
    tasks: frozenset[str]
    params: frozenset[str]
    scaled: bool = False
    seeded: bool = True


#: The allow-list: only these are ever built, with only these parameters (scikit-learn's
#: names). ``config.ESTIMATOR_TASKS``/``ESTIMATOR_PARAMS`` equal it (a test keeps them so).
ESTIMATORS: dict[str, EstimatorSpec] = {
    "logistic_regression": EstimatorSpec(
        LogisticRegression,
        None,
        _CLASSIFICATION,
        frozenset({"C", "max_iter", "tol", "class_weight", "fit_intercept"}),
        scaled=True,
    ),
    "random_forest": EstimatorSpec(
        RandomForestClassifier,
        RandomForestRegressor,
        _ALL,
        frozenset(
            {"n_estimators", "max_depth", "min_samples_leaf", "min_samples_split", "max_features"}
        ),
    ),
    "gradient_boosting": EstimatorSpec(
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        _ALL,
        frozenset(
            {
                "learning_rate",
                "max_iter",
                "max_depth",
                "max_leaf_nodes",
                "min_samples_leaf",
                "l2_regularization",
            }
        ),
    ),
    "ridge": EstimatorSpec(
        None,
        Ridge,
        frozenset({"regression"}),
        frozenset({"alpha", "fit_intercept", "tol"}),
        scaled=True,
        seeded=False,
    ),
}


def build_estimator(spec: TrainingSpec) -> Any:
    """The unfitted pipeline: imputation (+ scaling for linear models) and one-hot
    encoding in front of the allowed estimator, seeded.

    Raises:
        ConfigError: the estimator is not allowed, does not fit the task, or is given a
            parameter it does not accept (the message names ``retraining.<key>``).
    """
    name = spec.estimator_name
    allowed = ESTIMATORS.get(name)
    if allowed is None:
        raise ConfigError(
            f"retraining.estimator: {name!r} is not allowed; allowed: {', '.join(ESTIMATORS)}"
        )
    if spec.task not in allowed.tasks:
        raise ConfigError(
            f"retraining.estimator: {name} does not fit task {spec.task}; it applies to "
            f"{', '.join(sorted(allowed.tasks))}"
        )
    unknown = sorted(set(spec.params) - allowed.params)
    if unknown:
        raise ConfigError(
            f"retraining.params.{unknown[0]}: not a parameter of {name}; allowed: "
            f"{', '.join(sorted(allowed.params))}"
        )
    kind = allowed.regressor if spec.task == "regression" else allowed.classifier
    params = dict(spec.params)
    if allowed.seeded:
        params["random_state"] = spec.seed
    estimator = kind(**params)
    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if allowed.scaled:
        numeric_steps.append(("scale", StandardScaler()))
    categorical_steps = [
        ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
        ("encode", OneHotEncoder(handle_unknown="ignore")),
    ]
    transformers: list[tuple[str, Any, list[str]]] = []
    if spec.numeric:
        transformers.append(("numeric", Pipeline(numeric_steps), list(spec.numeric)))
    if spec.categorical:
        transformers.append(("categorical", Pipeline(categorical_steps), list(spec.categorical)))
    if not transformers:
        raise ConfigError("retraining needs at least one feature in schema.features")
    return Pipeline(
        [("features", ColumnTransformer(transformers, sparse_threshold=0.0)), ("model", estimator)]
    )


def train_model(frame: pd.DataFrame, spec: TrainingSpec) -> Any:
    """Fit the estimator on ``frame`` (features and label).

    Raises:
        ConfigError: see :func:`build_estimator`; also a parameter value scikit-learn
            refuses (``retraining.params``).
        InvalidInputError: a feature or the label column is missing, or a label is.
        ValueError: scikit-learn cannot fit the data (for example a single class).
    """
    pipeline = build_estimator(spec)
    features, labels = feature_frame(frame, spec), label_array(frame, spec)
    try:
        pipeline.fit(features, labels)
    except InvalidParameterError as exc:
        raise ConfigError(f"retraining.params: {exc}", reason="invalid_config") from None
    return pipeline


@dataclass(frozen=True)
class Predictions:
    """A model's predictions on some rows: the label (or value) and, for binary
    classification, the score (probability of the positive class) when known."""

    prediction: NDArray[Any]
    score: NDArray[np.float64] | None = None


def predict(model: Any, frame: pd.DataFrame, spec: TrainingSpec) -> Predictions:
    """The fitted ``model``'s predictions on ``frame``."""
    features = feature_frame(frame, spec)
    predicted = np.asarray(model.predict(features))
    if spec.task == "regression":
        return Predictions(predicted.astype(np.float64))
    predicted = class_array(predicted)
    if spec.task != "binary_classification":
        return Predictions(predicted)
    classes = [normalise_label(value) for value in model.classes_]
    positive = normalise_label(spec.positive_class)
    if positive not in classes:
        raise InvalidInputError(
            f"schema.positive_class {positive!r} is not a class the model learnt ({classes})",
            reason="unknown_positive_class",
        )
    scores = np.asarray(model.predict_proba(features), dtype=np.float64)[:, classes.index(positive)]
    return Predictions(predicted, scores)


def logged_predictions(
    frame: pd.DataFrame, *, task: str, prediction: str | None, score: str | None
) -> Predictions:
    """The predictions the serving model logged (the champion's, when the registry holds no
    artifact for it).

    Raises:
        InsufficientDataError: the rows carry no logged prediction.
    """
    if prediction is None or prediction not in frame.columns:
        raise InsufficientDataError(
            "the champion has no artifact in the registry and the holdout rows carry no "
            "logged prediction (schema.prediction) to judge it by",
            reason="no_champion_predictions",
        )
    values = frame[prediction]
    if task == "regression":
        predicted: NDArray[Any] = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    else:
        predicted = np.asarray(
            [None if pd.isna(value) else normalise_label(value) for value in values], dtype=object
        )
    scores = None
    if task == "binary_classification" and score is not None and score in frame.columns:
        scores = pd.to_numeric(frame[score], errors="coerce").to_numpy(np.float64)
    return Predictions(predicted, scores)


def dump_model(model: Any) -> bytes:
    """The model as joblib bytes (compressed; what the registry stores)."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def load_model(data: bytes, sha256: str, *, key: str = "artifact") -> Any:
    """Unpickle a model, only after its bytes are verified against ``sha256``.

    Raises:
        driftline.model_store.ArtifactIntegrityError: the digest differs; nothing is loaded.
    """
    verify_artifact(data, sha256, key=key)
    return joblib.load(io.BytesIO(data))
