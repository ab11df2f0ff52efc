"""The whole monitor definition (:class:`MonitorDefinition`): its top-level keys (model,
schedule, windows), the ``cloudwatch`` and ``estimation`` sections, and the rules across
sections (a check names a feature of the schema, a metric fits the task, a drift method fits
its features, ...)."""

from __future__ import annotations

import re

from pydantic import ConfigDict, Field, field_validator, model_validator

from driftline.config.actions import ActionsSpec
from driftline.config.checks import (
    BUILT_IN_MEASURES,
    ESTIMATED_CHECK_METRICS_BY_TASK,
    QUALITY_MEASURE_KINDS,
    CheckSpec,
)
from driftline.config.data import (
    BaselineSpec,
    CaptureSpec,
    SchemaSpec,
    check_capture,
    check_class_scores,
    not_estimated,
    probability_columns,
)
from driftline.config.drift import BOUNDED_EFFECTS, DriftSpec
from driftline.config.durations import Duration, check_duration
from driftline.config.messages import KeyedError, key_part, shown
from driftline.config.retraining import (
    CANARY_METRIC_TASKS,
    ESTIMATOR_TASKS,
    RetrainingSpec,
    check_retraining_settings,
)
from driftline.config.strict import StrictSection
from driftline.metrics.catalogue import CHECK_METRICS, ESTIMATE_COVERAGE
from driftline.stats.methods import METHODS, TEST

#: What each built-in check watches, by its measure (a replacement's error names it).
_BUILT_IN_WATCHES = {
    "absent_columns": "absent columns",
    "out_of_range_scores": "scores outside [0, 1]",
}
# Matched with fullmatch: "$" alone would accept a trailing newline ("churn\n").
_MODEL_NAME = re.compile(r"[a-z0-9-]{1,64}")
#: What a model name may be (also the ``<model>`` folder of every input key).
MODEL_NAME = _MODEL_NAME
_SCHEDULE = re.compile(
    r"rate\(\s*[1-9]\d*\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\([^()\n]+\)"
)


class CloudWatchSpec(StrictSection):
    segment_metrics: bool = Field(
        False,
        description=(
            "Also emit each segment's performance figures as CloudWatch metrics with a "
            "'segment' dimension (for the dashboard's per-segment graphs). Off by default: "
            "the metrics travel as log lines, so the segment values (a feature's values, "
            "e.g. plan names) then appear in the function logs and in CloudWatch."
        ),
    )


#: How many of each metric's latest reconciled estimates (batches or evaluations) the
#: estimate's coverage counts, by default and at most (``estimation.coverage_evaluations``).
COVERAGE_EVALUATIONS = 100
MAX_COVERAGE_EVALUATIONS = 1000


class EstimationSpec(StrictSection):
    coverage_evaluations: int = Field(
        COVERAGE_EVALUATIONS,
        ge=1,
        le=MAX_COVERAGE_EVALUATIONS,
        description=(
            "How many of each metric's latest reconciled estimates the estimate's running "
            "coverage counts (batches reconciled when their labels landed on AWS, whole "
            "evaluations otherwise): the share of them whose measured value, once the labels "
            "arrived, fell inside the estimate's 95% interval (docs/performance.md)."
        ),
    )


