"""One evaluation: a current profile against a model's reference, through its checks.

:func:`evaluate` is the single place where drift, data quality and the checks of a monitor
definition come together into the result JSON of docs/result.md. It does no I/O and reads
no clock: the evaluation id and the window are arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from driftline.checks import (
    CheckResult,
    EstimateEvidence,
    Status,
    effective_checks,
    judge,
    measure_of,
    overall_status,
    segment_key,
    skip,
)
from driftline.config.checks import (
    DATASET_QUALITY_MEASURES,
    ESTIMATED_MIN_ROWS,
    QUALITY_MIN_ROWS,
    SHARE_QUALITY_MEASURES,
    CheckSpec,
)
from driftline.config.data import not_estimated as schema_not_estimated
from driftline.config.data import probability_columns
from driftline.config.definition import MonitorDefinition
from driftline.config.messages import key_part
from driftline.drift import DriftReport, compare_profiles
from driftline.estimation.columns import ClassEstimationColumns, EstimationColumns
from driftline.estimation.label_shift import ClassLabelShift, LabelShift
from driftline.estimation.loss_model import LOSS_METHOD, LossModel, RegressionColumns
from driftline.estimation.multiclass import ClassScoreCells
from driftline.estimation.performance import EstimatedPerformance, ScopeCells, interval_section
from driftline.estimation.reconciled_error import ReconciledError
from driftline.formatting import short_number
from driftline.io import CaptureColumns
from driftline.metrics import PerformanceProfile
from driftline.metrics.catalogue import ESTIMATE_COVERAGE
from driftline.performance import PerformanceReport, baseline_value, decide_metric_check
from driftline.profile.dataset import DatasetProfile, Kind, ProfileSpec, Reference
from driftline.profile.performance import PerformanceSpec, Slice
from driftline.quality import column_quality, dataset_quality
from driftline.reconciliation import (
    EstimateCoverage,
    ReconciledPoint,
    Reconciliation,
    decide_coverage_check,
)
from driftline.stats.base import DriftResult

#: Actions in the order of their severity (the result lists the most severe first).
ACTION_ORDER = ("emergency_retrain", "retrain", "notify")

RESULT_VERSION = 1


def output_columns(definition: MonitorDefinition) -> dict[str, Kind]:
    """The model's output columns (prediction, score, label) with the kind they profile as."""
    schema = definition.schema_
    discrete: Kind = "numeric" if schema.task in ("regression", "ranking") else "categorical"
    columns: dict[str, Kind] = {}
    if schema.prediction:
        columns[schema.prediction] = discrete
    if schema.score:
        columns[schema.score] = "numeric"
    if schema.label:
        columns[schema.label] = discrete
    return columns


def expected_columns(definition: MonitorDefinition) -> frozenset[str]:
    """The monitored columns every inference batch must carry: the features, the prediction
    and the score (not the label, which arrives later). One absent from a batch fails the
    built-in ``schema-columns`` check (:data:`driftline.config.BUILT_IN_CHECKS`)."""
    schema = definition.schema_
    outputs = {column for column in (schema.prediction, schema.score) if column}
    return frozenset(schema.features) | outputs


def capture_columns(definition: MonitorDefinition) -> CaptureColumns:
    """Column names for SageMaker Data Capture and ground-truth records of this model.

    Values without names are named by the definition's ``capture`` section, never by the
    order of ``schema.features``: without ``capture.csv_fields`` the input's order is
    unknown (such a file is refused). The output's order defaults to the one output column
    set (``schema.prediction`` or ``schema.score``); with both set it is unknown unless
    ``capture.csv_outputs`` gives it, and with neither the values get positional names.

    >>> from driftline.config import load_monitor_definition
    >>> definition = load_monitor_definition(
    ...     "model: m\\nschema: {task: binary_classification, prediction: p, score: s, "
    ...     "features: {a: numeric, b: numeric}}\\nbaseline: {path: b.csv}\\n"
    ...     "capture: {csv_fields: [b, a], outputs: {probability: s}}")
    >>> columns = capture_columns(definition)
    >>> columns.inputs, columns.outputs, dict(columns.output_keys)
    (('b', 'a'), None, {'probability': 's'})
    """
    schema = definition.schema_
    capture = definition.capture
    set_outputs = tuple(c for c in (schema.prediction, schema.score) if c is not None)
    outputs: tuple[str | None, ...] | None
    if capture.csv_outputs is not None:
        outputs = tuple(capture.csv_outputs)
    elif len(set_outputs) > 1:
        outputs = None
    else:
        outputs = set_outputs
    return CaptureColumns(
        inputs=tuple(capture.csv_fields) if capture.csv_fields is not None else None,
        outputs=outputs,
        output_keys=dict(capture.outputs),
        id=schema.id or "id",
        timestamp=schema.timestamp,
        label=schema.label or "label",
    )


