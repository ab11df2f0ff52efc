"""The monitor definition (``config/<model>.yaml``): parsed and validated strictly.

Every mistake is a :class:`~driftline.errors.ConfigError` whose message names the key path
(``checks[1].metric``) and says what was received and what is allowed; an unknown key is an
error, never a silent default. A key given twice in one mapping is an error too (PyYAML
would keep the last one silently, dropping, say, a first ``checks:`` list). Hostile text is
a ``ConfigError`` as well, found quickly: nesting deeper than the parser can follow, numbers
of thousands of digits, durations beyond what a ``timedelta`` holds, NaN or infinite
thresholds (a comparison with NaN is never true, so such a check could never fire), and
alias "bombs" whose expansion would take minutes to print. The JSON Schema published in
``docs/`` is generated from these models (:func:`monitor_definition_json_schema`).

>>> definition = load_monitor_definition('''
... model: churn
... schema:
...   task: binary_classification
...   prediction: churned_pred
...   label: churned
...   features: {tenure: numeric, plan: categorical}
... baseline: {path: baselines/churn/training.csv}
... checks:
...   - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
... ''')
>>> definition.checks[0].min, definition.drift.method
(0.85, 'auto')
>>> load_monitor_definition("model: churn\\nschema: {task: binary_classification, "
...     "features: {a: numeric}}\\nbaseline: {path: b.csv}\\ncheks: []")
Traceback (most recent call last):
...
driftline.errors.ConfigError: invalid monitor definition <string>: cheks: unknown key
"""

from __future__ import annotations

import json
import re
import reprlib
import types
import typing
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from driftline.errors import ConfigError
from driftline.metrics.catalogue import CHECK_METRICS, Task
from driftline.stats.methods import METHODS, TEST

FeatureKind = Literal["numeric", "categorical"]
ActionName = Literal["notify", "retrain", "emergency_retrain"]
DriftMethodName = Literal["psi", "ks", "wasserstein", "jensenshannon", "chisquare", "hellinger"]
DriftMethodChoice = Literal[
    "auto", "psi", "ks", "wasserstein", "jensenshannon", "chisquare", "hellinger"
]
DetectorName = Literal["adwin", "ddm", "eddm", "page_hinkley", "cusum", "sprt"]

_CLASSIFICATION = frozenset({"binary_classification", "multiclass_classification"})
_BINARY = frozenset({"binary_classification"})
_RANKING = frozenset({"ranking"})
#: Data-quality measures a check may name; all are shares in [0, 1] except volume_ratio
#: and absent_columns (a count of columns).
QUALITY_MEASURES: dict[str, tuple[float | None, float | None]] = {
    "missing_share": (0.0, 1.0),
    "type_violation_share": (0.0, 1.0),
    "out_of_range_share": (0.0, 1.0),
    "new_category_share": (0.0, 1.0),
    "bad_row_share": (0.0, 1.0),
    "volume_ratio": (0.0, None),
    "absent_columns": (0.0, None),
}
#: The measures of the whole batch (the others are of one column, named by ``feature``).
DATASET_QUALITY_MEASURES = frozenset({"bad_row_share", "volume_ratio", "absent_columns"})

#: Parameters each detector accepts, by their paper/River names.
DETECTOR_PARAMS: dict[str, frozenset[str]] = {
    "adwin": frozenset({"delta", "clock", "max_buckets", "min_window_length", "grace_period"}),
    "ddm": frozenset({"warm_start", "warning_threshold", "drift_threshold"}),
    "eddm": frozenset({"warm_start", "alpha", "beta"}),
    "page_hinkley": frozenset({"min_instances", "delta", "threshold", "alpha", "mode"}),
    "cusum": frozenset({"min_instances", "delta", "threshold", "target"}),
    "sprt": frozenset({"p0", "p1", "alpha", "beta"}),
}

# Matched with fullmatch: "$" alone would accept a trailing newline ("churn\n").
_MODEL_NAME = re.compile(r"[a-z0-9-]{1,64}")
#: What a model name may be (also the ``<model>`` folder of every input key).
MODEL_NAME = _MODEL_NAME
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)
_SCHEDULE = re.compile(
    r"rate\(\s*[1-9]\d*\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\([^()\n]+\)"
)


class _BoundedRepr(reprlib.Repr):
    """``reprlib.Repr`` that also shortens integers too long for ``repr()`` itself."""

    def repr_int(self, x: int, level: int) -> str:
        # repr() itself refuses integers of more than 4,300 digits.
        if x.bit_length() > 256:
            return f"<an integer of {x.bit_length()} bits>"
        return super().repr_int(x, level)


