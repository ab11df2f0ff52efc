"""NannyML's CBPE on the chunks of the estimation-quality benchmark, in NannyML's own environment.

Imports only the standard library at module level, since it runs under another interpreter
(NannyML 0.13.1 pins its own dependencies)::

    /tmp/nannyml-venv/bin/python benchmarks/estimation_peers_runner.py MANIFEST

MANIFEST is a JSON file written by ``estimation_quality.py``: the score, prediction and label
columns, the metrics, the reference rows (a parquet file) and the analysis sets (a parquet file
and a chunk size each; a set of random chunks is written as the chunks one after another, so
NannyML's consecutive chunks of that size are exactly those chunks). For each chunk size,
``CBPE(..., chunk_size=n)`` is fitted once on the reference, with incomplete chunks dropped;
each set is then estimated with the labels present (NannyML reads them only for its
``realized`` column). Prints one JSON line: per set and chunk, its first row and, per metric,
NannyML's estimate, its band (``lower``/``upper``: the estimate ± 3 sampling errors, clipped)
and its sampling error, with NannyML's version.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from typing import Any

BAND_FIELDS = {
    "value": "value",
    "lower_confidence_boundary": "lower",
    "upper_confidence_boundary": "upper",
    "sampling_error": "sampling_error",
    "realized": "realised",
}


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def main(manifest_path: str) -> None:
    warnings.filterwarnings("ignore")
    import nannyml
    import pandas as pd
    from nannyml.chunk import SizeBasedChunker

    with open(manifest_path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    columns, metrics = manifest["columns"], manifest["metrics"]
    reference = pd.read_parquet(manifest["reference"])
    estimators: dict[int, Any] = {}
    sets = {}
    for analysis in manifest["analysis"]:
        size = int(analysis["chunk_size"])
        if size not in estimators:
            estimators[size] = nannyml.CBPE(
                y_pred_proba=columns["score"],
                y_pred=columns["prediction"],
                y_true=columns["label"],
                metrics=metrics,
                chunker=SizeBasedChunker(chunk_size=size, incomplete="drop"),
                problem_type="classification_binary",
            ).fit(reference)
        frame = estimators[size].estimate(pd.read_parquet(analysis["path"])).to_df()
        frame = frame[frame[("chunk", "period")] == "analysis"]
        chunks = []
        for _, row in frame.iterrows():
            chunk: dict[str, Any] = {"start": int(row[("chunk", "start_index")])}
            for metric in metrics:
                chunk[metric] = {
                    short: _number(row[(metric, long)]) for long, short in BAND_FIELDS.items()
                }
            chunks.append(chunk)
        sets[analysis["name"]] = chunks
    print(json.dumps({"version": f"nannyml {nannyml.__version__}", "sets": sets}))


if __name__ == "__main__":
    main(sys.argv[1])