def profile_spec(definition: MonitorDefinition) -> ProfileSpec:
    """What to profile for a model: its features, its outputs and its segment columns."""
    schema = definition.schema_
    columns: dict[str, Kind] = dict(schema.features)
    columns.update(output_columns(definition))
    known = {schema.id, schema.timestamp, schema.query, schema.sensitive, schema.conversion} - {
        None
    }
    known |= set((schema.class_scores or {}).values())
    required = {name: f"schema.features.{key_part(name)}" for name in schema.features}
    for index, column in enumerate(schema.segments):
        required.setdefault(column, f"schema.segments[{index}]")
    return ProfileSpec(
        columns=columns,
        segments=tuple(schema.segments),
        max_tracked=definition.drift.max_categories,
        known=frozenset(str(column) for column in known),
        performance=performance_spec(definition),
        required=required,
        estimation=estimation_columns(definition),
        probabilities=probability_columns(schema),
    )


def performance_spec(definition: MonitorDefinition) -> PerformanceSpec | None:
    """The performance roles of a model's columns (None without a label column)."""
    schema = definition.schema_
    if schema.label is None:
        return None
    return PerformanceSpec(
        task=schema.task,
        label=schema.label,
        prediction=schema.prediction,
        score=schema.score,
        positive_class=schema.positive_class,
        query=schema.query,
        k=schema.k,
        conversion=schema.conversion,
        sensitive=schema.sensitive,
        timestamp=schema.timestamp,
    )


def estimation_columns(
    definition: MonitorDefinition,
) -> EstimationColumns | ClassEstimationColumns | RegressionColumns | None:
    """The columns a binary or multiclass classifier's or a regression model's estimate
    reads (None: no estimate, see :func:`not_estimated`)."""
    if not_estimated(definition) is not None:
        return None
    schema = definition.schema_
    if schema.task == "regression":
        assert schema.prediction is not None
        return RegressionColumns(
            prediction=schema.prediction,
            features=tuple(schema.features.items()),
            label=schema.label,
        )
    if schema.class_scores is not None:
        assert schema.prediction is not None
        return ClassEstimationColumns(
            classes=tuple(schema.class_scores),
            scores=tuple(schema.class_scores.values()),
            prediction=schema.prediction,
            label=schema.label,
        )
    assert schema.score is not None and schema.prediction is not None
    return EstimationColumns(
        score=schema.score,
        prediction=schema.prediction,
        label=schema.label,
        positive_class=schema.positive_class,
    )


def not_estimated(definition: MonitorDefinition) -> str | None:
    """Why the model's performance is not estimated before labels, or None when it is:
    the estimate is for binary classifiers with a score and a prediction column, and for
    multiclass classifiers with a score column per class and a prediction column.

    >>> from driftline.config import load_monitor_definition
    >>> not_estimated(load_monitor_definition(
    ...     "model: m\\nschema: {task: binary_classification, prediction: p, label: y, "
    ...     "features: {a: numeric}}\\nbaseline: {path: b.csv}"))
    "schema.score is not set: the estimate reads each row's score"
    """
    return schema_not_estimated(definition.schema_)


