"""The monitor definition (``config/<model>.yaml``): parsed and validated strictly.

Every mistake is a :class:`~driftline.errors.ConfigError` whose message names the key path
(``checks[1].metric``) and says what was received and what is allowed; an unknown key is an
error, never a silent default. The JSON Schema published in ``docs/`` is generated from these
models (:func:`monitor_definition_json_schema`).

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
from datetime import timedelta
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from driftline.errors import ConfigError

FeatureKind = Literal["numeric", "categorical"]
Task = Literal["binary_classification", "multiclass_classification", "regression", "ranking"]
ActionName = Literal["notify", "retrain", "emergency_retrain"]
DriftMethodName = Literal["psi", "ks", "wasserstein", "jensenshannon", "chisquare", "hellinger"]
DriftMethodChoice = Literal[
    "auto", "psi", "ks", "wasserstein", "jensenshannon", "chisquare", "hellinger"
]
DetectorName = Literal["adwin", "ddm", "eddm", "page_hinkley", "cusum", "sprt"]

#: Every metric a check may name, with the range its values can take (None: unbounded).
#: A threshold outside that range can never be met and is rejected.
METRIC_RANGES: dict[str, tuple[float | None, float | None]] = {
    # classification
    "accuracy": (0.0, 1.0),
    "precision": (0.0, 1.0),
    "recall": (0.0, 1.0),
    "f1": (0.0, 1.0),
    "f1_macro": (0.0, 1.0),
    "f1_micro": (0.0, 1.0),
    "precision_macro": (0.0, 1.0),
    "recall_macro": (0.0, 1.0),
    "auc": (0.0, 1.0),
    "gini": (-1.0, 1.0),
    "log_loss": (0.0, None),
    "brier": (0.0, 1.0),
    "error_rate": (0.0, 1.0),
    "positive_rate": (0.0, 1.0),
    # regression
    "mae": (0.0, None),
    "rmse": (0.0, None),
    "mape": (0.0, None),
    "r2": (None, 1.0),
    # ranking / recommendation
    "ctr": (0.0, 1.0),
    "conversion_rate": (0.0, 1.0),
    "precision_at_k": (0.0, 1.0),
    "recall_at_k": (0.0, 1.0),
    "map_at_k": (0.0, 1.0),
    "ndcg_at_k": (0.0, 1.0),
    "mrr": (0.0, 1.0),
    # fairness (across the configured sensitive column)
    "disparate_impact": (0.0, None),
    "equal_opportunity_difference": (0.0, 1.0),
    # volume and coverage
    "label_coverage": (0.0, 1.0),
}

_CLASSIFICATION = frozenset({"binary_classification", "multiclass_classification"})
_BINARY = frozenset({"binary_classification"})
_RANKING = frozenset({"ranking"})
#: The tasks each metric is defined for (absent: every task). Kept equal to the metric
#: registry's (driftline.metrics.METRICS) by a test; config cannot import it (cycle).
METRIC_TASKS: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        ("accuracy", "error_rate", "f1_macro", "f1_micro", "precision_macro", "recall_macro"),
        _CLASSIFICATION,
    ),
    **dict.fromkeys(
        ("precision", "recall", "f1", "auc", "gini", "log_loss", "brier", "positive_rate"),
        _BINARY,
    ),
    **dict.fromkeys(("disparate_impact", "equal_opportunity_difference"), _BINARY),
    **dict.fromkeys(("mae", "rmse", "mape", "r2"), frozenset({"regression"})),
    **dict.fromkeys(
        (
            "ctr",
            "conversion_rate",
            "precision_at_k",
            "recall_at_k",
            "map_at_k",
            "ndcg_at_k",
            "mrr",
        ),
        _RANKING,
    ),
}
#: Schema columns a metric needs besides the label.
METRIC_NEEDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("auc", "gini", "log_loss", "brier"), ("score",)),
    **dict.fromkeys(("disparate_impact", "equal_opportunity_difference"), ("sensitive",)),
    **dict.fromkeys(
        ("ctr", "precision_at_k", "recall_at_k", "map_at_k", "ndcg_at_k", "mrr"), ("query",)
    ),
    "conversion_rate": ("query", "conversion"),
}

#: Data-quality measures a check may name; all are shares in [0, 1] except volume_ratio.
QUALITY_MEASURES: dict[str, tuple[float | None, float | None]] = {
    "missing_share": (0.0, 1.0),
    "type_violation_share": (0.0, 1.0),
    "out_of_range_share": (0.0, 1.0),
    "new_category_share": (0.0, 1.0),
    "bad_row_share": (0.0, 1.0),
    "volume_ratio": (0.0, None),
}

#: Parameters each detector accepts, by their paper/River names.
DETECTOR_PARAMS: dict[str, frozenset[str]] = {
    "adwin": frozenset({"delta", "clock", "max_buckets", "min_window_length", "grace_period"}),
    "ddm": frozenset({"warm_start", "warning_threshold", "drift_threshold"}),
    "eddm": frozenset({"warm_start", "alpha", "beta"}),
    "page_hinkley": frozenset({"min_instances", "delta", "threshold", "alpha", "mode"}),
    "cusum": frozenset({"min_instances", "delta", "threshold", "target"}),
    "sprt": frozenset({"p0", "p1", "alpha", "beta"}),
}

_MODEL_NAME = re.compile(r"^[a-z0-9-]{1,64}$")
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_SCHEDULE = re.compile(
    r"^(rate\(\s*[1-9]\d*\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\([^()]+\))$"
)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of weeks, days, hours, minutes and seconds.

    Years and months are refused: their length varies, and a window must be exact.

    >>> parse_duration("P7D"), parse_duration("PT6H30M")
    (datetime.timedelta(days=7), datetime.timedelta(seconds=23400))

    Raises:
        ValueError: the text is not such a duration, or it is zero.
    """
    match = _DURATION.match(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"expected an ISO 8601 duration such as P1D, P7D or PT6H, got {text!r}")
    parts = {key: int(value) for key, value in match.groupdict().items() if value}
    duration = timedelta(**parts)
    if duration <= timedelta(0):
        raise ValueError(f"expected a positive duration, got {text!r}")
    return duration


