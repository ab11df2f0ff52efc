"""Types shared by every drift statistic: the inputs (aligned counts, weighted samples) and
the result, which states its own meaning (method, statistic, p-value, threshold, direction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

ColumnKind = Literal["numeric", "categorical"]

#: How a statistic is compared with its threshold. Distances drift when they reach the
#: threshold; tests drift when the p-value falls below it. A drift decision of an evaluation
#: (:mod:`driftline.stats.decision`) needs both: a credible difference (the p-value adjusted
#: for the evaluation's family of tests below alpha) that is large enough (the effect at
#: least the minimum effect, which is then the threshold).
Direction = Literal[
    "statistic >= threshold",
    "p_value < threshold",
    "p_adjusted < alpha and effect >= threshold",
]


@dataclass(frozen=True)
class WeightedSample:
    """Sorted values with positive weights standing for a numeric distribution.

    Raw data is a sample with every weight 1; a quantile sketch (KLL) yields its retained
    items with their weights. ``n`` is the number of observations the sample stands for,
    which is what p-values use (for a sketch, the weights sum to ``n``).
    """

    values: NDArray[np.float64]
    weights: NDArray[np.float64]
    n: int

    @classmethod
    def from_values(cls, values: Any) -> WeightedSample:
        """The exact sample of ``values`` (NaN removed, sorted, weight 1 each)."""
        array = np.asarray(values, dtype=np.float64)
        array = np.sort(array[~np.isnan(array)])
        return cls(array, np.ones_like(array), int(array.size))


@dataclass(frozen=True)
class FeatureDistributions:
    """Reference and current distributions of one feature, ready for any statistic.

    ``reference_counts`` and ``current_counts`` are aligned bins: for a numeric feature the
    histogram on the baseline's edges (with under- and overflow bins), for a categorical one
    the counts of the baseline's categories followed by one bin for everything else.
    Samples exist for numeric features only.
    """

    kind: ColumnKind
    reference_counts: NDArray[np.float64]
    current_counts: NDArray[np.float64]
    reference_sample: WeightedSample | None = None
    current_sample: WeightedSample | None = None
    reference_std: float | None = None
    bin_labels: tuple[str, ...] = field(default=())
    #: Bound on the error of the samples' normalised ranks (both sides added; 0 when both
    #: samples are the exact values): a KS statistic is within it of the exact one.
    rank_error: float = 0.0
    #: Missing values and rows seen on each side, ``(reference_missing, reference_rows,
    #: current_missing, current_rows)``; None when not counted (then missing values play no
    #: part). An evaluation's decision tests them as one more bin and states the two shares.
    missing: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class DriftResult:
    """The outcome of one drift statistic on one feature.

    ``direction`` says how ``statistic``/``p_value`` are compared with ``threshold``;
    ``drifted`` is that comparison's result. A decision of an evaluation also states its
    evidence (:mod:`driftline.stats.decision`): the rows on each side, the effect and how it
    is measured, the p-value adjusted for the family of tests, alpha and the correction;
    ``threshold`` is then the minimum effect.
    """

    method: str
    statistic: float
    p_value: float | None
    threshold: float
    direction: Direction
    drifted: bool
    effect: float | None = None
    effect_measure: str | None = None
    p_adjusted: float | None = None
    alpha: float | None = None
    correction: str | None = None
    n_reference: int | None = None
    n_current: int | None = None
    evidence: str | None = None
    family: int | None = None
    #: This test's share of the family's α (1 / family with equal shares).
    alpha_share: float | None = None
    borderline: bool = False
    rank_error: float = 0.0
    #: Each test's raw p-value when the evidence combines several (``ks+binned+scale``), by
    #: name.
    evidence_parts: tuple[tuple[str, float], ...] = ()
    #: The share of missing values in the reference and in the current data, when either
    #: side has any (None otherwise), and the change in that share that drifts.
    missing_shares: tuple[float, float] | None = None
    min_missing_change: float | None = None
    #: With missing values: the adjusted p-values of the values alone and of the missing
    #: share alone (each must be credible for its own part of "large enough").
    split_p_adjusted: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form used in the evaluation result (``drift.features.<name>``)."""
        body: dict[str, Any] = {
            "method": self.method,
            "statistic": _finite_or_none(self.statistic),
            "p_value": _finite_or_none(self.p_value),
            "threshold": self.threshold,
            "direction": self.direction,
            "drifted": self.drifted,
        }
        if self.effect is not None:
            body.update(
                effect=_finite_or_none(self.effect),
                effect_measure=self.effect_measure,
                min_effect=self.threshold,
                p_adjusted=_finite_or_none(self.p_adjusted),
                alpha=self.alpha,
                correction=self.correction,
                evidence=self.evidence,
                n_reference=self.n_reference,
                n_current=self.n_current,
                family=self.family,
                alpha_share=self.alpha_share,
                borderline=self.borderline,
                rank_error=self.rank_error,
            )
            if self.evidence_parts:
                body["p_values"] = {
                    name: _finite_or_none(value) for name, value in self.evidence_parts
                }
            if self.missing_shares is not None:
                body["missing_share"] = {
                    "reference": self.missing_shares[0],
                    "current": self.missing_shares[1],
                }
                body["min_missing_change"] = self.min_missing_change
                if self.split_p_adjusted is not None:
                    body["p_adjusted_values"] = _finite_or_none(self.split_p_adjusted[0])
                    body["p_adjusted_missing"] = _finite_or_none(self.split_p_adjusted[1])
        return body


def _finite_or_none(value: float | None) -> float | None:
    """JSON has no inf/NaN: infinite statistics are written as null with drifted=true."""
    if value is None or not np.isfinite(value):
        return None
    return float(value)
