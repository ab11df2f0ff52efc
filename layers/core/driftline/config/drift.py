"""The ``drift`` section: the drift method and threshold for every feature, or for one."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from driftline.config.strict import StrictSection

DriftMethodName = Literal["psi", "ks", "wasserstein", "jensenshannon", "chisquare", "hellinger"]
DriftMethodChoice = Literal[
    "auto", "psi", "ks", "wasserstein", "jensenshannon", "chisquare", "hellinger"
]


class FeatureDriftSpec(StrictSection):
    method: DriftMethodChoice = "auto"
    threshold: float | None = Field(None, gt=0)


class DriftSpec(StrictSection):
    method: DriftMethodChoice = "auto"
    threshold: float | None = Field(
        None, gt=0, description="Threshold for every feature; default: the method's own."
    )
    dataset_drift_share: float = Field(0.5, gt=0, le=1)
    bins: int = Field(10, ge=2, le=1000, description="Histogram bins (baseline quantiles).")
    max_categories: int = Field(
        1000, ge=2, le=100_000, description="Categories tracked exactly per column."
    )
    features: dict[str, FeatureDriftSpec] = Field(default_factory=dict)
