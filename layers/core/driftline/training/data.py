"""What to train and the rows it is trained on: the :class:`TrainingSpec` from the monitor
definition, the time split into training rows and holdout (:func:`split_by_time`), the
most recent rows within a limit (:func:`limit_rows`), and features and labels as the
estimator takes them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.metrics.encoding import Label, normalise_label


def default_estimator(task: str) -> str:
    """The estimator used when the definition names none."""
    return "ridge" if task == "regression" else "logistic_regression"


@dataclass(frozen=True)
class TrainingSpec:
    """What to train, from the monitor definition (schema and ``retraining``).

    Attributes:
        task: binary_classification, multiclass_classification or regression.
        label: the label column.
        numeric, categorical: the feature columns by kind.
        estimator: a name of :data:`ESTIMATORS` (None: :func:`default_estimator`).
        params: the estimator's parameters.
        seed: its ``random_state``.
        positive_class: for binary classification, the class whose probability is the score.
    """

    task: str
    label: str
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    estimator: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    positive_class: Label = 1

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

    @property
    def estimator_name(self) -> str:
        return self.estimator or default_estimator(self.task)


def split_by_time(
    frame: pd.DataFrame, *, time: str | None, holdout_share: float, min_rows: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The older rows to train on and the most recent ``holdout_share`` to judge on.

    Rows are ordered by ``time`` (ISO 8601 text or datetimes; unparseable times count as
    the oldest), ties and a missing ``time`` keep the frame's order.

    Raises:
        InsufficientDataError: either part would have fewer than ``min_rows`` rows.
        ValueError: ``holdout_share`` is not in (0, 1).

    >>> frame = pd.DataFrame({"t": ["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-04"]})
    >>> train, holdout = split_by_time(frame, time="t", holdout_share=0.5)
    >>> train["t"].tolist(), holdout["t"].tolist()
    (['2026-01-01', '2026-01-02'], ['2026-01-03', '2026-01-04'])
    """
    if not 0.0 < holdout_share < 1.0:
        raise ValueError(f"expected holdout_share in (0, 1), got {holdout_share}")
    ordered = frame.reset_index(drop=True)
    if time is not None and time in frame.columns:
        moments = pd.to_datetime(ordered[time], utc=True, errors="coerce", format="mixed")
        key = moments.fillna(pd.Timestamp.min.tz_localize("UTC"))
        ordered = ordered.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
    held = math.ceil(len(ordered) * holdout_share)
    train, holdout = ordered.iloc[: len(ordered) - held], ordered.iloc[len(ordered) - held :]
    if min(len(train), len(holdout)) < min_rows:
        raise InsufficientDataError(
            f"{len(frame)} labelled rows split into {len(train)} to train on and {len(holdout)} "
            f"to hold out; each needs at least {min_rows}",
            reason="insufficient_data",
            rows=len(frame),
        )
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


def feature_frame(frame: pd.DataFrame, spec: TrainingSpec) -> pd.DataFrame:
    """The spec's feature columns as the estimator takes them: numeric ones as floats
    (unparseable values missing), categorical ones as text.

    Raises:
        InvalidInputError: a feature column is missing (``missing_column``).
    """
    missing = [column for column in spec.features if column not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"training data has no feature column {missing[0]!r}", reason="missing_column"
        )
    columns: dict[str, Any] = {}
    for column in spec.numeric:
        columns[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in spec.categorical:
        values = frame[column]
        text = values.map(lambda value: None if pd.isna(value) else str(value))
        columns[column] = text.astype(object)
    return pd.DataFrame(columns, index=frame.index)


def label_array(frame: pd.DataFrame, spec: TrainingSpec) -> NDArray[Any]:
    """The label column as the estimator takes it: floats for regression, else classes
    (:func:`class_array`).

    Raises:
        InvalidInputError: the label column is missing or has missing values.
    """
    if spec.label not in frame.columns:
        raise InvalidInputError(f"training data has no label column {spec.label!r}")
    values = frame[spec.label]
    if values.isna().any():
        raise InvalidInputError(f"label column {spec.label!r} has missing values")
    if spec.task == "regression":
        return pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64)
    return class_array(values)


def class_array(values: Sequence[Any] | pd.Series | NDArray[Any]) -> NDArray[Any]:
    """Class labels in their canonical form (:func:`normalise_label`), as one dtype:
    integers stay integers; a mix of kinds becomes text (scikit-learn needs one kind).

    >>> class_array([1.0, 0.0]).tolist(), class_array([1, "a"]).tolist()
    ([1, 0], ['1', 'a'])
    """
    labels = [normalise_label(value) for value in values]
    kinds = {type(label) for label in labels}
    if len(kinds) > 1:
        labels = [str(label) for label in labels]
    return np.asarray(labels)


def feature_columns(features: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Numeric and categorical feature names from ``schema.features``."""
    numeric = tuple(name for name, kind in features.items() if kind == "numeric")
    categorical = tuple(name for name, kind in features.items() if kind == "categorical")
    return numeric, categorical


def limit_rows(frame: pd.DataFrame, *, time: str | None, max_rows: int) -> pd.DataFrame:
    """The most recent ``max_rows`` rows (by ``time``; the frame's order without it)."""
    if len(frame) <= max_rows:
        return frame
    if time is not None and time in frame.columns:
        moments = pd.to_datetime(frame[time], utc=True, errors="coerce", format="mixed")
        key = moments.fillna(pd.Timestamp.min.tz_localize("UTC")).to_numpy()
        order = np.argsort(key, kind="stable")
        return frame.iloc[order[-max_rows:]].reset_index(drop=True)
    return frame.iloc[-max_rows:].reset_index(drop=True)
