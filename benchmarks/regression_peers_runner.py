"""NannyML's direct loss estimation (DLE) on the chunks of ``regression_estimation.py``, in
NannyML's own environment.

Imports only the standard library at module level, since it runs under another interpreter
(NannyML 0.13.1 pins its own dependencies)::

    /tmp/nannyml-venv/bin/python benchmarks/regression_peers_runner.py MANIFEST

MANIFEST is a JSON file written by ``regression_estimation.py``: the feature columns (and
which are categorical), the prediction and label columns, the reference rows and the
analysis rows (parquet files) and the chunk sizes. For each chunk size ``DLE(metrics=["mae",
"rmse"], chunk_size=n, tune_hyperparameters=False)`` (LightGBM with its default
hyperparameters on the features and the prediction) is fitted on the reference and
estimates the analysis rows. A categorical column is given to NannyML as Python objects
(the ``str`` type of pandas 3 fails in its encoder). Prints one JSON
line: per chunk size and chunk its first row and, per metric, NannyML's estimate, its band
(the estimate ± 3 sampling errors), its sampling error and the realised value.
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
    return number if math.isfinite(number) else None


def main(manifest_path: str) -> None:
    warnings.filterwarnings("ignore")
    import nannyml
    import pandas as pd

    pd.set_option("future.infer_string", False)  # NannyML's encoder needs object text
    with open(manifest_path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    reference = pd.read_parquet(manifest["reference"])
    analysis = pd.read_parquet(manifest["analysis"])
    for column in manifest["categorical"]:
        reference[column] = reference[column].astype(object)
        analysis[column] = analysis[column].astype(object)
    sizes: dict[str, Any] = {}
    for size in manifest["sizes"]:
        estimator = nannyml.DLE(
            feature_column_names=manifest["features"],
            y_pred=manifest["prediction"],
            y_true=manifest["label"],
            metrics=["mae", "rmse"],
            chunk_size=size,
            tune_hyperparameters=False,
        )
        estimator.fit(reference)
        table = estimator.estimate(analysis).filter(period="analysis").to_df()
        chunks = []
        for _, row in table.iterrows():
            chunk: dict[str, Any] = {"start": int(row[("chunk", "start_index")])}
            for metric in ("mae", "rmse"):
                chunk[metric] = {
                    name: _number(row[(metric, field)]) for field, name in FIELDS.items()
                }
            chunks.append(chunk)
        sizes[str(size)] = chunks
    print(json.dumps({"version": f"nannyml {nannyml.__version__}", "sizes": sizes}))


if __name__ == "__main__":
    main(sys.argv[1])