def estimated_performance(
    definition: MonitorDefinition,
    reference: Reference,
    current: DatasetProfile,
    *,
    reconciled_error: ReconciledError | None = None,
) -> EstimatedPerformance:
    """The baseline's calibrator applied to the current profile's score cells, overall and
    per segment, with the class prior estimated from the cells' predicted classes and the
    baseline's confusion counts, or why not; ``reconciled_error`` (the estimator's error
    on the latest reconciled batches) widens the intervals where it is wider than the
    baseline's terms."""
    reason = not_estimated(definition)
    if reason is not None:
        return EstimatedPerformance.skip(reason)
    columns = estimation_columns(definition)
    assert columns is not None  # a model that is estimated has them
    if isinstance(columns, RegressionColumns):
        return EstimatedPerformance.of_losses(
            reference.loss_model,
            ScopeCells(current.rows, current.loss_cells),
            {key: ScopeCells(s.rows, s.loss_cells) for key, s in current.segments.items()},
            reconciled_error=reconciled_error,
        )
    baseline = reference.profile.performance
    confusion = baseline.confusion if baseline is not None else None
    if isinstance(columns, ClassEstimationColumns):
        class_shift = None
        if isinstance(current.class_score_cells, ClassScoreCells):
            class_shift = ClassLabelShift.of(confusion, current.class_score_cells)
        return EstimatedPerformance.of_classes(
            reference.class_calibration,
            ScopeCells(current.rows, current.class_score_cells),
            {key: ScopeCells(s.rows, s.class_score_cells) for key, s in current.segments.items()},
            label_shift=class_shift,
            reconciled_error=reconciled_error,
        )
    label_shift = None
    if current.score_cells is not None:
        label_shift = LabelShift.of(confusion, columns.positive, current.score_cells)
    return EstimatedPerformance.of(
        reference.calibration,
        ScopeCells(current.rows, current.score_cells),
        {key: ScopeCells(s.rows, s.score_cells) for key, s in current.segments.items()},
        label_shift=label_shift,
        reconciled_error=reconciled_error,
    )


def reconciled_performance(
    definition: MonitorDefinition,
    estimated: EstimatedPerformance,
    current: DatasetProfile,
    *,
    evaluation_id: str,
    history: Sequence[ReconciledPoint] = (),
    coverage: EstimateCoverage | None = None,
) -> Reconciliation:
    """The estimate against the labelled rows' measured performance, overall and per
    segment (where the labels and the estimate each cover enough of the rows), with the
    model's running coverage: ``coverage`` when given, else over ``history`` and this
    evaluation (``estimation.coverage_evaluations`` of each metric's latest)."""
    return Reconciliation.of(
        estimated,
        current.performance,
        {key: segment.performance for key, segment in current.segments.items()},
        evaluation_id=evaluation_id,
        history=history,
        trailing=definition.estimation.coverage_evaluations,
        coverage=coverage,
    )


@dataclass(frozen=True)
class Window:
    """The time range an evaluation covers (ISO 8601 strings, or None when not known)."""

    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class EvaluationResult:
    """Everything one evaluation found; :meth:`to_dict` is the published result JSON."""

    model: str
    evaluation_id: str
    window: Window
    reference_rows: int
    current_rows: int
    drift: DriftReport
    data_quality: dict[str, Any]
    checks: list[CheckResult]
    performance: PerformanceReport | None = None
    worst_slices: tuple[Slice, ...] = ()
    label_join: dict[str, Any] | None = None
    estimated: EstimatedPerformance | None = None
    reconciled: Reconciliation | None = None

    @property
    def status(self) -> str:
        return overall_status(self.checks)

    @property
    def failed(self) -> bool:
        """A check failed or the dataset drifted: what ``driftline evaluate`` exits 1 for."""
        return self.status != "ok" or self.drift.dataset_drifted

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": RESULT_VERSION,
            "model": self.model,
            "evaluation_id": self.evaluation_id,
            "window": {"start": self.window.start, "end": self.window.end},
            "rows": {"reference": self.reference_rows, "current": self.current_rows},
            "drift": self.drift.to_dict(),
            "performance": self._performance(),
            "worst_slices": [item.to_dict() for item in self.worst_slices],
            "data_quality": self.data_quality,
            "checks": [check.to_dict() for check in self.checks],
            "actions": self.actions(),
            "status": self.status,
        }

    def _performance(self) -> dict[str, Any]:
        if self.performance is None:
            return {"overall": {}, "segments": {}}
        document = self.performance.to_dict()
        if self.label_join is not None and "labels" in document:
            document["labels"]["join"] = self.label_join
        if self.estimated is not None and "labels" in document:
            document["estimated"] = self.estimated.to_dict()
            if self.reconciled is not None:
                document["reconciled"] = self.reconciled.to_dict()
        return document

    def actions(self) -> list[dict[str, Any]]:
        """The actions the failed checks ask for, most severe first, with those checks."""
        wanted: dict[str, list[str]] = {}
        for check in self.checks:
            if check.status == "fail":
                wanted.setdefault(check.action, []).append(check.name)
        return [
            {"action": action, "checks": wanted[action]}
            for action in ACTION_ORDER
            if action in wanted
        ]


