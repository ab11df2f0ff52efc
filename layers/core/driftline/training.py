"""The ``lambda`` training backend: fit a scikit-learn estimator, judge it on a time holdout.

This is the only module that imports scikit-learn (the monitoring path never does, and the
retraining steps import it only in the steps that train or predict). It is pure: frames
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
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
from driftline.formatting import short_number
from driftline.metrics import METRICS
from driftline.metrics.classification import (
    Label,
    accuracy_score,
    brier_score_loss,
    error_rate,
    f1_score,
    gini_score,
    log_loss,
    normalise_label,
    precision_score,
    recall_score,
    roc_auc_score,
)
from driftline.metrics.fairness import disparate_impact, equal_opportunity_difference
from driftline.metrics.regression import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    r2_score,
    root_mean_squared_error,
)
from driftline.model_store import verify_artifact

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


def default_estimator(task: str) -> str:
    """The estimator used when the definition names none."""
    return "ridge" if task == "regression" else "logistic_regression"


def default_metric(task: str, *, has_score: bool) -> str:
    """The gate metric used when the definition names none.

    >>> default_metric("binary_classification", has_score=True), default_metric("regression",
    ...     has_score=False)
    ('auc', 'rmse')
    """
    if task == "regression":
        return "rmse"
    if task == "binary_classification" and has_score:
        return "auc"
    return "accuracy"


@dataclass(frozen=True)
class TrainingSpec:
    """What to train, from the monitor definition (schema and ``retraining``).

    Attributes:
        task: binary_classification, multiclass_classification or regression.
        label: the label column.
        numeric, categorical: the feature columns by kind.
        estimator: a name of :data:`ESTIMATORS` (None: :func:`default_estimator`).
        params: the estimator's parameters.
        seed: its ``random_state``.
        positive_class: for binary classification, the class whose probability is the score.
    """

    task: str
    label: str
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    estimator: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    positive_class: Label = 1

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

    @property
    def estimator_name(self) -> str:
        return self.estimator or default_estimator(self.task)


# -- data ---------------------------------------------------------------------------------


def split_by_time(
    frame: pd.DataFrame, *, time: str | None, holdout_share: float, min_rows: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The older rows to train on and the most recent ``holdout_share`` to judge on.

    Rows are ordered by ``time`` (ISO 8601 text or datetimes; unparseable times count as
    the oldest), ties and a missing ``time`` keep the frame's order.

    Raises:
        InsufficientDataError: either part would have fewer than ``min_rows`` rows.
        ValueError: ``holdout_share`` is not in (0, 1).

    >>> frame = pd.DataFrame({"t": ["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-04"]})
    >>> train, holdout = split_by_time(frame, time="t", holdout_share=0.5)
    >>> train["t"].tolist(), holdout["t"].tolist()
    (['2026-01-01', '2026-01-02'], ['2026-01-03', '2026-01-04'])
    """
    if not 0.0 < holdout_share < 1.0:
        raise ValueError(f"expected holdout_share in (0, 1), got {holdout_share}")
    ordered = frame.reset_index(drop=True)
    if time is not None and time in frame.columns:
        moments = pd.to_datetime(ordered[time], utc=True, errors="coerce", format="mixed")
        key = moments.fillna(pd.Timestamp.min.tz_localize("UTC"))
        ordered = ordered.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
    held = math.ceil(len(ordered) * holdout_share)
    train, holdout = ordered.iloc[: len(ordered) - held], ordered.iloc[len(ordered) - held :]
    if min(len(train), len(holdout)) < min_rows:
        raise InsufficientDataError(
            f"{len(frame)} labelled rows split into {len(train)} to train on and {len(holdout)} "
            f"to hold out; each needs at least {min_rows}",
            reason="insufficient_data",
            rows=len(frame),
        )
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


