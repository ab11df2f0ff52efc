"""The serving side of a demo canary: what a model endpoint does while driftline tries a
challenger on part of the traffic.

Serving code reads the registry's traffic split (``retraining.serving.kind: registry``,
docs/retraining.md), sends ``challenger_weight`` of the requests to the challenger version
(loaded from the registry, its SHA-256 verified before it is unpickled) and the rest to the
champion, and logs each arm's requests under its variant folder, as SageMaker Data Capture
does for production variants. Labels come back inline (the demo knows the truth at once).
The canary analysis then reads those logs like any other inference batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from driftline.aws.model_store import ModelRegistry
from driftline.config.definition import MonitorDefinition
from driftline.labels import id_text

#: Live requests for a canary: ``(now, seed) -> rows`` with the champion's logged
#: prediction columns and the truth (the label column) filled in.
LiveTraffic = Callable[[datetime, int], pd.DataFrame]


@dataclass(frozen=True)
class ServedCanary:
    """What one batch of canary traffic was: rows per arm and where each was logged."""

    model: str
    champion: int | None
    challenger: int
    weight: float
    rows: dict[str, int]
    keys: dict[str, str]

    def describe(self) -> str:
        champion = "the serving model" if self.champion is None else f"v{self.champion}"
        return (
            f"live traffic: {self.rows['challenger']:,} requests to challenger "
            f"v{self.challenger} ({self.weight:.0%}), {self.rows['champion']:,} to {champion}"
        )


def serve_canary(
    *,
    definition: MonitorDefinition,
    registry: ModelRegistry,
    upload: Callable[[str, bytes], None],
    traffic: LiveTraffic,
    now: datetime,
    seed: int,
    segments: list[str],
    endpoint: str,
) -> ServedCanary:
    """Route one batch of live requests by the registry's split and log each arm.

    ``segments`` (``column=value``) limit the batch to a cohort: a challenger trained for
    one cohort is tried on that cohort's traffic, so both arms see the same population.

    Raises:
        LookupError: no canary is running for the model, or it has no retraining section.
    """
    from driftline.training.data import TrainingSpec, feature_columns  # noqa: PLC0415
    from driftline.training.estimators import predict  # noqa: PLC0415

    model = definition.model
    split = registry.traffic(model)
    if split.challenger is None:
        raise LookupError(f"no canary runs for {model}")
    if definition.retraining is None:
        raise LookupError(f"{model} has no retraining section")
    schema = definition.schema_
    canary = definition.retraining.canary
    rows = traffic(now, seed)
    for segment in segments:
        for part in segment.split(","):
            column, _, value = part.partition("=")
            rows = rows[rows[column].astype(str) == value]
    assert schema.id is not None and schema.label is not None
    # Requests go to the challenger by a stable hash of their id, as a router would.
    ids = id_text(rows[schema.id]).astype(str)
    buckets = ids.map(lambda text: (hash_of(text) % 10_000) / 10_000).to_numpy()
    to_challenger = buckets < split.challenger_weight
    challenger_rows = rows[to_challenger].reset_index(drop=True)
    champion_rows = rows[~to_challenger].reset_index(drop=True)
    numeric, categorical = feature_columns(schema.features)
    spec = TrainingSpec(
        task=schema.task,
        label=schema.label,
        numeric=numeric,
        categorical=categorical,
        positive_class=1 if schema.positive_class is None else schema.positive_class,
    )

    def answer(frame: pd.DataFrame, version: int) -> None:
        """The version's predictions in the logged columns (hash verified before loading)."""
        if not len(frame):
            return
        predicted = predict(registry.load_model(registry.version(model, version)), frame, spec)
        if schema.prediction is not None:
            frame[schema.prediction] = predicted.prediction
        if schema.score is not None and predicted.score is not None:
            frame[schema.score] = np.round(predicted.score, 4)

    answer(challenger_rows, split.challenger)
    if split.champion is not None:  # else the serving model's own, as generated
        answer(champion_rows, split.champion)
    keys = {}
    for role, variant, frame in (
        ("champion", canary.champion_variant, champion_rows),
        ("challenger", canary.challenger_variant, challenger_rows),
    ):
        key = f"inference/{model}/{endpoint}/{variant}/{now:%Y/%m/%d/%H}/live-{seed}.csv"
        upload(key, frame.to_csv(index=False).encode())
        keys[role] = key
    return ServedCanary(
        model,
        split.champion,
        split.challenger,
        split.challenger_weight,
        {"champion": len(champion_rows), "challenger": len(challenger_rows)},
        keys,
    )


def hash_of(text: str) -> int:
    """A stable (process-independent) hash of a request id.

    >>> hash_of("t1"), hash_of("t1") == hash_of("t1")
    (15245, True)
    """
    value = 0
    for character in text.encode():
        value = (value * 131 + character) % 1_000_003
    return value
