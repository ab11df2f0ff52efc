"""Drift of a current profile against a reference profile: per feature, for the dataset,
for the model's outputs (prediction, score, label) and per segment.

Each feature gets the method the monitor definition names, or the ``auto`` choice of
:func:`driftline.stats.choose_method`. Every column tested in one evaluation, overall and in
every segment, is one test of a family: the family is decided together
(:mod:`driftline.stats.decision`), so a column drifts when its p-value adjusted for the
family is below ``drift.alpha`` and its effect reaches the method's minimum effect. A column
with fewer than ``drift.min_rows`` values on either side is skipped with the reason (too
little evidence). The dataset drifts when the share of drifted features reaches
``dataset_drift_share``. A feature without data on one side is skipped with the
reason, and is left out of the share (never counted as drifted or as stable): the share is
over the features evaluated, and the result lists the others (``features_skipped``). A
feature absent from the current data entirely is skipped as such, and fails the built-in
``schema-columns`` check instead (:data:`driftline.config.BUILT_IN_CHECKS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftline.config.drift import DriftSpec, FeatureDriftSpec
from driftline.errors import IncompatibleProfilesError
from driftline.profile.categorical import CategoricalProfile
from driftline.profile.dataset import ColumnProfile, DatasetProfile
from driftline.profile.numeric import NumericProfile
from driftline.stats import DriftResult, FeatureDistributions, choose_method, compute_drift
from driftline.stats.decision import (
    DriftMeasure,
    decide_family,
    measure_drift,
    measure_missing_only,
)
from driftline.stats.methods import TEST, get_method


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one column: a result, or the reason it could not be computed."""

    result: DriftResult | None
    skipped: str | None = None

    @property
    def drifted(self) -> bool:
        return self.result is not None and self.result.drifted

    def to_dict(self) -> dict[str, Any]:
        if self.result is None:
            return {"drifted": False, "skipped": self.skipped}
        return self.result.to_dict()


@dataclass(frozen=True)
class DriftReport:
    """Per-feature drift and the dataset verdict (of one profile pair)."""

    features: dict[str, FeatureDrift]
    dataset_drift_share: float
    outputs: dict[str, FeatureDrift] = field(default_factory=dict)
    segments: dict[str, DriftReport] = field(default_factory=dict)

    @property
    def evaluated(self) -> int:
        return sum(1 for drift in self.features.values() if drift.result is not None)

    @property
    def share_drifted(self) -> float:
        """Share of the evaluated features that drifted (0 when none could be evaluated)."""
        evaluated = self.evaluated
        drifted = sum(1 for drift in self.features.values() if drift.drifted)
        return drifted / evaluated if evaluated else 0.0

    @property
    def skipped(self) -> list[str]:
        """The features left out of the share (no values on one side, or absent)."""
        return [name for name, drift in self.features.items() if drift.result is None]

    @property
    def dataset_drifted(self) -> bool:
        return self.evaluated > 0 and self.share_drifted >= self.dataset_drift_share

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "dataset_drifted": self.dataset_drifted,
            "share_drifted": self.share_drifted,
            "dataset_drift_share": self.dataset_drift_share,
            "features_evaluated": self.evaluated,
            "features_skipped": self.skipped,
            "features": {name: drift.to_dict() for name, drift in self.features.items()},
        }
        if self.outputs:
            body["outputs"] = {name: drift.to_dict() for name, drift in self.outputs.items()}
        if self.segments:
            body["segments"] = {key: report.to_dict() for key, report in self.segments.items()}
        return body


def column_distributions(reference: ColumnProfile, current: ColumnProfile) -> FeatureDistributions:
    """Aligned counts and samples of one column, ready for any statistic.

    Raises:
        IncompatibleProfilesError: the profiles were built with different bins or kinds.
    """
    if isinstance(reference, NumericProfile) and isinstance(current, NumericProfile):
        if reference.histogram is None or current.histogram is None:
            raise IncompatibleProfilesError("numeric profiles need histograms to compare")
        if reference.edges != current.edges:
            raise IncompatibleProfilesError("numeric profiles have different histogram edges")
        return FeatureDistributions(
            kind="numeric",
            reference_counts=_as_floats(reference.histogram),
            current_counts=_as_floats(current.histogram),
            reference_sample=reference.sample(),
            current_sample=current.sample(),
            reference_std=reference.std,
            rank_error=reference.rank_error() + current.rank_error(),
            missing=_missing(reference, current),
        )
    if isinstance(reference, CategoricalProfile) and isinstance(current, CategoricalProfile):
        if reference.vocabulary != current.vocabulary:
            raise IncompatibleProfilesError("categorical profiles have different vocabularies")
        return FeatureDistributions(
            kind="categorical",
            reference_counts=reference.binned_counts(),
            current_counts=current.binned_counts(),
            bin_labels=(*reference.vocabulary, "(other)"),
            missing=_missing(reference, current),
        )
    raise IncompatibleProfilesError(
        f"cannot compare a {reference.kind} profile with a {current.kind} one"
    )


