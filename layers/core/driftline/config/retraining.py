"""The ``retraining`` section: how the retraining state machine trains (the backend, the
estimator), judges (the gate metric, fairness) and rolls out a challenger (the canary, the
serving), with the section's own rules across its keys."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from driftline.config.durations import Duration, parse_duration
from driftline.config.messages import KeyedError, shown
from driftline.config.strict import StrictSection

_CLASSIFICATION = frozenset({"binary_classification", "multiclass_classification"})
_BINARY = frozenset({"binary_classification"})
_RANKING = frozenset({"ranking"})
#: Estimators the ``lambda`` retraining backend may build (scikit-learn, by these names),
#: the tasks each applies to and the parameters it accepts (scikit-learn's names). Kept
#: equal to driftline.training's table by a test; config imports no scikit-learn.
EstimatorName = Literal["logistic_regression", "random_forest", "gradient_boosting", "ridge"]
_SUPERVISED = frozenset({"binary_classification", "multiclass_classification", "regression"})
ESTIMATOR_TASKS: dict[str, frozenset[str]] = {
    "logistic_regression": _CLASSIFICATION,
    "random_forest": _SUPERVISED,
    "gradient_boosting": _SUPERVISED,
    "ridge": frozenset({"regression"}),
}
ESTIMATOR_PARAMS: dict[str, frozenset[str]] = {
    "logistic_regression": frozenset({"C", "max_iter", "tol", "class_weight", "fit_intercept"}),
    "random_forest": frozenset(
        {"n_estimators", "max_depth", "min_samples_leaf", "min_samples_split", "max_features"}
    ),
    "gradient_boosting": frozenset(
        {
            "learning_rate",
            "max_iter",
            "max_depth",
            "max_leaf_nodes",
            "min_samples_leaf",
            "l2_regularization",
        }
    ),
    "ridge": frozenset({"alpha", "fit_intercept", "tol"}),
}
#: Metrics a retraining gate may compare challenger and champion on.
RETRAINING_METRICS = (
    "accuracy",
    "error_rate",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "auc",
    "gini",
    "log_loss",
    "brier",
    "mae",
    "rmse",
    "mape",
    "r2",
)
CanaryMetricName = Literal["error_rate", "ctr", "absolute_error", "squared_error", "log_loss"]
#: The tasks each canary metric applies to (kept equal to driftline.canary's by a test).
CANARY_METRIC_TASKS: dict[str, frozenset[str]] = {
    "error_rate": _CLASSIFICATION,
    "ctr": _RANKING,
    "absolute_error": frozenset({"regression"}),
    "squared_error": frozenset({"regression"}),
    "log_loss": _BINARY,
}
# Matched with fullmatch, like the names above.
_TRAINING_ROLE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/driftline-training-[\w+=,.@-]+")


class FairnessGateSpec(StrictSection):
    """The challenger's fairness on the holdout (across ``schema.sensitive``) must hold."""

    metric: Literal["disparate_impact", "equal_opportunity_difference"]
    min: float | None = Field(None, ge=0)
    max: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> FairnessGateSpec:
        if self.min is None and self.max is None:
            raise ValueError("a fairness gate needs min or max")
        if self.metric == "equal_opportunity_difference" and self.min is not None:
            raise ValueError("equal_opportunity_difference takes max (a gap), not min")
        return self


