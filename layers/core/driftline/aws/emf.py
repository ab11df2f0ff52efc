"""CloudWatch metrics as Embedded Metric Format lines on stdout (no API call, no permission):
Lambda ships stdout to CloudWatch Logs, which extracts the metrics."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Mapping
from typing import TextIO


def emit(
    namespace: str,
    dimensions: Mapping[str, str],
    values: Mapping[str, float],
    *,
    timestamp_ms: int,
    out: TextIO | None = None,
) -> None:
    """Print one EMF document with ``values`` under ``dimensions`` (non-finite values skipped).

    EMF allows at most 100 metrics per document; larger sets are split.
    """
    finite = {name: float(value) for name, value in values.items() if math.isfinite(value)}
    names = sorted(finite)
    for start in range(0, len(names), 100):
        chunk = names[start : start + 100]
        document = {
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [sorted(dimensions)],
                        "Metrics": [{"Name": name} for name in chunk],
                    }
                ],
            },
            **dimensions,
            **{name: finite[name] for name in chunk},
        }
        print(json.dumps(document, sort_keys=True), file=out or sys.stdout)


def emit_many(
    namespace: str,
    rows: Iterable[tuple[Mapping[str, str], Mapping[str, float]]],
    *,
    timestamp_ms: int,
    out: TextIO | None = None,
) -> None:
    for dimensions, values in rows:
        emit(namespace, dimensions, values, timestamp_ms=timestamp_ms, out=out)