Duration = Annotated[str, Field(description="ISO 8601 duration, e.g. P1D, P7D, PT6H")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


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
                raise ValueError(f"column {column!r} is used as both {seen[column]} and {role}")
            if column in self.features:
                raise ValueError(f"column {column!r} is both the {role} and a feature")
            seen[column] = role
        if len(set(self.segments)) != len(self.segments):
            raise ValueError(f"segments lists a column twice: {self.segments}")
        return self


class BaselineSpec(_Strict):
    path: str = Field(min_length=1, description="Key of the reference data in the bucket.")


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
        if value is not None and value not in METRIC_RANGES:
            raise ValueError(f"unknown metric {value!r}; allowed: {', '.join(METRIC_RANGES)}")
        return value

    @field_validator("quality")
    @classmethod
    def _known_quality(cls, value: str | None) -> str | None:
        if value is not None and value not in QUALITY_MEASURES:
            allowed = ", ".join(QUALITY_MEASURES)
            raise ValueError(f"unknown quality measure {value!r}; allowed: {allowed}")
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
            ranges = METRIC_RANGES if self.metric else QUALITY_MEASURES
            low, high = ranges[self.metric or self.quality or ""]
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
        if self.quality not in (None, "volume_ratio", "bad_row_share") and self.feature is None:
            raise ValueError(f"quality check {self.quality!r} needs a feature")
        if self.detector:
            if self.signal is None:
                raise ValueError("a detector check needs a signal (error, score or a column)")
            unknown = sorted(set(self.params) - DETECTOR_PARAMS[self.detector])
            if unknown:
                allowed = ", ".join(sorted(DETECTOR_PARAMS[self.detector]))
                raise ValueError(
                    f"params: unknown parameter {unknown[0]!r} for {self.detector}; "
                    f"allowed: {allowed}"
                )
        elif self.params:
            raise ValueError("params applies to detector checks only")
        return self


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


class MonitorDefinition(_Strict):
    """A model's monitor definition: schema, baseline, drift settings, checks, schedule."""

    model: str = Field(description="Model name: lowercase letters, digits and '-', 1-64.")
    schema_: SchemaSpec = Field(alias="schema")
    baseline: BaselineSpec
    drift: DriftSpec = Field(default_factory=DriftSpec)
    checks: list[CheckSpec] = Field(default_factory=list)
    schedule: str = "rate(1 day)"
    windows: list[Duration] = Field(default_factory=lambda: ["P1D"], min_length=1)
    actions: ActionsSpec = Field(default_factory=ActionsSpec)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not _MODEL_NAME.match(value):
            raise ValueError(f"expected 1-64 lowercase letters, digits or '-', got {value!r}")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not _SCHEDULE.match(value):
            raise ValueError(f"expected rate(N minutes|hours|days) or cron(...), got {value!r}")
        return value

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
        schema = self.schema_
        for feature in self.drift.features:
            if feature not in schema.features:
                raise _KeyedError(f"drift.features.{feature}", "not a feature of the schema")
        names: set[str] = set()
        for index, check in enumerate(self.checks):
            where = f"checks[{index}]"
            if check.name in names:
                raise _KeyedError(f"{where}.name", f"duplicate check name {check.name!r}")
            names.add(check.name)
            if check.segment:
                for column in check.segment:
                    if column not in schema.segments:
                        raise _KeyedError(
                            f"{where}.segment.{column}",
                            f"not a segment column (schema.segments: {schema.segments})",
                        )
            if check.feature is not None and check.feature not in schema.features:
                raise _KeyedError(f"{where}.feature", f"unknown feature {check.feature!r}")
            special = (None, "dataset", "prediction", "label", "score")
            if check.drift not in special and check.drift not in schema.features:
                raise _KeyedError(
                    f"{where}.drift",
                    f"expected dataset, prediction, score, label or a feature name, "
                    f"got {check.drift!r}",
                )
            if check.drift in ("prediction", "score", "label") and not getattr(schema, check.drift):
                raise _KeyedError(f"{where}.drift", f"schema.{check.drift} is not set")
            if check.metric is not None:
                tasks = METRIC_TASKS.get(check.metric)
                if tasks is not None and schema.task not in tasks:
                    raise _KeyedError(
                        f"{where}.metric",
                        f"{check.metric} is not defined for schema.task {schema.task}; it "
                        f"applies to {', '.join(sorted(tasks))}",
                    )
                for role in ("label", *METRIC_NEEDS.get(check.metric, ())):
                    if getattr(schema, role) is None:
                        raise _KeyedError(
                            f"{where}.metric",
                            f"{check.metric} needs schema.{role}, which is not set",
                        )
        return self


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
            path += f".{part}" if path else str(part)
    return path


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
        message = f"{message} (got {error['input']!r})"
    return f"{key}: {message}" if key else message


_TYPE_PARTS = frozenset({"str", "int", "float", "bool", "literal", "none", "function-after"})


def validate_monitor_definition(data: Any, *, source: str = "<string>") -> MonitorDefinition:
    """Validate an already parsed definition (a mapping).

    Raises:
        ConfigError: naming every offending key path, e.g. ``checks[1].metric``.
    """
    if not isinstance(data, dict):
        raise ConfigError(
            f"invalid monitor definition {source}: expected a mapping at the top level, "
            f"got {type(data).__name__}",
            reason="invalid_config",
            source=source,
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


def load_monitor_definition(text: str | bytes, *, source: str = "<string>") -> MonitorDefinition:
    """Parse YAML (or JSON) text and validate it.

    Raises:
        ConfigError: the text is not UTF-8, not YAML, or not a valid definition.
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
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"invalid monitor definition {source}: not valid YAML{where}: {problem}",
            reason="invalid_yaml",
            source=source,
        ) from None
    return validate_monitor_definition(data, source=source)


def monitor_definition_json_schema() -> dict[str, Any]:
    """The JSON Schema of the monitor definition, as published in ``docs/``."""
    schema = MonitorDefinition.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "driftline monitor definition"
    return schema


def dump_json_schema() -> str:
    """The JSON Schema as stable, pretty-printed text (what ``docs/`` holds)."""
    return json.dumps(monitor_definition_json_schema(), indent=2, sort_keys=True) + "\n"
