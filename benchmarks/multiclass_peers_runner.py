"""NannyML's multiclass CBPE on the chunks of ``multiclass_estimation.py``, in NannyML's own
environment.

Imports only the standard library at module level, since it runs under another interpreter
(NannyML 0.13.1 pins its own dependencies)::

    /tmp/nannyml-venv/bin/python benchmarks/multiclass_peers_runner.py MANIFEST

MANIFEST is a JSON file written by ``multiclass_estimation.py``: the class score columns (by
class), the prediction and label columns, the metrics, the reference rows and the analysis
rows (parquet files) and the chunk sizes. For each chunk size ``CBPE(problem_type=
"classification_multiclass", chunk_size=n)`` is fitted on the reference (incomplete chunks
dropped) and estimates the analysis rows. Prints one JSON line: which classes NannyML
calibrates, and per chunk size and chunk its first row and, per metric, NannyML's estimate,
its band (the estimate ± 3 sampling errors, clipped), its sampling error and the realised
value.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from typing import Any

FIELDS = {
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
    reference = pd.read_parquet(manifest["reference"])
    analysis = pd.read_parquet(manifest["analysis"])
    metrics = manifest["metrics"]
    sizes: dict[str, Any] = {}
    calibrated: dict[str, bool] = {}
    for size in manifest["sizes"]:
        estimator = nannyml.CBPE(
            y_pred_proba=manifest["class_scores"],
            y_pred=manifest["prediction"],
            y_true=manifest["label"],
            metrics=metrics,
            chunker=SizeBasedChunker(chunk_size=int(size), incomplete="drop"),
            problem_type="classification_multiclass",
        ).fit(reference)
        calibrated = {
            str(label): type(calibrator).__name__ != "NoopCalibrator"
            for label, calibrator in estimator._calibrators.items()
        }
        frame = estimator.estimate(analysis).to_df()
        frame = frame[frame[("chunk", "period")] == "analysis"]
        chunks = []
        for _, row in frame.iterrows():
            chunk: dict[str, Any] = {"start": int(row[("chunk", "start_index")])}
            for metric in metrics:
                chunk[metric] = {
                    short: _number(row[(metric, long)]) for long, short in FIELDS.items()
                }
            chunks.append(chunk)
        sizes[str(size)] = chunks
    print(
        json.dumps(
            {"version": f"nannyml {nannyml.__version__}", "calibrated": calibrated, "sizes": sizes}
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