def column_drift(
    reference: ColumnProfile,
    current: ColumnProfile,
    *,
    method: str = "auto",
    threshold: float | None = None,
) -> FeatureDrift:
    """Drift of one column by one method alone (its own statistic against ``threshold``, no
    family, no minimum effect); skipped (with the reason) when a side has no values."""
    empty = _without_values(reference, current)
    if empty is not None:
        return empty
    n_reference, n_current = _present(reference), _present(current)
    chosen = choose_method(reference.kind, n_reference, n_current) if method == "auto" else method
    distributions = column_distributions(reference, current)
    return FeatureDrift(compute_drift(distributions, chosen, threshold))


@dataclass(frozen=True)
class _Pending:
    """A column measured, waiting for its family's decision."""

    measure: DriftMeasure
    alpha: float
    min_effect: float | None


def compare_profiles(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    features: Mapping[str, str],
    drift: DriftSpec,
    outputs: tuple[str, ...] = (),
    per_segment: bool = True,
    label: str | None = None,
) -> DriftReport:
    """Drift of every feature (and output column), overall and per shared segment, decided
    as one family of tests. The ``label`` column (one of ``outputs``) is compared on its
    values alone: its missing share says how many labels have arrived, not a change."""
    measured = _measured(
        reference,
        current,
        features=features,
        drift=drift,
        outputs=outputs,
        per_segment=per_segment,
        label=label,
    )
    overall = [entry for entry in measured.entries(segments=False) if isinstance(entry, _Pending)]
    pending = [entry for entry in measured.entries() if isinstance(entry, _Pending)]
    decisions = decide_family(
        [entry.measure for entry in pending],
        alpha=[entry.alpha for entry in pending],
        min_effect=[entry.min_effect for entry in pending],
        correction=drift.correction,
        weights=_alpha_shares(len(overall), len(pending) - len(overall), drift.overall_share),
        min_missing_change=drift.min_missing_change,
    )
    decided = {id(entry): result for entry, result in zip(pending, decisions, strict=True)}
    return _report(measured, decided, drift.dataset_drift_share)


@dataclass(frozen=True)
class _Measured:
    """A report's columns measured (or skipped), waiting for the family's decision."""

    features: dict[str, FeatureDrift | _Pending]
    outputs: dict[str, FeatureDrift | _Pending]
    segments: dict[str, _Measured]

    def entries(self, *, segments: bool = True) -> list[FeatureDrift | _Pending]:
        """Every column of the report (first, overall) and its segments, in a fixed order."""
        found = [*self.features.values(), *self.outputs.values()]
        if segments:
            for segment in self.segments.values():
                found += segment.entries()
        return found


def _alpha_shares(overall: int, per_segment: int, overall_share: float) -> list[float] | None:
    """Each test's share of α: ``overall_share`` split evenly among the overall tests, the
    rest among the segment tests (None, equal shares, when one of the two groups is empty).

    >>> _alpha_shares(2, 4, 0.5)
    [0.25, 0.25, 0.125, 0.125, 0.125, 0.125]
    >>> _alpha_shares(3, 0, 0.5) is None
    True
    """
    if overall == 0 or per_segment == 0:
        return None
    return [overall_share / overall] * overall + [(1 - overall_share) / per_segment] * per_segment


def _measured(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    features: Mapping[str, str],
    drift: DriftSpec,
    outputs: tuple[str, ...],
    per_segment: bool,
    label: str | None = None,
) -> _Measured:
    """Every column's measure (or skip), overall and per shared segment, undecided."""
    columns: dict[str, FeatureDrift | _Pending] = {}
    for name in features:
        override = drift.features.get(name)
        method = override.method if override and override.method != "auto" else drift.method
        columns[name] = _absent_or(
            name,
            current,
            _measure_column(
                reference.columns[name],
                current.columns[name],
                method,
                drift,
                override,
                absent=name in current.absent_columns,
            ),
        )
    output_columns: dict[str, FeatureDrift | _Pending] = {
        name: _absent_or(
            name,
            current,
            _measure_column(
                reference.columns[name],
                current.columns[name],
                "auto",
                drift,
                None,
                absent=name in current.absent_columns or name == label,
            ),
        )
        for name in outputs
        if name in reference.columns and name in current.columns
    }
    segments: dict[str, _Measured] = {}
    if per_segment:
        for key, segment in current.segments.items():
            if key in reference.segments:
                segments[key] = _measured(
                    reference.segments[key],
                    segment,
                    features=features,
                    drift=drift,
                    outputs=outputs,
                    per_segment=False,
                    label=label,
                )
    return _Measured(columns, output_columns, segments)


