"""Performance inside dataset profiles: the performance profile of a chunk, and error slices.

:class:`PerformanceSpec` says which columns play which role (from the monitor definition's
schema). :func:`performance_of` reduces a chunk's labelled rows to a mergeable
:class:`~driftline.metrics.PerformanceProfile`, whatever columns the chunk lacks (inference
logs usually carry no label yet), so every chunk of a model gives profiles that merge.

:class:`SliceErrors` counts, for every *slice* of the labelled rows, how many there are and
how wrong the model was on them: misclassified rows for classification, absolute error for
regression. Slices are one value of one dimension (a segment column, a feature's baseline
bin or category, the hour of day of the timestamp) and pairs of them where one side is a
segment column or the hour, so a region that fails only at night is a slice of its own.
:meth:`SliceErrors.worst` ranks slices by how surely their error exceeds the rest's (a
two-sample z statistic), which puts the purest broken slice first rather than the largest.

>>> import pandas as pd
>>> spec = PerformanceSpec(task="binary_classification", label="y", prediction="p")
>>> frame = pd.DataFrame({"y": [1, 0, None], "p": [1, 1, 0]})
>>> profile = performance_of(frame, spec)
>>> profile.rows, profile.labelled, profile.metrics()["accuracy"]
(3, 2, 0.5)
"""

from __future__ import annotations

import base64
import math
import operator
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, combinations, repeat
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftline.metrics import PerformanceProfile, profile_performance
from driftline.metrics.catalogue import Task
from driftline.metrics.encoding import Label, as_float_array, encode_labels
from driftline.numbers import coerce_numbers

#: The dimension names of the hour of day (UTC) and of the quarter of the day it falls in
#: (``00-06``, ``06-12``, ``12-18``, ``18-24``), derived from the timestamp column. A failure
#: "at night" spans several hours; the quarter gathers them into one slice big enough to rank.
HOUR = "hour"
DAYPART = "daypart"
#: Slices with fewer labelled rows than this are counted but never reported as worst.
MIN_SLICE_ROWS = 30

Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class PerformanceSpec:
    """Which columns carry what performance needs; see :func:`profile_performance`."""

    task: Task
    label: str
    prediction: str | None = None
    score: str | None = None
    positive_class: Label | None = None
    query: str | None = None
    k: int = 10
    conversion: str | None = None
    sensitive: str | None = None
    #: Event time column: gives the hour-of-day slices.
    timestamp: str | None = None

    def roles(self) -> dict[str, str]:
        """The role → column mapping of the columns the profile reads."""
        roles = {
            "label": self.label,
            "prediction": self.prediction,
            "score": self.score,
            "query": self.query,
            "conversion": self.conversion,
            "sensitive": self.sensitive,
        }
        return {role: column for role, column in roles.items() if column is not None}


def performance_of(frame: pd.DataFrame, spec: PerformanceSpec) -> PerformanceProfile:
    """The performance profile of a chunk; absent role columns count as all missing."""
    absent = [column for column in spec.roles().values() if column not in frame.columns]
    if absent:
        frame = frame.assign(
            **{column: pd.Series(None, index=frame.index, dtype=object) for column in absent}
        )
    if spec.task == "ranking":
        return profile_performance(
            frame,
            task=spec.task,
            label=spec.label,
            score=spec.score,
            query=spec.query,
            k=spec.k,
            conversion=spec.conversion,
        )
    return profile_performance(
        frame,
        task=spec.task,
        label=spec.label,
        prediction=spec.prediction,
        score=spec.score if spec.task == "binary_classification" else None,
        positive_class=spec.positive_class if spec.task == "binary_classification" else None,
        sensitive=spec.sensitive if spec.task == "binary_classification" else None,
    )


# ---------------------------------------------------------------------------------------
# Error slices


@dataclass(frozen=True)
class Slice:
    """One slice's figures, as :meth:`SliceErrors.worst` reports them."""

    slice: str
    rows: int
    metric: str
    value: float
    overall: float
    gap: float
    z: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "slice": self.slice,
            "rows": self.rows,
            "metric": self.metric,
            "value": self.value,
            "overall": self.overall,
            "gap": self.gap,
            "z": self.z,
        }


