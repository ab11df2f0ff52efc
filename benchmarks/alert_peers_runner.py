"""The peers of the alert-quality benchmark, each run in its own virtual environment.

Imports only the standard library at module level, since it runs under another
interpreter (Evidently 0.7 needs pandas < 3; NannyML 0.13.1 pins its own)::

    /tmp/evidently-venv/bin/python benchmarks/alert_peers_runner.py evidently MANIFEST
    /tmp/nannyml-venv/bin/python benchmarks/alert_peers_runner.py nannyml MANIFEST

MANIFEST is a JSON file written by ``alert_quality.py``: the feature names by kind, the
segment column and its values, and the evaluations (a reference parquet file and the batch
parquet files decided against it). Many evaluations go into one manifest so the interpreter
and the library start once. Prints one JSON line: per evaluation the decision of every batch
(``page``, ``dataset`` where the peer has such a flag, ``score`` and how many slices raised an
error), the peer's version and the methods it chose.

The **score** of a batch is the factor by which its most extreme column, in any slice, passes
the peer's own default threshold: ``threshold / p`` for a test, ``distance / threshold`` for a
distance. The default decision pages when the score reaches 1; scaling every threshold of the
peer by one factor ``k`` pages when it reaches ``k`` — how ``alert_quality.py`` sets a peer to
the false-page rate driftline has on the same batches.

Each peer runs with its defaults, overall and on each segment's rows (reference and batch
both restricted to the segment); a slice with no rows on either side is not evaluated, and a
slice whose computation raises counts as not paging (the count is reported).

* **evidently**: ``Report([DataDriftPreset()])``; a slice pages when its
  ``DriftedColumnsCount`` is above 0; the dataset flag when its share reaches the preset's
  ``drift_share`` (0.5). Score: over its ``ValueDrift`` metrics, ``threshold / p`` for the
  tests (method names ending in ``p_value``), ``value / threshold`` for the distances.
* **nannyml**: ``UnivariateDriftCalculator(column_names=..., treat_as_categorical=...,
  chunk_size=<rows of the batch's slice>)`` fitted on the reference slice (so the reference is
  cut into chunks of the batch's size, from which its default thresholds are set), then
  ``calculate`` on the batch's slice (one chunk); a slice pages when any alert is set. Score:
  the largest ``value / upper_threshold`` (the threshold is the reference chunks' mean + 3
  standard deviations; no lower threshold for Jensen-Shannon).
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from typing import Any

INFINITE = float("inf")


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, infinite when only the denominator is 0 (NaN: 0)."""
    if math.isnan(numerator) or math.isnan(denominator):
        return 0.0
    if denominator <= 0:
        return INFINITE if numerator > 0 else 0.0
    return numerator / denominator


def _slices(reference: Any, batch: Any, segment: str, values: list[str]) -> list[Any]:
    pairs = [(reference, batch)]
    for value in values:
        pairs.append((reference[reference[segment] == value], batch[batch[segment] == value]))
    return [(ref, cur) for ref, cur in pairs if len(ref) and len(cur)]


class Evidently:
    def __init__(self, numeric: list[str], categorical: list[str]) -> None:
        import evidently
        from evidently import DataDefinition

        self.version = f"evidently {evidently.__version__}"
        self.definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
        self.columns = [*numeric, *categorical]
        self.methods: set[str] = set()

    def decide(self, reference: Any, current: Any) -> tuple[bool, bool, float]:
        from evidently import Dataset, Report
        from evidently.presets import DataDriftPreset

        snapshot = Report([DataDriftPreset()]).run(
            current_data=Dataset.from_pandas(current[self.columns], self.definition),
            reference_data=Dataset.from_pandas(reference[self.columns], self.definition),
        )
        count, share, score = 0, 0.0, 0.0
        for metric in snapshot.dict().get("metrics", []):
            name = str(metric.get("metric_name", ""))
            if name.startswith("DriftedColumnsCount") and isinstance(metric.get("value"), dict):
                count = int(metric["value"]["count"])
                share = float(metric["value"]["share"])
            elif name.startswith("ValueDrift"):
                config = metric.get("config", {})
                method = str(config.get("method"))
                self.methods.add(method)
                value, threshold = float(metric["value"]), float(config["threshold"])
                if method.endswith("p_value"):
                    score = max(score, _ratio(threshold, value))
                else:
                    score = max(score, _ratio(value, threshold))
        return count > 0, share >= 0.5, score


class NannyML:
    def __init__(self, numeric: list[str], categorical: list[str]) -> None:
        import logging

        import nannyml

        logging.getLogger("nannyml").setLevel(logging.ERROR)
        self.version = f"nannyml {nannyml.__version__}"
        self.numeric, self.categorical = numeric, categorical
        self.methods = {"jensen_shannon (continuous and categorical)"}

    def decide(self, reference: Any, current: Any) -> tuple[bool, None, float]:
        from nannyml.drift.univariate import UnivariateDriftCalculator

        calculator = UnivariateDriftCalculator(
            column_names=[*self.numeric, *self.categorical],
            treat_as_categorical=list(self.categorical),
            chunk_size=len(current),
        )
        calculator.fit(reference.reset_index(drop=True))
        result = calculator.calculate(current.reset_index(drop=True))
        frame = result.filter(period="analysis").to_df()
        alerts = [column for column in frame.columns if column[-1] == "alert"]
        score = 0.0
        for column in frame.columns:
            if column[-1] == "value":
                threshold = frame[(*column[:-1], "upper_threshold")].iloc[0]
                score = max(score, _ratio(float(frame[column].iloc[0]), float(threshold)))
        return bool(frame[alerts].fillna(False).astype(bool).to_numpy().any()), None, score


PEERS = {"evidently": Evidently, "nannyml": NannyML}


def main(argv: list[str]) -> None:
    peer_name, manifest_path = argv
    warnings.simplefilter("ignore")
    import pandas as pd

    with open(manifest_path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    numeric, categorical = manifest["numeric"], manifest["categorical"]
    segment, values = manifest["segment"], manifest["segments"]
    peer = PEERS[peer_name](numeric, categorical)
    decisions: dict[str, list[dict[str, Any]]] = {}
    errors: list[str] = []
    for evaluation in manifest["evaluations"]:
        reference = pd.read_parquet(evaluation["reference"])
        decided = []
        for path in evaluation["batches"]:
            batch = pd.read_parquet(path)
            page, dataset, failed = False, False if peer_name == "evidently" else None, 0
            score = 0.0
            for ref, cur in _slices(reference, batch, segment, values):
                try:
                    slice_page, slice_dataset, slice_score = peer.decide(ref, cur)
                except Exception as exc:  # a peer's failure is a figure, counted
                    failed += 1
                    if len(errors) < 5:
                        errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                    continue
                page = page or slice_page
                score = max(score, slice_score)
                if slice_dataset is not None:
                    dataset = dataset or slice_dataset
            decided.append(
                {"page": page, "dataset": dataset, "score": score, "failed_slices": failed}
            )
        decisions[evaluation["id"]] = decided
    print(
        json.dumps(
            {
                "decisions": decisions,
                "version": f"{peer.version}, pandas {pd.__version__}",
                "methods": sorted(peer.methods),
                "errors": errors,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
