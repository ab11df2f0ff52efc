"""The estimator's own error, measured on the baseline where the labels are known.

Sampling error (:mod:`~driftline.estimation.sampling`) is how far the labels may fall from the
estimate *if the calibrated probabilities are right*. They are not exactly right: the
calibrator is fitted on a finite baseline, a bin's rows share one probability, and
``P(y | score)`` moves a little from one period of the baseline to the next. That error does
not average out over the rows of a window, so it is measured separately, once, when the
baseline's calibrator is built (:func:`measure_model_error`):

1. The baseline's labelled rows with a score in [0, 1] and a predicted class, **in the order
   of the file** (thinned evenly in that order past ``max_rows``), are cut into
   :data:`BLOCKS` consecutive blocks.
2. Each block is estimated as new data would be: with a calibrator fitted on the other
   blocks (the identity when the baseline's decision was not to calibrate), cut into
   :data:`CHUNKS_PER_BLOCK` consecutive chunks, each estimated from its score cells and
   compared with the metrics its labels give (ROC AUC on the raw scores).
3. Per metric, over the chunks where both are defined: the mean error ``mean(estimate −
   realised)`` and the **excess variance**
   ``max(0, mean((estimate − realised)²) − mean(sampling variance))``, the mean squared error
   the sampling variance does not account for (the mean error squared is part of it).

Consecutive blocks, not folds dealt at random, because a window is a stretch of time: a
calibrator fitted on other periods and applied to this one errs as a later window will, and
a block whose ``P(y | score)`` differs from the rest shows as excess error. Folds that share
every score's labels in proportion (as :func:`~driftline.estimation.calibration.
needs_calibration` deals them) hide that and even the labels' own noise (measured on
NannyML's synthetic and census baselines: squared errors at 0.2 to 0.9 of the sampling
variance, against 0.9 to 1.6 with consecutive blocks). So the term depends on the order of
the rows: a baseline in time order measures the change from period to period, a shuffled
one only the calibrator's error.

**How it scales.** The excess variance is a constant: an interval for a window of any size
adds it to that window's sampling variance (which shrinks as ``1/n``). The error of a
calibrator, or of a period whose ``P(y | score)`` is off, does not shrink with more rows of
the same window; error that does (groups of rows more alike than the rest) is counted at the
size of a baseline chunk (``rows / 50``), so for much larger windows the term is on the wide
side. The estimate of the term is itself noisy: with 50 chunks, ``mean((est − real)²)`` has
a relative standard error of about 20 %.

**What it cannot see**: a change of ``P(y | score)`` after the baseline (concept drift) or
within a segment (one calibrator serves every segment). The interval is then too narrow.

A baseline of 20,000 rows whose ``P(y = 1 | s)`` is ``s`` in its first half and ``s²`` in
its second: a calibrator fitted on both halves is off on each, and precision's estimate on a
chunk of 400 rows errs by about 0.1 beyond its sampling error:

>>> rng = np.random.default_rng(5)
>>> scores = rng.uniform(size=20_000)
>>> drifted = np.arange(20_000) >= 10_000
>>> positive = rng.uniform(size=20_000) < np.where(drifted, scores**2, scores)
>>> error = measure_model_error(scores, positive, (scores > 0.5).astype(np.int8),
...                             calibrate=True)
>>> error.rows, error.chunk_rows, sorted(error.terms) == sorted(ESTIMATED_METRICS)
(20000, 400, True)
>>> round(error.terms["precision"].sd, 3)
0.099
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftline.errors import InvalidInputError
from driftline.estimation.binary import ESTIMATED_METRICS, estimate_binary
from driftline.estimation.calibration import Calibrator, IdentityCalibrator, fit_isotonic
from driftline.estimation.sampling import sampling_variances
from driftline.estimation.score_cells import ScoreCells
from driftline.metrics.classification import trapezoid_auc
from driftline.metrics.encoding import FloatArray

#: Consecutive blocks of the baseline, each estimated with a calibrator fitted on the others.
BLOCKS = 10
#: Consecutive chunks each block is cut into (50 chunks in all).
CHUNKS_PER_BLOCK = 5
#: The fewest rows a chunk may have: a smaller baseline gets no model-error term.
MIN_CHUNK_ROWS = 50
#: The fewest chunks a metric must be defined on for its term.
MIN_CHUNKS = 10


@dataclass(frozen=True)
class ModelErrorTerm:
    """One metric's error beyond sampling on the baseline's held-out chunks.

    Attributes:
        mean_error: the mean of estimate − realised over the chunks.
        excess_variance: ``max(0, mean((estimate − realised)²) − mean(sampling variance))``.
        chunks: the chunks the metric was defined on (estimated and realised).
    """

    mean_error: float
    excess_variance: float
    chunks: int

    @property
    def sd(self) -> float:
        """The square root of the excess variance."""
        return math.sqrt(self.excess_variance)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_error": self.mean_error,
            "excess_variance": self.excess_variance,
            "chunks": self.chunks,
        }


@dataclass(frozen=True)
class ModelError:
    """The model-error terms a baseline stores with its calibrator, or why there are none.

    Attributes:
        rows: the rows measured on (labelled, scored, with a predicted class; at most
            ``max_rows``).
        chunk_rows: the rows of the smallest chunk (0 when skipped).
        terms: by metric, each metric defined on at least :data:`MIN_CHUNKS` chunks.
        skipped: why nothing was measured (None when measured).
    """

    rows: int
    chunk_rows: int = 0
    terms: dict[str, ModelErrorTerm] = field(default_factory=dict)
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"rows", "chunk_rows", "terms": {metric: {...}}}`` or ``{"rows", "skipped"}``."""
        if self.skipped is not None:
            return {"rows": self.rows, "skipped": self.skipped}
        return {
            "rows": self.rows,
            "chunk_rows": self.chunk_rows,
            "terms": {name: term.to_dict() for name, term in self.terms.items()},
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], metrics: tuple[str, ...] = ESTIMATED_METRICS
    ) -> ModelError:
        """Inverse of :meth:`to_dict`, validated; ``metrics`` are the names a term may
        have (a multiclass baseline's are :data:`~driftline.estimation.multiclass.
        MULTICLASS_METRICS`).

        Raises:
            InvalidInputError: ``reason="invalid_calibrator"``, naming the key under
                ``model_error``.
        """
        if not isinstance(data, Mapping):
            raise _invalid("", f"must be a mapping; got {type(data).__name__}")
        rows = _count(data.get("rows"), "rows")
        if "skipped" in data:
            if not isinstance(data["skipped"], str):
                raise _invalid("skipped", "must be a text")
            return cls(rows, skipped=data["skipped"])
        chunk_rows = _count(data.get("chunk_rows"), "chunk_rows")
        stored = data.get("terms")
        if not isinstance(stored, Mapping):
            raise _invalid("terms", "must be a mapping of metric to term")
        terms: dict[str, ModelErrorTerm] = {}
        for name in metrics:
            if name in stored:
                terms[name] = _term(stored[name], f"terms.{name}")
        unknown = sorted(str(name) for name in stored if name not in metrics)
        if unknown:
            raise _invalid("terms", f"holds unknown metrics; allowed: {', '.join(metrics)}")
        return cls(rows, chunk_rows, terms)