def _features(frame: pd.DataFrame, spec: TrainingSpec) -> pd.DataFrame:
    missing = [column for column in spec.features if column not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"training data has no feature column {missing[0]!r}", reason="missing_column"
        )
    columns: dict[str, Any] = {}
    for column in spec.numeric:
        columns[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in spec.categorical:
        values = frame[column]
        text = values.map(lambda value: None if pd.isna(value) else str(value))
        columns[column] = text.astype(object)
    return pd.DataFrame(columns, index=frame.index)


def _labels(frame: pd.DataFrame, spec: TrainingSpec) -> NDArray[Any]:
    if spec.label not in frame.columns:
        raise InvalidInputError(f"training data has no label column {spec.label!r}")
    values = frame[spec.label]
    if values.isna().any():
        raise InvalidInputError(f"label column {spec.label!r} has missing values")
    if spec.task == "regression":
        return pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64)
    return class_array(values)


def class_array(values: Sequence[Any] | pd.Series | NDArray[Any]) -> NDArray[Any]:
    """Class labels in their canonical form (:func:`normalise_label`), as one dtype:
    integers stay integers; a mix of kinds becomes text (scikit-learn needs one kind).

    >>> class_array([1.0, 0.0]).tolist(), class_array([1, "a"]).tolist()
    ([1, 0], ['1', 'a'])
    """
    labels = [normalise_label(value) for value in values]
    kinds = {type(label) for label in labels}
    if len(kinds) > 1:
        labels = [str(label) for label in labels]
    return np.asarray(labels)


# -- training -----------------------------------------------------------------------------


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
    features, labels = _features(frame, spec), _labels(frame, spec)
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
    features = _features(frame, spec)
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


# -- serialisation ------------------------------------------------------------------------


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


# -- judging ------------------------------------------------------------------------------

_Metric = Callable[[NDArray[Any], Predictions, Label], float]


def _needs_score(metric: str) -> bool:
    return metric in ("auc", "gini", "log_loss", "brier")


def _scored(function: Callable[..., float]) -> _Metric:
    def compute(truth: NDArray[Any], predictions: Predictions, positive: Label) -> float:
        assert predictions.score is not None
        return function(truth, predictions.score, positive_class=positive)

    return compute


def _labelled(function: Callable[..., float], **options: Any) -> _Metric:
    def compute(truth: NDArray[Any], predictions: Predictions, positive: Label) -> float:
        if options.get("average") == "binary":
            return function(truth, predictions.prediction, positive_class=positive, **options)
        return function(truth, predictions.prediction, **options)

    return compute


def _plain(function: Callable[..., float]) -> _Metric:
    def compute(truth: NDArray[Any], predictions: Predictions, positive: Label) -> float:
        return function(truth.astype(np.float64), predictions.prediction.astype(np.float64))

    return compute


#: How each gate metric is computed from labels and predictions.
GATE_METRICS: dict[str, _Metric] = {
    "accuracy": _labelled(accuracy_score),
    "error_rate": _labelled(error_rate),
    "precision": _labelled(precision_score, average="binary"),
    "recall": _labelled(recall_score, average="binary"),
    "f1": _labelled(f1_score, average="binary"),
    "f1_macro": _labelled(f1_score, average="macro"),
    "auc": _scored(roc_auc_score),
    "gini": _scored(gini_score),
    "log_loss": _scored(log_loss),
    "brier": _scored(brier_score_loss),
    "mae": _plain(mean_absolute_error),
    "rmse": _plain(root_mean_squared_error),
    "mape": _plain(mean_absolute_percentage_error),
    "r2": _plain(r2_score),
}


@dataclass(frozen=True)
class GateSettings:
    """How the challenger is judged on the holdout (``retraining`` in the definition)."""

    metric: str
    margin: float = 0.0
    segment_tolerance: float = 0.02
    min_segment_rows: int = 30
    segments: tuple[str, ...] = ()
    positive_class: Label = 1
    fairness_metric: str | None = None
    fairness_min: float | None = None
    fairness_max: float | None = None
    sensitive: str | None = None

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.metric].higher_is_better is not False


