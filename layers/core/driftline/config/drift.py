"""The ``drift`` section: how drift is decided (alpha, correction, minimum effects, the
evidence floor) and the drift method for every feature, or for one."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from driftline.config.strict import StrictSection

DriftMethodName = Literal["psi", "ks", "wasserstein", "jensenshannon", "chisquare", "hellinger"]
DriftMethodChoice = Literal[
    "auto", "psi", "ks", "wasserstein", "jensenshannon", "chisquare", "hellinger"
]
#: Effects that cannot exceed 1 (distances of distributions); a minimum above 1 could never
#: be reached.
BOUNDED_EFFECTS: frozenset[str] = frozenset({"ks", "jensenshannon", "chisquare", "hellinger"})


class FeatureDriftSpec(StrictSection):
    method: DriftMethodChoice = "auto"
    threshold: float | None = Field(
        None,
        gt=0,
        description=(
            "For a test (ks, chisquare): the level its adjusted p-value must fall below "
            "(instead of drift.alpha). For a distance: its minimum effect."
        ),
    )
    min_effect: float | None = Field(
        None, gt=0, description="The smallest effect that drifts, for this feature."
    )


class DriftSpec(StrictSection):
    method: DriftMethodChoice = "auto"
    threshold: float | None = Field(
        None,
        gt=0,
        description=(
            "For every feature: a test's level (instead of alpha), or a distance's minimum "
            "effect. Default: alpha and the method's minimum effect."
        ),
    )
    alpha: float = Field(
        0.01,
        gt=0,
        le=0.5,
        description=(
            "The probability that an evaluation of an unchanged model reports any drift "
            "(family-wise, over every column and segment tested)."
        ),
    )
    correction: Literal["holm", "bh", "none"] = Field(
        "holm",
        description=(
            "How the p-values of one evaluation's tests are adjusted: holm (family-wise, "
            "any dependence), bh (false discovery rate) or none."
        ),
    )
    overall_share: float = Field(
        0.5,
        gt=0,
        lt=1,
        description=(
            "The share of alpha given to the overall tests when segments are tested too, "
            "split evenly among them; the rest is split evenly among the segment tests."
        ),
    )
    min_effect: dict[DriftMethodName, float] = Field(
        default_factory=dict,
        description=(
            "The smallest effect that drifts, per method (default: ks 0.02, wasserstein "
            "0.05, chisquare 0.02, jensenshannon 0.02, hellinger 0.017, psi 0.1)."
        ),
    )
    min_missing_change: float = Field(
        0.02,
        gt=0,
        le=1,
        description=(
            "A change of a column's share of missing values (0.02: two points) large enough "
            "to drift whatever the effect on the values present, when credible."
        ),
    )
    min_rows: int = Field(
        100,
        ge=1,
        description="Fewer values of a column than this (on either side): its drift is skip.",
    )
    dataset_drift_share: float = Field(0.5, gt=0, le=1)
    bins: int = Field(10, ge=2, le=1000, description="Histogram bins (baseline quantiles).")
    max_categories: int = Field(
        1000, ge=2, le=100_000, description="Categories tracked exactly per column."
    )
    features: dict[str, FeatureDriftSpec] = Field(default_factory=dict)

    @field_validator("min_effect", mode="before")
    @classmethod
    def _numbers_only(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for method, number in value.items():
                if isinstance(number, bool) or not isinstance(number, (int, float)):
                    raise ValueError(
                        f"{method}: expected a number > 0, got {type(number).__name__}"
                    )
        return value

    @field_validator("min_effect")
    @classmethod
    def _reachable_minimum_effects(cls, value: dict[str, float]) -> dict[str, float]:
        for method, number in value.items():
            if not number > 0:
                raise ValueError(f"{method}: expected a number > 0, got {number}")
            if method in BOUNDED_EFFECTS and number > 1:
                raise ValueError(
                    f"{method}: {number} can never be reached; the effect of {method} is at most 1"
                )
        return value