def evaluate(
    definition: MonitorDefinition,
    reference: Reference,
    current: DatasetProfile,
    *,
    evaluation_id: str,
    window: Window | None = None,
    label_join: dict[str, Any] | None = None,
    drift_figures: bool = True,
    reconciled_history: Sequence[ReconciledPoint] = (),
    estimate_coverage: EstimateCoverage | None = None,
    reconciled_error: ReconciledError | None = None,
) -> EvaluationResult:
    """Compare ``current`` with ``reference`` and decide every check of ``definition``,
    and the built-in checks it does not replace (:func:`driftline.checks.effective_checks`).

    ``label_join`` is what joining late labels found (:meth:`driftline.labels.JoinReport.
    to_dict`), reported under ``performance.labels.join``. ``drift_figures=False`` leaves
    drift out (an empty report): for a definition without drift checks whose result is
    only acted on, such as a batch's quality checks, it saves a test per column and segment.
    ``reconciled_history`` holds the reconciled pairs of the model's earlier evaluations,
    oldest first (:class:`~driftline.reconciliation.ReconciledPoint`), for the estimate's
    running coverage under ``performance.reconciled.coverage``; without it the coverage is
    this evaluation's alone. ``estimate_coverage``, when given, is that running coverage as
    computed elsewhere and is reported and checked as it is (on AWS: the coverage of the
    batches reconciled when their labels landed, :mod:`driftline.batch_reconciliation`);
    the window is still reconciled, for reading, but not counted. ``reconciled_error``,
    when given, is the estimator's error on the latest reconciled batches
    (:mod:`~driftline.estimation.reconciled_error`), which widens the estimate's intervals
    where it is wider than the baseline's terms.
    """
    schema = definition.schema_
    outputs = tuple(output_columns(definition))
    if not drift_figures and any(check.drift is not None for check in definition.checks):
        raise ValueError("drift_figures=False needs a definition without drift checks")
    drift = (
        compare_profiles(
            reference.profile,
            current,
            features=schema.features,
            drift=definition.drift,
            outputs=outputs,
            label=schema.label,
        )
        if drift_figures
        else DriftReport({}, definition.drift.dataset_drift_share)
    )
    quality: dict[str, Any] = {
        name: column_quality(reference.profile.columns[name], current.columns[name]).to_dict()
        for name in (*schema.features, *outputs)
    }
    quality["_dataset"] = dataset_quality(reference.profile, current).to_dict()
    estimated = estimated_performance(
        definition, reference, current, reconciled_error=reconciled_error
    )
    reconciled = reconciled_performance(
        definition,
        estimated,
        current,
        evaluation_id=evaluation_id,
        history=reconciled_history,
        coverage=estimate_coverage,
    )
    specs = effective_checks(definition)
    checks = [
        decide_coverage_check(check, reconciled)
        if check.metric == ESTIMATE_COVERAGE
        else _decide(check, definition, reference.profile, current, drift, estimated=estimated)
        for check in specs
    ]
    # The worst slices say where the labelled rows err: for a failed check of the labelled
    # rows' performance, not of the estimate or its coverage.
    performance_failed = any(
        result.status == "fail"
        and (
            (spec.metric not in (None, ESTIMATE_COVERAGE) and not spec.estimated)
            or spec.detector is not None
        )
        for spec, result in zip(specs, checks, strict=True)
    )
    worst = current.slices.worst() if performance_failed and current.slices else []
    return EvaluationResult(
        model=definition.model,
        evaluation_id=evaluation_id,
        window=window or Window(),
        reference_rows=reference.profile.rows,
        current_rows=current.rows,
        drift=drift,
        data_quality=quality,
        checks=checks,
        performance=PerformanceReport.compare(reference.profile, current),
        worst_slices=tuple(worst),
        label_join=label_join,
        estimated=estimated,
        reconciled=reconciled,
    )


def _decide(
    check: CheckSpec,
    definition: MonitorDefinition,
    reference: DatasetProfile,
    current: DatasetProfile,
    drift: DriftReport,
    *,
    estimated: EstimatedPerformance,
) -> CheckResult:
    key = segment_key(check)
    if key is not None:
        if key not in current.segments:
            return skip(check, f"no rows of segment {key} in the current data")
        if key not in reference.segments:
            return skip(check, f"no rows of segment {key} in the baseline")
        current = current.segments[key]
        reference = reference.segments[key]
        drift = drift.segments.get(key, drift)
    if check.drift is not None:
        return _decide_drift(check, definition, drift)
    if check.quality is not None:
        return _decide_quality(check, definition, reference, current)
    if check.metric is not None and check.estimated:
        return decide_estimated_check(check, estimated, reference, current)
    if check.metric is not None:
        return decide_metric_check(check, reference, current)
    return skip(check, f"detector {check.detector} runs on label arrival, not in evaluations")


