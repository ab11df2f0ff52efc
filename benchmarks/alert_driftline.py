"""driftline as a contender of the alert-quality benchmark, called in this process.

The monitor definition is what a user writes to watch every feature overall and in every
segment with driftline's defaults: the features and the ``segment`` column in ``schema``,
no ``drift`` section (``method: auto``, the methods' own thresholds, 10 bins,
``dataset_drift_share`` 0.5) and one drift check per feature, overall and per segment value
(``{name: drift-3-s1, drift: <feature>, segment: {segment: <value>}}``), each ``notify``.
An evaluation goes the way ``driftline evaluate`` goes: the reference profiled in two passes
(:func:`driftline.profile.dataset.build_reference` with the definition's bins and category
limit), the batch profiled on the reference's bins, then :func:`driftline.evaluation.evaluate`.

It **pages** when the result fails (``EvaluationResult.failed``, what ``driftline evaluate``
exits 1 for): a check failed (here: a feature drifted overall or in a segment, or the
built-in ``schema-columns`` check) or the dataset drifted. The second row,
``driftline dataset drift``, pages only when the share of drifted features reaches
``dataset_drift_share`` overall or in a segment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from alert_data import SEGMENT

TASK = "regression"  # no outputs are monitored: only the features matter here


def definition_text(
    numeric: Sequence[str], categorical: Sequence[str], segments: Sequence[str]
) -> str:
    """The monitor definition (YAML, as JSON) of the benchmark's default monitoring."""
    features = {**dict.fromkeys(numeric, "numeric"), **dict.fromkeys(categorical, "categorical")}
    checks: list[dict[str, Any]] = []
    for index, feature in enumerate(features):
        checks.append({"name": f"drift-{index}", "drift": feature})
        for number, value in enumerate(segments):
            checks.append(
                {
                    "name": f"drift-{index}-s{number}",
                    "drift": feature,
                    "segment": {SEGMENT: value},
                }
            )
    document = {
        "model": "alert-quality",
        "schema": {"task": TASK, "features": features, "segments": [SEGMENT]},
        "baseline": {"path": "reference.parquet"},
        "checks": checks,
    }
    return json.dumps(document)


class DriftlineContender:
    """Decides page / no page for batches against a reference, one definition per data set."""

    def __init__(
        self, numeric: Sequence[str], categorical: Sequence[str], segments: Sequence[str]
    ) -> None:
        from driftline.config import load_monitor_definition
        from driftline.evaluation import profile_spec

        self.definition = load_monitor_definition(
            definition_text(numeric, categorical, segments), source="alert-quality.yaml"
        )
        self.spec = profile_spec(self.definition)

    def decide(self, reference: Any, batches: Sequence[Any]) -> list[dict[str, bool]]:
        """One decision per batch (in order) against ``reference`` (pandas DataFrames):
        ``{"page": ..., "dataset": ...}``."""
        from driftline.evaluation import evaluate
        from driftline.profile.dataset import build_reference, profile_frames

        drift = self.definition.drift
        built = build_reference(
            lambda: [reference],
            self.spec,
            bins=drift.bins,
            max_categories=drift.max_categories,
            source="reference",
        )
        decisions = []
        for number, batch in enumerate(batches):
            current = profile_frames([batch], self.spec, built.bins)
            result = evaluate(self.definition, built, current, evaluation_id=f"batch-{number}")
            report = result.drift
            dataset = report.dataset_drifted or any(
                segment.dataset_drifted for segment in report.segments.values()
            )
            decisions.append({"page": result.failed, "dataset": dataset})
        return decisions
