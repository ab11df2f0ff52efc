"""The estimator's error as the labels showed it, which widens the intervals of later
estimates.

The model-error terms of :mod:`~driftline.estimation.model_error` are measured once, on the
baseline: how far the estimate strays from the labels from one period of the baseline to
the next. Production can stray further. On census data whose baseline is one year, the
later years' neighbouring areas differ from each other about twice as much as the
baseline's did, and the intervals of consecutive chunks cover 89 % instead of 95 %
(benchmarks/README.md, "Estimated performance"). The baseline cannot show that; the
labels, when they land, do.

Every batch reconciled when its labels landed (:mod:`driftline.batch_reconciliation`)
stores, per metric, its estimate, the realised value and the sampling variance of its
estimate. Over each metric's latest ``trailing`` batches, the same measure as the
baseline's (:func:`~driftline.estimation.model_error.error_terms`) gives a term: the mean
error and the excess variance ``max(0, mean((estimate − realised)²) − mean(sampling
variance))``, from at least :data:`~driftline.estimation.model_error.MIN_CHUNKS` batches.
An estimate's interval then uses, per metric, **the wider of the baseline's term and the
reconciled one** (:meth:`ReconciledError.widen`): the labels may widen an interval, never
narrow it below what the baseline measured.

What it is not: a correction of the estimate. The value stays the calibrator's (the same
figures before and after the labels, as reconciliation needs); only the interval grows.
And it lags: a batch counts once its labels are in, so a change of the error shows in the
intervals as late as the labels come.

>>> pairs = [ReconciledPair(f"b{i}", "auc", 0.80, 0.80 + (0.02 if i % 2 else -0.02), 1e-4)
...          for i in range(12)]
>>> error = ReconciledError.of(pairs, trailing=100)
>>> error.batches, round(error.terms["auc"].excess_variance, 6)     # 0.02² − 0.0001
(12, 0.0003)
>>> baseline = {"auc": ModelErrorTerm(0.0, 0.0001, 50)}
>>> error.widen(baseline)["auc"].excess_variance == error.terms["auc"].excess_variance
True
>>> error.widens(baseline)
('auc',)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from driftline.estimation.model_error import MIN_CHUNKS, ModelErrorTerm, error_terms


@dataclass(frozen=True)
class ReconciledPair:
    """One reconciled batch's figures of one metric (overall).

    Attributes:
        batch: the batch's id (a later pair of the same batch and metric replaces it).
        metric: the metric's name.
        estimated: the batch's estimate, made before its labels.
        realised: the value its labels gave.
        sampling_variance: the sampling variance of the estimate.
    """

    batch: str
    metric: str
    estimated: float
    realised: float
    sampling_variance: float


@dataclass(frozen=True)
class ReconciledError:
    """The estimator's error on the latest reconciled batches, per metric.

    Attributes:
        batches: the distinct batches counted (any metric).
        trailing: how many of each metric's latest batches were counted.
        terms: by metric, each with at least :data:`~driftline.estimation.model_error.
            MIN_CHUNKS` batches.
    """

    batches: int
    trailing: int
    terms: dict[str, ModelErrorTerm] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs: Iterable[ReconciledPair], *, trailing: int) -> ReconciledError:
        """The terms of ``pairs``, oldest first: a later pair of the same batch and metric
        replaces an earlier one, pairs whose figures are not finite numbers are left out,
        and per metric the latest ``trailing`` count.

        Raises:
            ValueError: ``trailing`` below 1.
        """
        if trailing < 1:
            raise ValueError(f"expected trailing >= 1, got {trailing}")
        latest: dict[tuple[str, str], ReconciledPair] = {}
        for pair in pairs:
            figures = (pair.estimated, pair.realised, pair.sampling_variance)
            if not all(math.isfinite(value) for value in figures):
                continue
            key = (pair.metric, pair.batch)
            latest.pop(key, None)  # re-inserted last: a repeated pair is as new as it is
            latest[key] = pair
        by_metric: dict[str, list[ReconciledPair]] = {}
        for (metric, _), pair in latest.items():
            by_metric.setdefault(metric, []).append(pair)
        kept = {metric: found[-trailing:] for metric, found in by_metric.items()}
        terms = error_terms(
            {metric: [p.estimated - p.realised for p in found] for metric, found in kept.items()},
            {metric: [p.sampling_variance for p in found] for metric, found in kept.items()},
        )
        batches = len({pair.batch for found in kept.values() for pair in found})
        return cls(batches, trailing, terms)

    def widen(self, baseline: Mapping[str, ModelErrorTerm]) -> dict[str, ModelErrorTerm]:
        """Per metric the term with the larger excess variance: the baseline's, or the
        reconciled batches' where that is larger (a metric the baseline has no term for
        takes the reconciled one)."""
        terms = dict(baseline)
        for name in self.widens(baseline):
            terms[name] = self.terms[name]
        return terms

    def widens(self, baseline: Mapping[str, ModelErrorTerm]) -> tuple[str, ...]:
        """The metrics whose reconciled term is wider than the baseline's, in the order of
        :attr:`terms`."""
        return tuple(
            name
            for name, term in self.terms.items()
            if name not in baseline or term.excess_variance > baseline[name].excess_variance
        )

    def to_dict(self, baseline: Mapping[str, ModelErrorTerm]) -> dict[str, Any]:
        """``performance.estimated.interval.reconciled_error``: the batches counted, the
        terms (``sd``, ``mean_error``, ``chunks``: the batches of that metric) and the
        metrics whose interval they widened; ``skip`` names why a metric with too few
        batches has none."""
        document: dict[str, Any] = {
            "batches": self.batches,
            "trailing": self.trailing,
            "min_batches": MIN_CHUNKS,
            "terms": {
                name: {"sd": term.sd, "mean_error": term.mean_error, "chunks": term.chunks}
                for name, term in self.terms.items()
            },
            "widens": list(self.widens(baseline)),
        }
        if not self.terms:
            document["skip"] = (
                f"fewer than {MIN_CHUNKS} reconciled batches of any metric: the intervals "
                "use the baseline's terms alone"
            )
        return document