class SliceCells(Mapping[str, tuple[int, float, float]]):
    """Slice key → ``(rows, sum of errors, sum of squared errors)``, held as one array.

    A labelled profile carries tens of thousands of slices (every bin and category of every
    feature, alone and paired with each segment and hour), and a window merges one profile
    a day: as a dict of tuples that merge was a Python loop over every cell of every day.
    Here the keys are a tuple and the figures one ``(cells, 3)`` float64 array, so profiles
    with the same slices (the usual case: the bins come from the baseline) merge with one
    array addition, and others by one index lookup per key: keys new to the running sum are
    appended (a window's union grows by a few rare pair cells a day), and the merged cells
    are put in key order once, when they are first read in order. The sums are the same
    IEEE additions in the same order as a loop's. Row counts are held as float64, exact up
    to 2**53.

    >>> cells = SliceCells.of({"b": (2, 1.0, 1.0), "a": (1, 0.0, 0.0)})
    >>> dict(cells.merge(SliceCells.of({"a": (3, 3.0, 3.0)})))
    {'a': (4, 3.0, 3.0), 'b': (2, 1.0, 1.0)}
    """

    __slots__ = ("__dict__", "_figures", "_keys", "_sort_pending")

    def __init__(
        self,
        keys: tuple[str, ...],
        figures: NDArray[np.float64],
        *,
        index: dict[str, int] | None = None,
        sort_pending: bool = False,
    ) -> None:
        if figures.shape != (len(keys), 3):
            raise ValueError(f"expected figures of shape ({len(keys)}, 3), got {figures.shape}")
        self._keys = keys
        self._figures = figures
        figures.flags.writeable = False
        # A merge's cells are held in the order they were met and read in key order.
        self._sort_pending = sort_pending
        # What a merge already knows about its result, so it is not worked out again.
        if index is not None:
            self.__dict__["_index"] = index

    @classmethod
    def of(cls, cells: Mapping[str, tuple[int, float, float]]) -> SliceCells:
        """The cells of a mapping, in its order."""
        if isinstance(cells, SliceCells):
            return cells
        values = cells.values()
        if values and set(map(len, values)) != {3}:
            raise ValueError("expected (rows, sum of errors, sum of squared errors) per slice")
        flat = np.fromiter(chain.from_iterable(values), np.float64, 3 * len(cells))
        figures = flat.reshape(len(cells), 3)
        figures[:, 0] = np.trunc(figures[:, 0])  # rows are whole (as int() made them)
        return cls(tuple(map(str, cells)), figures)

    @cached_property
    def _index(self) -> dict[str, int]:
        return dict(zip(self._keys, range(len(self._keys)), strict=True))

    @cached_property
    def _ordered(self) -> tuple[tuple[str, ...], NDArray[np.float64]]:
        """The keys and figures in reading order (key order for a merge's cells)."""
        if not self._sort_pending:
            return self._keys, self._figures
        order = sorted(range(len(self._keys)), key=self._keys.__getitem__)
        keys = tuple(map(self._keys.__getitem__, order))
        figures = self._figures[np.asarray(order, dtype=np.intp).reshape(-1)]
        return keys, figures

    def __getitem__(self, key: str) -> tuple[int, float, float]:
        n, s, q = self._figures[self._index[key]].tolist()
        return int(n), s, q

    def __iter__(self) -> Iterator[str]:
        return iter(self._ordered[0])

    def __len__(self) -> int:
        return len(self._keys)

    def items(self) -> list[tuple[str, tuple[int, float, float]]]:  # type: ignore[override]
        """Every ``(key, figures)`` pair, in order (a list: one conversion of the array)."""
        keys, figures = self._ordered
        n, s, q = figures.T.tolist()
        return list(zip(keys, zip(map(int, n), s, q, strict=True), strict=True))

    def values(self) -> list[tuple[int, float, float]]:  # type: ignore[override]
        return [value for _, value in self.items()]

    def __repr__(self) -> str:
        return f"SliceCells({dict(self.items())!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        keys, figures = self._ordered
        return (SliceCells, (keys, np.array(figures)))

    def merge(self, other: SliceCells) -> SliceCells:
        """Cell-wise sums, read in key order (one array addition when both hold the same
        keys, one dict lookup per key of ``other`` otherwise)."""
        if self._keys == other._keys:
            return SliceCells(
                self._keys,
                self._figures + other._figures,
                index=self.__dict__.get("_index"),
                sort_pending=self._sort_pending or not _is_sorted(self._keys),
            )
        index = self._index
        positions = np.fromiter(map(index.get, other._keys, repeat(-1)), np.intp, len(other))
        new = np.flatnonzero(positions < 0)
        if new.size:
            keys = self._keys + tuple(map(other._keys.__getitem__, new.tolist()))
            positions[new] = np.arange(len(self), len(keys))
            index = dict(index)
            index.update(zip(keys[len(self) :], range(len(self), len(keys)), strict=True))
            figures = np.zeros((len(keys), 3), dtype=np.float64)
            figures[: len(self)] = self._figures
        else:
            keys, figures = self._keys, self._figures.copy()
        figures[positions] += other._figures
        return SliceCells(keys, figures, index=index, sort_pending=True)

    def to_dict(self) -> dict[str, Any]:
        """Compact form: the keys in order and the figures as one base64 string of
        little-endian float64 ``(rows, sum of errors, sum of squared errors)`` triples."""
        keys, figures = self._ordered
        data = np.ascontiguousarray(figures, dtype="<f8").tobytes()
        return {"keys": list(keys), "figures": base64.b64encode(data).decode("ascii")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SliceCells:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: keys that are not unique text, or figures of another length.
        """
        keys = tuple(data["keys"])
        if not set(map(type, keys)) <= {str} or len(set(keys)) != len(keys):
            raise ValueError("expected unique text slice keys")
        raw = base64.b64decode(data["figures"])
        if len(raw) != 24 * len(keys):
            raise ValueError(
                f"expected {24 * len(keys)} bytes of figures for {len(keys)} slices, got {len(raw)}"
            )
        figures = np.frombuffer(raw, dtype="<f8").astype(np.float64, copy=False)
        return cls(keys, figures.reshape(len(keys), 3))


def _is_sorted(keys: tuple[str, ...]) -> bool:
    return all(map(operator.le, keys, keys[1:]))


@dataclass(frozen=True)
class SliceErrors:
    """Per-slice sizes and error sums of labelled rows (mergeable by addition).

    Attributes:
        metric: ``error_rate`` (classification: the share misclassified) or ``mae``
            (regression: mean absolute error).
        cells: slice key → ``(rows, sum of errors, sum of squared errors)`` (any mapping
            given is held as :class:`SliceCells`).
        total: the same three figures over every labelled row.
    """

    metric: str
    cells: Mapping[str, tuple[int, float, float]] = field(default_factory=dict)
    total: tuple[int, float, float] = (0, 0.0, 0.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cells", SliceCells.of(self.cells))

    def merge(self, other: SliceErrors) -> SliceErrors:
        cells = SliceCells.of(self.cells).merge(SliceCells.of(other.cells))
        total = tuple(a + b for a, b in zip(self.total, other.total, strict=True))
        return SliceErrors(self.metric, cells, total)  # type: ignore[arg-type]

    def worst(
        self, *, limit: int = 10, min_rows: int = MIN_SLICE_ROWS, alpha: float | None = 0.05
    ) -> list[Slice]:
        """The slices whose error most surely exceeds the rest of the rows', worst first.

        The rank is the two-sample z statistic of the slice's mean error against the other
        rows' (pooled variance): large when the gap is large *and* the slice big enough for
        the gap to be real. Slices smaller than ``min_rows``, or with a gap of zero or less,
        are left out, and so are slices whose z does not clear a Bonferroni bound: with
        hundreds of slices examined, some look bad by chance, and naming them would send the
        on-call engineer after noise. ``alpha`` is the family-wise false-alarm rate (one-sided,
        over every slice examined); None keeps every slice.
        """
        n_all, s_all, q_all = self.total
        if n_all == 0:
            return []
        overall = s_all / n_all
        cells = SliceCells.of(self.cells)
        rows, sums = cells._figures[:, 0], cells._figures[:, 1]
        sized = (rows >= min_rows) & (rows < n_all)
        # Only the slices worse than the rest go on to the exact figures below (the same
        # IEEE divisions, element by element, so the same slices as a loop over all).
        with np.errstate(divide="ignore", invalid="ignore"):
            worse = sized & (sums / rows > (s_all - sums) / (n_all - rows))
        found: list[Slice] = []
        for position in np.flatnonzero(worse).tolist():
            key, n, s = cells._keys[position], int(rows[position]), float(sums[position])
            rest = n_all - n
            mean, rest_mean = s / n, (s_all - s) / rest
            gap = mean - overall
            if mean <= rest_mean:
                continue
            variance = max(q_all / n_all - overall**2, 0.0)
            spread = math.sqrt(variance * (1 / n + 1 / rest))
            z = (mean - rest_mean) / spread if spread > 0 else math.inf
            found.append(Slice(key, n, self.metric, mean, overall, gap, z))
        if alpha is not None and found:
            examined = int(np.count_nonzero(sized))
            from scipy.stats import norm  # noqa: PLC0415 (profiling never needs scipy)

            bound = float(norm.isf(alpha / max(examined, 1)))
            found = [item for item in found if item.z >= bound]
        found.sort(key=lambda item: (-item.z, -item.gap, item.slice))
        return found[:limit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "total": list(self.total),
            **SliceCells.of(self.cells).to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SliceErrors:
        total = data["total"]
        # Profiles of version 1 hold the cells as a mapping of key to [rows, sum, squares].
        cells = SliceCells.of(data["cells"]) if "cells" in data else SliceCells.from_dict(data)
        return cls(
            str(data["metric"]),
            cells,
            (int(total[0]), float(total[1]), float(total[2])),
        )


def slice_metric(task: Task) -> str | None:
    """The per-row error slices measure for a task (None: not sliced)."""
    if task in ("binary_classification", "multiclass_classification"):
        return "error_rate"
    if task == "regression":
        return "mae"
    return None


def slice_errors(
    frame: pd.DataFrame,
    spec: PerformanceSpec,
    dimensions: Mapping[str, pd.Series],
) -> SliceErrors | None:
    """Count the errors of a chunk's labelled rows per slice.

    Args:
        frame: the chunk (labels joined).
        spec: the roles; the task decides the error measure.
        dimensions: dimension name → one text label per row of ``frame`` (missing: not in
            any slice of that dimension). Segment dimensions and :data:`HOUR` also form
            pairs with every other dimension.

    Returns:
        The counts, or None for a task that is not sliced (ranking) or without a prediction.
    """
    metric = slice_metric(spec.task)
    if metric is None or spec.prediction is None:
        return None
    errors = _row_errors(frame, spec)
    if errors is None:
        return SliceErrors(metric)
    kept, error = errors
    squares = error * error
    total = (int(kept.sum()), float(error.sum()), float(squares.sum()))
    cells: dict[str, tuple[int, float, float]] = {}
    coded = {
        name: pd.factorize(values[kept], use_na_sentinel=True)
        for name, values in dimensions.items()
    }
    pairing = [
        name for name in dimensions if name.startswith("segment:") or name in (HOUR, DAYPART)
    ]
    groups: list[tuple[str, ...]] = [(name,) for name in dimensions]
    groups += [
        pair
        for pair in combinations(dimensions, 2)
        if (pair[0] in pairing or pair[1] in pairing) and {HOUR, DAYPART} - set(pair)
    ]
    for group in groups:
        combined = np.zeros(int(kept.sum()), dtype=np.int64)
        valid = np.ones(combined.size, dtype=bool)
        sizes: list[int] = []
        for name in group:
            codes, uniques = coded[name]
            valid &= codes >= 0
            combined = combined * len(uniques) + np.maximum(codes, 0)
            sizes.append(len(uniques))
        cells_in_group = math.prod(sizes)
        if not valid.any() or cells_in_group == 0:
            continue
        n = np.bincount(combined[valid], minlength=cells_in_group)
        s = np.bincount(combined[valid], weights=error[valid], minlength=cells_in_group)
        q = np.bincount(combined[valid], weights=squares[valid], minlength=cells_in_group)
        for cell in np.flatnonzero(n):
            parts, rest = [], int(cell)
            for name, size in zip(reversed(group), reversed(sizes), strict=True):
                rest, index = divmod(rest, size)
                parts.append(f"{_display(name)}={coded[name][1][index]}")
            key = " & ".join(reversed(parts))
            cells[key] = (int(n[cell]), float(s[cell]), float(q[cell]))
    return SliceErrors(metric, dict(sorted(cells.items())), total)


def _display(dimension: str) -> str:
    return dimension.split(":", 1)[1] if ":" in dimension else dimension


def _row_errors(
    frame: pd.DataFrame, spec: PerformanceSpec
) -> tuple[NDArray[np.bool_], NDArray[np.float64]] | None:
    """Which rows are labelled (with a prediction) and their error."""
    assert spec.prediction is not None
    if spec.label not in frame.columns or spec.prediction not in frame.columns:
        return None
    label, prediction = frame[spec.label], frame[spec.prediction]
    kept = (label.notna() & prediction.notna()).to_numpy()
    if not kept.any():
        return kept, np.zeros(0)
    return kept, row_errors(label[kept], prediction[kept], spec.task)


def row_errors(label: pd.Series, prediction: pd.Series, task: str) -> NDArray[np.float64]:
    """Each row's error: 0/1 misclassification (classification) or absolute error
    (regression). Rows must have both values (drop the others first).

    >>> row_errors(pd.Series([1, 0, 1]), pd.Series([1, 1, 1]), "binary_classification").tolist()
    [0.0, 1.0, 0.0]
    """
    if task == "regression":
        truth = as_float_array(label, role="label")
        predicted = as_float_array(prediction, role="prediction")
        return np.asarray(np.abs(truth - predicted), dtype=np.float64)
    _, (truth_codes, predicted_codes) = encode_labels(("label", label), ("prediction", prediction))
    return np.asarray(truth_codes != predicted_codes, dtype=np.float64)


def daypart(hours: pd.Series) -> pd.Series:
    """The quarter of the day (``"00-06"`` ...) of hours given as ``"00"``..``"23"``."""
    quarter: pd.Series = hours.map(
        lambda hour: f"{int(hour) // 6 * 6:02d}-{int(hour) // 6 * 6 + 6:02d}", na_action="ignore"
    )
    return quarter.astype(object)


def hour_of_day(values: pd.Series) -> pd.Series:
    """The UTC hour (``"00"``..``"23"``) of timestamps given as ISO 8601 text or epoch
    seconds (milliseconds when larger than 1e11); missing where unparseable."""
    if pd.api.types.is_bool_dtype(values):
        return pd.Series(None, index=values.index, dtype=object)
    # Numbers (also numbers in an object column, as JSON Lines with mixed types give) are
    # epoch seconds, or milliseconds past 1e11; everything else is parsed as text.
    numbers = coerce_numbers(values).astype("float64")
    is_number = numbers.notna()
    if pd.api.types.is_numeric_dtype(values):
        text_parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    else:
        text = values.where(~is_number & values.notna())
        text_parsed = pd.Series(
            pd.to_datetime(text.astype(object), utc=True, errors="coerce", format="mixed"),
            index=values.index,
        )
    scale = np.where(numbers.abs() > 1e11, 1e-3, 1.0)
    epoch = pd.Series(
        pd.to_datetime(numbers * scale, unit="s", utc=True, errors="coerce"), index=values.index
    )
    parsed = epoch.where(is_number, text_parsed)
    hours: pd.Series = parsed.dt.hour.map(lambda hour: f"{int(hour):02d}", na_action="ignore")
    return hours.astype(object)