class MonitorDefinition(StrictSection):
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
    estimation: EstimationSpec = Field(default_factory=EstimationSpec)

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
        check_capture(self.capture, self.schema_)
        return self

    @model_validator(mode="after")
    def _class_scores_fit_the_schema(self) -> MonitorDefinition:
        check_class_scores(self.schema_)
        return self

    @model_validator(mode="after")
    def _references_resolve(self) -> MonitorDefinition:
        for index, window in enumerate(self.windows):
            check_duration(window, f"windows[{index}]")
        actions = self.actions
        check_duration(actions.notify.cooldown, "actions.notify.cooldown")
        check_duration(actions.retrain.cooldown, "actions.retrain.cooldown")
        check_duration(actions.retrain.training_window, "actions.retrain.training_window")
        check_duration(actions.emergency_retrain.cooldown, "actions.emergency_retrain.cooldown")
        check_duration(
            actions.emergency_retrain.training_window,
            "actions.emergency_retrain.training_window",
        )
        # In the bucket a baseline lives in its model's own folder: never another model's
        # data, nor driftline's own output. A bare file name (local runs) has no folder.
        folders = self.baseline.path.split("/")
        if len(folders) > 1 and (folders[:2] != ["baselines", self.model] or len(folders) < 3):
            raise KeyedError(
                "baseline.path",
                f"expected baselines/{self.model}/<file> (the model's own folder) or a bare "
                f"file name, got {shown(self.baseline.path)}",
            )
        schema = self.schema_
        for feature in self.drift.features:
            if feature not in schema.features:
                raise KeyedError(
                    f"drift.features.{key_part(feature)}", "not a feature of the schema"
                )
        names: set[str] = set()
        for index, check in enumerate(self.checks):
            where = f"checks[{index}]"
            if check.name in names:
                raise KeyedError(f"{where}.name", f"duplicate check name {shown(check.name)}")
            names.add(check.name)
            if check.segment:
                for column in check.segment:
                    if column not in schema.segments:
                        raise KeyedError(
                            f"{where}.segment.{key_part(column)}",
                            f"not a segment column (schema.segments: {shown(schema.segments)})",
                        )
            if check.feature is not None and check.feature not in schema.features:
                raise KeyedError(f"{where}.feature", f"unknown feature {shown(check.feature)}")
            kind = QUALITY_MEASURE_KINDS.get(check.quality or "")
            if kind is not None and check.feature and schema.features[check.feature] != kind:
                raise KeyedError(
                    f"{where}.quality",
                    f"{check.quality} applies to {kind} features; {key_part(check.feature)} "
                    f"is {schema.features[check.feature]}",
                )
            built_in = BUILT_IN_MEASURES.get(check.name)
            if built_in is not None and check.quality != built_in:
                raise KeyedError(
                    f"{where}.name",
                    f"{check.name} is the built-in check of {_BUILT_IN_WATCHES[built_in]}; a "
                    f"check of that name replaces it and must have quality: {built_in}",
                )
            if check.quality == "out_of_range_scores" and not probability_columns(schema):
                raise KeyedError(
                    f"{where}.quality",
                    "out_of_range_scores counts a classifier's scores outside [0, 1]: it "
                    "needs schema.score (binary_classification) or schema.class_scores "
                    f"(multiclass_classification); {_no_probabilities(schema)}",
                )
            special = (None, "dataset", "prediction", "label", "score")
            if check.drift not in special and check.drift not in schema.features:
                raise KeyedError(
                    f"{where}.drift",
                    f"expected dataset, prediction, score, label or a feature name, "
                    f"got {shown(check.drift)}",
                )
            if check.drift in ("prediction", "score", "label") and not getattr(schema, check.drift):
                raise KeyedError(f"{where}.drift", f"schema.{check.drift} is not set")
            if check.detector is not None:
                _check_detector_signal(check, schema, where)
            if check.estimated:
                _check_estimable(check, schema, where)
            elif check.metric is not None:
                tasks = CHECK_METRICS[check.metric].tasks
                if schema.task not in tasks:
                    raise KeyedError(
                        f"{where}.metric",
                        f"{check.metric} is not defined for schema.task {schema.task}; it "
                        f"applies to {', '.join(sorted(tasks))}",
                    )
                for role in ("label", *CHECK_METRICS[check.metric].needs):
                    if getattr(schema, role) is None:
                        raise KeyedError(
                            f"{where}.metric",
                            f"{check.metric} needs schema.{role}, which is not set",
                        )
                if check.metric == ESTIMATE_COVERAGE:
                    _check_estimate_coverage(check, schema, where)
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
                    raise KeyedError(
                        f"drift.features.{key_part(feature)}.method",
                        f"{method} does not apply to {kind} feature {key_part(feature)}; {allowed}",
                    )
                raise KeyedError(
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
                    f"{method} is a test: drift when its adjusted p-value < threshold"
                    if method != "auto"
                    else "auto chooses a test (ks for numeric, chisquare for categorical "
                    "features): drift when its adjusted p-value < threshold"
                )
                raise KeyedError(
                    key,
                    f"{threshold:g} is not below 1 for feature {key_part(feature)}; {why}, "
                    "so the threshold must be in (0, 1)",
                )
            chosen = method if method != "auto" else ("ks" if kind == "numeric" else "chisquare")
            minimum = override.min_effect if override is not None else None
            if minimum is not None and chosen in BOUNDED_EFFECTS and minimum > 1:
                raise KeyedError(
                    f"drift.features.{key_part(feature)}.min_effect",
                    f"{minimum:g} can never be reached; the effect of {chosen} is at most 1",
                )
        return self

    @model_validator(mode="after")
    def _retraining_fits_the_schema(self) -> MonitorDefinition:
        spec = self.retraining
        if spec is None:
            return self
        check_retraining_settings(spec)
        schema = self.schema_
        task = schema.task
        if schema.label is None:
            raise KeyedError("retraining", "retraining needs schema.label (ground truth)")
        if spec.backend == "lambda":
            if task == "ranking":
                raise KeyedError(
                    "retraining.backend",
                    "the lambda backend trains classification and regression models; a "
                    "ranking model needs backend sagemaker or external",
                )
            if spec.estimator is not None and task not in ESTIMATOR_TASKS[spec.estimator]:
                applies = ", ".join(sorted(ESTIMATOR_TASKS[spec.estimator]))
                raise KeyedError(
                    "retraining.estimator",
                    f"{spec.estimator} does not fit schema.task {task}; it applies to {applies}",
                )
        if spec.metric is not None:
            tasks = CHECK_METRICS[spec.metric].tasks
            if task not in tasks:
                raise KeyedError(
                    "retraining.metric",
                    f"{spec.metric} is not defined for schema.task {task}; it applies to "
                    f"{', '.join(sorted(tasks))}",
                )
            for role in CHECK_METRICS[spec.metric].needs:
                if getattr(schema, role) is None:
                    raise KeyedError(
                        "retraining.metric", f"{spec.metric} needs schema.{role}, which is not set"
                    )
        if spec.fairness is not None:
            if task != "binary_classification":
                raise KeyedError("retraining.fairness", "applies to binary_classification only")
            if schema.sensitive is None:
                raise KeyedError("retraining.fairness", "needs schema.sensitive, which is not set")
        canary = spec.canary
        if canary.metric is not None:
            if task not in CANARY_METRIC_TASKS[canary.metric]:
                applies = ", ".join(sorted(CANARY_METRIC_TASKS[canary.metric]))
                raise KeyedError(
                    "retraining.canary.metric",
                    f"{canary.metric} does not fit schema.task {task}; it applies to {applies}",
                )
            if canary.metric == "log_loss" and schema.score is None:
                raise KeyedError("retraining.canary.metric", "log_loss needs schema.score")
        if spec.scope == "segments" and not schema.segments:
            raise KeyedError("retraining.scope", "segments needs schema.segments")
        return self