def decide_estimated_check(
    check: CheckSpec,
    estimated: EstimatedPerformance,
    reference: DatasetProfile,
    current: DatasetProfile,
) -> CheckResult:
    """Decide an estimated metric check (``estimated: true``) on the estimate of its scope,
    as a measured check is decided on the measured value (the caller picks the segment's
    profiles; ``estimated`` holds every scope's estimate).

    A relative bound compares with the baseline's *measured* metric of the same scope. The
    result carries the estimate's interval, the rows estimated and the scope's label
    coverage (:class:`~driftline.checks.EstimateEvidence`), and its detail quotes them.
    Skips, with the reason, when the window is not estimated (the estimate's reason), when
    fewer rows were estimated than ``min_rows`` (default
    :data:`~driftline.config.checks.ESTIMATED_MIN_ROWS`), or when the metric is undefined.
    """
    assert check.metric is not None
    metric = check.metric
    key = segment_key(check)
    measure = measure_of(check) + (f" in {key}" if key else "")
    if estimated.overall is None:
        return skip(check, f"{measure}: the window is not estimated: {estimated.skipped}")
    scope = estimated.overall if key is None else estimated.segments.get(key)
    if scope is None:
        return skip(check, f"{measure}: the segment's rows carry no score cells to estimate")
    floor = check.min_rows or ESTIMATED_MIN_ROWS
    if scope.estimate.rows < floor:
        return skip(
            check,
            f"too few rows to decide {measure}: {scope.estimate.rows:,} rows estimated, "
            f"min_rows is {floor:,}",
        )
    undefined = scope.undefined.get(metric)
    if undefined is not None:
        return skip(check, f"{measure} is undefined: {undefined.partition(': ')[2] or undefined}")
    value, interval = scope.metrics[metric], scope.intervals[metric]
    model_error = estimated.calibration.model_error if estimated.calibration else None
    labels = current.performance
    evidence = EstimateEvidence(
        lower=interval.lower,
        upper=interval.upper,
        covers=interval_section(
            model_error, estimated.estimated_metrics, estimated.reconciled_error
        )["covers"][metric],
        rows=scope.estimate.rows,
        window_rows=current.rows,
        labelled=labels.labelled if labels is not None else 0,
        method=LOSS_METHOD if isinstance(estimated.calibration, LossModel) else "cbpe",
    )
    decided = judge(check, value, baseline=_measured_baseline(reference.performance, metric))
    return replace(decided, detail=f"{decided.detail} ({evidence.describe()})", estimate=evidence)


def _measured_baseline(profile: PerformanceProfile | None, metric: str) -> float | None:
    """The baseline's measured value of an estimated check's metric: the catalogue's, and
    specificity (estimated only) from the baseline's confusion counts, ``TN / (TN + FP)``."""
    if metric == "auc_macro":  # estimated only: the profiles measure no multiclass AUC
        return None
    if metric != "specificity":
        return baseline_value(profile, metric)
    if profile is None or profile.confusion is None:
        return None
    positive = 1 if profile.positive_class is None else profile.positive_class
    negatives = correct = 0
    for (truth, guess), count in profile.confusion.cells.items():
        if truth != positive:
            negatives += count
            correct += count if guess != positive else 0
    return correct / negatives if negatives else None


