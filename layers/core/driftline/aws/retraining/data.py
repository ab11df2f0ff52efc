"""The training data: kept inference rows and label files read back, joined and scoped."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from driftline.aws.jobs.keys import time_of
from driftline.aws.retraining.context import RetrainingServices
from driftline.aws.s3 import ObjectStore
from driftline.config.definition import MonitorDefinition
from driftline.evaluation import capture_columns
from driftline.io import open_table
from driftline.labels import LabelTable, join_labels

#: Column prepare adds: the hour of the inference batch a row came from.
BATCH_HOUR = "_batch_hour"
#: Rows a served inference log or a label file is read by at a time.
CHUNK_ROWS = 50_000


def _text_columns(definition: MonitorDefinition) -> dict[str, str]:
    schema = definition.schema_
    columns = [name for name, kind in schema.features.items() if kind == "categorical"]
    columns += list(schema.segments)
    columns += [c for c in (schema.id, schema.sensitive) if c is not None]
    return dict.fromkeys(columns, "string")


def read_csv(body: bytes, definition: MonitorDefinition) -> pd.DataFrame:
    """Rows written by :func:`write_csv` or kept by the jobs (gzip or plain CSV), with ids,
    segments and categorical features read back as text (``7.0`` as ``"7"``)."""
    text = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
    if not text.strip():
        return pd.DataFrame()
    frame = pd.read_csv(io.BytesIO(text))
    for column in _text_columns(definition):
        if column in frame.columns:
            frame[column] = frame[column].map(lambda v: None if pd.isna(v) else _text(v))
    return frame


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_csv(store: ObjectStore, key: str, frame: pd.DataFrame) -> None:
    """Store ``frame`` as gzip CSV, the same bytes for the same rows (a retried step)."""
    store.put(
        key, gzip.compress(frame.to_csv(index=False).encode(), mtime=0), content_type="text/csv"
    )


def inference_batches(
    services: RetrainingServices, model: str, start: datetime, end: datetime
) -> Iterator[tuple[str, datetime, dict[str, Any]]]:
    """``(key, hour, document)`` of every inference batch profiled in ``[start, end)``."""
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        for key in services.store.keys(f"profiles/{model}/batches/{day:%Y/%m/%d}/"):
            hour = time_of(key)
            if hour is not None and start <= hour < end:
                yield key, hour, services.store.get_json(key)
        day += timedelta(days=1)


def labels_since(
    services: RetrainingServices, definition: MonitorDefinition, since: datetime
) -> LabelTable | None:
    """Every label that arrived in a ``labels/<model>/`` folder dated on or after ``since``'s
    day (None when the schema has no id to join on)."""
    schema = definition.schema_
    if schema.id is None or schema.label is None:
        return None
    table = LabelTable()
    first = since.replace(hour=0, minute=0, second=0, microsecond=0)
    for key in services.store.keys(f"labels/{definition.model}/"):
        moment = time_of(key)
        if moment is not None and moment < first:
            continue
        reader = open_table(
            services.store.get(key).body,
            name=key,
            chunk_rows=CHUNK_ROWS,
            capture=capture_columns(definition),
        )
        for frame in reader:
            table.add(frame, id=schema.id, label=schema.label)
    return table


def attach_labels(
    frame: pd.DataFrame, definition: MonitorDefinition, labels: LabelTable | None
) -> pd.DataFrame:
    """``frame`` with its labels: joined by id from ``labels`` when there are labels and an
    id column, else the label column as it is (added empty when absent)."""
    schema = definition.schema_
    assert schema.label is not None
    if labels is not None and schema.id is not None and schema.id in frame.columns:
        frame, _ = join_labels(frame, labels, id=schema.id, label=schema.label)
    elif schema.label not in frame.columns:
        frame = frame.assign(**{schema.label: None})
    return frame


def in_segments(frame: pd.DataFrame, segments: list[str]) -> pd.DataFrame:
    """Rows in any of the ``column=value[,column=value]`` segments."""
    keep = pd.Series(False, index=frame.index)
    for segment in segments:
        match = pd.Series(True, index=frame.index)
        for part in segment.split(","):
            column, _, value = part.partition("=")
            if column not in frame.columns:
                match &= False
                continue
            match &= frame[column].astype("string") == value
        keep |= match
    return frame[keep]
