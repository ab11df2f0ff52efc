"""Estimated performance in an evaluation: the baseline's calibrator applied to the current
data's score cells, overall and per segment, as the result reports it under
``performance.estimated`` (docs/result.md).

A multiclass classifier's scopes are estimated alike from their class score cells, with the
baseline's calibrator per class (:meth:`EstimatedPerformance.of_classes`, :mod:`~driftline.
estimation.multiclass`); the rows it cannot read add ``prediction_unknown`` (a predicted
class none of the declared ones), and its metrics are accuracy and the macro precision,
recall, F1 and ROC AUC, none derived.

Every scope (the whole window, each segment) is estimated with the one calibrator of the
whole baseline, as the measured metrics of a segment are measured with the model's one
positive class. A scope's rows that the estimate cannot read are counted by why: no score
or one that is not a number (``score_missing``), a score outside [0, 1]
(``score_out_of_range``), no predicted class (``prediction_missing``).

Every defined estimate has a 95 % interval, ``value ± 1.96 · √(sampling variance + excess
variance)`` clipped to [0, 1]: the sampling variance of the scope's cells
(:func:`~driftline.estimation.sampling.sampling_variances`) and the metric's model-error
term stored with the baseline (:mod:`~driftline.estimation.model_error`), the same for
every scope and every window size. Without a term (a baseline stored before they were
measured, one too small to measure them, a metric undefined on too many of its chunks) the
interval covers sampling error alone, and the result says so per metric. Gini is reported
as ``2 · AUC − 1``, its interval AUC's mapped alike (:data:`DERIVED_METRICS`).

>>> from driftline.estimation.calibration import CalibrationDecision, IdentityCalibrator
>>> from driftline.estimation.score_cells import ScoreCells
>>> cells = ScoreCells.from_arrays([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])
>>> calibration = BaselineCalibration(4, IdentityCalibrator(),
...     CalibrationDecision(False, "no_lower_error", 0.2, 0.25, 0.75))
>>> document = EstimatedPerformance.of(calibration, ScopeCells(5, cells), {}).to_dict()
>>> document["overall"]["accuracy"], document["rows"]["overall"]
({'value': 0.825, 'lower': 0.4616, 'upper': 1.0, 'method': 'cbpe'}, 4)
>>> document["interval"]["covers"]["accuracy"]      # no model-error term stored
'sampling'
>>> document["left_out"]["overall"], document["expected_positive_share"]["overall"]
({'score_missing': 0, 'score_out_of_range': 0, 'prediction_missing': 1}, 0.525)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from driftline.estimation.baseline import BaselineCalibration
from driftline.estimation.binary import ESTIMATED_METRICS, BinaryEstimate, estimate_binary
from driftline.estimation.calibration import Calibrator
from driftline.estimation.class_calibration import ClassCalibration
from driftline.estimation.label_shift import ClassLabelShift, LabelShift
from driftline.estimation.loss_model import (
    LOSS_METHOD,
    REGRESSION_METRICS,
    LossCells,
    LossModel,
    RegressionEstimate,
    interval,
)
from driftline.estimation.model_error import ModelError, ModelErrorTerm
from driftline.estimation.multiclass import (
    MULTICLASS_METRICS,
    ClassScoreCells,
    MulticlassEstimate,
    estimate_multiclass,
    multiclass_sampling_variances,
)
from driftline.estimation.reconciled_error import ReconciledError
from driftline.estimation.sampling import sampling_variances
from driftline.estimation.score_cells import ScoreCells

#: The method every estimate names: confidence-based performance estimation.
METHOD = "cbpe"
#: The level of every interval, and the standard normal quantile of its upper end.
LEVEL = 0.95
Z = 1.959963984540054
#: Metrics reported as an increasing affine map of an estimated one, ``scale · x + shift``:
#: the estimate and both ends of its interval are mapped alike, so the interval keeps its
#: level (Gini = 2 AUC − 1, its interval clipped to [−1, 1] as AUC's is to [0, 1]).
DERIVED_METRICS: dict[str, tuple[str, float, float]] = {"gini": ("auc", 2.0, -1.0)}
#: Every metric ``performance.estimated`` reports, in its order: the estimated, then the
#: derived ones.
REPORTED_METRICS: tuple[str, ...] = (*ESTIMATED_METRICS, *DERIVED_METRICS)
#: What an interval covers: the window's sampling error, and the estimator's error beyond
#: it measured on the baseline.
SAMPLING = "sampling"
SAMPLING_AND_MODEL_ERROR = "sampling_and_model_error"
#: ... and the estimator's error on the latest reconciled batches, wider than the baseline's
#: (:mod:`~driftline.estimation.reconciled_error`).
SAMPLING_AND_RECONCILED_ERROR = "sampling_and_reconciled_error"
#: Why the interval covers sampling error alone when the baseline predates model-error terms.
MODEL_ERROR_PREDATES = (
    "the baseline was profiled before the estimator's error was measured with it; upload "
    "the baseline again for intervals that cover it"
)

#: Why a window is not estimated when the baseline predates stored calibrators.
BASELINE_PREDATES = (
    "the baseline was profiled before calibrators were stored with it (profile version "
    "below 4); upload the baseline again to estimate"
)
#: Why a window is not estimated when one of its profiles predates score cells.
CELLS_PREDATE = (
    "the current data's profiles carry no score cells: profiles written before version 4 "
    "have none, and a window that merges one is not estimated"
)
#: Why a regression window is not estimated when the baseline predates its loss model.
LOSS_BASELINE_PREDATES = (
    "the baseline was profiled before loss models were stored with it; upload the baseline "
    "again to estimate"
)
#: Why a regression window is not estimated when one of its profiles predates loss cells.
LOSS_CELLS_PREDATE = (
    "the current data's profiles carry no loss cells: profiles written before they were kept "
    "have none, and a window that merges one is not estimated"
)
#: Why a multiclass window is not estimated when the baseline predates per-class calibrators.
CLASS_BASELINE_PREDATES = (
    "the baseline was profiled before per-class calibrators were stored with it (or before "
    "schema.class_scores was set); upload the baseline again to estimate"
)
#: Why a multiclass window is not estimated when one of its profiles predates class cells.
CLASS_CELLS_PREDATE = (
    "the current data's profiles carry no class score cells: profiles written before they "
    "were kept (or before schema.class_scores was set) have none, and a window that merges "
    "one is not estimated"
)


@dataclass(frozen=True)
class ScopeCells:
    """A scope's rows and its score cells, or class score cells for a multiclass model
    (None when a profile merged in had none)."""

    rows: int
    cells: ScoreCells | ClassScoreCells | LossCells | None


@dataclass(frozen=True)
class Interval:
    """A 95 % interval around an estimate, and the sampling variance it was built from."""

    lower: float
    upper: float
    sampling_variance: float

    @classmethod
    def around(cls, value: float, variance: float, term: ModelErrorTerm | None) -> Interval:
        """``value ± Z · √(variance + excess variance)``, clipped to [0, 1].

        >>> interval = Interval.around(0.9, 0.0004, ModelErrorTerm(0.0, 0.0005, 50))
        >>> round(interval.lower, 4), round(interval.upper, 4)      # 0.9 ± 1.96 × 0.03
        (0.8412, 0.9588)
        """
        excess = term.excess_variance if term is not None else 0.0
        half = Z * math.sqrt(variance + excess)
        return cls(max(0.0, value - half), min(1.0, value + half), variance)

    def mapped(self, scale: float, shift: float) -> Interval:
        """The interval of ``scale · x + shift`` (``scale > 0``): both ends mapped, the
        variance scaled by ``scale²``.

        >>> gini = Interval(0.8, 0.9, 0.0004).mapped(2.0, -1.0)     # AUC to Gini
        >>> round(gini.lower, 12), round(gini.upper, 12), round(gini.sampling_variance, 12)
        (0.6, 0.8, 0.0016)
        """
        if scale <= 0:
            raise ValueError(f"expected an increasing map (scale > 0), got scale {scale}")
        return Interval(
            scale * self.lower + shift,
            scale * self.upper + shift,
            scale**2 * self.sampling_variance,
        )


@dataclass(frozen=True)
class EstimatedScope:
    """The estimate of one scope, the interval of each defined metric and the rows left
    out of it, by why; :attr:`metrics` and :attr:`undefined` add the derived metrics
    (:data:`DERIVED_METRICS`) to a binary estimate's."""

    estimate: BinaryEstimate | MulticlassEstimate | RegressionEstimate
    left_out: dict[str, int]
    intervals: dict[str, Interval] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        scope: ScopeCells,
        cells: ScoreCells,
        calibrator: Calibrator,
        terms: Mapping[str, ModelErrorTerm],
    ) -> EstimatedScope:
        unpredicted = scope.rows - cells.n - cells.unbinned
        estimate = estimate_binary(cells, calibrator)
        variances = sampling_variances(cells, calibrator)
        intervals = {
            name: Interval.around(value, variances[name], terms.get(name))
            for name, value in estimate.metrics.items()
        }
        for name, (source, scale, shift) in DERIVED_METRICS.items():
            if source in intervals:
                intervals[name] = intervals[source].mapped(scale, shift)
        return cls(
            estimate,
            {
                "score_missing": cells.missing,
                "score_out_of_range": cells.below + cells.above,
                "prediction_missing": unpredicted,
            },
            intervals,
        )

    @classmethod
    def of_classes(
        cls,
        scope: ScopeCells,
        cells: ClassScoreCells,
        calibrators: tuple[Calibrator, ...],
        terms: Mapping[str, ModelErrorTerm],
    ) -> EstimatedScope:
        """A multiclass scope: its class cells estimated with a calibrator per class."""
        unpredicted = scope.rows - cells.n - cells.unbinned
        estimate = estimate_multiclass(cells, calibrators)
        variances = multiclass_sampling_variances(cells, calibrators)
        intervals = {
            name: Interval.around(value, variances[name], terms.get(name))
            for name, value in estimate.metrics.items()
        }
        return cls(estimate, {**cells.left_out, "prediction_missing": unpredicted}, intervals)

    @classmethod
    def of_losses(
        cls,
        scope: ScopeCells,
        cells: LossCells,
        model: LossModel,
        terms: Mapping[str, ModelErrorTerm],
    ) -> EstimatedScope:
        """A regression scope: its loss cells through the baseline's loss model; the rows
        without a finite prediction are left out (``prediction_missing``). The intervals
        are clipped at 0 below only."""
        estimate = model.estimate(cells)
        intervals = {}
        for name, value in estimate.metrics.items():
            variance = estimate.variances[name]
            lower, upper = interval(value, variance, terms.get(name))
            intervals[name] = Interval(lower, upper, variance)
        return cls(estimate, {"prediction_missing": scope.rows - cells.rows}, intervals)

    @property
    def metrics(self) -> dict[str, float]:
        """Every defined metric, estimated or derived, in :data:`REPORTED_METRICS` order (a
        multiclass estimate's in :data:`~driftline.estimation.multiclass.
        MULTICLASS_METRICS` order, none derived; a regression estimate's MAE and RMSE)."""
        if isinstance(self.estimate, MulticlassEstimate | RegressionEstimate):
            return dict(self.estimate.metrics)
        found = dict(self.estimate.metrics)
        for name, (source, scale, shift) in DERIVED_METRICS.items():
            if source in found:
                found[name] = scale * found[source] + shift
        return {name: found[name] for name in REPORTED_METRICS if name in found}

    @property
    def undefined(self) -> dict[str, str]:
        """Every undefined metric with its reason; a derived one gives its source's."""
        if isinstance(self.estimate, MulticlassEstimate | RegressionEstimate):
            return dict(self.estimate.undefined)
        reasons = dict(self.estimate.undefined)
        for name, (source, _, _) in DERIVED_METRICS.items():
            if source in reasons:
                why = reasons[source].partition(": ")[2] or reasons[source]
                reasons[name] = f"{name} is undefined ({source} is): {why}"
        return {name: reasons[name] for name in REPORTED_METRICS if name in reasons}

    @property
    def expected_positive_share(self) -> float | None:
        """The estimated prior: expected positives over the rows (None without rows, and
        for a multiclass estimate, whose classes each have a share, and a regression one)."""
        if not isinstance(self.estimate, BinaryEstimate):
            return None
        rows = self.estimate.rows
        return self.estimate.expected_positives / rows if rows else None

    @property
    def expected_class_shares(self) -> dict[str, float] | None:
        """A multiclass estimate's expected share of each class, by the class as text
        (None for a binary one, and without rows)."""
        if not isinstance(self.estimate, MulticlassEstimate) or not self.estimate.rows:
            return None
        return {
            str(label): share
            for label, share in zip(
                self.estimate.classes, self.estimate.expected_shares, strict=True
            )
        }


