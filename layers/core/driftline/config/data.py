"""The sections about the data: ``schema`` (which columns mean what), ``baseline`` (where
the reference data is) and ``capture`` (how to name what SageMaker Data Capture records carry
without names), with the capture's rules against the schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field, field_validator, model_validator

from driftline.config.messages import KeyedError, key_part, shown
from driftline.config.strict import StrictSection
from driftline.metrics.catalogue import Task
from driftline.metrics.encoding import Label, normalise_label

FeatureKind = Literal["numeric", "categorical"]


class SchemaSpec(StrictSection):
    """Which columns mean what in the inference logs, labels and baseline."""

    id: str | None = Field(None, description="Column joining predictions and late labels.")
    timestamp: str | None = Field(None, description="Event time column (ISO 8601 or epoch).")
    task: Task
    prediction: str | None = None
    score: str | None = Field(None, description="Probability of the positive class.")
    class_scores: dict[int | str, str] | None = Field(
        None,
        description=(
            "Multiclass: each class (as the prediction and label columns hold it) and the "
            "column of its probability, e.g. {cat: p_cat, dog: p_dog}; with schema.prediction "
            "and schema.label, the performance is estimated before labels arrive."
        ),
    )
    label: str | None = None
    positive_class: int | float | str | bool | None = None
    features: dict[str, FeatureKind] = Field(min_length=1)
    segments: list[str] = Field(default_factory=list)
    query: str | None = Field(None, description="Ranking: column grouping rows into queries.")
    sensitive: str | None = Field(None, description="Fairness: the protected-group column.")
    conversion: str | None = Field(
        None, description="Ranking: column marking a converted impression (> 0)."
    )
    k: int = Field(10, ge=1, le=1000, description="Ranking: the cut-off of the @k metrics.")

    @model_validator(mode="after")
    def _columns_are_distinct(self) -> SchemaSpec:
        roles = {
            "id": self.id,
            "timestamp": self.timestamp,
            "prediction": self.prediction,
            "score": self.score,
            "label": self.label,
        }
        seen: dict[str, str] = {}
        for role, column in roles.items():
            if column is None:
                continue
            if column in seen:
                raise ValueError(
                    f"column {shown(column)} is used as both {seen[column]} and {role}"
                )
            if column in self.features:
                raise ValueError(f"column {shown(column)} is both the {role} and a feature")
            seen[column] = role
        if len(set(self.segments)) != len(self.segments):
            raise ValueError(f"segments lists a column twice: {shown(self.segments)}")
        return self


def not_estimated(schema: SchemaSpec) -> str | None:
    """Why a model's performance is not estimated before its labels, or None when it is:
    the estimate is for binary classifiers with a score and a prediction column, for
    multiclass classifiers with a score column per class (``class_scores``) and a prediction
    column, and for regression models with a prediction column (MAE and RMSE from a loss
    model of the baseline) (:func:`driftline.evaluation.not_estimated`).

    >>> not_estimated(SchemaSpec(task="ranking", prediction="p", features={"a": "numeric"}))
    'performance is estimated for binary and multiclass classifiers and regression models only; \
the task is ranking'
    >>> not_estimated(SchemaSpec(task="regression", prediction="p", features={"a": "numeric"}))
    >>> not_estimated(SchemaSpec(task="multiclass_classification", prediction="p",
    ...                          features={"a": "numeric"}))[:59]
    'schema.class_scores is not set: the estimate reads each row'
    """
    if schema.task == "multiclass_classification":
        if schema.class_scores is None:
            return (
                "schema.class_scores is not set: the estimate reads each row's probability of "
                "every class"
            )
        if schema.prediction is None:
            return "schema.prediction is not set: the estimate needs each row's predicted class"
        return None
    if schema.task == "regression":
        if schema.prediction is None:
            return "schema.prediction is not set: the estimate needs each row's prediction"
        return None
    if schema.task != "binary_classification":
        return (
            "performance is estimated for binary and multiclass classifiers and regression "
            f"models only; the task is {schema.task}"
        )
    if schema.score is None:
        return "schema.score is not set: the estimate reads each row's score"
    if schema.prediction is None:
        return "schema.prediction is not set: the estimate needs each row's predicted class"
    return None


def probability_columns(schema: SchemaSpec) -> tuple[str, ...]:
    """A classifier's columns of probabilities, whose values must lie in [0, 1]: a binary
    classifier's ``schema.score``, a multiclass one's ``schema.class_scores`` columns (none
    for other tasks: a ranking score is any number).

    >>> probability_columns(SchemaSpec(task="binary_classification", score="p",
    ...                                features={"a": "numeric"}))
    ('p',)
    >>> probability_columns(SchemaSpec(task="ranking", score="s", features={"a": "numeric"}))
    ()
    """
    if schema.task == "binary_classification" and schema.score is not None:
        return (schema.score,)
    if schema.task == "multiclass_classification" and schema.class_scores is not None:
        return tuple(schema.class_scores.values())
    return ()


def check_class_scores(schema: SchemaSpec) -> None:
    """``schema.class_scores`` belongs to a multiclass classifier and names two or more
    distinct classes, each with a column of its own that plays no other role.

    Raises:
        KeyedError: naming ``schema.class_scores`` or the class's key under it.
    """
    scores = schema.class_scores
    if scores is None:
        return
    if schema.task != "multiclass_classification":
        hint = (
            "; a binary classifier's probability is schema.score"
            if (schema.task == "binary_classification")
            else ""
        )
        raise KeyedError(
            "schema.class_scores",
            f"applies to multiclass_classification only; the task is {schema.task}{hint}",
        )
    if len(scores) < 2:
        raise KeyedError(
            "schema.class_scores",
            f"expected two or more classes, each with its score column; got {len(scores)}",
        )
    roles = {
        column: f"schema.{role}"
        for role in ("id", "timestamp", "prediction", "score", "label")
        if (column := getattr(schema, role)) is not None
    }
    classes: dict[Label, str] = {}
    for key, column in scores.items():
        where = f"schema.class_scores.{key_part(key)}"
        label = normalise_label(key)
        if label in classes:
            raise KeyedError(where, f"names the same class as {shown(classes[label])}")
        classes[label] = str(key)
        if not column:
            raise KeyedError(where, "expected a column name, got an empty text")
        if column in roles:
            raise KeyedError(where, f"column {shown(column)} is also {roles[column]}")
        if column in schema.features:
            raise KeyedError(where, f"column {shown(column)} is also a feature")
        roles[column] = where


class BaselineSpec(StrictSection):
    path: str = Field(min_length=1, description="Key of the reference data in the bucket.")

    @field_validator("path")
    @classmethod
    def _plain_relative_key(cls, value: str) -> str:
        if value.startswith("/") or "\\" in value:
            raise ValueError(f"expected a relative key with '/' separators, got {shown(value)}")
        if any(ord(character) < 32 or ord(character) == 127 for character in value):
            raise ValueError(f"expected a key without control characters, got {shown(value)}")
        if any(part in ("", ".", "..") for part in value.split("/")):
            raise ValueError(
                f"expected a key without empty, '.' or '..' segments, got {shown(value)}"
            )
        return value


class CaptureSpec(StrictSection):
    """How to name what SageMaker Data Capture records carry without names.

    A CSV-encoded request (and a JSON list of values) holds its fields by position only;
    a JSON output object holds the model's outputs under the endpoint's own keys. Nothing in
    the record says which position or key is which column, so the definition says it.
    """

    csv_fields: list[str | None] | None = Field(
        None,
        min_length=1,
        description=(
            "The order of the fields of a capture record's input when it has no names (CSV "
            "text, or a JSON list of values): each a feature, a segment column, schema.query "
            "or schema.sensitive, or null for a field that is read and not kept. Without it, "
            "such a capture file is quarantined (capture_fields_unknown)."
        ),
    )
    outputs: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Keys of the endpoint's JSON output (dotted for nested objects) to the schema "
            "column they fill: schema.prediction or schema.score. Unmapped keys keep their "
            "names."
        ),
    )
    csv_outputs: list[str | None] | None = Field(
        None,
        min_length=1,
        description=(
            "The order of the values of an output that has no names (CSV text, a number, a "
            "JSON list of values): schema.prediction, schema.score, or null for a value not "
            "kept. Default: the one of schema.prediction and schema.score that is set; with "
            "both set and no csv_outputs, such a capture file is quarantined."
        ),
    )


#: Schema roles a capture record's input may not carry: the record's metadata fills the id
#: and the time, the outputs fill prediction and score, the outcomes arrive later.
_NOT_CAPTURE_INPUTS = ("id", "timestamp", "prediction", "score", "label", "conversion")


def check_capture(capture: CaptureSpec, schema: SchemaSpec) -> None:
    """The capture section names only columns the schema knows, each once (docs/aws.md)."""
    inputs = set(schema.features) | set(schema.segments)
    inputs |= {column for column in (schema.query, schema.sensitive) if column}
    roles = {getattr(schema, role): role for role in _NOT_CAPTURE_INPUTS if getattr(schema, role)}
    for key, column in _listed_once(capture.csv_fields, "capture.csv_fields"):
        if column in inputs:
            continue
        if column in roles:
            raise KeyedError(
                key,
                f"{shown(column)} is schema.{roles[column]}, which a request's input does not "
                "carry (the record's metadata fills id and timestamp, its output prediction "
                "and score; label and conversion arrive later)",
            )
        raise KeyedError(
            key,
            f"unknown column {shown(column)}; expected a feature, a segment column, "
            "schema.query or schema.sensitive, or null for a field not kept",
        )
    outputs = {
        column: role for role in ("prediction", "score") if (column := getattr(schema, role))
    }
    allowed = " or ".join(f"schema.{role} ({shown(column)})" for column, role in outputs.items())
    expected = allowed or "schema.prediction or schema.score (neither is set)"
    filled_by: dict[str, str] = {}
    for output_key, column in capture.outputs.items():
        key = f"capture.outputs.{key_part(output_key)}"
        if not output_key:
            raise KeyedError("capture.outputs", "an output key is empty")
        if column not in outputs:
            raise KeyedError(key, f"expected {expected}, got {shown(column)}")
        if column in filled_by:
            raise KeyedError(
                key, f"{shown(column)} is filled by output key {shown(filled_by[column])} already"
            )
        filled_by[column] = output_key
    for key, column in _listed_once(capture.csv_outputs, "capture.csv_outputs"):
        if column not in outputs:
            raise KeyedError(key, f"expected {expected} or null, got {shown(column)}")


def _listed_once(names: list[str | None] | None, key: str) -> Iterator[tuple[str, str]]:
    """``(key path, name)`` of each name of a positional list, refusing one listed twice."""
    seen: dict[str, int] = {}
    for index, name in enumerate(names or ()):
        if name is None:
            continue
        if name in seen:
            raise KeyedError(
                f"{key}[{index}]", f"{shown(name)} is listed twice (also at [{seen[name]}])"
            )
        seen[name] = index
        yield f"{key}[{index}]", name
