"""The ``checks`` section: each check watches a metric, a quality measure, a drift or a
detector; the measures and detector parameters a check may name; the built-in checks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from driftline.config.actions import ActionName
from driftline.config.messages import shown
from driftline.config.strict import StrictSection
from driftline.estimation.loss_model import REGRESSION_METRICS
from driftline.estimation.multiclass import MULTICLASS_METRICS
from driftline.estimation.performance import REPORTED_METRICS
from driftline.metrics.catalogue import CHECK_METRICS

DetectorName = Literal["adwin", "ddm", "eddm", "page_hinkley", "cusum", "sprt"]

#: Data-quality measures a check may name; all are shares in [0, 1] except volume_ratio,
#: absent_columns (a count of columns) and out_of_range_scores (a count of rows whose score
#: is a number outside [0, 1], ±inf included).
QUALITY_MEASURES: dict[str, tuple[float | None, float | None]] = {
    "missing_share": (0.0, 1.0),
    "type_violation_share": (0.0, 1.0),
    "out_of_range_share": (0.0, 1.0),
    "new_category_share": (0.0, 1.0),
    "bad_row_share": (0.0, 1.0),
    "volume_ratio": (0.0, None),
    "absent_columns": (0.0, None),
    "out_of_range_scores": (0.0, None),
}
#: The measures of the whole batch (the others are of one column, named by ``feature``).
DATASET_QUALITY_MEASURES = frozenset(
    {"bad_row_share", "volume_ratio", "absent_columns", "out_of_range_scores"}
)
#: Quality measures that are shares of rows, decided only on enough rows (``min_rows``).
SHARE_QUALITY_MEASURES = frozenset(
    set(QUALITY_MEASURES) - {"volume_ratio", "absent_columns", "out_of_range_scores"}
)
#: The evidence floor of a share measure when the check sets no ``min_rows``: one missing
#: value in 8 rows is 12.5 %, and says nothing about the next day.
QUALITY_MIN_ROWS = 100
#: The metrics an estimated check (``estimated: true``) may name: those the estimate
#: reports (``performance.estimated``), of a binary classifier (specificity among them though
#: it is not measured), of a multiclass one (auc_macro among them, likewise) or of a
#: regression model (mae, rmse).
ESTIMATED_CHECK_METRICS: tuple[str, ...] = tuple(
    dict.fromkeys((*REPORTED_METRICS, *MULTICLASS_METRICS, *REGRESSION_METRICS))
)
#: The metrics an estimated check may name, by task (the definition's rules check it).
ESTIMATED_CHECK_METRICS_BY_TASK: dict[str, tuple[str, ...]] = {
    "binary_classification": REPORTED_METRICS,
    "multiclass_classification": MULTICLASS_METRICS,
    "regression": REGRESSION_METRICS,
}
#: The evidence floor of an estimated check when it sets no ``min_rows``: the rows the
#: estimate is made on. At 100 rows the sampling error alone is about ±0.08 on an accuracy
#: near 0.8 (95 %); a point estimate on fewer says little about the model.
ESTIMATED_MIN_ROWS = 100

#: Parameters each detector accepts, by their paper/River names.
DETECTOR_PARAMS: dict[str, frozenset[str]] = {
    "adwin": frozenset({"delta", "clock", "max_buckets", "min_window_length", "grace_period"}),
    "ddm": frozenset({"warm_start", "warning_threshold", "drift_threshold"}),
    "eddm": frozenset({"warm_start", "alpha", "beta"}),
    "page_hinkley": frozenset({"min_instances", "delta", "threshold", "alpha", "mode"}),
    "cusum": frozenset({"min_instances", "delta", "threshold", "target"}),
    "sprt": frozenset({"p0", "p1", "alpha", "beta"}),
}


#: The most evaluations a persistence rule may look back over (``persist.of``): a day of
#: hourly evaluations. The alert state keeps this many outcomes per check and window length.
PERSIST_MAX_EVALUATIONS = 24


class PersistSpec(StrictSection):
    """A persistence rule: a check's alert fires only when the check failed in at least
    ``windows`` of its last ``of`` decided evaluations of the same window length (docs/alerts.md).
    """

    # `of` first: the validator of `windows` compares with it.
    of: int = Field(
        ge=1,
        le=PERSIST_MAX_EVALUATIONS,
        description="How many of the latest decided evaluations the rule looks at.",
    )
    windows: int = Field(
        ge=1, le=PERSIST_MAX_EVALUATIONS, description="How many of them must have failed."
    )

    @field_validator("windows")
    @classmethod
    def _at_most_of(cls, value: int, info: ValidationInfo) -> int:
        of = info.data.get("of")
        if of is not None and value > of:
            raise ValueError(
                f"{value} failures cannot happen in {of} evaluations (persist.of), so the "
                f"alert could never fire; expected 1 to {of}"
            )
        return value


class CheckSpec(StrictSection):
    """One check: exactly one of ``metric``, ``quality``, ``drift`` or ``detector``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    metric: str | None = None
    estimated: bool = Field(
        False,
        strict=True,  # true or false: `estimated: 1` or "yes" is a mistake, not a choice
        description=(
            "Decide the metric on its estimate from the scores (performance.estimated), "
            "before labels arrive, instead of on the labelled rows: binary classifiers with "
            "schema.score, schema.prediction and schema.label (metrics "
            f"{', '.join(REPORTED_METRICS)}), multiclass classifiers with "
            "schema.class_scores, schema.prediction and schema.label (metrics "
            f"{', '.join(MULTICLASS_METRICS)}). Relative bounds compare with the "
            "baseline's measured value."
        ),
    )
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
    min_rows: int | None = Field(
        None,
        ge=1,
        description=(
            "Fewer rows than this: the check is skip (too little evidence). Drift checks "
            "(default: drift.min_rows values of the column), quality checks of a share "
            f"(default: {QUALITY_MIN_ROWS} rows) and estimated metric checks (rows "
            f"estimated, default: {ESTIMATED_MIN_ROWS}); measured performance checks use "
            "min_labelled_rows."
        ),
    )
    action: ActionName = "notify"
    persist: PersistSpec | None = Field(
        None,
        description="Fire only when the check failed in `windows` of its last `of` "
        "evaluations (metric, quality and drift checks).",
    )

    @field_validator("persist")
    @classmethod
    def _not_on_a_detector(
        cls, value: PersistSpec | None, info: ValidationInfo
    ) -> PersistSpec | None:
        # A detector already weighs evidence over its stream (its delta or threshold is its
        # persistence), and it is decided per label file, not per evaluation of a window.
        if value is not None and info.data.get("detector") is not None:
            raise ValueError(
                "applies to metric, quality and drift checks only: a detector check fires "
                "on its stream of labels, whose threshold already sets how much evidence it needs"
            )
        return value

    @field_validator("min_rows")
    @classmethod
    def _a_floor_where_it_applies(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        measured = info.data.get("metric") is not None and not info.data.get("estimated")
        if info.data.get("detector") is not None or measured:
            raise ValueError(
                "applies to drift, quality and estimated metric checks; a measured "
                "performance check's floor is min_labelled_rows, a detector's its own "
                "parameters"
            )
        quality = info.data.get("quality")
        if quality is not None and quality not in SHARE_QUALITY_MEASURES:
            raise ValueError(f"{quality} is not a share of rows: it needs no evidence floor")
        return value

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        # A metric only estimated (specificity) passes here; `_estimated_where_it_can_be`
        # refuses it on a measured check.
        if value is not None and value not in (*CHECK_METRICS, *ESTIMATED_CHECK_METRICS):
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
        self._estimated_where_it_can_be()
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
                metric_range(self.metric) if self.metric else QUALITY_MEASURES[self.quality or ""]
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

    def _estimated_where_it_can_be(self) -> None:
        """``estimated`` on a metric check of a metric the estimate reports, without
        ``min_labelled_rows`` (it reads no labels); a metric only estimated needs it.

        Raises:
            ValueError: naming the check and, for a metric, the metric.
        """
        check = f"check {shown(self.name)}"
        if not self.estimated:
            if self.metric is not None and self.metric not in CHECK_METRICS:
                raise ValueError(
                    f"{check}: {self.metric} is not measured, only estimated from the scores; "
                    "add estimated: true, or name a measured metric"
                )
            return
        if self.metric is None:
            raise ValueError(
                f"{check}: estimated applies to metric checks only (an estimate of a "
                "performance metric); this check has no metric"
            )
        if self.metric not in ESTIMATED_CHECK_METRICS:
            raise ValueError(
                f"{check}: metric {self.metric} is not estimated; an estimated check may name "
                f"{', '.join(ESTIMATED_CHECK_METRICS)}"
            )
        if "min_labelled_rows" in self.model_fields_set:
            raise ValueError(
                f"{check}: min_labelled_rows does not apply to an estimated check, which "
                "reads no labels; its floor is min_rows, the rows estimated (default "
                f"{ESTIMATED_MIN_ROWS})"
            )


def metric_range(metric: str) -> tuple[float | None, float | None]:
    """The values a check's metric can take: the catalogue's, or [0, 1] for a metric only
    estimated (specificity, auc_macro).

    >>> metric_range("gini"), metric_range("specificity")
    ((-1.0, 1.0), (0.0, 1.0))
    """
    if metric in CHECK_METRICS:
        return CHECK_METRICS[metric].value_range
    return (0.0, 1.0)


#: The name of the built-in check of absent columns (:data:`BUILT_IN_CHECKS`).
SCHEMA_COLUMNS_CHECK = "schema-columns"
#: The name of the built-in check of scores outside [0, 1] (:data:`BUILT_IN_CHECKS`).
SCORES_IN_RANGE_CHECK = "scores-in-range"
#: Checks every evaluation carries besides the definition's own: a monitored column (a
#: feature, the prediction or the score) absent from the data pages on-call, instead of
#: reading as all missing and leaving the drift share quietly; and, for a classifier with
#: probability columns (``schema.score`` of a binary one, ``schema.class_scores`` of a
#: multiclass one), a score outside [0, 1] pages on-call, instead of being left out of the
#: estimate and clipped in the measured score metrics quietly. A check of the same name in
#: the definition replaces one (to change its action or bound) and must keep its measure
#: (:data:`BUILT_IN_MEASURES`).
BUILT_IN_CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(name=SCHEMA_COLUMNS_CHECK, quality="absent_columns", max=0, action="notify"),
    CheckSpec(name=SCORES_IN_RANGE_CHECK, quality="out_of_range_scores", max=0, action="notify"),
)
#: The quality measure of each built-in check, by its name.
BUILT_IN_MEASURES: dict[str, str] = {check.name: check.quality or "" for check in BUILT_IN_CHECKS}
#: Quality measures that exist for one kind of column only.
QUALITY_MEASURE_KINDS: dict[str, str] = {
    "type_violation_share": "numeric",
    "out_of_range_share": "numeric",
    "new_category_share": "categorical",
}