@dataclass(frozen=True)
class Gate:
    """One gate's verdict with its numbers."""

    name: str
    passed: bool
    detail: str
    value: float | None = None
    threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "detail": self.detail,
            "value": self.value,
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class HoldoutComparison:
    """Challenger against champion on the holdout: the figures and the gates.

    ``improvement`` is positive when the challenger is better, whatever the metric's
    direction; ``segments`` maps ``column=value`` to both models' values and rows.
    """

    metric: str
    rows: int
    challenger: float
    champion: float
    improvement: float
    segments: dict[str, dict[str, Any]]
    gates: tuple[Gate, ...]

    @property
    def passed(self) -> bool:
        return all(gate.passed for gate in self.gates)

    @property
    def blocked_by(self) -> list[str]:
        return [gate.name for gate in self.gates if not gate.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "rows": self.rows,
            "challenger": self.challenger,
            "champion": self.champion,
            "improvement": self.improvement,
            "segments": self.segments,
            "gates": [gate.to_dict() for gate in self.gates],
            "passed": self.passed,
            "blocked_by": self.blocked_by,
        }


def compare_on_holdout(
    holdout: pd.DataFrame,
    *,
    label: str,
    task: str,
    challenger: Predictions,
    champion: Predictions,
    settings: GateSettings,
) -> HoldoutComparison:
    """Judge the challenger against the champion on the same holdout rows.

    Rows where the champion has no prediction (or no score, for a score metric) are left
    out for both models, so both are judged on exactly the same rows.

    Raises:
        InsufficientDataError: no row is left to judge on, or the metric is undefined there
            (for example AUC on one class).
    """
    if settings.metric not in GATE_METRICS:
        raise ConfigError(
            f"retraining.metric: unknown gate metric {settings.metric!r}; allowed: "
            f"{', '.join(GATE_METRICS)}"
        )
    if _needs_score(settings.metric) and (challenger.score is None or champion.score is None):
        raise InsufficientDataError(
            f"gate metric {settings.metric} needs scores from both models (schema.score)",
            reason="no_scores",
        )
    keep = np.array(pd.notna(pd.Series(champion.prediction, dtype=object)), dtype=np.bool_)
    keep &= holdout[label].notna().to_numpy(dtype=np.bool_)
    if _needs_score(settings.metric):
        assert champion.score is not None
        keep &= np.isfinite(champion.score)
    if not keep.any():
        raise InsufficientDataError("no holdout row has both models' predictions and a label")
    rows = holdout[keep].reset_index(drop=True)
    new, old = _subset(challenger, keep), _subset(champion, keep)
    truth = _truth(rows[label], task)
    compute = GATE_METRICS[settings.metric]
    sign = 1.0 if settings.higher_is_better else -1.0
    value_new = compute(truth, new, settings.positive_class)
    value_old = compute(truth, old, settings.positive_class)
    improvement = sign * (value_new - value_old)
    gates = [_margin_gate(settings, value_new, value_old, improvement)]

    segments: dict[str, dict[str, Any]] = {}
    worst: tuple[float, str] | None = None
    for column in settings.segments:
        if column not in rows.columns:
            continue
        for value, index in rows.groupby(rows[column].astype("string"), sort=True).groups.items():
            positions = rows.index.get_indexer(index)
            key = f"{column}={value}"
            entry: dict[str, Any] = {"rows": len(positions)}
            segments[key] = entry
            if len(positions) < settings.min_segment_rows:
                entry["skipped"] = f"fewer than {settings.min_segment_rows} rows"
                continue
            mask = np.zeros(len(rows), dtype=np.bool_)
            mask[positions] = True
            try:
                entry["challenger"] = compute(
                    truth[mask], _subset(new, mask), settings.positive_class
                )
                entry["champion"] = compute(
                    truth[mask], _subset(old, mask), settings.positive_class
                )
            except (InsufficientDataError, ValueError) as exc:
                entry["skipped"] = str(exc)
                continue
            regression = -sign * (entry["challenger"] - entry["champion"])
            entry["regression"] = regression
            if worst is None or regression > worst[0]:
                worst = (regression, key)
    gates.append(_segment_gate(settings, worst, segments))
    if settings.fairness_metric is not None:
        gates.append(_fairness_gate(settings, rows, truth, new))
    return HoldoutComparison(
        settings.metric,
        len(rows),
        value_new,
        value_old,
        improvement,
        segments,
        tuple(gates),
    )