def _check_estimable(check: CheckSpec, schema: SchemaSpec, where: str) -> None:
    """An estimated check needs a model whose performance is estimated (a binary classifier
    with a score and a prediction column, a multiclass one with a score column per class
    and a prediction column, or a regression model with a prediction column), labels to
    calibrate the baseline on (or fit the regression model's loss model on), and a metric
    the estimate of that task reports.

    Raises:
        KeyedError: naming the check's ``estimated`` key and the check, or its ``metric``.
    """
    why = not_estimated(schema)
    if why is None and schema.label is None:
        why = "schema.label is not set: the estimate is calibrated on the baseline's labels"
        if schema.task == "regression":
            why = "schema.label is not set: the loss model is fitted on the baseline's labels"
    if why is not None:
        raise KeyedError(
            f"{where}.estimated",
            f"check {shown(check.name)} cannot be estimated: {why}",
        )
    allowed = ESTIMATED_CHECK_METRICS_BY_TASK[schema.task]
    if check.metric not in allowed:
        raise KeyedError(
            f"{where}.metric",
            f"check {shown(check.name)}: {check.metric} is not estimated for {schema.task}; "
            f"an estimated check of it may name {', '.join(allowed)}",
        )


def _check_estimate_coverage(check: CheckSpec, schema: SchemaSpec, where: str) -> None:
    """A check of the estimate's running coverage needs the columns the estimate reads, and
    is of the whole model: no segment, and no baseline to be relative to.

    Raises:
        KeyedError: naming the key at fault.
    """
    needed: tuple[tuple[str, str], ...]
    if schema.task == "regression":
        needed = (("prediction", "the MAE and RMSE are estimated from each row's prediction"),)
    else:
        multiclass = schema.task == "multiclass_classification"
        scores = "probability of every class" if multiclass else "score"
        why = f"the performance is estimated from each row's {scores} and predicted class"
        needed = (("class_scores" if multiclass else "score", why), ("prediction", why))
    for role, why in needed:
        if getattr(schema, role) is None:
            raise KeyedError(
                f"{where}.metric",
                f"{ESTIMATE_COVERAGE} needs schema.{role}, which is not set: {why}",
            )
    if check.segment:
        raise KeyedError(
            f"{where}.segment",
            f"{ESTIMATE_COVERAGE} is the model's, over whole windows: it has no segment",
        )
    for key in ("max_relative_drop", "max_relative_increase"):
        if getattr(check, key) is not None:
            raise KeyedError(
                f"{where}.{key}",
                f"{ESTIMATE_COVERAGE} has no baseline to be relative to; use min (the "
                "intervals are 95%, so the coverage should be near 0.95)",
            )


def _check_detector_signal(check: CheckSpec, schema: SchemaSpec, where: str) -> None:
    """A detector check reads labelled rows, so it needs the label column; its signal must
    be one the schema can give and that the label join keeps (the schema's columns).

    Raises:
        KeyedError: naming the check's ``signal`` key.
    """
    if schema.label is None:
        raise KeyedError(f"{where}.detector", "detector checks need schema.label, which is not set")
    if check.signal == "error":
        if schema.prediction is None or schema.task == "ranking":
            raise KeyedError(
                f"{where}.signal",
                "the error signal needs schema.prediction and a classification or regression "
                f"task (task {schema.task}, prediction {shown(schema.prediction)})",
            )
        return
    if check.signal == "score":
        if schema.score is None:
            raise KeyedError(f"{where}.signal", "the score signal needs schema.score")
        return
    kept = {*schema.features, *schema.segments}
    roles = (schema.prediction, schema.label, schema.query, schema.sensitive, schema.conversion)
    kept |= {c for c in roles if c}
    if check.signal not in kept:
        raise KeyedError(
            f"{where}.signal",
            "expected error, score, or a column of the schema (a feature, a segment, the "
            f"prediction or the label), got {shown(check.signal)}",
        )


def _no_probabilities(schema: SchemaSpec) -> str:
    """Why a schema has no probability columns, for an error message."""
    if schema.task == "binary_classification":
        return "schema.score is not set"
    if schema.task == "multiclass_classification":
        return "schema.class_scores is not set"
    return f"the task is {schema.task}"
