"""Estimated performance in an evaluation: the baseline's calibrator applied to the current
data's score cells, overall and per segment, as the result reports it under
``performance.estimated`` (docs/result.md).

Every scope (the whole window, each segment) is estimated with the one calibrator of the
whole baseline, as the measured metrics of a segment are measured with the model's one
positive class. A scope's rows that the estimate cannot read are counted by why: no score
or one that is not a number (``score_missing``), a score outside [0, 1]
(``score_out_of_range``), no predicted class (``prediction_missing``).

>>> from driftline.estimation.calibration import CalibrationDecision, IdentityCalibrator
>>> from driftline.estimation.score_cells import ScoreCells
>>> cells = ScoreCells.from_arrays([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])
>>> calibration = BaselineCalibration(4, IdentityCalibrator(),
...     CalibrationDecision(False, "no_lower_error", 0.2, 0.25, 0.75))
>>> document = EstimatedPerformance.of(calibration, ScopeCells(5, cells), {}).to_dict()
>>> document["overall"]["accuracy"], document["rows"]["overall"]
({'value': 0.825, 'method': 'cbpe'}, 4)
>>> document["left_out"]["overall"], document["expected_positive_share"]["overall"]
({'score_missing': 0, 'score_out_of_range': 0, 'prediction_missing': 1}, 0.525)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from driftline.estimation.baseline import BaselineCalibration
from driftline.estimation.binary import BinaryEstimate, estimate_binary
from driftline.estimation.calibration import Calibrator
from driftline.estimation.score_cells import ScoreCells

#: The method every estimate names: confidence-based performance estimation.
METHOD = "cbpe"

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


@dataclass(frozen=True)
class ScopeCells:
    """A scope's rows and its score cells (None when a profile merged in had none)."""

    rows: int
    cells: ScoreCells | None


@dataclass(frozen=True)
class EstimatedScope:
    """The estimate of one scope and the rows left out of it, by why."""

    estimate: BinaryEstimate
    left_out: dict[str, int]

    @classmethod
    def of(cls, scope: ScopeCells, cells: ScoreCells, calibrator: Calibrator) -> EstimatedScope:
        unpredicted = scope.rows - cells.n - cells.unbinned
        return cls(
            estimate_binary(cells, calibrator),
            {
                "score_missing": cells.missing,
                "score_out_of_range": cells.below + cells.above,
                "prediction_missing": unpredicted,
            },
        )

    @property
    def expected_positive_share(self) -> float | None:
        """The estimated prior: expected positives over the rows (None without rows)."""
        rows = self.estimate.rows
        return self.estimate.expected_positives / rows if rows else None


@dataclass(frozen=True)
class EstimatedPerformance:
    """The estimate of every scope, or why there is none.

    Attributes:
        overall: the whole window's (None when skipped).
        segments: each segment's, by ``"column=value"``.
        calibration: the baseline's calibration the estimate used.
        skipped: why nothing is estimated (None when estimated).
    """

    overall: EstimatedScope | None = None
    segments: dict[str, EstimatedScope] = field(default_factory=dict)
    calibration: BaselineCalibration | None = None
    skipped: str | None = None

    @classmethod
    def skip(cls, reason: str) -> EstimatedPerformance:
        return cls(skipped=reason)

    @classmethod
    def of(
        cls,
        calibration: BaselineCalibration | None,
        overall: ScopeCells,
        segments: Mapping[str, ScopeCells],
    ) -> EstimatedPerformance:
        """Estimate every scope with the baseline's calibrator, or say why not: the
        baseline predates stored calibrators or has none, or the current profiles carry
        no cells."""
        if calibration is None:
            return cls.skip(BASELINE_PREDATES)
        calibrator = calibration.calibrator
        if calibrator is None:
            return cls.skip(f"the baseline has no calibrator: {calibration.skipped}")
        if overall.cells is None:
            return cls.skip(CELLS_PREDATE)
        return cls(
            EstimatedScope.of(overall, overall.cells, calibrator),
            {
                key: EstimatedScope.of(scope, scope.cells, calibrator)
                for key, scope in sorted(segments.items())
                # a segment has cells whenever the window does: every profile merged in had
                if scope.cells is not None
            },
            calibration,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``performance.estimated`` section of the result JSON: ``{"skip": reason}``,
        or per scope the defined metrics (``{value, method}``), the undefined ones with
        their reason, the rows estimated and left out, and the expected positive share,
        with the baseline's calibration."""
        if self.overall is None or self.calibration is None:
            return {"skip": self.skipped}

        def per_scope(figure: Any) -> dict[str, Any]:
            return {
                "overall": figure(self.overall),
                "segments": {key: figure(scope) for key, scope in self.segments.items()},
            }

        def metrics(scope: EstimatedScope) -> dict[str, Any]:
            return {
                name: {"value": value, "method": METHOD}
                for name, value in scope.estimate.metrics.items()
            }

        decision = self.calibration.decision
        assert decision is not None and self.calibration.calibrator is not None
        return {
            "method": METHOD,
            **per_scope(metrics),
            "undefined": per_scope(lambda scope: dict(scope.estimate.undefined)),
            "rows": per_scope(lambda scope: scope.estimate.rows),
            "left_out": per_scope(lambda scope: dict(scope.left_out)),
            "expected_positive_share": per_scope(lambda scope: scope.expected_positive_share),
            "calibration": {
                "rows": self.calibration.rows,
                "fitted_rows": self.calibration.fitted_rows,
                "calibrator": self.calibration.calibrator.kind,
                **decision.to_dict(),
            },
        }