def _decide_drift(
    check: CheckSpec, definition: MonitorDefinition, drift: DriftReport
) -> CheckResult:
    key = segment_key(check)
    where = f" in {key}" if key else ""
    if check.drift == "dataset":
        if drift.evaluated == 0:
            return skip(check, "no feature could be evaluated for drift")
        counted = [
            f.result.n_current
            for f in drift.features.values()
            if f.result is not None and f.result.n_current is not None
        ]
        if check.min_rows is not None and counted and max(counted) < check.min_rows:
            return skip(
                check,
                f"too few rows to decide{where}: {max(counted):,}, min_rows is {check.min_rows:,}",
            )
        drifted = [name for name, result in drift.features.items() if result.drifted]
        verdict: Status = "fail" if drift.dataset_drifted else "pass"
        listed = ", ".join(
            _short_evidence(name, drift.features[name].result) for name in drifted[:5]
        ) + ("…" if len(drifted) > 5 else "")
        skipped = drift.skipped
        not_evaluated = (
            f"; not evaluated: {', '.join(key_part(name) for name in skipped[:5])}"
            + ("…" if len(skipped) > 5 else "")
            + " (see drift.features)"
            if skipped
            else ""
        )
        detail = (
            f"{len(drifted)} of {drift.evaluated} features drifted{where} "
            f"({drift.share_drifted:.0%}; dataset drift at {drift.dataset_drift_share:.0%})"
            + (f": {listed}" if drifted else "")
            + not_evaluated
        )
        return CheckResult(
            check.name,
            verdict,
            drift.share_drifted,
            drift.dataset_drift_share,
            None,
            key,
            check.action,
            detail,
        )
    schema = definition.schema_
    column = {
        "prediction": schema.prediction,
        "score": schema.score,
        "label": schema.label,
    }.get(check.drift or "", check.drift)
    assert column is not None
    feature = drift.features.get(column) or drift.outputs.get(column)
    if feature is None:
        return skip(check, f"no drift figure for column {column}")
    if feature.result is None:
        return skip(check, f"drift of {column}{where} skipped: {feature.skipped}")
    result = feature.result
    verdict = "fail" if result.drifted else "pass"
    floor = check.min_rows
    if floor is not None and result.n_current is not None and result.n_current < floor:
        return skip(
            check,
            f"too few values of {column}{where} to decide: {result.n_current:,}, "
            f"min_rows is {floor:,}",
        )
    if result.effect is not None:
        return CheckResult(
            check.name,
            verdict,
            result.effect,
            result.threshold,
            None,
            key,
            check.action,
            f"{column}{where}: {drift_evidence(result)}",
        )
    value = result.p_value if result.direction.startswith("p_value") else result.statistic
    compared = "p-value" if result.direction.startswith("p_value") else result.method
    detail = (
        f"{column}{where}: {compared} {value:.4g} "
        f"({'drifted' if result.drifted else 'no drift'}: drift when {result.direction} "
        f"{result.threshold:g})"
    )
    return CheckResult(
        check.name, verdict, value, result.threshold, None, key, check.action, detail
    )


def _short_evidence(name: str, result: DriftResult | None) -> str:
    """A drifted feature in a dataset check's detail: its effect, adjusted p-value and n.

    >>> from driftline.stats.base import DriftResult
    >>> _short_evidence("age", DriftResult(
    ...     "ks", 0.08, 1e-9, 0.02, "p_adjusted < alpha and effect >= threshold", True,
    ...     effect=0.08, effect_measure="ks", p_adjusted=2e-8, alpha=0.01, n_current=1000))
    'age (ks 0.08 >= 0.02, adjusted p 2e-08 < 0.01, n 1,000)'
    """
    if result is None or result.effect is None:
        return key_part(name)
    n = f", n {result.n_current:,}" if result.n_current is not None else ""
    size = (
        _missing_evidence(result)
        if _drifted_by_missing(result)
        else f"{result.effect_measure} {short_number(result.effect)} >= "
        f"{short_number(result.threshold)}"
    )
    return (
        f"{key_part(name)} ({size}, adjusted p {short_number(result.p_adjusted)} < "
        f"{short_number(result.alpha)}{n})"
    )


def _drifted_by_missing(result: DriftResult) -> bool:
    """Whether the change of the missing share, and not the values, made a drifted column's
    change large enough."""
    split, alpha = result.split_p_adjusted, result.alpha
    if not result.drifted or split is None or alpha is None or result.missing_shares is None:
        return False
    values_large = (
        result.effect is not None and result.effect >= result.threshold and split[0] < alpha
    )
    return not values_large


def _missing_evidence(result: DriftResult) -> str:
    """The missing share on both sides against the change that drifts, and its own adjusted
    p-value.

    >>> from driftline.stats.base import DriftResult
    >>> _missing_evidence(DriftResult(
    ...     "ks", 0.004, 1e-9, 0.02, "p_adjusted < alpha and effect >= threshold", True,
    ...     effect=0.004, alpha=0.01, missing_shares=(0.001, 0.2), min_missing_change=0.02,
    ...     split_p_adjusted=(0.5, 2e-30)))
    'missing 0.1 % -> 20.0 % (change 0.199 >= 0.02, adjusted p 2e-30 < 0.01)'
    """
    before, after = result.missing_shares or (0.0, 0.0)
    change = abs(after - before)
    sign = (
        ">="
        if result.min_missing_change is not None and change >= result.min_missing_change
        else "<"
    )
    credible = ""
    if result.split_p_adjusted is not None and result.alpha is not None:
        p_missing = result.split_p_adjusted[1]
        p_sign = "<" if p_missing < result.alpha else ">="
        credible = f", adjusted p {short_number(p_missing)} {p_sign} {short_number(result.alpha)}"
    return (
        f"missing {before:.1%} -> {after:.1%} (change {short_number(change)} {sign} "
        f"{short_number(result.min_missing_change)}{credible})"
    ).replace("%", " %")