def _measure_column(
    reference: ColumnProfile,
    current: ColumnProfile,
    method: str,
    drift: DriftSpec,
    override: FeatureDriftSpec | None,
    *,
    absent: bool = False,
) -> FeatureDrift | _Pending:
    """One column's measure, or its skip. A column absent from some of the current data
    (which the built-in ``schema-columns`` check reports), or the label, is compared on its
    values alone (``absent``): its missing values do not count as a change."""
    if not absent and _present(current) == 0 and current.missing > 0 and _present(reference) > 0:
        return _all_missing(reference, current, method, drift, override)
    empty = _without_values(reference, current)
    if empty is not None:
        return empty
    n_reference, n_current = _present(reference), _present(current)
    if min(n_reference, n_current) < drift.min_rows:
        side = "current data" if n_current < drift.min_rows else "reference"
        return FeatureDrift(
            None,
            f"too few values to decide: {min(n_reference, n_current)} in the {side}, "
            f"drift.min_rows is {drift.min_rows}",
        )
    chosen = choose_method(reference.kind, n_reference, n_current) if method == "auto" else method
    distributions = column_distributions(reference, current)
    if absent:
        distributions = replace(distributions, missing=None)
    measure = measure_drift(distributions, chosen)
    return _Pending(measure, *_levels(chosen, drift, override))


def _levels(
    chosen: str, drift: DriftSpec, override: FeatureDriftSpec | None
) -> tuple[float, float | None]:
    """A column's alpha and minimum effect (None: the method's default)."""
    spec = get_method(chosen)
    threshold = override.threshold if override and override.threshold else drift.threshold
    alpha = threshold if threshold is not None and spec.direction == TEST else drift.alpha
    min_effect = override.min_effect if override is not None else None
    if min_effect is None and threshold is not None and spec.direction != TEST:
        min_effect = threshold
    if min_effect is None:
        min_effect = drift.min_effect.get(chosen)  # type: ignore[call-overload]
    return alpha, min_effect


def _all_missing(
    reference: ColumnProfile,
    current: ColumnProfile,
    method: str,
    drift: DriftSpec,
    override: FeatureDriftSpec | None,
) -> FeatureDrift | _Pending:
    """A column whose current rows are all missing: decided on its missing share when both
    sides have enough rows (the current rows, the reference's values), else skipped."""
    if current.count < drift.min_rows or _present(reference) < drift.min_rows:
        side = "current data" if current.count < drift.min_rows else "reference"
        found = current.count if side == "current data" else _present(reference)
        return FeatureDrift(
            None,
            f"too few {'rows' if side == 'current data' else 'values'} to decide: {found} in "
            f"the {side}, drift.min_rows is {drift.min_rows}",
        )
    chosen = choose_method(reference.kind, _present(reference), 0) if method == "auto" else method
    distributions = FeatureDistributions(
        reference.kind,
        np.array([float(_present(reference))]),
        np.array([0.0]),
        missing=_missing(reference, current),
    )
    return _Pending(measure_missing_only(distributions, chosen), *_levels(chosen, drift, override))


def _report(measured: _Measured, decided: Mapping[int, DriftResult], share: float) -> DriftReport:
    def final(entry: FeatureDrift | _Pending) -> FeatureDrift:
        return FeatureDrift(decided[id(entry)]) if isinstance(entry, _Pending) else entry

    return DriftReport(
        {name: final(entry) for name, entry in measured.features.items()},
        share,
        {name: final(entry) for name, entry in measured.outputs.items()},
        {key: _report(segment, decided, share) for key, segment in measured.segments.items()},
    )


#: Why a column without values in the current data is skipped.
NO_CURRENT_VALUES = "no values in the current data"
#: Why a column missing from the current data entirely is skipped.
ABSENT = "absent from the current data"


def _absent_or(
    name: str, current: DatasetProfile, drift: FeatureDrift | _Pending
) -> FeatureDrift | _Pending:
    """``drift``, or a skip saying the column is absent when it had no values because the
    data did not carry it at all (rather than carrying it empty)."""
    if (
        isinstance(drift, FeatureDrift)
        and drift.skipped == NO_CURRENT_VALUES
        and (name in current.absent_columns)
    ):
        return FeatureDrift(None, ABSENT)
    return drift


def _without_values(reference: ColumnProfile, current: ColumnProfile) -> FeatureDrift | None:
    """A column's skip when a side has no values, else None."""
    if _present(reference) == 0:
        return FeatureDrift(None, "no values in the reference")
    if _present(current) == 0:
        return FeatureDrift(None, NO_CURRENT_VALUES)
    return None


def _missing(reference: ColumnProfile, current: ColumnProfile) -> tuple[int, int, int, int]:
    """Missing values and rows seen on each side (what :attr:`FeatureDistributions.missing`
    holds)."""
    return (reference.missing, reference.count, current.missing, current.count)


def _present(profile: ColumnProfile) -> int:
    return profile.n if isinstance(profile, NumericProfile) else profile.present


def _as_floats(counts: tuple[int, ...]) -> NDArray[np.float64]:
    return np.asarray(counts, dtype=np.float64)
