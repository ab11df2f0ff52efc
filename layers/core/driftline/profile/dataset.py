"""Profiles of whole batches: one column profile per monitored column, overall and per segment.

A batch is reduced once to a :class:`DatasetProfile`; a window is the merge of its batches'
profiles, so evaluating 30 days costs 30 merges, not 30 days of rows. A profile is built with
the *bins* of a baseline (histogram edges, category vocabularies, see :class:`Bins`) so that
every profile of a model is comparable with its baseline and mergeable with every other.

>>> import pandas as pd
>>> spec = ProfileSpec(columns={"age": "numeric", "plan": "categorical"}, segments=("plan",))
>>> frame = pd.DataFrame({"age": [30, 40, 50], "plan": ["a", "b", "a"]})
>>> reference = build_reference(lambda: [frame], spec, bins=2)
>>> reference.profile.rows, sorted(reference.profile.segments)
(3, ['plan=a', 'plan=b'])
>>> batch = profile_frames([frame.iloc[:1], frame.iloc[1:]], spec, reference.bins)
>>> batch.columns["age"].histogram == reference.profile.columns["age"].histogram
True
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from driftline.errors import IncompatibleProfilesError, InsufficientDataError, InvalidInputError
from driftline.estimation.baseline import BaselineCalibration, CalibrationRows
from driftline.estimation.class_calibration import ClassCalibration, ClassCalibrationRows
from driftline.estimation.columns import (
    ClassEstimationColumns,
    EstimationColumns,
    class_score_cells_of,
    score_cells_of,
)
from driftline.estimation.loss_model import (
    LossCells,
    LossModel,
    LossRows,
    RegressionColumns,
    loss_columns,
)
from driftline.estimation.multiclass import ClassScoreCells
from driftline.estimation.score_cells import ScoreCells
from driftline.metrics import PerformanceProfile
from driftline.numbers import coerce_numbers
from driftline.profile.categorical import (
    DEFAULT_MAX_TRACKED,
    CategoricalProfile,
    vocabulary_from_profile,
)
from driftline.profile.numeric import DEFAULT_SKETCH_K, EdgeSample, NumericProfile, numeric_edges
from driftline.profile.performance import (
    DAYPART,
    HOUR,
    PerformanceSpec,
    SliceErrors,
    daypart,
    hour_of_day,
    performance_of,
    slice_errors,
)
from driftline.profile.score_range import OutOfRangeScores

ColumnProfile = NumericProfile | CategoricalProfile
_Cells = TypeVar("_Cells", ScoreCells, ClassScoreCells, LossCells)
Kind = Literal["numeric", "categorical"]

PROFILE_FORMAT = "driftline.profile"
#: 4: a binary classifier's score cells, and a baseline's calibrator (3: numeric columns'
#: values exact up to 100,000, a deterministic sketch above; 2: KLL sketches; 1: error
#: slices as a mapping of key to figures): all still read. A multiclass classifier's class
#: score cells and per-class calibrators are optional keys of version 4
#: (``class_score_cells``, ``class_calibration``): a profile without them is one written
#: before they were, and a window that merges one is not estimated. So are a regression
#: model's loss cells and loss model (``loss_cells``, ``loss_model``), and the counts of
#: scores outside [0, 1] (``out_of_range_scores``): a window that merges a profile without
#: them has none, and its ``scores-in-range`` check is skipped, saying why.
PROFILE_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)

#: Segment values tracked per segment column; rarer values are pooled under this name.
MAX_SEGMENT_VALUES = 100
OTHER_SEGMENT = "__other__"


@dataclass(frozen=True)
class ProfileSpec:
    """What to profile: monitored columns with their kind, and the segment columns."""

    columns: Mapping[str, Kind]
    segments: tuple[str, ...] = ()
    sketch_k: int = DEFAULT_SKETCH_K
    max_tracked: int = DEFAULT_MAX_TRACKED
    #: Columns expected in the data but not profiled (id, timestamp, ...): not "unknown".
    known: frozenset[str] = frozenset()
    #: What performance needs (None: the model has no label, nothing to measure).
    performance: PerformanceSpec | None = None
    #: Columns a baseline must have, each with the monitor definition's key naming it
    #: (``schema.features.age``, ``schema.segments[0]``): see :func:`build_reference`.
    required: Mapping[str, str] = field(default_factory=dict)
    #: A binary classifier's score and prediction columns, whose rows (labelled or not)
    #: every profile keeps as score cells for estimating performance, or a multiclass
    #: classifier's class score and prediction columns, kept as class score cells, or a
    #: regression model's prediction and features, kept as loss cells (None: no cells).
    estimation: EstimationColumns | ClassEstimationColumns | RegressionColumns | None = None
    #: A classifier's probability columns (``schema.score`` of a binary one, the columns of
    #: ``schema.class_scores``), whose values outside [0, 1] every profile counts
    #: (:class:`~driftline.profile.score_range.OutOfRangeScores`); empty: none counted.
    probabilities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bins:
    """The fixed binning a baseline imposes: histogram edges and category vocabularies.

    Also fixes which segment values are tracked by name (``segment_values``).
    """

    edges: Mapping[str, tuple[float, ...]]
    vocabularies: Mapping[str, tuple[str, ...]]
    segment_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "edges": {name: list(edges) for name, edges in self.edges.items()},
            "vocabularies": {name: list(v) for name, v in self.vocabularies.items()},
            "segment_values": {name: list(v) for name, v in self.segment_values.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Bins:
        return cls(
            edges={k: tuple(float(e) for e in v) for k, v in data["edges"].items()},
            vocabularies={k: tuple(str(c) for c in v) for k, v in data["vocabularies"].items()},
            segment_values={
                k: tuple(str(c) for c in v) for k, v in data.get("segment_values", {}).items()
            },
        )


@dataclass(frozen=True)
class DatasetProfile:
    """Profile of a batch (or a merged window): rows, column profiles, segment profiles.

    Attributes:
        rows: rows profiled.
        columns: one profile per monitored column (an absent column counts as all missing).
        bad_rows: rows the reader rejected (malformed), reported but not profiled.
        absent_columns: monitored columns missing from at least one batch.
        segments: ``"column=value"`` → profile of the rows of that segment.
        unknown_columns: columns present in the data that the monitor definition does not
            name (reported, so a renamed feature is noticed rather than read as missing).
        performance: the performance profile of the labelled rows (None when the model has
            no label column configured).
        slices: error counts per slice of the labelled rows (overall profile only).
        score_cells: a binary classifier's scored rows, labelled or not, as score cells
            (None for other models, and for a profile merged with one written before
            version 4, which had none).
        class_score_cells: a multiclass classifier's scored rows, labelled or not, as class
            score cells (None for other models, and for a profile merged with one written
            before they were kept).
        out_of_range_scores: a classifier's rows whose score is a number outside [0, 1]
            (None for a model without probability columns, and for a profile merged with
            one written before they were counted).
        loss_cells: a regression model's rows with a prediction as counts per (prediction
            bin, feature bin) (None for other models, and for a profile merged with one written
            before they were kept).
    """

    rows: int
    columns: dict[str, ColumnProfile]
    bad_rows: int = 0
    absent_columns: frozenset[str] = frozenset()
    segments: dict[str, DatasetProfile] = field(default_factory=dict)
    unknown_columns: frozenset[str] = frozenset()
    performance: PerformanceProfile | None = None
    slices: SliceErrors | None = None
    score_cells: ScoreCells | None = None
    class_score_cells: ClassScoreCells | None = None
    out_of_range_scores: OutOfRangeScores | None = None
    loss_cells: LossCells | None = None

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """The profile of both batches (associative and commutative).

        Raises:
            IncompatibleProfilesError: the profiles monitor different columns or bins.
        """
        if self.columns.keys() != other.columns.keys():
            raise IncompatibleProfilesError(
                "cannot merge profiles of different columns: "
                f"{sorted(self.columns)} vs {sorted(other.columns)}"
            )
        columns: dict[str, ColumnProfile] = {}
        for name, mine in self.columns.items():
            theirs = other.columns[name]
            # Two branches (not one `or`) so each merge is type-checked with its own kind.
            if isinstance(mine, NumericProfile) and isinstance(theirs, NumericProfile):  # noqa: SIM114
                columns[name] = mine.merge(theirs)
            elif isinstance(mine, CategoricalProfile) and isinstance(theirs, CategoricalProfile):
                columns[name] = mine.merge(theirs)
            else:
                raise IncompatibleProfilesError(
                    f"column {name!r} is {mine.kind} in one profile and {theirs.kind} in the other"
                )
        segments = dict(self.segments)
        for key, profile in other.segments.items():
            segments[key] = segments[key].merge(profile) if key in segments else profile
        return DatasetProfile(
            self.rows + other.rows,
            columns,
            self.bad_rows + other.bad_rows,
            self.absent_columns | other.absent_columns,
            dict(sorted(segments.items())),
            self.unknown_columns | other.unknown_columns,
            _merge_optional(self.performance, other.performance, "performance"),
            _merge_optional(self.slices, other.slices, "error slices"),
            _merge_cells(self.score_cells, other.score_cells),
            _merge_cells(self.class_score_cells, other.class_score_cells),
            _merge_counts(self.out_of_range_scores, other.out_of_range_scores),
            _merge_cells(self.loss_cells, other.loss_cells),
        )

    def with_bad_rows(self, bad_rows: int) -> DatasetProfile:
        """The same profile, recording ``bad_rows`` rows the reader rejected."""
        return replace(self, bad_rows=self.bad_rows + bad_rows)

    def to_dict(self) -> dict[str, Any]:
        """Versioned, compact JSON-able form (``score_cells``, ``class_score_cells`` and
        ``out_of_range_scores`` only when there are some)."""
        document: dict[str, Any] = {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "rows": self.rows,
            "bad_rows": self.bad_rows,
            "absent_columns": sorted(self.absent_columns),
            "unknown_columns": sorted(self.unknown_columns),
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
            "segments": {key: profile._body() for key, profile in self.segments.items()},
            "performance": self.performance.to_dict() if self.performance else None,
            "slices": self.slices.to_dict() if self.slices else None,
        }
        if self.score_cells is not None:
            document["score_cells"] = self.score_cells.to_dict()
        if self.class_score_cells is not None:
            document["class_score_cells"] = self.class_score_cells.to_dict()
        if self.out_of_range_scores is not None:
            document["out_of_range_scores"] = self.out_of_range_scores.to_dict()
        if self.loss_cells is not None:
            document["loss_cells"] = self.loss_cells.to_dict()
        return document

    def _body(self) -> dict[str, Any]:
        body = self.to_dict()
        for key in ("format", "version", "segments"):
            body.pop(key)
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        """Inverse of :meth:`to_dict`.

        Raises:
            InvalidInputError: not a driftline profile, or of an unknown version.
        """
        if data.get("format", PROFILE_FORMAT) != PROFILE_FORMAT:
            raise InvalidInputError(
                f"not a driftline profile (format {data.get('format')!r})", reason="not_a_profile"
            )
        version = data.get("version", PROFILE_VERSION)
        if version not in READABLE_VERSIONS:
            raise InvalidInputError(
                f"profile version {version} is not supported (expected one of "
                f"{', '.join(map(str, READABLE_VERSIONS))})",
                reason="unsupported_profile_version",
            )
        columns: dict[str, ColumnProfile] = {}
        for name, column in data["columns"].items():
            if column["kind"] == "numeric":
                columns[name] = NumericProfile.from_dict(column)
            else:
                columns[name] = CategoricalProfile.from_dict(column)
        segments = {
            key: cls.from_dict({**body, "segments": {}})
            for key, body in data.get("segments", {}).items()
        }
        return cls(
            int(data["rows"]),
            columns,
            int(data.get("bad_rows", 0)),
            frozenset(data.get("absent_columns", ())),
            segments,
            frozenset(data.get("unknown_columns", ())),
            PerformanceProfile.from_dict(data["performance"]) if data.get("performance") else None,
            SliceErrors.from_dict(data["slices"]) if data.get("slices") else None,
            ScoreCells.from_dict(data["score_cells"]) if data.get("score_cells") else None,
            (
                ClassScoreCells.from_dict(data["class_score_cells"])
                if data.get("class_score_cells")
                else None
            ),
            (
                OutOfRangeScores.from_dict(data["out_of_range_scores"])
                if "out_of_range_scores" in data
                else None
            ),
            LossCells.from_dict(data["loss_cells"]) if data.get("loss_cells") else None,
        )


@dataclass(frozen=True)
class Reference:
    """A baseline: its profile (built with its own bins), the bins it imposes and, for a
    binary classifier with a score and a prediction, the calibrator fitted on its labelled
    rows (or why there is none; None for other models and for baselines profiled before
    version 4); for a multiclass classifier with class scores and a prediction, the
    per-class calibrators (``class_calibration``; None for other models and for baselines
    profiled before they were stored); for a regression model with a prediction, the loss
    model fitted on its labelled rows (``loss_model``; None for other models and for
    baselines profiled before it was stored)."""

    profile: DatasetProfile
    bins: Bins
    calibration: BaselineCalibration | None = None
    class_calibration: ClassCalibration | None = None
    loss_model: LossModel | None = None

    def with_bad_rows(self, bad_rows: int) -> Reference:
        """The same baseline, its profile recording ``bad_rows`` rows the reader rejected."""
        return replace(self, profile=self.profile.with_bad_rows(bad_rows))

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "bins": self.bins.to_dict(),
            "profile": self.profile.to_dict(),
        }
        if self.calibration is not None:
            document["calibration"] = self.calibration.to_dict()
        if self.class_calibration is not None:
            document["class_calibration"] = self.class_calibration.to_dict()
        if self.loss_model is not None:
            document["loss_model"] = self.loss_model.to_dict()
        return document

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        calibration = data.get("calibration")
        class_calibration = data.get("class_calibration")
        loss_model = data.get("loss_model")
        return cls(
            DatasetProfile.from_dict(data["profile"]),
            Bins.from_dict(data["bins"]),
            None if calibration is None else BaselineCalibration.from_dict(calibration),
            None if class_calibration is None else ClassCalibration.from_dict(class_calibration),
            None if loss_model is None else LossModel.from_dict(loss_model),
        )


def empty_profile(spec: ProfileSpec, bins: Bins | None) -> DatasetProfile:
    """The profile of no rows, with the spec's columns and the bins' edges."""
    return profile_frame(pd.DataFrame(), spec, bins)


def profile_frame(frame: pd.DataFrame, spec: ProfileSpec, bins: Bins | None) -> DatasetProfile:
    """Profile one chunk of rows, overall and per segment."""
    overall = _profile_columns(frame, spec, bins)
    segments: dict[str, DatasetProfile] = {}
    segment_keys: dict[str, pd.Series] = {}
    for column in spec.segments:
        if column not in frame.columns:
            continue
        keys = segment_keys[column] = _segment_keys(frame[column], column, bins)
        for key, rows in frame.groupby(keys, sort=True, dropna=True, observed=True):
            segments[f"{column}={key}"] = _profile_columns(rows, spec, bins)
    slices = None
    if spec.performance is not None and bins is not None:
        slices = slice_errors(
            frame, spec.performance, _slice_dimensions(frame, spec, bins, segment_keys)
        )
    return replace(
        overall,
        segments=dict(sorted(segments.items())),
        unknown_columns=frozenset(
            str(column)
            for column in frame.columns
            if column not in spec.columns
            and column not in spec.known
            and column not in spec.segments
        ),
        slices=slices,
    )


def profile_frames(
    frames: Iterable[pd.DataFrame],
    spec: ProfileSpec,
    bins: Bins | None,
    *,
    source: str | None = None,
) -> DatasetProfile:
    """Profile a stream of chunks (bounded memory: one chunk at a time).

    Args:
        frames: the chunks.
        spec: what to profile.
        bins: the baseline's bins (None: a first pass, see :func:`build_reference`).
        source: the file the chunks are the rows of (a batch of inference logs, current
            data), as errors name it. Given, a file without a single row is refused:
            profiled, it would be a batch of 0 rows that passes every check.

    Raises:
        InvalidInputError: ``no_rows``, when ``source`` is given and the frames hold no row.

    >>> spec = ProfileSpec(columns={"age": "numeric"})
    >>> profile_frames([pd.DataFrame({"age": []})], spec, None, source="batch.csv")
    Traceback (most recent call last):
    ...
    driftline.errors.InvalidInputError: batch.csv: no data rows (a header only, or every row \
rejected); expected at least one
    """
    profile = reduce(
        DatasetProfile.merge,
        (profile_frame(frame, spec, bins) for frame in frames),
        empty_profile(spec, bins),
    )
    if source is not None and profile.rows == 0:
        raise InvalidInputError(
            f"{source}: no data rows (a header only, or every row rejected); expected at least one",
            reason="no_rows",
            file=source,
        )
    return profile


def derive_bins(
    profile: DatasetProfile,
    spec: ProfileSpec,
    *,
    bins: int = 10,
    max_categories: int = 1000,
    samples: Mapping[str, EdgeSample] | None = None,
) -> Bins:
    """The bins a baseline imposes, from its first-pass profile (built without bins).

    Raises:
        InsufficientDataError: a numeric column has no finite value in the baseline.
    """
    edges: dict[str, tuple[float, ...]] = {}
    vocabularies: dict[str, tuple[str, ...]] = {}
    for name, column in profile.columns.items():
        if isinstance(column, NumericProfile):
            try:
                sample = samples[name].values() if samples and name in samples else None
                edges[name] = numeric_edges(column, bins=bins, sample=sample)
            except InsufficientDataError as exc:
                raise InsufficientDataError(
                    f"baseline column {name!r} has no finite value, so its histogram edges "
                    "cannot be derived",
                    reason=exc.reason,
                    column=name,
                ) from exc
        else:
            vocabularies[name] = vocabulary_from_profile(column, max_categories=max_categories)
    ranked: dict[str, list[tuple[int, str]]] = {column: [] for column in spec.segments}
    for key, segment in profile.segments.items():
        segment_column, _, value = key.partition("=")
        ranked[segment_column].append((-segment.rows, value))
    segment_values = {
        column: tuple(sorted(value for _, value in sorted(values)[:MAX_SEGMENT_VALUES]))
        for column, values in ranked.items()
    }
    return Bins(edges, vocabularies, segment_values)


def build_reference(
    open_frames: Callable[[], Iterable[pd.DataFrame]],
    spec: ProfileSpec,
    *,
    bins: int = 10,
    max_categories: int = 1000,
    source: str | None = None,
) -> Reference:
    """Profile a baseline in two passes: one to fix the bins, one to count with them.

    ``open_frames`` is called twice and must yield the same chunks each time (a reader over
    the same file). The first pass tracks every category exactly, so the vocabulary is the
    baseline's true most frequent categories, and takes a deterministic sample of every
    numeric column for its quantile edges (exact up to 100,000 values, like the profile's
    own sample). ``source`` names the file in errors. With ``spec.estimation``, the second
    pass also gathers the labelled rows with a score in [0, 1] and the calibrator is fitted
    on them (:class:`~driftline.estimation.baseline.CalibrationRows`).

    A column of ``spec.required`` (a feature or segment column of the monitor definition)
    that no chunk has is an error: the definition cannot know the files' columns, but the
    baseline shows them. A column present with no value in it is kept (all missing).

    Raises:
        InsufficientDataError: the baseline has no rows, or a numeric column no value.
        InvalidInputError: ``missing_columns``: the baseline lacks a required column (the
            message names the definition's keys, the columns and the file, never a value).

    >>> spec = ProfileSpec(columns={"age": "numeric"}, segments=("plan",),
    ...                    required={"age": "schema.features.age", "plan": "schema.segments[0]"})
    >>> build_reference(lambda: [pd.DataFrame({"age": [31, 45]})], spec, source="ref.csv")
    Traceback (most recent call last):
    ...
    driftline.errors.InvalidInputError: ref.csv: the baseline has no column plan \
(schema.segments[0]); it has: age
    """
    first_spec = replace(spec, max_tracked=2**62, performance=None, estimation=None)
    samples = {name: EdgeSample() for name, kind in spec.columns.items() if kind == "numeric"}
    seen: set[str] = set()

    def sampled(frames: Iterable[pd.DataFrame]) -> Iterable[pd.DataFrame]:
        for frame in frames:
            seen.update(str(column) for column in frame.columns)
            for name, sample in samples.items():
                column = (
                    frame[name] if name in frame.columns else pd.Series(np.nan, index=frame.index)
                )
                sample.add(coerce_numbers(column).to_numpy(np.float64, na_value=np.nan))
            yield frame

    first = profile_frames(sampled(open_frames()), first_spec, None)
    named = f"{source}: " if source is not None else ""
    if first.rows == 0:
        raise InsufficientDataError(f"{named}the baseline has no rows", reason="empty_baseline")
    missing = [column for column in spec.required if column not in seen]
    if missing:
        raise _missing_columns(named, missing, spec.required, seen, source)
    fixed = derive_bins(first, spec, bins=bins, max_categories=max_categories, samples=samples)
    if spec.estimation is None:
        return Reference(profile_frames(open_frames(), spec, fixed), fixed)
    if isinstance(spec.estimation, ClassEstimationColumns):
        by_class = ClassCalibrationRows(spec.estimation)
        second = profile_frames(by_class.gathering(open_frames()), spec, fixed)
        return Reference(second, fixed, class_calibration=by_class.calibration())
    if isinstance(spec.estimation, RegressionColumns):
        losses = LossRows(
            spec.estimation, fixed.edges, fixed.vocabularies, baseline_rows=first.rows
        )
        second = profile_frames(losses.gathering(open_frames()), spec, fixed)
        return Reference(second, fixed, loss_model=losses.loss_model())
    gathered = CalibrationRows(spec.estimation)
    second = profile_frames(gathered.gathering(open_frames()), spec, fixed)
    return Reference(second, fixed, gathered.calibration())


#: Columns of the file a missing-columns error lists (at most this many, each cut to 60).
LISTED_COLUMNS = 10


def _missing_columns(
    named: str,
    missing: list[str],
    required: Mapping[str, str],
    seen: set[str],
    source: str | None,
) -> InvalidInputError:
    plural = "columns" if len(missing) > 1 else "column"
    wanted = ", ".join(f"{column[:60]} ({required[column]})" for column in missing[:LISTED_COLUMNS])
    if len(missing) > LISTED_COLUMNS:
        wanted += f" and {len(missing) - LISTED_COLUMNS} more"
    has = sorted(seen)
    listed = ", ".join(column[:60] for column in has[:LISTED_COLUMNS])
    if len(has) > LISTED_COLUMNS:
        listed += f" and {len(has) - LISTED_COLUMNS} more"
    return InvalidInputError(
        f"{named}the baseline has no {plural} {wanted}; it has: {listed or 'no columns'}",
        reason="missing_columns",
        columns=[column[:60] for column in missing[:LISTED_COLUMNS]],
        keys=[required[column] for column in missing[:LISTED_COLUMNS]],
        **({"file": source} if source is not None else {}),
    )


def _profile_columns(frame: pd.DataFrame, spec: ProfileSpec, bins: Bins | None) -> DatasetProfile:
    columns: dict[str, ColumnProfile] = {}
    absent: set[str] = set()
    rows = len(frame)
    for name, kind in spec.columns.items():
        if name in frame.columns:
            values = frame[name]
        else:
            values = pd.Series([None] * rows, dtype=object)
            if rows:
                absent.add(name)
        if kind == "numeric":
            edges = bins.edges.get(name) if bins is not None else None
            columns[name] = NumericProfile.from_values(values, edges=edges, sketch_k=spec.sketch_k)
        else:
            vocabulary = bins.vocabularies.get(name, ()) if bins is not None else ()
            columns[name] = CategoricalProfile.from_values(
                values, vocabulary=vocabulary, max_tracked=spec.max_tracked
            )
    performance = performance_of(frame, spec.performance) if spec.performance else None
    cells = class_cells = losses = None
    if isinstance(spec.estimation, ClassEstimationColumns):
        class_cells = class_score_cells_of(frame, spec.estimation)
    elif isinstance(spec.estimation, RegressionColumns):
        if bins is not None:  # a baseline's first pass has no bins to count in
            binned = loss_columns(spec.estimation, bins.edges, bins.vocabularies)
            if binned and binned[0].name == spec.estimation.prediction:
                losses = LossCells.of_frame(frame, binned, bins.edges, bins.vocabularies)
    elif spec.estimation is not None:
        cells = score_cells_of(frame, spec.estimation)
    out_of_range = (
        OutOfRangeScores.of_frame(frame, spec.probabilities) if spec.probabilities else None
    )
    return DatasetProfile(
        rows,
        columns,
        0,
        frozenset(absent),
        performance=performance,
        score_cells=cells,
        class_score_cells=class_cells,
        out_of_range_scores=out_of_range,
        loss_cells=losses,
    )


def _merge_optional(left: Any, right: Any, what: str) -> Any:
    if left is None and right is None:
        return None
    if left is None or right is None:
        raise IncompatibleProfilesError(f"cannot merge a profile with {what} and one without")
    return left.merge(right)


def _merge_cells(left: _Cells | None, right: _Cells | None) -> _Cells | None:
    """Both profiles' cells (score cells, or class score cells) added up; none when either
    has none (a profile written before they were kept: the sum would leave its rows out, so
    the window is not estimated)."""
    if left is None or right is None:
        return None
    return left.merge(right)


def _merge_counts(
    left: OutOfRangeScores | None, right: OutOfRangeScores | None
) -> OutOfRangeScores | None:
    """Both profiles' counts of scores outside [0, 1] added up; none when either has none
    (a profile written before they were counted: the sum would leave its rows out)."""
    if left is None or right is None:
        return None
    return left.merge(right)


def _slice_dimensions(
    frame: pd.DataFrame, spec: ProfileSpec, bins: Bins, segment_keys: Mapping[str, pd.Series]
) -> dict[str, pd.Series]:
    """Per-row slice labels: segments, hour of day, feature bins and categories."""
    assert spec.performance is not None
    dimensions = {f"segment:{column}": keys for column, keys in segment_keys.items()}
    timestamp = spec.performance.timestamp
    if timestamp is not None and timestamp in frame.columns:
        dimensions[HOUR] = hour_of_day(frame[timestamp])
        dimensions[DAYPART] = daypart(dimensions[HOUR])
    for name, kind in spec.columns.items():
        if (
            name not in frame.columns
            or name in spec.segments
            or name in spec.performance.roles().values()
        ):
            continue
        if kind == "numeric" and name in bins.edges:
            dimensions[name] = _bin_labels(frame[name], bins.edges[name])
        elif kind == "categorical":
            dimensions[name] = _segment_keys(
                frame[name], name, Bins({}, {}, {name: bins.vocabularies.get(name, ())})
            )
    return dimensions


def _bin_labels(values: pd.Series, edges: tuple[float, ...]) -> pd.Series:
    """The baseline bin of each value as text (``[a, b)``, ``<a``, ``>=b``); NaN: missing."""
    numbers = coerce_numbers(values).to_numpy(dtype=np.float64, na_value=np.nan)
    names = [f"<{edges[0]:.4g}"]
    names += [f"[{low:.4g}, {high:.4g})" for low, high in itertools.pairwise(edges)]
    names.append(f">={edges[-1]:.4g}")
    index = np.searchsorted(np.asarray(edges), numbers, side="right")
    labels = np.asarray(names, dtype=object)[np.minimum(index, len(names) - 1)]
    labels[np.isnan(numbers)] = None
    return pd.Series(labels, index=values.index, dtype=object)


def _segment_keys(values: pd.Series, column: str, bins: Bins | None) -> pd.Series:
    text = values.astype("string")
    known = bins.segment_values.get(column) if bins is not None else None
    if known is None:
        return text
    return text.where(text.isin(known) | text.isna(), OTHER_SEGMENT)