class CanarySpec(StrictSection):
    """How the challenger is tried on live traffic and judged (driftline.canary)."""

    traffic: float = Field(0.1, gt=0, lt=1, description="Challenger share of the requests.")
    metric: CanaryMetricName | None = Field(
        None, description="Default: error_rate, absolute_error for regression, ctr for ranking."
    )
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Total false-promotion rate.")
    min_effect: float | None = Field(
        None, gt=0, description="Difference that matters (the mixture SPRT's tau)."
    )
    min_rows: int = Field(200, ge=10, description="Labelled rows per arm before deciding.")
    max_rows: int = Field(5000, ge=10, description="Labelled rows per arm at the horizon.")
    duration: Duration = Field("P1D", description="Time box of the canary.")
    poll: Duration = Field("PT15M", description="Wait between analyses.")
    emergency_poll: Duration = Field("PT1M", description="Wait between analyses (emergency).")
    champion_variant: str = Field("champion", pattern=r"^[A-Za-z0-9_.-]{1,63}$")
    challenger_variant: str = Field("challenger", pattern=r"^[A-Za-z0-9_.-]{1,63}$")
    max_invalid_share: float = Field(0.01, ge=0, le=1)
    latency: str | None = Field(None, description="Column of the logged latency, if any.")
    max_latency_increase: float = Field(0.2, gt=0, description="Relative, on the p95.")

    @field_validator("duration", "poll", "emergency_poll")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class ServingSpec(StrictSection):
    """Where the traffic split is applied besides the registry record."""

    kind: Literal["registry", "sagemaker_endpoint", "lambda_alias"] = "registry"
    endpoint_name: str | None = Field(None, pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    function_name: str | None = Field(None, min_length=1, max_length=140)
    alias: str | None = Field(None, pattern=r"^[a-zA-Z0-9_-]{1,128}$")


class SageMakerTrainingSpec(StrictSection):
    """The ``sagemaker`` backend: a training job (createTrainingJob.sync)."""

    image: str = Field(min_length=1, description="Training image URI.")
    role_arn: str = Field(description="Execution role, named driftline-training-*.")
    instance_type: str = Field("ml.m5.large", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    instance_count: int = Field(1, ge=1, le=100)
    volume_gb: int = Field(30, ge=1, le=16384)
    max_runtime: Duration = "PT1H"
    hyperparameters: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("max_runtime")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("role_arn")
    @classmethod
    def _training_role(cls, value: str) -> str:
        if not _TRAINING_ROLE.fullmatch(value):
            raise ValueError(
                "expected the ARN of a role named driftline-training-* (the state machine "
                f"may pass only those to SageMaker), got {shown(value)}"
            )
        return value


class ExternalTrainingSpec(StrictSection):
    """The ``external`` backend: an event asks the user's pipeline to train, which answers
    with SendTaskSuccess (or SendTaskFailure) on the task token."""

    timeout: Duration = "PT6H"
    heartbeat: Duration | None = None
    detail: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Passed to the pipeline in the event."
    )

    @field_validator("timeout", "heartbeat")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


class RetrainingSpec(StrictSection):
    """How the retraining state machine trains, judges and rolls out a challenger."""

    backend: Literal["lambda", "sagemaker", "external"] = "lambda"
    estimator: EstimatorName | None = Field(
        None, description="Default: logistic_regression, or ridge for regression."
    )
    params: dict[str, float | int | str | bool | None] = Field(default_factory=dict)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    scope: Literal["all", "segments"] = Field(
        "all", description="segments: train on the triggering checks' segments only."
    )
    min_training_rows: int = Field(100, ge=10)
    max_training_rows: int = Field(5000, ge=100, le=1_000_000, description="Most recent kept.")
    holdout_share: float = Field(0.2, gt=0, lt=1, description="The most recent share.")
    metric: str | None = Field(None, description="Gate metric; default by task.")
    margin: float = Field(0.0, ge=0, description="Challenger must beat champion by this.")
    segment_tolerance: float = Field(0.02, ge=0, description="Largest segment regression.")
    min_segment_rows: int = Field(30, ge=1)
    fairness: FairnessGateSpec | None = None
    deploy: Literal["canary", "direct"] = "canary"
    canary: CanarySpec = Field(default_factory=CanarySpec)
    serving: ServingSpec = Field(default_factory=ServingSpec)
    sagemaker: SageMakerTrainingSpec | None = None
    external: ExternalTrainingSpec | None = None

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        if value is not None and value not in RETRAINING_METRICS:
            allowed = ", ".join(RETRAINING_METRICS)
            raise ValueError(f"unknown gate metric {shown(value)}; allowed: {allowed}")
        return value


def check_retraining_settings(spec: RetrainingSpec) -> None:
    """The retraining section's own cross-key rules (named by their full key path)."""
    for backend in ("sagemaker", "external"):
        present = getattr(spec, backend) is not None
        if spec.backend == "sagemaker" == backend and not present:
            raise KeyedError("retraining.sagemaker", "required when backend is sagemaker")
        if present and spec.backend != backend:
            raise KeyedError(f"retraining.{backend}", f"applies to backend {backend} only")
    if spec.backend != "lambda":
        for key in ("estimator", "params"):
            if getattr(spec, key):
                raise KeyedError(f"retraining.{key}", "applies to the lambda backend only")
    if spec.estimator is not None:
        unknown = sorted(set(spec.params) - ESTIMATOR_PARAMS[spec.estimator])
        if unknown:
            allowed = ", ".join(sorted(ESTIMATOR_PARAMS[spec.estimator]))
            raise KeyedError(
                f"retraining.params.{shown(unknown[0])[1:-1]}",
                f"not a parameter of {spec.estimator}; allowed: {allowed}",
            )
    elif spec.params:
        raise KeyedError("retraining.params", "name the estimator they are for (estimator)")
    canary = spec.canary
    if canary.min_rows > canary.max_rows:
        raise KeyedError(
            "retraining.canary.min_rows",
            f"{canary.min_rows} is greater than max_rows ({canary.max_rows})",
        )
    if canary.champion_variant == canary.challenger_variant:
        raise KeyedError(
            "retraining.canary.challenger_variant",
            f"must differ from champion_variant ({canary.champion_variant!r})",
        )
    serving = spec.serving
    needs = {
        "registry": (),
        "sagemaker_endpoint": ("endpoint_name",),
        "lambda_alias": ("function_name", "alias"),
    }[serving.kind]
    for key in ("endpoint_name", "function_name", "alias"):
        given = getattr(serving, key) is not None
        if key in needs and not given:
            raise KeyedError(f"retraining.serving.{key}", f"required when kind is {serving.kind}")
        if given and key not in needs:
            raise KeyedError(f"retraining.serving.{key}", f"does not apply to kind {serving.kind}")