@dataclass(frozen=True)
class EstimatedPerformance:
    """The estimate of every scope, or why there is none.

    Attributes:
        overall: the whole window's (None when skipped).
        segments: each segment's, by ``"column=value"``.
        calibration: the baseline's calibration the estimate used.
        skipped: why nothing is estimated (None when estimated).
        label_shift: the whole window's class prior estimated from its predicted classes
            (:mod:`~driftline.estimation.label_shift`; a multiclass model's, every class's
            share); None when not asked for.
        reconciled_error: the estimator's error on the latest reconciled batches, which
            widened the intervals where it is wider than the baseline's; None when not
            given (no batches are reconciled outside a deployment).
    """

    overall: EstimatedScope | None = None
    segments: dict[str, EstimatedScope] = field(default_factory=dict)
    calibration: BaselineCalibration | ClassCalibration | LossModel | None = None
    skipped: str | None = None
    label_shift: LabelShift | ClassLabelShift | None = None
    reconciled_error: ReconciledError | None = None

    @property
    def estimated_metrics(self) -> tuple[str, ...]:
        """The metrics this estimate estimates (before any derived one): a binary
        classifier's :data:`~driftline.estimation.binary.ESTIMATED_METRICS`, or a multiclass
        classifier's :data:`~driftline.estimation.multiclass.MULTICLASS_METRICS`."""
        if isinstance(self.calibration, ClassCalibration):
            return MULTICLASS_METRICS
        if isinstance(self.calibration, LossModel):
            return REGRESSION_METRICS
        return ESTIMATED_METRICS

    @classmethod
    def skip(cls, reason: str) -> EstimatedPerformance:
        return cls(skipped=reason)

    @classmethod
    def of(
        cls,
        calibration: BaselineCalibration | None,
        overall: ScopeCells,
        segments: Mapping[str, ScopeCells],
        *,
        label_shift: LabelShift | None = None,
        reconciled_error: ReconciledError | None = None,
    ) -> EstimatedPerformance:
        """Estimate every scope with the baseline's calibrator, or say why not: the
        baseline predates stored calibrators or has none, or the current profiles carry
        no cells. ``label_shift`` is reported with the estimate; ``reconciled_error``
        widens the intervals where it is wider than the baseline's terms."""
        if calibration is None:
            return cls.skip(BASELINE_PREDATES)
        calibrator = calibration.calibrator
        if calibrator is None:
            return cls.skip(f"the baseline has no calibrator: {calibration.skipped}")
        if not isinstance(overall.cells, ScoreCells):
            return cls.skip(CELLS_PREDATE)
        terms = _terms(calibration.model_error, reconciled_error)
        return cls(
            EstimatedScope.of(overall, overall.cells, calibrator, terms),
            {
                key: EstimatedScope.of(scope, scope.cells, calibrator, terms)
                for key, scope in sorted(segments.items())
                # a segment has cells whenever the window does: every profile merged in had
                if isinstance(scope.cells, ScoreCells)
            },
            calibration,
            label_shift=label_shift,
            reconciled_error=reconciled_error,
        )

    @classmethod
    def of_classes(
        cls,
        calibration: ClassCalibration | None,
        overall: ScopeCells,
        segments: Mapping[str, ScopeCells],
        *,
        label_shift: ClassLabelShift | None = None,
        reconciled_error: ReconciledError | None = None,
    ) -> EstimatedPerformance:
        """Estimate every scope of a multiclass model with the baseline's per-class
        calibrators, or say why not: the baseline predates them or has none, the current
        profiles carry no class cells, or the cells declare other classes than the
        baseline's calibrators (``schema.class_scores`` changed since the baseline);
        ``label_shift`` and ``reconciled_error`` as in :meth:`of`."""
        if calibration is None:
            return cls.skip(CLASS_BASELINE_PREDATES)
        calibrators = calibration.calibrators
        if calibrators is None:
            return cls.skip(f"the baseline has no calibrators: {calibration.skipped}")
        if not isinstance(overall.cells, ClassScoreCells):
            return cls.skip(CLASS_CELLS_PREDATE)
        if overall.cells.classes != calibration.classes:
            return cls.skip(
                "the current data's class score cells declare other classes than the "
                "baseline's calibrators (schema.class_scores changed since the baseline was "
                "profiled); upload the baseline again to estimate"
            )
        terms = _terms(calibration.model_error, reconciled_error)
        return cls(
            EstimatedScope.of_classes(overall, overall.cells, calibrators, terms),
            {
                key: EstimatedScope.of_classes(scope, scope.cells, calibrators, terms)
                for key, scope in sorted(segments.items())
                if isinstance(scope.cells, ClassScoreCells)
            },
            calibration,
            label_shift=label_shift,
            reconciled_error=reconciled_error,
        )

    @classmethod
    def of_losses(
        cls,
        model: LossModel | None,
        overall: ScopeCells,
        segments: Mapping[str, ScopeCells],
        *,
        reconciled_error: ReconciledError | None = None,
    ) -> EstimatedPerformance:
        """Estimate every scope of a regression model with the baseline's loss model, or
        say why not: the baseline predates loss models or has none, the current profiles
        carry no loss cells, or cells of other bins (the baseline changed since);
        ``reconciled_error`` as in :meth:`of`."""
        if model is None:
            return cls.skip(LOSS_BASELINE_PREDATES)
        if model.absolute is None:
            return cls.skip(f"the baseline has no loss model: {model.skipped}")
        if not isinstance(overall.cells, LossCells):
            return cls.skip(LOSS_CELLS_PREDATE)
        if not model.reads(overall.cells):
            return cls.skip(
                "the current data's loss cells are of other columns or bins than the "
                "baseline's loss model (the baseline changed since they were profiled)"
            )
        terms = _terms(model.model_error, reconciled_error)
        return cls(
            EstimatedScope.of_losses(overall, overall.cells, model, terms),
            {
                key: EstimatedScope.of_losses(scope, scope.cells, model, terms)
                for key, scope in sorted(segments.items())
                if isinstance(scope.cells, LossCells) and model.reads(scope.cells)
            },
            model,
            reconciled_error=reconciled_error,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``performance.estimated`` section of the result JSON: ``{"skip": reason}``,
        or per scope the defined metrics (``{value, lower, upper, method}``), the undefined
        ones with their reason, the rows estimated and left out, and the expected positive
        share, with what the intervals cover, the baseline's calibration and, when given,
        the prior estimated from the predicted classes (``label_shift``)."""
        if self.overall is None or self.calibration is None:
            return {"skip": self.skipped}

        def per_scope(figure: Any) -> dict[str, Any]:
            return {
                "overall": figure(self.overall),
                "segments": {key: figure(scope) for key, scope in self.segments.items()},
            }

        method = LOSS_METHOD if isinstance(self.calibration, LossModel) else METHOD

        def metrics(scope: EstimatedScope) -> dict[str, Any]:
            return {
                name: {
                    "value": value,
                    "lower": scope.intervals[name].lower,
                    "upper": scope.intervals[name].upper,
                    "method": method,
                }
                for name, value in scope.metrics.items()
            }

        if isinstance(self.calibration, LossModel):
            return {
                "method": method,
                **per_scope(metrics),
                "undefined": per_scope(lambda scope: scope.undefined),
                "rows": per_scope(lambda scope: scope.estimate.rows),
                "left_out": per_scope(lambda scope: dict(scope.left_out)),
                "interval": interval_section(
                    self.calibration.model_error, REGRESSION_METRICS, self.reconciled_error
                ),
                "loss_model": loss_model_section(self.calibration),
            }

        if isinstance(self.calibration, ClassCalibration):
            document = {
                "method": METHOD,
                **per_scope(metrics),
                "undefined": per_scope(lambda scope: scope.undefined),
                "rows": per_scope(lambda scope: scope.estimate.rows),
                "left_out": per_scope(lambda scope: dict(scope.left_out)),
                "expected_class_shares": per_scope(lambda scope: scope.expected_class_shares),
                "interval": interval_section(
                    self.calibration.model_error, MULTICLASS_METRICS, self.reconciled_error
                ),
                "calibration": class_calibration_section(self.calibration),
            }
            if self.label_shift is not None:
                document["label_shift"] = self.label_shift.to_dict()
            return document
        decision = self.calibration.decision
        assert decision is not None and self.calibration.calibrator is not None
        document = {
            "method": METHOD,
            **per_scope(metrics),
            "undefined": per_scope(lambda scope: scope.undefined),
            "rows": per_scope(lambda scope: scope.estimate.rows),
            "left_out": per_scope(lambda scope: dict(scope.left_out)),
            "expected_positive_share": per_scope(lambda scope: scope.expected_positive_share),
            "interval": interval_section(
                self.calibration.model_error, ESTIMATED_METRICS, self.reconciled_error
            ),
            "calibration": {
                "rows": self.calibration.rows,
                "fitted_rows": self.calibration.fitted_rows,
                "calibrator": self.calibration.calibrator.kind,
                **decision.to_dict(),
            },
        }
        if self.label_shift is not None:
            document["label_shift"] = self.label_shift.to_dict()
        return document


def loss_model_section(model: LossModel) -> dict[str, Any]:
    """A regression baseline's loss model as the result reports it: the labelled rows it
    had, the rows fitted on, its columns and the baseline's mean loss (the models'
    intercepts)."""
    assert model.absolute is not None and model.squared is not None
    return {
        "rows": model.rows,
        "fitted_rows": model.fitted_rows,
        "columns": [column.name for column in model.columns],
        "baseline_mae": model.absolute.intercept,
        "baseline_rmse": math.sqrt(max(0.0, model.squared.intercept)),
    }


def class_calibration_section(calibration: ClassCalibration) -> dict[str, Any]:
    """A multiclass baseline's calibration as the result reports it: the labelled rows it
    had and, per class (by the class as text), the rows fitted on, the calibrator and the
    decision that chose it."""
    classes: dict[str, Any] = {}
    for label, fitted in zip(calibration.classes, calibration.per_class, strict=True):
        assert fitted.calibrator is not None and fitted.decision is not None
        classes[str(label)] = {
            "fitted_rows": fitted.fitted_rows,
            "calibrator": fitted.calibrator.kind,
            **fitted.decision.to_dict(),
        }
    return {"rows": calibration.rows, "classes": classes}


def _terms(
    model_error: ModelError | None, reconciled_error: ReconciledError | None
) -> dict[str, ModelErrorTerm]:
    """The terms the intervals use: the baseline's, widened by the reconciled batches'."""
    terms = model_error.terms if model_error is not None else {}
    return reconciled_error.widen(terms) if reconciled_error is not None else dict(terms)


def interval_section(
    model_error: ModelError | None,
    metrics: tuple[str, ...] = ESTIMATED_METRICS,
    reconciled_error: ReconciledError | None = None,
) -> dict[str, Any]:
    """What the intervals cover: the level; per metric of ``metrics`` (a binary
    classifier's by default, or a multiclass one's) ``sampling_and_reconciled_error``
    (the reconciled batches' term was wider), ``sampling_and_model_error`` or ``sampling``
    (a derived metric as its source); the baseline's model-error terms (``sd``: the square
    root of the excess variance, ``mean_error``, ``chunks``), or why there are none; and,
    when given, the reconciled batches' (``reconciled_error``).

    >>> interval_section(None)["covers"]["auc"], interval_section(None)["model_error"]["skip"][:32]
    ('sampling', 'the baseline was profiled before')
    """
    terms = model_error.terms if model_error is not None else {}
    if model_error is None:
        stored: dict[str, Any] = {"skip": MODEL_ERROR_PREDATES}
    elif model_error.skipped is not None:
        stored = {"skip": model_error.skipped}
    else:
        stored = {
            "rows": model_error.rows,
            "chunk_rows": model_error.chunk_rows,
            "terms": {
                name: {"sd": term.sd, "mean_error": term.mean_error, "chunks": term.chunks}
                for name, term in terms.items()
            },
        }
    covers = {name: SAMPLING_AND_MODEL_ERROR if name in terms else SAMPLING for name in metrics}
    if reconciled_error is not None:
        for name in reconciled_error.widens(terms):
            if name in covers:
                covers[name] = SAMPLING_AND_RECONCILED_ERROR
    for name, (source, _, _) in DERIVED_METRICS.items():
        if source in covers:
            covers[name] = covers[source]
    section = {"level": LEVEL, "covers": covers, "model_error": stored}
    if reconciled_error is not None:
        section["reconciled_error"] = reconciled_error.to_dict(terms)
    return section