#: How error messages show a received value: bounded in length and depth, so that a huge or
#: self-referencing value (a YAML alias bomb) cannot make the message itself explode.
_SHOWN = _BoundedRepr()
_SHOWN.maxstring = 80
_SHOWN.maxother = 80
_SHOWN.maxlevel = 3
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 6
_SHOWN.maxlong = 40


def shown(value: Any) -> str:
    """A received value as error messages show it, at most a line long whatever it holds.

    >>> shown("x" * 1000)[:12], len(shown("x" * 1000)) < 100
    ("'xxxxxxxxxxx", True)
    >>> shown(10**5000)
    '<an integer of 16610 bits>'
    """
    return _SHOWN.repr(value)


class _DefinitionLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping."""


def _mapping_with_unique_keys(loader: _DefinitionLoader, node: yaml.MappingNode) -> Any:
    seen: set[tuple[str, str]] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
            continue  # merge keys ("<<") may be overridden; complex keys are refused anyway
        key = (key_node.tag, key_node.value)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found the key {shown(key_node.value)} twice (the first would be ignored)",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node)


_MERGE_TAG = "tag:yaml.org,2002:merge"
_DefinitionLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_unique_keys
)


#: The longest duration a definition may give (windows, cooldowns, training windows, the
#: retraining time boxes): about ten years. Durations are added to and subtracted from
#: times (a window's start is its end minus its length), and a longer one would take them
#: past the calendar's range (year 1 to 9999) or mean nothing a monitor can act on.
MAX_DURATION = timedelta(days=3660)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of weeks, days, hours, minutes and seconds.

    Years and months are refused: their length varies, and a window must be exact.

    >>> parse_duration("P7D"), parse_duration("PT6H30M")
    (datetime.timedelta(days=7), datetime.timedelta(seconds=23400))
    >>> parse_duration("P100000000D")
    Traceback (most recent call last):
    ...
    ValueError: expected a duration of at most P3660D (about 10 years), got 'P100000000D'

    Raises:
        ValueError: the text is not such a duration, it is zero, or it is longer than
            :data:`MAX_DURATION`.
    """
    match = _DURATION.fullmatch(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(
            f"expected an ISO 8601 duration such as P1D, P7D or PT6H, got {shown(text)}"
        )
    too_long = (
        f"expected a duration of at most P{MAX_DURATION.days}D (about 10 years), got {shown(text)}"
    )
    try:
        parts = {key: int(value) for key, value in match.groupdict().items() if value}
        duration = timedelta(**parts)
    except (OverflowError, ValueError):  # past timedelta's range, or too many digits to read
        raise ValueError(too_long) from None
    if duration <= timedelta(0):
        raise ValueError(f"expected a positive duration, got {shown(text)}")
    if duration > MAX_DURATION:
        raise ValueError(too_long)
    return duration


Duration = Annotated[
    str, Field(description="ISO 8601 duration, e.g. P1D, P7D, PT6H; at most P3660D (10 years)")
]


class _Strict(BaseModel):
    # allow_inf_nan=False: a NaN threshold compares false with everything, so its check could
    # never fire; an infinite one could never be crossed.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # Lax validation reads `max: true` as 1.0 and `min: false` as 0: in YAML a boolean
        # is never meant as a number, so a field that takes numbers but not booleans
        # refuses it (every such field of every section, present and future).
        if isinstance(value, bool) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            if field is not None and _numbers_but_not_booleans(field.annotation):
                raise ValueError(f"expected a number, got a boolean ({str(value).lower()})")
        return value


def _numbers_but_not_booleans(annotation: Any) -> bool:
    """Whether a field's type takes ``int`` or ``float`` but not ``bool``.

    >>> _numbers_but_not_booleans(float | None), _numbers_but_not_booleans(int | str | bool)
    (True, False)
    """
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    members = set(typing.get_args(annotation)) if union else {annotation}
    return bool(members & {int, float}) and bool not in members


class SchemaSpec(_Strict):
    """Which columns mean what in the inference logs, labels and baseline."""

    id: str | None = Field(None, description="Column joining predictions and late labels.")
    timestamp: str | None = Field(None, description="Event time column (ISO 8601 or epoch).")
    task: Task
    prediction: str | None = None
    score: str | None = Field(None, description="Probability of the positive class.")
    label: str | None = None
    positive_class: int | float | str | bool | None = None
    features: dict[str, FeatureKind] = Field(min_length=1)
    segments: list[str] = Field(default_factory=list)
    query: str | None = Field(None, description="Ranking: column grouping rows into queries.")
    sensitive: str | None = Field(None, description="Fairness: the protected-group column.")
    conversion: str | None = Field(
        None, description="Ranking: column marking a converted impression (> 0)."
    )
    k: int = Field(10, ge=1, le=1000, description="Ranking: the cut-off of the @k metrics.")

    @model_validator(mode="after")
    def _columns_are_distinct(self) -> SchemaSpec:
        roles = {
            "id": self.id,
            "timestamp": self.timestamp,
            "prediction": self.prediction,
            "score": self.score,
            "label": self.label,
        }
        seen: dict[str, str] = {}
        for role, column in roles.items():
            if column is None:
                continue
            if column in seen:
                raise ValueError(
                    f"column {shown(column)} is used as both {seen[column]} and {role}"
                )
            if column in self.features:
                raise ValueError(f"column {shown(column)} is both the {role} and a feature")
            seen[column] = role
        if len(set(self.segments)) != len(self.segments):
            raise ValueError(f"segments lists a column twice: {shown(self.segments)}")
        return self


class BaselineSpec(_Strict):
    path: str = Field(min_length=1, description="Key of the reference data in the bucket.")

    @field_validator("path")
    @classmethod
    def _plain_relative_key(cls, value: str) -> str:
        if value.startswith("/") or "\\" in value:
            raise ValueError(f"expected a relative key with '/' separators, got {shown(value)}")
        if any(ord(character) < 32 or ord(character) == 127 for character in value):
            raise ValueError(f"expected a key without control characters, got {shown(value)}")
        if any(part in ("", ".", "..") for part in value.split("/")):
            raise ValueError(
                f"expected a key without empty, '.' or '..' segments, got {shown(value)}"
            )
        return value


class FeatureDriftSpec(_Strict):
    method: DriftMethodChoice = "auto"
    threshold: float | None = Field(None, gt=0)


class DriftSpec(_Strict):
    method: DriftMethodChoice = "auto"
    threshold: float | None = Field(
        None, gt=0, description="Threshold for every feature; default: the method's own."
    )
    dataset_drift_share: float = Field(0.5, gt=0, le=1)
    bins: int = Field(10, ge=2, le=1000, description="Histogram bins (baseline quantiles).")
    max_categories: int = Field(
        1000, ge=2, le=100_000, description="Categories tracked exactly per column."
    )
    features: dict[str, FeatureDriftSpec] = Field(default_factory=dict)


class CheckSpec(_Strict):
    """One check: exactly one of ``metric``, ``quality``, ``drift`` or ``detector``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    metric: str | None = None
    quality: str | None = None
    drift: str | None = Field(
        None, description="'dataset', 'prediction', 'label' or a feature name."
    )
    detector: DetectorName | None = None
    feature: str | None = Field(None, description="Column a quality check applies to.")
    signal: str | None = Field(None, description="Detector input: error, score or a column.")
    params: dict[str, float | int | str | bool] = Field(default_factory=dict)
    segment: dict[str, str] | None = None
    min: float | None = None
    max: float | None = None
    max_relative_drop: float | None = Field(None, gt=0, le=1)
    max_relative_increase: float | None = Field(None, gt=0)
    min_labelled_rows: int = Field(30, ge=1)
    action: ActionName = "notify"

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        if value is not None and value not in CHECK_METRICS:
            raise ValueError(f"unknown metric {shown(value)}; allowed: {', '.join(CHECK_METRICS)}")
        return value

    @field_validator("quality")
    @classmethod
    def _known_quality(cls, value: str | None) -> str | None:
        if value is not None and value not in QUALITY_MEASURES:
            allowed = ", ".join(QUALITY_MEASURES)
            raise ValueError(f"unknown quality measure {shown(value)}; allowed: {allowed}")
        return value

    @model_validator(mode="after")
    def _one_kind_with_sound_thresholds(self) -> CheckSpec:
        kinds = [k for k in ("metric", "quality", "drift", "detector") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                "a check needs exactly one of metric, quality, drift or detector; "
                f"got {kinds or 'none'}"
            )
        bounds = [
            k
            for k in ("min", "max", "max_relative_drop", "max_relative_increase")
            if getattr(self, k) is not None
        ]
        if self.metric or self.quality:
            if not bounds:
                raise ValueError(
                    "a metric or quality check needs min, max, max_relative_drop or "
                    "max_relative_increase"
                )
            low, high = (
                CHECK_METRICS[self.metric].value_range
                if self.metric
                else QUALITY_MEASURES[self.quality or ""]
            )
            for key in ("min", "max"):
                value = getattr(self, key)
                if value is None:
                    continue
                if (low is not None and value < low) or (high is not None and value > high):
                    raise ValueError(
                        f"{key}: {value} is outside the range [{low}, {high}] of "
                        f"{self.metric or self.quality}, so the check could never behave"
                    )
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        elif bounds:
            raise ValueError(f"{bounds[0]} applies to metric and quality checks only")
        column_measure = self.quality not in (None, *DATASET_QUALITY_MEASURES)
        if column_measure and self.feature is None:
            raise ValueError(f"quality check {shown(self.quality)} needs a feature")
        if self.detector:
            if self.signal is None:
                raise ValueError("a detector check needs a signal (error, score or a column)")
            unknown = sorted(set(self.params) - DETECTOR_PARAMS[self.detector])
            if unknown:
                allowed = ", ".join(sorted(DETECTOR_PARAMS[self.detector]))
                raise ValueError(
                    f"params: unknown parameter {shown(unknown[0])} for {self.detector}; "
                    f"allowed: {allowed}"
                )
        elif self.params:
            raise ValueError("params applies to detector checks only")
        return self


#: The name of the built-in check of absent columns (:data:`BUILT_IN_CHECKS`).
SCHEMA_COLUMNS_CHECK = "schema-columns"
#: Checks every evaluation carries besides the definition's own: a monitored column (a
#: feature, the prediction or the score) absent from the data pages on-call, instead of
#: reading as all missing and leaving the drift share quietly. A check of the same name in
#: the definition replaces it (to change its action or bound).
BUILT_IN_CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(name=SCHEMA_COLUMNS_CHECK, quality="absent_columns", max=0, action="notify"),
)
#: Quality measures that exist for one kind of column only.
QUALITY_MEASURE_KINDS: dict[str, str] = {
    "type_violation_share": "numeric",
    "out_of_range_share": "numeric",
    "new_category_share": "categorical",
}


class NotifyActionSpec(_Strict):
    cooldown: Duration = "PT6H"


class RetrainActionSpec(_Strict):
    cooldown: Duration = "P1D"
    training_window: Duration = "P90D"


class EmergencyRetrainActionSpec(_Strict):
    cooldown: Duration = "PT1H"
    training_window: Duration = "P2D"
    deploy: Literal["canary", "direct"] = "canary"
    canary_traffic: float = Field(0.1, gt=0, lt=1)


class ActionsSpec(_Strict):
    notify: NotifyActionSpec = Field(default_factory=NotifyActionSpec)
    retrain: RetrainActionSpec = Field(default_factory=RetrainActionSpec)
    emergency_retrain: EmergencyRetrainActionSpec = Field(
        default_factory=EmergencyRetrainActionSpec
    )


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


class FairnessGateSpec(_Strict):
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


class CanarySpec(_Strict):
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


class ServingSpec(_Strict):
    """Where the traffic split is applied besides the registry record."""

    kind: Literal["registry", "sagemaker_endpoint", "lambda_alias"] = "registry"
    endpoint_name: str | None = Field(None, pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    function_name: str | None = Field(None, min_length=1, max_length=140)
    alias: str | None = Field(None, pattern=r"^[a-zA-Z0-9_-]{1,128}$")


class SageMakerTrainingSpec(_Strict):
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


class ExternalTrainingSpec(_Strict):
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


class RetrainingSpec(_Strict):
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


class CloudWatchSpec(_Strict):
    segment_metrics: bool = Field(
        False,
        description=(
            "Also emit each segment's performance figures as CloudWatch metrics with a "
            "'segment' dimension (for the dashboard's per-segment graphs). Off by default: "
            "the metrics travel as log lines, so the segment values (a feature's values, "
            "e.g. plan names) then appear in the function logs and in CloudWatch."
        ),
    )


class CaptureSpec(_Strict):
    """How to name what SageMaker Data Capture records carry without names.

    A CSV-encoded request (and a JSON list of values) holds its fields by position only;
    a JSON output object holds the model's outputs under the endpoint's own keys. Nothing in
    the record says which position or key is which column, so the definition says it.
    """

    csv_fields: list[str | None] | None = Field(
        None,
        min_length=1,
        description=(
            "The order of the fields of a capture record's input when it has no names (CSV "
            "text, or a JSON list of values): each a feature, a segment column, schema.query "
            "or schema.sensitive, or null for a field that is read and not kept. Without it, "
            "such a capture file is quarantined (capture_fields_unknown)."
        ),
    )
    outputs: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Keys of the endpoint's JSON output (dotted for nested objects) to the schema "
            "column they fill: schema.prediction or schema.score. Unmapped keys keep their "
            "names."
        ),
    )
    csv_outputs: list[str | None] | None = Field(
        None,
        min_length=1,
        description=(
            "The order of the values of an output that has no names (CSV text, a number, a "
            "JSON list of values): schema.prediction, schema.score, or null for a value not "
            "kept. Default: the one of schema.prediction and schema.score that is set; with "
            "both set and no csv_outputs, such a capture file is quarantined."
        ),
    )


class MonitorDefinition(_Strict):
    """A model's monitor definition: schema, baseline, drift settings, checks, schedule."""

    model: str = Field(description="Model name: lowercase letters, digits and '-', 1-64.")
    schema_: SchemaSpec = Field(alias="schema")
    baseline: BaselineSpec
    capture: CaptureSpec = Field(
        default_factory=CaptureSpec,
        description="How to name SageMaker Data Capture fields and outputs (docs/aws.md).",
    )
    drift: DriftSpec = Field(default_factory=DriftSpec)
    checks: list[CheckSpec] = Field(default_factory=list)
    schedule: str = "rate(1 day)"
    windows: list[Duration] = Field(default_factory=lambda: ["P1D"], min_length=1)
    actions: ActionsSpec = Field(default_factory=ActionsSpec)
    retraining: RetrainingSpec | None = Field(
        None, description="How retraining trains, judges and rolls out (docs/retraining.md)."
    )
    cloudwatch: CloudWatchSpec = Field(default_factory=CloudWatchSpec)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not _MODEL_NAME.fullmatch(value):
            raise ValueError(f"expected 1-64 lowercase letters, digits or '-', got {shown(value)}")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not _SCHEDULE.fullmatch(value):
            raise ValueError(
                f"expected rate(N minutes|hours|days) or cron(...), got {shown(value)}"
            )
        return value

    @model_validator(mode="after")
    def _capture_fits_the_schema(self) -> MonitorDefinition:
        _check_capture(self.capture, self.schema_)
        return self

    @model_validator(mode="after")
    def _references_resolve(self) -> MonitorDefinition:
        for index, window in enumerate(self.windows):
            _check_duration(window, f"windows[{index}]")
        actions = self.actions
        _check_duration(actions.notify.cooldown, "actions.notify.cooldown")
        _check_duration(actions.retrain.cooldown, "actions.retrain.cooldown")
        _check_duration(actions.retrain.training_window, "actions.retrain.training_window")
        _check_duration(actions.emergency_retrain.cooldown, "actions.emergency_retrain.cooldown")
        _check_duration(
            actions.emergency_retrain.training_window,
            "actions.emergency_retrain.training_window",
        )
        # In the bucket a baseline lives in its model's own folder: never another model's
        # data, nor driftline's own output. A bare file name (local runs) has no folder.
        folders = self.baseline.path.split("/")
        if len(folders) > 1 and (folders[:2] != ["baselines", self.model] or len(folders) < 3):
            raise _KeyedError(
                "baseline.path",
                f"expected baselines/{self.model}/<file> (the model's own folder) or a bare "
                f"file name, got {shown(self.baseline.path)}",
            )
        schema = self.schema_
        for feature in self.drift.features:
            if feature not in schema.features:
                raise _KeyedError(
                    f"drift.features.{key_part(feature)}", "not a feature of the schema"
                )
        names: set[str] = set()
        for index, check in enumerate(self.checks):
            where = f"checks[{index}]"
            if check.name in names:
                raise _KeyedError(f"{where}.name", f"duplicate check name {shown(check.name)}")
            names.add(check.name)
            if check.segment:
                for column in check.segment:
                    if column not in schema.segments:
                        raise _KeyedError(
                            f"{where}.segment.{key_part(column)}",
                            f"not a segment column (schema.segments: {shown(schema.segments)})",
                        )
            if check.feature is not None and check.feature not in schema.features:
                raise _KeyedError(f"{where}.feature", f"unknown feature {shown(check.feature)}")
            kind = QUALITY_MEASURE_KINDS.get(check.quality or "")
            if kind is not None and check.feature and schema.features[check.feature] != kind:
                raise _KeyedError(
                    f"{where}.quality",
                    f"{check.quality} applies to {kind} features; {key_part(check.feature)} "
                    f"is {schema.features[check.feature]}",
                )
            if check.name == SCHEMA_COLUMNS_CHECK and check.quality != "absent_columns":
                raise _KeyedError(
                    f"{where}.name",
                    f"{SCHEMA_COLUMNS_CHECK} is the built-in check of absent columns; a check "
                    "of that name replaces it and must have quality: absent_columns",
                )
            special = (None, "dataset", "prediction", "label", "score")
            if check.drift not in special and check.drift not in schema.features:
                raise _KeyedError(
                    f"{where}.drift",
                    f"expected dataset, prediction, score, label or a feature name, "
                    f"got {shown(check.drift)}",
                )
            if check.drift in ("prediction", "score", "label") and not getattr(schema, check.drift):
                raise _KeyedError(f"{where}.drift", f"schema.{check.drift} is not set")
            if check.metric is not None:
                tasks = CHECK_METRICS[check.metric].tasks
                if schema.task not in tasks:
                    raise _KeyedError(
                        f"{where}.metric",
                        f"{check.metric} is not defined for schema.task {schema.task}; it "
                        f"applies to {', '.join(sorted(tasks))}",
                    )
                for role in ("label", *CHECK_METRICS[check.metric].needs):
                    if getattr(schema, role) is None:
                        raise _KeyedError(
                            f"{where}.metric",
                            f"{check.metric} needs schema.{role}, which is not set",
                        )
        return self

    @model_validator(mode="after")
    def _drift_methods_fit_the_features(self) -> MonitorDefinition:
        # What compute_drift would refuse at every evaluation is refused here instead: a
        # method on a kind of column it does not apply to, a test's threshold of 1 or more.
        drift = self.drift
        for feature, kind in self.schema_.features.items():
            override = drift.features.get(feature)
            own_method = override is not None and override.method != "auto"
            method = override.method if override is not None and own_method else drift.method
            if method != "auto" and kind not in METHODS[method].kinds:
                fitting = [name for name, spec in METHODS.items() if kind in spec.kinds]
                allowed = f"allowed for {kind} features: auto, {', '.join(fitting)}"
                if own_method:
                    raise _KeyedError(
                        f"drift.features.{key_part(feature)}.method",
                        f"{method} does not apply to {kind} feature {key_part(feature)}; {allowed}",
                    )
                raise _KeyedError(
                    "drift.method",
                    f"{method} does not apply to {kind} feature {key_part(feature)}; "
                    f"{allowed} (or give that feature its own drift.features."
                    f"{key_part(feature)}.method)",
                )
            own_threshold = override is not None and override.threshold is not None
            threshold = override.threshold if override and own_threshold else drift.threshold
            tests = method == "auto" or METHODS[method].direction == TEST
            if threshold is not None and tests and threshold >= 1:
                key = (
                    f"drift.features.{key_part(feature)}.threshold"
                    if own_threshold
                    else "drift.threshold"
                )
                why = (
                    f"{method} is a test: drift when its p-value < threshold"
                    if method != "auto"
                    else "auto chooses a test (p-value < threshold) on samples of 1,000 "
                    "values or fewer"
                )
                raise _KeyedError(
                    key,
                    f"{threshold:g} is not below 1 for feature {key_part(feature)}; {why}, "
                    "so the threshold must be in (0, 1)",
                )
        return self

    @model_validator(mode="after")
    def _retraining_fits_the_schema(self) -> MonitorDefinition:
        spec = self.retraining
        if spec is None:
            return self
        _check_retraining_settings(spec)
        schema = self.schema_
        task = schema.task
        if schema.label is None:
            raise _KeyedError("retraining", "retraining needs schema.label (ground truth)")
        if spec.backend == "lambda":
            if task == "ranking":
                raise _KeyedError(
                    "retraining.backend",
                    "the lambda backend trains classification and regression models; a "
                    "ranking model needs backend sagemaker or external",
                )
            if spec.estimator is not None and task not in ESTIMATOR_TASKS[spec.estimator]:
                applies = ", ".join(sorted(ESTIMATOR_TASKS[spec.estimator]))
                raise _KeyedError(
                    "retraining.estimator",
                    f"{spec.estimator} does not fit schema.task {task}; it applies to {applies}",
                )
        if spec.metric is not None:
            tasks = CHECK_METRICS[spec.metric].tasks
            if task not in tasks:
                raise _KeyedError(
                    "retraining.metric",
                    f"{spec.metric} is not defined for schema.task {task}; it applies to "
                    f"{', '.join(sorted(tasks))}",
                )
            for role in CHECK_METRICS[spec.metric].needs:
                if getattr(schema, role) is None:
                    raise _KeyedError(
                        "retraining.metric", f"{spec.metric} needs schema.{role}, which is not set"
                    )
        if spec.fairness is not None:
            if task != "binary_classification":
                raise _KeyedError("retraining.fairness", "applies to binary_classification only")
            if schema.sensitive is None:
                raise _KeyedError("retraining.fairness", "needs schema.sensitive, which is not set")
        canary = spec.canary
        if canary.metric is not None:
            if task not in CANARY_METRIC_TASKS[canary.metric]:
                applies = ", ".join(sorted(CANARY_METRIC_TASKS[canary.metric]))
                raise _KeyedError(
                    "retraining.canary.metric",
                    f"{canary.metric} does not fit schema.task {task}; it applies to {applies}",
                )
            if canary.metric == "log_loss" and schema.score is None:
                raise _KeyedError("retraining.canary.metric", "log_loss needs schema.score")
        if spec.scope == "segments" and not schema.segments:
            raise _KeyedError("retraining.scope", "segments needs schema.segments")
        return self


def _check_retraining_settings(spec: RetrainingSpec) -> None:
    """The retraining section's own cross-key rules (named by their full key path)."""
    for backend in ("sagemaker", "external"):
        present = getattr(spec, backend) is not None
        if spec.backend == "sagemaker" == backend and not present:
            raise _KeyedError("retraining.sagemaker", "required when backend is sagemaker")
        if present and spec.backend != backend:
            raise _KeyedError(f"retraining.{backend}", f"applies to backend {backend} only")
    if spec.backend != "lambda":
        for key in ("estimator", "params"):
            if getattr(spec, key):
                raise _KeyedError(f"retraining.{key}", "applies to the lambda backend only")
    if spec.estimator is not None:
        unknown = sorted(set(spec.params) - ESTIMATOR_PARAMS[spec.estimator])
        if unknown:
            allowed = ", ".join(sorted(ESTIMATOR_PARAMS[spec.estimator]))
            raise _KeyedError(
                f"retraining.params.{shown(unknown[0])[1:-1]}",
                f"not a parameter of {spec.estimator}; allowed: {allowed}",
            )
    elif spec.params:
        raise _KeyedError("retraining.params", "name the estimator they are for (estimator)")
    canary = spec.canary
    if canary.min_rows > canary.max_rows:
        raise _KeyedError(
            "retraining.canary.min_rows",
            f"{canary.min_rows} is greater than max_rows ({canary.max_rows})",
        )
    if canary.champion_variant == canary.challenger_variant:
        raise _KeyedError(
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
            raise _KeyedError(f"retraining.serving.{key}", f"required when kind is {serving.kind}")
        if given and key not in needs:
            raise _KeyedError(f"retraining.serving.{key}", f"does not apply to kind {serving.kind}")


#: Schema roles a capture record's input may not carry: the record's metadata fills the id
#: and the time, the outputs fill prediction and score, the outcomes arrive later.
_NOT_CAPTURE_INPUTS = ("id", "timestamp", "prediction", "score", "label", "conversion")


def _check_capture(capture: CaptureSpec, schema: SchemaSpec) -> None:
    """The capture section names only columns the schema knows, each once (docs/aws.md)."""
    inputs = set(schema.features) | set(schema.segments)
    inputs |= {column for column in (schema.query, schema.sensitive) if column}
    roles = {getattr(schema, role): role for role in _NOT_CAPTURE_INPUTS if getattr(schema, role)}
    for key, column in _listed_once(capture.csv_fields, "capture.csv_fields"):
        if column in inputs:
            continue
        if column in roles:
            raise _KeyedError(
                key,
                f"{shown(column)} is schema.{roles[column]}, which a request's input does not "
                "carry (the record's metadata fills id and timestamp, its output prediction "
                "and score; label and conversion arrive later)",
            )
        raise _KeyedError(
            key,
            f"unknown column {shown(column)}; expected a feature, a segment column, "
            "schema.query or schema.sensitive, or null for a field not kept",
        )
    outputs = {
        column: role for role in ("prediction", "score") if (column := getattr(schema, role))
    }
    allowed = " or ".join(f"schema.{role} ({shown(column)})" for column, role in outputs.items())
    expected = allowed or "schema.prediction or schema.score (neither is set)"
    filled_by: dict[str, str] = {}
    for output_key, column in capture.outputs.items():
        key = f"capture.outputs.{key_part(output_key)}"
        if not output_key:
            raise _KeyedError("capture.outputs", "an output key is empty")
        if column not in outputs:
            raise _KeyedError(key, f"expected {expected}, got {shown(column)}")
        if column in filled_by:
            raise _KeyedError(
                key, f"{shown(column)} is filled by output key {shown(filled_by[column])} already"
            )
        filled_by[column] = output_key
    for key, column in _listed_once(capture.csv_outputs, "capture.csv_outputs"):
        if column not in outputs:
            raise _KeyedError(key, f"expected {expected} or null, got {shown(column)}")


def _listed_once(names: list[str | None] | None, key: str) -> Iterator[tuple[str, str]]:
    """``(key path, name)`` of each name of a positional list, refusing one listed twice."""
    seen: dict[str, int] = {}
    for index, name in enumerate(names or ()):
        if name is None:
            continue
        if name in seen:
            raise _KeyedError(
                f"{key}[{index}]", f"{shown(name)} is listed twice (also at [{seen[name]}])"
            )
        seen[name] = index
        yield f"{key}[{index}]", name


class _KeyedError(ValueError):
    """A cross-field error that knows the key path it belongs to."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def _check_duration(value: str, key: str) -> None:
    try:
        parse_duration(value)
    except ValueError as exc:
        raise _KeyedError(key, str(exc)) from None


def _format_location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "schema_":
            path += ".schema" if path else "schema"
        else:
            path += f".{key_part(part)}" if path else key_part(part)
    return path


def key_part(name: Any) -> str:
    """A key as a key path shows it, shortened past 80 characters.

    >>> key_part("plan"), key_part("k" * 200)[:12], len(key_part("k" * 200))
    ('plan', 'kkkkkkkkkkkk', 80)
    """
    text = str(name)
    return text if len(text) <= 80 else f"{text[:60]}...{text[-17:]}"


def _describe(error: Any) -> str:
    loc = tuple(part for part in error["loc"] if not str(part).startswith("function-after"))
    # Literal/Union validators add the member type to the location; drop those parts.
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in _TYPE_PARTS)))
    key = _format_location(loc)
    kind = error["type"]
    message = str(error["msg"])
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    if kind == "missing":
        return f"{key}: required key is missing"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if "input" in error and kind not in ("value_error",):
        message = f"{message} (got {shown(error['input'])})"
    return f"{key}: {message}" if key else message


_TYPE_PARTS = frozenset({"str", "int", "float", "bool", "literal", "none", "function-after"})


def validate_monitor_definition(
    data: Any, *, source: str = "<string>", expected_model: str | None = None
) -> MonitorDefinition:
    """Validate an already parsed definition (a mapping).

    Args:
        data: the parsed definition.
        source: how errors name it (``config/churn.yaml``).
        expected_model: the model its file is named for (``config/<model>.yaml``), if any.
            A ``model:`` that differs is the error reported, before any other: the other
            keys (``baseline.path`` names the model's folder) would only follow from it.

    Raises:
        ConfigError: naming every offending key path, e.g. ``checks[1].metric``.

    >>> validate_monitor_definition({"model": "other"}, source="config/churn.yaml",
    ...                             expected_model="churn")
    Traceback (most recent call last):
    ...
    driftline.errors.ConfigError: invalid monitor definition config/churn.yaml: model: 'other' \
does not match the file name config/churn.yaml (expected 'churn')
    """
    if not isinstance(data, dict):
        problem = f"expected a mapping at the top level, got {type(data).__name__}"
        raise ConfigError(
            f"invalid monitor definition {source}: {problem}",
            reason="invalid_config",
            source=source,
            problems=[problem],
        )
    model = data.get("model")
    if expected_model is not None and isinstance(model, str) and model != expected_model:
        problem = (
            f"model: {shown(model)} does not match the file name {source} "
            f"(expected {shown(expected_model)})"
        )
        raise ConfigError(
            f"invalid monitor definition {source}: {problem}",
            reason="invalid_config",
            source=source,
            key="model",
            problems=[problem],
        )
    try:
        return MonitorDefinition.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            problems.append(_describe(error))
        problems = list(dict.fromkeys(problems))
        raise ConfigError(
            f"invalid monitor definition {source}: " + "; ".join(problems),
            reason="invalid_config",
            source=source,
            problems=problems,
        ) from None


def load_monitor_definition(
    text: str | bytes, *, source: str = "<string>", expected_model: str | None = None
) -> MonitorDefinition:
    """Parse YAML (or JSON) text and validate it (``expected_model``: see
    :func:`validate_monitor_definition`).

    Raises:
        ConfigError: the text is not UTF-8 (``not_utf8``), not YAML or nested too deeply to
            parse (``invalid_yaml``), or not a valid definition (``invalid_config``).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"invalid monitor definition {source}: not UTF-8 text "
                f"(byte {exc.start} is {text[exc.start]:#04x})",
                reason="not_utf8",
                source=source,
            ) from None
    try:
        data = yaml.load(text, Loader=_DefinitionLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"invalid monitor definition {source}: not valid YAML{where}: {problem}",
            reason="invalid_yaml",
            source=source,
        ) from None
    except RecursionError:
        raise ConfigError(
            f"invalid monitor definition {source}: not valid YAML: nested too deeply",
            reason="invalid_yaml",
            source=source,
        ) from None
    except (ValueError, OverflowError) as exc:  # a tagged value no constructor accepts
        raise ConfigError(
            f"invalid monitor definition {source}: not valid YAML: a value cannot be read "
            f"({shown(str(exc))})",
            reason="invalid_yaml",
            source=source,
        ) from None
    return validate_monitor_definition(data, source=source, expected_model=expected_model)


def monitor_definition_json_schema() -> dict[str, Any]:
    """The JSON Schema of the monitor definition, as published in ``docs/``."""
    schema = MonitorDefinition.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "driftline monitor definition"
    return schema


def dump_json_schema() -> str:
    """The JSON Schema as stable, pretty-printed text (what ``docs/`` holds)."""
    return json.dumps(monitor_definition_json_schema(), indent=2, sort_keys=True) + "\n"
