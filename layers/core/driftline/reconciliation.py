"""The estimate scored against the labels: reconciliation, and the estimator's coverage.

Before labels arrive, a binary classifier's performance is estimated from its scores
(:mod:`driftline.estimation`); once they have arrived, the same rows' performance is
measured. Reconciling puts the two side by side, per metric and scope (the whole window,
each segment): the estimate, its 95 % interval, the realised value, the error
(estimate − realised, the sign the baseline's model-error terms use) and whether the
realised value fell inside the interval.

**Which rows.** The estimate covers every row with a score in [0, 1] and a predicted class,
labelled or not; the measured metrics cover the labelled rows. They are compared only when
the two sets of rows nearly coincide: at least :data:`MIN_SHARE` of the scope's rows are
labelled *and* at least as many are estimated, so the rows in one set but not the other are
at most 2 % of the scope's. Otherwise the scope is ``{"skip": reason}`` naming both counts:
on a partly labelled window the labels that came first (a fraud confirmed fast, a churner
who called) may not be a fair sample of the rows estimated.

The estimate is a deterministic function of the window's score cells, which do not change
when labels arrive (labels change the measured performance only), so the estimate
reconciled is the very estimate reported for the same rows before their labels: the same
figures, to the bit.

**Coverage.** A 95 % interval should hold the realised value about 95 % of the time. The
running coverage of a model is the share of reconciled pairs, of whole scopes (not their
segments), whose realised value was inside the interval, over each metric's latest
``trailing`` (:class:`EstimateCoverage`); ``counts`` says what the pairs are of: whole
windows of evaluations (``driftline evaluate``), or, on AWS, the batches reconciled when
their labels landed (:mod:`driftline.batch_reconciliation`), which the evaluation passes in
as it is (``Reconciliation.of(coverage=...)``) so that rows already counted with their
batch are not counted again with every window that holds them. Pairs are keyed by
evaluation or batch id: the same one counted twice (delivered again, stored again) counts
once.

>>> from driftline.estimation.calibration import CalibrationDecision, IdentityCalibrator
>>> from driftline.estimation.baseline import BaselineCalibration
>>> from driftline.estimation.performance import EstimatedPerformance, ScopeCells
>>> from driftline.estimation.score_cells import ScoreCells
>>> from driftline.metrics import PerformanceProfile
>>> from driftline.metrics.confusion import ConfusionCounts
>>> calibration = BaselineCalibration(4, IdentityCalibrator(),
...     CalibrationDecision(False, "no_lower_error", 0.2, 0.25, 0.75))
>>> cells = ScoreCells.from_arrays([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])
>>> estimated = EstimatedPerformance.of(calibration, ScopeCells(4, cells), {})
>>> measured = PerformanceProfile("binary_classification", 4, 4, positive_class=1,
...     confusion=ConfusionCounts.from_labels([1, 1, 0, 1], [1, 1, 0, 0]))
>>> reconciled = Reconciliation.of(estimated, measured, {}, evaluation_id="e1")
>>> reconciled.to_dict()["overall"]["accuracy"]
{'estimated': 0.825, 'lower': 0.4616, 'upper': 1.0, 'realised': 0.75, 'error': 0.075,
 'inside': True}
>>> reconciled.coverage.to_dict()["pairs"]     # accuracy, precision, recall, specificity, f1
5
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from driftline.checks import CheckResult, judge, skip
from driftline.config.checks import CheckSpec
from driftline.config.definition import COVERAGE_EVALUATIONS
from driftline.errors import InsufficientDataError
from driftline.estimation.binary import ESTIMATED_METRICS
from driftline.estimation.loss_model import REGRESSION_METRICS, RegressionEstimate
from driftline.estimation.multiclass import MULTICLASS_METRICS, MulticlassEstimate
from driftline.estimation.performance import EstimatedPerformance, EstimatedScope
from driftline.metrics import PerformanceProfile
from driftline.metrics.catalogue import ESTIMATE_COVERAGE
from driftline.metrics.computation import compute_metric
from driftline.metrics.encoding import Label, normalise_label
from driftline.performance import ScopePerformance

#: The share of a scope's rows that must be labelled, and estimated, for it to be reconciled.
MIN_SHARE = 0.99


@dataclass(frozen=True)
class ReconciledMetric:
    """One metric's estimate, its 95 % interval and the value the labels gave, and the
    sampling variance of the estimate (stored with a reconciled batch, for the
    estimator's error on reconciled batches: :mod:`~driftline.estimation.
    reconciled_error`; None when not known)."""

    estimated: float
    lower: float
    upper: float
    realised: float
    sampling_variance: float | None = None

    @property
    def error(self) -> float:
        """``estimated − realised``: positive when the estimate was too high."""
        return self.estimated - self.realised

    @property
    def inside(self) -> bool:
        """Whether the realised value fell inside the interval (its ends included)."""
        return self.lower <= self.realised <= self.upper

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimated": self.estimated,
            "lower": self.lower,
            "upper": self.upper,
            "realised": self.realised,
            "error": self.error,
            "inside": self.inside,
        }


@dataclass(frozen=True)
class ReconciledScope:
    """The reconciled metrics of one scope, those that could not be and why, or why the
    scope was not reconciled at all (``skipped``)."""

    metrics: dict[str, ReconciledMetric] = field(default_factory=dict)
    undefined: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None

    @classmethod
    def of(
        cls, estimated: EstimatedScope, measured: PerformanceProfile | None, *, min_rows: int = 0
    ) -> ReconciledScope:
        """Compare a scope's estimate with its measured performance, when the labelled rows
        and the estimated rows are each at least :data:`MIN_SHARE` of its rows, and at least
        ``min_rows`` rows were estimated (fewer make an interval too wide to say much)."""
        if estimated.estimate.rows < min_rows:
            return cls(
                skipped=f"too few rows to reconcile: {estimated.estimate.rows:,} rows "
                f"estimated, fewer than {min_rows:,}"
            )
        unfair = _unfair(estimated.estimate.rows, measured)
        if unfair is not None:
            return cls(skipped=unfair)
        assert measured is not None
        names: tuple[str, ...] = ESTIMATED_METRICS
        if isinstance(estimated.estimate, MulticlassEstimate):
            names = MULTICLASS_METRICS
            realised, not_measured = realised_class_metrics(measured, estimated.estimate.classes)
        elif isinstance(estimated.estimate, RegressionEstimate):
            names = REGRESSION_METRICS
            realised, not_measured = realised_regression_metrics(measured)
        else:
            realised, not_measured = realised_metrics(measured)
        metrics: dict[str, ReconciledMetric] = {}
        undefined: dict[str, str] = {}
        for name in names:
            if name in estimated.estimate.undefined:
                undefined[name] = estimated.estimate.undefined[name]
            elif name in not_measured:
                undefined[name] = f"realised {name} is undefined: {not_measured[name]}"
            elif name in estimated.estimate.metrics and name in realised:
                interval = estimated.intervals[name]
                metrics[name] = ReconciledMetric(
                    estimated.estimate.metrics[name],
                    interval.lower,
                    interval.upper,
                    realised[name],
                    interval.sampling_variance,
                )
        return cls(metrics, undefined)

    def to_dict(self) -> dict[str, Any]:
        if self.skipped is not None:
            return {"skip": self.skipped}
        return {name: metric.to_dict() for name, metric in self.metrics.items()}


def _unfair(estimated_rows: int, measured: PerformanceProfile | None) -> str | None:
    """Why a scope's estimate and measured metrics are not of the same rows, or None."""
    if measured is None:
        return "no labels: schema.label is not set"
    rows = measured.rows
    if rows == 0:
        return "no rows"
    labelled, estimated = measured.labelled / rows, estimated_rows / rows
    if labelled < MIN_SHARE:
        return (
            f"labels cover {measured.labelled:,} of {rows:,} rows ({_percent(labelled)}); "
            f"the estimate is reconciled when they cover at least {MIN_SHARE:.0%}"
        )
    if estimated < MIN_SHARE:
        return (
            f"the estimate covers {estimated_rows:,} of {rows:,} rows ({_percent(estimated)}; "
            "rows without a score in [0, 1] or a predicted class are left out of it); it is "
            f"reconciled when it covers at least {MIN_SHARE:.0%}"
        )
    return None


def _percent(share: float) -> str:
    """A share as a percentage that never rounds up to the bound it is compared with.

    >>> _percent(0.98996), _percent(0.5)
    ('98.99%', '50.00%')
    """
    return f"{int(share * 10_000) / 100:.2f}%"


def realised_regression_metrics(
    profile: PerformanceProfile,
) -> tuple[dict[str, float], dict[str, str]]:
    """The realised MAE and RMSE of a scope's labelled rows (the measured metrics), and the
    reason for each that is undefined."""
    values: dict[str, float] = {}
    undefined: dict[str, str] = {}
    for name in REGRESSION_METRICS:
        try:
            values[name] = compute_metric(profile, name)
        except InsufficientDataError as exc:
            undefined[name] = f"{name} is undefined: {exc}"
    return values, undefined


def realised_metrics(profile: PerformanceProfile) -> tuple[dict[str, float], dict[str, str]]:
    """The realised value of every estimated metric on a scope's labelled rows, and the
    reason for each that is undefined.

    Accuracy, precision, recall, specificity (``TN / (TN + FP)``) and F1 come from the
    confusion counts with the estimate's own formulas, so a zero denominator leaves the
    metric undefined, as it leaves the estimate (the measured metrics of the result write 0
    there, as scikit-learn does by default); AUC is the measured one, from the profile's
    score histograms.

    >>> from driftline.metrics.confusion import ConfusionCounts
    >>> profile = PerformanceProfile("binary_classification", 4, 4, positive_class=1,
    ...     confusion=ConfusionCounts.from_labels([1, 0, 0, 0], [1, 1, 0, 0]))
    >>> values, undefined = realised_metrics(profile)
    >>> round(values["specificity"], 4), values["precision"], undefined
    (0.6667, 0.5, {})
    >>> realised_metrics(PerformanceProfile("binary_classification", 2, 2, positive_class=1,
    ...     confusion=ConfusionCounts.from_labels([0, 0], [0, 1])))[1]["recall"]
    'recall needs actual positives; there are none'
    """
    values: dict[str, float] = {}
    undefined: dict[str, str] = {}
    confusion, positive = profile.confusion, profile.positive_class
    if confusion is not None and positive is not None:
        wanted = normalise_label(positive)
        tp = fp = fn = tn = 0
        for (truth, guess), count in confusion.cells.items():
            if guess == wanted:
                tp, fp = (tp + count, fp) if truth == wanted else (tp, fp + count)
            else:
                fn, tn = (fn + count, tn) if truth == wanted else (fn, tn + count)
        ratios = {
            "accuracy": (tp + tn, tp + fp + fn + tn, "labelled rows with a predicted class"),
            "precision": (tp, tp + fp, "rows predicted positive"),
            "recall": (tp, tp + fn, "actual positives"),
            "specificity": (tn, tn + fp, "actual negatives"),
            "f1": (2 * tp, 2 * tp + fp + fn, "a row predicted or actually positive"),
        }
        for name, (numerator, denominator, needed) in ratios.items():
            if denominator:
                values[name] = numerator / denominator
            else:
                undefined[name] = f"{name} needs {needed}; there are none"
    scope = ScopePerformance.of(profile)
    if "auc" in scope.metrics:
        values["auc"] = scope.metrics["auc"]
    elif "auc" in scope.undefined:
        undefined["auc"] = scope.undefined["auc"]
    return (
        {name: values[name] for name in ESTIMATED_METRICS if name in values},
        {name: undefined[name] for name in ESTIMATED_METRICS if name in undefined},
    )


def realised_class_metrics(
    profile: PerformanceProfile, classes: Sequence[Label]
) -> tuple[dict[str, float], dict[str, str]]:
    """The realised value of every estimated multiclass metric on a scope's labelled rows,
    and the reason for each that is undefined.

    Accuracy is the share of the labelled rows with a predicted class whose prediction is
    right (the measured accuracy); the macro precision, recall and F1 are the means over the
    declared ``classes`` (``schema.class_scores``), a class's zero denominator counting 0,
    as the estimate averages them (the measured macro metrics average over the classes seen
    in the labels or the predictions: the same unless a declared class is in neither).
    ``auc_macro`` is undefined: the profiles measure no multiclass AUC.

    >>> from driftline.metrics.confusion import ConfusionCounts
    >>> profile = PerformanceProfile("multiclass_classification", 4, 4,
    ...     confusion=ConfusionCounts.from_labels(["a", "b", "c", "a"], ["a", "b", "b", "a"]))
    >>> values, undefined = realised_class_metrics(profile, ("a", "b", "c"))
    >>> values["accuracy"], round(values["precision_macro"], 4), values["recall_macro"]
    (0.75, 0.5, 0.6666666666666666)
    """
    values: dict[str, float] = {}
    undefined = {
        "auc_macro": (
            "realised auc_macro is undefined: the profiles measure no AUC of a multiclass model"
        )
    }
    confusion = profile.confusion
    total = sum(confusion.cells.values()) if confusion is not None else 0
    if confusion is None or total == 0:
        for name in MULTICLASS_METRICS[:-1]:
            undefined[name] = f"{name} needs labelled rows with a predicted class; there are none"
        return values, {name: undefined[name] for name in MULTICLASS_METRICS}
    right = sum(count for (truth, guess), count in confusion.cells.items() if truth == guess)
    values["accuracy"] = right / total
    per_class: dict[str, list[float]] = {"precision": [], "recall": [], "f1": []}
    for label in classes:
        wanted = normalise_label(label)
        tp = confusion.cells.get((wanted, wanted), 0)
        chosen = sum(count for (_, guess), count in confusion.cells.items() if guess == wanted)
        actual = sum(count for (truth, _), count in confusion.cells.items() if truth == wanted)
        per_class["precision"].append(tp / chosen if chosen else 0.0)
        per_class["recall"].append(tp / actual if actual else 0.0)
        per_class["f1"].append(2 * tp / (chosen + actual) if chosen + actual else 0.0)
    for name, figures in per_class.items():
        values[f"{name}_macro"] = sum(figures) / len(figures)
    return values, undefined


@dataclass(frozen=True)
class ReconciledPoint:
    """One stored reconciled pair: an evaluation, a metric, whether its realised value fell
    inside the estimate's interval."""

    evaluation_id: str
    metric: str
    inside: bool


#: What a running coverage counts (``EstimateCoverage.counts``): the whole windows of
#: evaluations (``driftline evaluate``, where the evaluation's own window is all there is), or
#: the batches reconciled when their labels landed (on AWS, :mod:`driftline.batch_reconciliation`).
WINDOWS = "windows"
BATCHES = "batches"


@dataclass(frozen=True)
class EstimateCoverage:
    """The share of reconciled (evaluation or batch, metric) pairs whose realised value fell
    inside the interval.

    Attributes:
        pairs: the pairs counted.
        inside: those whose realised value fell inside.
        evaluations: the reconciled windows or batches (``counts``) they come from.
        trailing: how many of each metric's latest reconciled windows or batches were counted.
        counts: :data:`WINDOWS` or :data:`BATCHES`.
    """

    pairs: int
    inside: int
    evaluations: int
    trailing: int
    counts: str = WINDOWS

    @property
    def share(self) -> float | None:
        """``inside / pairs``; None before any pair."""
        return self.inside / self.pairs if self.pairs else None

    @classmethod
    def of(
        cls,
        points: Iterable[ReconciledPoint],
        *,
        trailing: int = COVERAGE_EVALUATIONS,
        counts: str = WINDOWS,
    ) -> EstimateCoverage:
        """The coverage of ``points``, oldest first: a later point of the same evaluation
        and metric replaces an earlier one, and per metric the latest ``trailing`` count.

        >>> points = [ReconciledPoint("e1", "auc", False), ReconciledPoint("e2", "auc", True),
        ...           ReconciledPoint("e2", "auc", True), ReconciledPoint("e3", "auc", True)]
        >>> EstimateCoverage.of(points).to_dict()
        {'share': 0.6667, 'inside': 2, 'pairs': 3, 'evaluations': 3, 'trailing': 100,
         'counts': 'windows'}
        >>> EstimateCoverage.of(points, trailing=2).share
        1.0

        Raises:
            ValueError: ``trailing`` below 1, or ``counts`` neither windows nor batches.
        """
        if trailing < 1:
            raise ValueError(f"expected trailing >= 1, got {trailing}")
        if counts not in (WINDOWS, BATCHES):
            raise ValueError(f"expected counts {WINDOWS!r} or {BATCHES!r}, got {counts!r}")
        latest: dict[tuple[str, str], bool] = {}
        for point in points:
            key = (point.metric, point.evaluation_id)
            latest.pop(key, None)  # re-inserted last: a repeated point is as new as it is
            latest[key] = point.inside
        by_metric: dict[str, list[tuple[str, bool]]] = {}
        for (metric, evaluation_id), inside in latest.items():
            by_metric.setdefault(metric, []).append((evaluation_id, inside))
        kept = [pair for pairs in by_metric.values() for pair in pairs[-trailing:]]
        return cls(
            pairs=len(kept),
            inside=sum(inside for _, inside in kept),
            evaluations=len({evaluation_id for evaluation_id, _ in kept}),
            trailing=trailing,
            counts=counts,
        )

    def counted(self) -> str:
        """What the pairs come from, in words.

        >>> EstimateCoverage(12, 11, 2, 100, BATCHES).counted()
        '2 batches'
        >>> EstimateCoverage(6, 6, 1, 100).counted()
        '1 evaluation'
        """
        if self.counts == BATCHES:
            return f"{self.evaluations} batch{'' if self.evaluations == 1 else 'es'}"
        return f"{self.evaluations} evaluation{'' if self.evaluations == 1 else 's'}"

    def to_dict(self) -> dict[str, Any]:
        share = self.share
        return {
            "share": share,
            "inside": self.inside,
            "pairs": self.pairs,
            "evaluations": self.evaluations,
            "trailing": self.trailing,
            "counts": self.counts,
        }


@dataclass(frozen=True)
class Reconciliation:
    """Every scope's estimate against its labels, and the model's running coverage; or why
    nothing is reconciled (``skipped``: the performance was not estimated)."""

    overall: ReconciledScope | None = None
    segments: dict[str, ReconciledScope] = field(default_factory=dict)
    coverage: EstimateCoverage | None = None
    skipped: str | None = None

    @classmethod
    def of(
        cls,
        estimated: EstimatedPerformance,
        overall: PerformanceProfile | None,
        segments: Mapping[str, PerformanceProfile | None],
        *,
        evaluation_id: str,
        history: Sequence[ReconciledPoint] = (),
        trailing: int = COVERAGE_EVALUATIONS,
        coverage: EstimateCoverage | None = None,
        min_rows: int = 0,
        counts: str = WINDOWS,
    ) -> Reconciliation:
        """Reconcile every estimated scope with its measured performance.

        Args:
            estimated: the evaluation's estimate.
            overall: the window's performance profile, its rows labelled or not (None: the
                model has no label column).
            segments: each segment's, by key.
            evaluation_id: this evaluation's id, which keys its pairs in the coverage.
            history: the pairs of earlier evaluations, oldest first; pairs of this
                evaluation among them (stored by an earlier attempt) are replaced by its own.
            trailing: how many of each metric's latest reconciled evaluations the coverage
                counts.
            coverage: the running coverage as computed elsewhere, reported as it is instead
                of one over ``history`` and this evaluation (on AWS: that of the batches
                reconciled when their labels landed, which already count these rows).
            min_rows: the fewest rows estimated for a scope to be reconciled (fewer: the
                scope is skipped with the count).
            counts: what ``evaluation_id`` names, :data:`WINDOWS` or :data:`BATCHES` (the
                coverage's ``counts``).
        """
        if estimated.overall is None:
            return cls(skipped=f"the performance was not estimated: {estimated.skipped}")
        whole = ReconciledScope.of(estimated.overall, overall, min_rows=min_rows)
        by_segment = {
            key: ReconciledScope.of(scope, segments.get(key), min_rows=min_rows)
            for key, scope in estimated.segments.items()
        }
        if coverage is None:
            points = [p for p in history if p.evaluation_id != evaluation_id]
            points += [
                ReconciledPoint(evaluation_id, name, metric.inside)
                for name, metric in whole.metrics.items()
            ]
            coverage = EstimateCoverage.of(points, trailing=trailing, counts=counts)
        return cls(whole, by_segment, coverage)

    def to_dict(self) -> dict[str, Any]:
        """The ``performance.reconciled`` section of the result JSON (docs/result.md)."""
        if self.overall is None or self.coverage is None:
            return {"skip": self.skipped}
        return {
            "min_share": MIN_SHARE,
            "overall": self.overall.to_dict(),
            "segments": {key: scope.to_dict() for key, scope in self.segments.items()},
            "undefined": {
                "overall": dict(self.overall.undefined),
                "segments": {key: dict(scope.undefined) for key, scope in self.segments.items()},
            },
            "coverage": self.coverage.to_dict(),
        }


#: The fewest reconciled pairs a check of the coverage decides on (5 evaluations of 6
#: metrics): a window or two whose labels fell outside say little about the intervals.
COVERAGE_MIN_PAIRS = 30


def decide_coverage_check(check: CheckSpec, reconciliation: Reconciliation | None) -> CheckResult:
    """Decide a check on the estimate's running coverage (``metric: estimate_coverage``):
    ``skip`` without an estimate or with fewer than :data:`COVERAGE_MIN_PAIRS` reconciled
    pairs, else the coverage against the check's bounds, with its counts in the detail.

    >>> spec = CheckSpec(name="estimate-coverage", metric="estimate_coverage", min=0.8)
    >>> result = decide_coverage_check(spec, Reconciliation(
    ...     ReconciledScope(), coverage=EstimateCoverage(60, 42, 10, 100)))
    >>> result.status, result.detail.split(" (")[0]
    ('fail', 'estimate_coverage is 0.7, below the minimum 0.8')
    >>> result.detail.split(" (")[1]
    '42 of 60 reconciled estimates inside their 95% interval, over 10 evaluations)'
    """
    assert check.metric == ESTIMATE_COVERAGE
    coverage = reconciliation.coverage if reconciliation is not None else None
    if reconciliation is None or coverage is None:
        why = reconciliation.skipped if reconciliation is not None else "no estimate"
        return skip(check, f"{ESTIMATE_COVERAGE}: {why}")
    if coverage.pairs < COVERAGE_MIN_PAIRS:
        return skip(
            check,
            f"{ESTIMATE_COVERAGE}: {coverage.pairs} reconciled estimates so far (over "
            f"{coverage.counted()}), fewer than the {COVERAGE_MIN_PAIRS} it decides on",
        )
    decided = judge(check, coverage.share, baseline=None)
    return CheckResult(
        decided.name,
        decided.status,
        decided.value,
        decided.threshold,
        decided.baseline,
        decided.segment,
        decided.action,
        f"{decided.detail} ({coverage.inside} of {coverage.pairs} reconciled estimates inside "
        f"their 95% interval, over {coverage.counted()})",
    )


#: The names of the stored figures (``driftline.aws.store.Table.put_metrics``): a metric's
#: estimate and interval ends, and its reconciliation; ``inside`` is 1 or 0.
ESTIMATED_RECORD = "estimated.{metric}"
RECONCILED_RECORD = "reconciled.{metric}.{part}"
RECONCILED_PARTS = ("estimated", "realised", "inside", "sampling_variance")
#: The metrics a reconciliation compares, by the model's task (those
#: :meth:`ReconciledScope.of` reads for that task's estimate).
RECONCILED_METRICS_BY_TASK: dict[str, tuple[str, ...]] = {
    "binary_classification": ESTIMATED_METRICS,
    "multiclass_classification": MULTICLASS_METRICS,
    "regression": REGRESSION_METRICS,
}
COVERAGE_RECORD = "estimate_coverage"


def estimate_records(
    estimated: EstimatedPerformance, reconciliation: Reconciliation | None
) -> list[tuple[str, str | None, float]]:
    """``(name, segment, value)`` of every estimate and reconciled figure to store, overall
    (segment None) and per segment, and the running coverage (overall, when there is one).

    ``estimated.<metric>`` (and ``.lower``, ``.upper``) for each estimated metric;
    ``reconciled.<metric>.estimated``, ``.realised`` and ``.inside`` (1 or 0) for each
    reconciled one; ``estimate_coverage``.
    """
    records: list[tuple[str, str | None, float]] = []
    scopes: list[tuple[str | None, EstimatedScope | None]] = [(None, estimated.overall)]
    scopes += list(estimated.segments.items())
    for segment, scope in scopes:
        if scope is None:
            continue
        for name, value in scope.estimate.metrics.items():
            base = ESTIMATED_RECORD.format(metric=name)
            interval = scope.intervals[name]
            records += [
                (base, segment, value),
                (f"{base}.lower", segment, interval.lower),
                (f"{base}.upper", segment, interval.upper),
            ]
    if reconciliation is None or reconciliation.overall is None:
        return records
    records += reconciled_records(reconciliation)
    coverage = reconciliation.coverage
    if coverage is not None and coverage.share is not None:
        records.append((COVERAGE_RECORD, None, coverage.share))
    return records


def reconciled_records(reconciliation: Reconciliation) -> list[tuple[str, str | None, float]]:
    """``(name, segment, value)`` of every reconciled figure, overall (segment None) and
    per segment: ``reconciled.<metric>.estimated``, ``.realised``, ``.inside`` (1 or 0)
    and, when known, ``.sampling_variance`` (the estimate's) for each reconciled metric;
    none for a skipped scope.

    >>> reconciled_records(Reconciliation(ReconciledScope(
    ...     {"auc": ReconciledMetric(0.8, 0.75, 0.85, 0.9, 0.0004)})))
    [('reconciled.auc.estimated', None, 0.8), ('reconciled.auc.realised', None, 0.9),
     ('reconciled.auc.inside', None, 0.0), ('reconciled.auc.sampling_variance', None, 0.0004)]
    """
    if reconciliation.overall is None:
        return []
    records: list[tuple[str, str | None, float]] = []
    reconciled: list[tuple[str | None, ReconciledScope]] = [(None, reconciliation.overall)]
    reconciled += list(reconciliation.segments.items())
    for segment, scope in reconciled:
        for name, metric in scope.metrics.items():
            values = [metric.estimated, metric.realised, float(metric.inside)]
            if metric.sampling_variance is not None:
                values.append(metric.sampling_variance)
            records += [
                (RECONCILED_RECORD.format(metric=name, part=part), segment, value)
                for part, value in zip(RECONCILED_PARTS, values, strict=False)
            ]
    return records