def measure_model_error(
    scores: FloatArray,
    positive: NDArray[np.bool_],
    predicted: NDArray[np.int8],
    *,
    calibrate: bool,
    max_rows: int | None = None,
    blocks: int = BLOCKS,
    chunks_per_block: int = CHUNKS_PER_BLOCK,
) -> ModelError:
    """The model-error terms of a baseline's rows, in the order of the file (see the
    module's description).

    Args:
        scores: each row's score, in [0, 1].
        positive: whether each row's label is the positive class.
        predicted: each row's predicted class, 1 or 0, or -1 when it has none (left out).
        calibrate: fit an isotonic calibrator on the other blocks (the baseline's decision);
            else the scores are taken as they are.
        max_rows: past this many rows (with a predicted class), keep rows at evenly spaced
            positions of the file, ``i * n // max_rows``; None: keep all.
        blocks, chunks_per_block: how the rows are cut.

    Returns:
        The terms, or a :class:`ModelError` saying why none: fewer than
        ``blocks * chunks_per_block * MIN_CHUNK_ROWS`` rows.
    """
    kept = predicted >= 0
    scores, positive, classes = scores[kept], positive[kept], predicted[kept].astype(np.int64)
    if max_rows is not None and scores.size > max_rows:
        spaced = np.arange(max_rows, dtype=np.int64) * scores.size // max_rows
        scores, positive, classes = scores[spaced], positive[spaced], classes[spaced]
    rows = int(scores.size)
    chunks = blocks * chunks_per_block
    if rows < chunks * MIN_CHUNK_ROWS:
        return ModelError(
            rows,
            skipped=(
                f"the baseline has {rows} labelled rows with a score and a predicted class; "
                f"measuring the estimator's error takes at least {chunks * MIN_CHUNK_ROWS}"
            ),
        )
    errors: dict[str, list[float]] = {name: [] for name in ESTIMATED_METRICS}
    variances: dict[str, list[float]] = {name: [] for name in ESTIMATED_METRICS}
    for start, end in held_out_blocks(rows, blocks):
        calibrator = _held_out_calibrator(scores, positive, start, end, calibrate=calibrate)
        for chunk in np.array_split(np.arange(start, end), chunks_per_block):
            cells = ScoreCells.from_arrays(scores[chunk], classes[chunk])
            estimated = estimate_binary(cells, calibrator).metrics
            spread = sampling_variances(cells, calibrator)
            realised = realised_metrics(scores[chunk], positive[chunk], classes[chunk])
            for name in ESTIMATED_METRICS:
                if name in estimated and name in realised:
                    errors[name].append(estimated[name] - realised[name])
                    variances[name].append(spread[name])
    return ModelError(rows, rows // chunks, error_terms(errors, variances))


def held_out_blocks(rows: int, blocks: int) -> list[tuple[int, int]]:
    """The ``blocks`` consecutive blocks of ``rows`` rows (as start and end), each held out
    in turn while the estimator is fitted on the others.

    >>> held_out_blocks(10, 3)
    [(0, 3), (3, 6), (6, 10)]
    """
    edges = (np.arange(blocks + 1, dtype=np.int64) * rows // blocks).tolist()
    return list(pairwise(edges))


def error_terms(
    errors: Mapping[str, Sequence[float]], variances: Mapping[str, Sequence[float]]
) -> dict[str, ModelErrorTerm]:
    """Each metric's term from its chunks' errors (estimate − realised) and sampling
    variances: the mean error and the excess of the mean squared error over the mean
    sampling variance (at least 0); a metric with fewer than :data:`MIN_CHUNKS` chunks has
    none."""
    terms = {}
    for name, found in errors.items():
        if len(found) >= MIN_CHUNKS:
            error, variance = np.array(found), np.array(variances[name])
            excess = float(np.mean(error**2) - np.mean(variance))
            terms[name] = ModelErrorTerm(float(error.mean()), max(0.0, excess), int(error.size))
    return terms


def realised_metrics(
    scores: FloatArray, positive: NDArray[np.bool_], predicted: NDArray[np.int64]
) -> dict[str, float]:
    """The metrics the labels give, those with a non-zero denominator: accuracy, precision,
    recall, specificity and F1 of the predicted classes, ROC AUC of the scores (ties half).

    >>> realised_metrics(np.array([0.9, 0.6, 0.4, 0.1]), np.array([True, False, True, False]),
    ...                  np.array([1, 1, 0, 0]))
    {'accuracy': 0.5, 'precision': 0.5, 'recall': 0.5, 'specificity': 0.5, 'f1': 0.5, 'auc': 0.75}
    """
    as_positive = predicted == 1
    tp = int(np.count_nonzero(positive & as_positive))
    fp = int(np.count_nonzero(~positive & as_positive))
    fn = int(np.count_nonzero(positive & ~as_positive))
    tn = int(np.count_nonzero(~positive & ~as_positive))
    metrics = {"accuracy": (tp + tn) / positive.size} if positive.size else {}
    for name, numerator, denominator in (
        ("precision", tp, tp + fp),
        ("recall", tp, tp + fn),
        ("specificity", tn, tn + fp),
        ("f1", 2 * tp, 2 * tp + fp + fn),
    ):
        if denominator:
            metrics[name] = numerator / denominator
    if tp + fn and tn + fp:
        distinct, group = np.unique(scores, return_inverse=True)
        positives = np.bincount(group, weights=positive.astype(np.float64), minlength=distinct.size)
        totals = np.bincount(group, minlength=distinct.size)
        metrics["auc"] = trapezoid_auc(positives[::-1], (totals - positives)[::-1])
    return metrics


def _held_out_calibrator(
    scores: FloatArray, positive: NDArray[np.bool_], start: int, end: int, *, calibrate: bool
) -> Calibrator:
    """The calibrator of rows ``[start, end)``: fitted on every other row, or the identity."""
    if not calibrate:
        return IdentityCalibrator()
    others = np.ones(scores.size, dtype=bool)
    others[start:end] = False
    return fit_isotonic(scores[others], positive[others])


def _term(value: Any, key: str) -> ModelErrorTerm:
    if not isinstance(value, Mapping):
        raise _invalid(key, "must be a mapping")
    numbers = {}
    for part in ("mean_error", "excess_variance"):
        number = value.get(part)
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise _invalid(f"{key}.{part}", "must be a number")
        if not math.isfinite(number):
            raise _invalid(f"{key}.{part}", "must be a finite number")
        numbers[part] = float(number)
    if numbers["excess_variance"] < 0:
        raise _invalid(f"{key}.excess_variance", "must be >= 0")
    chunks = _count(value.get("chunks"), f"{key}.chunks")
    if chunks < 1:
        raise _invalid(f"{key}.chunks", "must be >= 1")
    return ModelErrorTerm(numbers["mean_error"], numbers["excess_variance"], chunks)


def _count(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _invalid(key, "must be a count (an integer >= 0)")
    return value


def _invalid(key: str, problem: str) -> InvalidInputError:
    where = f"model_error.{key}" if key else "model_error"
    return InvalidInputError(
        f"calibration key {where!r} {problem}", reason="invalid_calibrator", key=where
    )