def drift_evidence(result: DriftResult) -> str:
    """A drift decision's evidence in one line: the verdict, the effect against its minimum,
    the adjusted p-value against alpha (the correction and the family's size, the raw
    p-value), and the values compared on each side.

    >>> from driftline.stats.base import DriftResult
    >>> text = drift_evidence(DriftResult(
    ...     "ks", 0.083, 2.4e-08, 0.02, "p_adjusted < alpha and effect >= threshold", True,
    ...     effect=0.083, effect_measure="ks", p_adjusted=3.1e-06, alpha=0.01,
    ...     correction="holm", n_reference=25000, n_current=1000, evidence="ks", family=126))
    >>> for part in text.split("; "): print(part)
    drifted: effect (ks) 0.083 >= 0.02 and adjusted p 3.1e-06 < 0.01 (holm over 126 tests
    raw p 2.4e-08
    ks test)
    n = 1,000 current, 25,000 reference
    >>> drift_evidence(DriftResult(
    ...     "ks", 0.083, 2.4e-08, 0.02, "p_adjusted < alpha and effect >= threshold", True,
    ...     effect=0.083, effect_measure="ks", p_adjusted=3.1e-06, alpha=0.01,
    ...     correction="holm", n_reference=25000, n_current=1000,
    ...     evidence="ks+binned+scale", family=126,
    ...     evidence_parts=(("ks", 8e-09), ("binned", 0.3), ("scale", 0.02)))).split("; ")[2]
    'the smallest of 3 tests, times 3: ks 8e-09, binned 0.3, scale 0.02)'
    """
    credible = (
        result.p_adjusted is not None
        and result.alpha is not None
        and (result.p_adjusted < result.alpha)
    )
    large = result.effect is not None and result.effect >= result.threshold
    verdict = "drifted" if result.drifted else "no drift"
    effect_sign = ">=" if large else "<"
    p_sign = "<" if credible else ">="
    test = _evidence_test(result)
    size = (
        f"effect ({result.effect_measure}) {short_number(result.effect)} "
        f"{effect_sign} {short_number(result.threshold)}"
    )
    no_values = result.effect is not None and math.isnan(result.effect)
    if no_values:
        size = "no values present to compare"
    elif result.split_p_adjusted is not None and result.alpha is not None:
        alone = result.split_p_adjusted[0]
        size += (
            f" (values alone: adjusted p {short_number(alone)} "
            f"{'<' if alone < result.alpha else '>='} {short_number(result.alpha)})"
        )
    if result.missing_shares is not None:
        joined = " or" if _drifted_by_missing(result) and not no_values else ","
        size += f"{joined} {_missing_evidence(result)}"
    return (
        f"{verdict}: {size} and adjusted p "
        f"{short_number(result.p_adjusted)} {p_sign} {short_number(result.alpha)} "
        f"({result.correction} over {result.family} tests{_share_of_alpha(result)}; raw p "
        f"{short_number(result.p_value)}; {test}); n = {result.n_current:,} current, "
        f"{result.n_reference:,} reference"
        + (
            f"; borderline: the sketches' rank error (±{short_number(result.rank_error)}) "
            "could decide otherwise"
            if result.borderline
            else ""
        )
    )


def _share_of_alpha(result: DriftResult) -> str:
    """This test's share of the family's α, when the shares are not equal (overall tests
    get ``drift.overall_share`` of α when segments are tested too)."""
    share, family = result.alpha_share, result.family
    if share is None or not family or math.isclose(share * family, 1.0, rel_tol=1e-9):
        return ""
    return f", this one's share of alpha {short_number(share)}"