def _truth(values: pd.Series, task: str) -> NDArray[Any]:
    if task == "regression":
        return pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    return class_array(values)


def _subset(predictions: Predictions, mask: NDArray[np.bool_]) -> Predictions:
    score = None if predictions.score is None else predictions.score[mask]
    return Predictions(predictions.prediction[mask], score)


def _margin_gate(
    settings: GateSettings, challenger: float, champion: float, improvement: float
) -> Gate:
    passed = improvement > 0 and improvement >= settings.margin
    relation = "beats" if passed else "does not beat"
    detail = (
        f"challenger {settings.metric} {short_number(challenger)} {relation} "
        f"champion {short_number(champion)} "
        f"by the margin {short_number(settings.margin)} (improvement {short_number(improvement)})"
    )
    return Gate("margin", passed, detail, improvement, settings.margin)


def _segment_gate(
    settings: GateSettings,
    worst: tuple[float, str] | None,
    segments: Mapping[str, Mapping[str, Any]],
) -> Gate:
    if worst is None:
        judged = "no segment had enough rows to judge" if segments else "no segments configured"
        return Gate("segments", True, judged, None, settings.segment_tolerance)
    regression, key = worst
    passed = regression <= settings.segment_tolerance
    entry = segments[key]
    detail = (
        f"worst segment {key}: challenger {settings.metric} {short_number(entry['challenger'])} vs "
        f"champion {short_number(entry['champion'])} "
        f"(regression {short_number(regression)}, tolerance "
        f"{short_number(settings.segment_tolerance)})"
    )
    return Gate("segments", passed, detail, regression, settings.segment_tolerance)


def _fairness_gate(
    settings: GateSettings, rows: pd.DataFrame, truth: NDArray[Any], new: Predictions
) -> Gate:
    metric = settings.fairness_metric
    sensitive = settings.sensitive
    if sensitive is None or sensitive not in rows.columns:
        return Gate("fairness", False, f"no sensitive column {sensitive!r} in the holdout")
    groups = rows[sensitive].astype("string").to_numpy(dtype=object)
    try:
        if metric == "disparate_impact":
            value = disparate_impact(new.prediction, groups, positive_class=settings.positive_class)
        else:
            value = equal_opportunity_difference(
                truth, new.prediction, groups, positive_class=settings.positive_class
            )
    except (InsufficientDataError, InvalidInputError, ValueError) as exc:
        return Gate("fairness", False, f"{metric} could not be computed: {exc}")
    low, high = settings.fairness_min, settings.fairness_max
    passed = (low is None or value >= low) and (high is None or value <= high)
    bound = f">= {short_number(low)}" if low is not None else f"<= {short_number(high or 0.0)}"
    detail = f"challenger {metric} across {sensitive} is {short_number(value)} (needs {bound})"
    return Gate("fairness", passed, detail, value, low if low is not None else high)


def feature_columns(features: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Numeric and categorical feature names from ``schema.features``."""
    numeric = tuple(name for name, kind in features.items() if kind == "numeric")
    categorical = tuple(name for name, kind in features.items() if kind == "categorical")
    return numeric, categorical


def limit_rows(frame: pd.DataFrame, *, time: str | None, max_rows: int) -> pd.DataFrame:
    """The most recent ``max_rows`` rows (by ``time``; the frame's order without it)."""
    if len(frame) <= max_rows:
        return frame
    if time is not None and time in frame.columns:
        moments = pd.to_datetime(frame[time], utc=True, errors="coerce", format="mixed")
        key = moments.fillna(pd.Timestamp.min.tz_localize("UTC")).to_numpy()
        order = np.argsort(key, kind="stable")
        return frame.iloc[order[-max_rows:]].reset_index(drop=True)
    return frame.iloc[-max_rows:].reset_index(drop=True)


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