def _evidence_test(result: DriftResult) -> str:
    """The test(s) behind a decision's raw p-value, with each part's own p-value when
    several are combined (a numeric column: KS, the binned test and the scale test, by
    Bonferroni)."""
    if result.evidence == "ks":
        return "ks test"
    if result.evidence_parts:
        parts = ", ".join(f"{name} {short_number(p)}" for name, p in result.evidence_parts)
        count = len(result.evidence_parts)
        if count == 2:
            return f"the smaller of two tests, doubled: {parts}"
        return f"the smallest of {count} tests, times {count}: {parts}"
    return "binned homogeneity test"


#: Absent columns a check's detail names (the count counts them all).
MAX_NAMED_COLUMNS = 10


def _decide_quality(
    check: CheckSpec,
    definition: MonitorDefinition,
    reference: DatasetProfile,
    current: DatasetProfile,
) -> CheckResult:
    measure = check.quality or ""
    if measure == "out_of_range_scores":
        return _decide_scores_in_range(check, reference, current)
    if measure in DATASET_QUALITY_MEASURES:
        rows = current.rows + current.bad_rows
    else:
        rows = current.columns[check.feature or ""].count
    if measure in SHARE_QUALITY_MEASURES:
        floor = check.min_rows or QUALITY_MIN_ROWS
        if 0 < rows < floor:
            return skip(
                check,
                f"too few rows to decide {measure}: {rows:,}, min_rows is {floor:,}",
                value=None,
            )
    if measure in DATASET_QUALITY_MEASURES:
        expected = expected_columns(definition)
        measured = dataset_quality(reference, current, expected=expected)
        own = dataset_quality(reference, reference, expected=expected).measure(measure)
        decided = judge(check, measured.measure(measure), baseline=own)
        absent = measured.missing_expected
        if measure == "absent_columns" and absent:
            named = ", ".join(key_part(name) for name in absent[:MAX_NAMED_COLUMNS])
            more = len(absent) - MAX_NAMED_COLUMNS
            named += f" and {more} more" if more > 0 else ""
            decided = replace(decided, detail=f"{decided.detail} (absent from the data: {named})")
        if measure == "bad_row_share":
            decided = replace(decided, detail=f"{decided.detail} (n = {rows:,} rows)")
        return decided
    column = check.feature or ""
    if current.columns[column].count == 0:
        return skip(check, f"no rows to measure {measure} of {column}")
    value = column_quality(reference.columns[column], current.columns[column]).measure(measure)
    baseline = column_quality(reference.columns[column], reference.columns[column]).measure(measure)
    decided = judge(check, value, baseline=baseline)
    return replace(decided, detail=f"{decided.detail} (n = {rows:,} rows)")


def _decide_scores_in_range(
    check: CheckSpec, reference: DatasetProfile, current: DatasetProfile
) -> CheckResult:
    """Decide a check of ``out_of_range_scores`` (the built-in ``scores-in-range``): the rows
    whose score is a number outside [0, 1], ±inf included. Its detail states their count and
    share of the rows and the score columns they are in, never a score. Skips when the
    window merges a profile written before the rows were counted.

    >>> from driftline.profile.score_range import OutOfRangeScores
    >>> spec = CheckSpec(name="scores-in-range", quality="out_of_range_scores", max=0)
    >>> current = DatasetProfile(2_000, {}, out_of_range_scores=OutOfRangeScores(3, {"p": 3}))
    >>> result = _decide_scores_in_range(spec, current, current)
    >>> result.status, result.value
    ('fail', 3.0)
    >>> print(result.detail)
    out_of_range_scores is 3, above the maximum 0 (3 of 2,000 rows, 0.15%, have a score \
outside [0, 1] or infinite; by column: p 3)
    """
    counted = current.out_of_range_scores
    key = segment_key(check)
    if counted is None:
        where = f" of {key}" if key else ""
        return skip(
            check,
            f"scores outside [0, 1] are not counted in the rows{where}: the window merges "
            "profiles written before they were counted",
        )
    own = reference.out_of_range_scores
    decided = judge(check, float(counted.rows), baseline=None if own is None else float(own.rows))
    if counted.rows:
        share = f"{short_number(100 * counted.rows / current.rows)}%"
        columns = ", ".join(
            f"{key_part(name)} {count:,}" for name, count in counted.columns.items() if count
        )
        found = (
            f"{counted.rows:,} of {current.rows:,} rows, {share}, have a score outside [0, 1] "
            f"or infinite; by column: {columns}"
        )
    else:
        columns = ", ".join(key_part(name) for name in counted.columns)
        found = f"no score outside [0, 1] in {current.rows:,} rows; columns: {columns}"
    return replace(decided, detail=f"{decided.detail} ({found})")
