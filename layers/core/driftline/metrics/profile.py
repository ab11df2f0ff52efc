"""The mergeable performance profile: a batch's labelled rows reduced to what every metric needs.

A :class:`PerformanceProfile` holds, depending on the task:

* classification: the confusion counts (:class:`~driftline.metrics.confusion.
  ConfusionCounts`), and for a binary task with a score, :class:`~driftline.metrics.
  score_histograms.ScoreHistograms`: per-class score counts on fixed bins plus exact sums
  for log loss and Brier (the bins and the AUC bound are described there);
* regression: :class:`~driftline.metrics.regression.RegressionSums`;
* ranking: :class:`~driftline.metrics.ranking.RankingSums`;
* fairness (binary, with a sensitive column): :class:`~driftline.metrics.fairness.
  GroupCounts`.

Merging is associative and commutative: counts and histograms exactly, float sums to
rounding. Every metric from a merged profile equals the metric on the batches' rows
together, exactly (counts) or to float rounding (sums), except AUC and Gini, which come
from the histograms within a bound the profile reports (:attr:`~driftline.metrics.
score_histograms.ScoreHistograms.auc_error_bound`).

>>> import pandas as pd
>>> frame = pd.DataFrame({"y": [0, 1, 1, 0], "pred": [0, 1, 0, 0], "p": [0.2, 0.9, 0.4, 0.3]})
>>> halves = [profile_performance(frame.iloc[i : i + 2], task="binary_classification",
...           label="y", prediction="pred", score="p", positive_class=1) for i in (0, 2)]
>>> merged = halves[0].merge(halves[1])
>>> merged.metrics()["accuracy"], merged.metrics()["auc"]
(0.75, 1.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from driftline.errors import IncompatibleProfilesError, InsufficientDataError, InvalidInputError
from driftline.metrics.catalogue import METRICS, TASKS, Task
from driftline.metrics.computation import compute_metric
from driftline.metrics.confusion import ConfusionCounts
from driftline.metrics.encoding import (
    Label,
    as_float_array,
    describe_classes,
    encode_labels,
    normalise_label,
)
from driftline.metrics.fairness import GroupCounts
from driftline.metrics.ranking import RankingSums
from driftline.metrics.regression import RegressionSums
from driftline.metrics.score_histograms import ScoreHistograms

PROFILE_FORMAT = "driftline.performance"
PROFILE_VERSION = 1

_CLASSIFICATION = ("binary_classification", "multiclass_classification")


@dataclass(frozen=True)
class PerformanceProfile:
    """The performance summary of one or more batches of one model.

    Attributes:
        task: the model's task (``binary_classification``, ``multiclass_classification``,
            ``regression`` or ``ranking``).
        rows: rows seen, labelled or not.
        labelled: rows with a label; every part below describes labelled rows only.
        missing: per configured role (``prediction``, ``score``, ``sensitive``, ``query``,
            ...), labelled rows left out of that role's figures because its value is missing.
        positive_class: the class binary metrics are about (binary tasks only).
        confusion, scores, regression, ranking, groups: the parts the task and the
            configured columns call for; ``None`` for the others.
    """

    task: Task
    rows: int
    labelled: int
    missing: Mapping[str, int] = field(default_factory=dict)
    positive_class: Label | None = None
    confusion: ConfusionCounts | None = None
    scores: ScoreHistograms | None = None
    regression: RegressionSums | None = None
    ranking: RankingSums | None = None
    groups: GroupCounts | None = None

    def merge(self, other: PerformanceProfile) -> PerformanceProfile:
        """The profile of both batches.

        Raises:
            IncompatibleProfilesError: different tasks, positive classes, parts or k.
        """
        if (self.task, self.positive_class) != (other.task, other.positive_class):
            raise IncompatibleProfilesError(
                "cannot merge performance profiles of "
                f"{self.task} (positive_class {self.positive_class!r}) and "
                f"{other.task} (positive_class {other.positive_class!r})"
            )
        if self._parts() != other._parts():
            raise IncompatibleProfilesError(
                f"cannot merge performance profiles with parts {sorted(self._parts())} and "
                f"{sorted(other._parts())}"
            )
        missing = dict(self.missing)
        for role, count in other.missing.items():
            missing[role] = missing.get(role, 0) + count
        return PerformanceProfile(
            task=self.task,
            rows=self.rows + other.rows,
            labelled=self.labelled + other.labelled,
            missing=dict(sorted(missing.items())),
            positive_class=self.positive_class,
            confusion=_merge(self.confusion, other.confusion),
            scores=_merge(self.scores, other.scores),
            regression=_merge(self.regression, other.regression),
            ranking=_merge(self.ranking, other.ranking),
            groups=_merge(self.groups, other.groups),
        )

    def _parts(self) -> frozenset[str]:
        parts = {
            "confusion": self.confusion,
            "scores": self.scores,
            "regression": self.regression,
            "ranking": self.ranking,
            "groups": self.groups,
        }
        return frozenset(name for name, part in parts.items() if part is not None)

    def metrics(self, *, zero_division: float = 0.0) -> dict[str, float | str]:
        """Every metric this profile can speak to: its value, or a reason it is undefined.

        A metric of another task, or one needing a column that was not profiled (a score,
        the sensitive column, the conversion column), is left out.
        """
        values: dict[str, float | str] = {}
        for name, spec in METRICS.items():
            if self.task not in spec.tasks:
                continue
            try:
                values[name] = compute_metric(self, name, zero_division=zero_division)
            except InsufficientDataError as exc:
                if exc.reason != "metric_not_applicable":
                    values[name] = str(exc)
        return values

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON-able form with ``format`` and ``version``."""
        data: dict[str, Any] = {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "task": self.task,
            "rows": self.rows,
            "labelled": self.labelled,
            "missing": dict(self.missing),
            "positive_class": self.positive_class,
        }
        parts: dict[str, Any] = {
            "confusion": self.confusion,
            "scores": self.scores,
            "regression": self.regression,
            "ranking": self.ranking,
            "groups": self.groups,
        }
        for name, part in parts.items():
            if part is not None:
                data[name] = part.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PerformanceProfile:
        """Inverse of :meth:`to_dict`.

        Raises:
            IncompatibleProfilesError: another format or version, or other score bins.
        """
        if data.get("format") != PROFILE_FORMAT or data.get("version") != PROFILE_VERSION:
            raise IncompatibleProfilesError(
                f"expected a {PROFILE_FORMAT} profile of version {PROFILE_VERSION}, got "
                f"format {data.get('format')!r} version {data.get('version')!r}"
            )
        if data.get("task") not in TASKS:
            raise IncompatibleProfilesError(f"expected a task in {TASKS}, got {data.get('task')!r}")
        positive = data.get("positive_class")
        return cls(
            task=data["task"],
            rows=int(data["rows"]),
            labelled=int(data["labelled"]),
            missing={str(role): int(count) for role, count in data["missing"].items()},
            positive_class=None if positive is None else normalise_label(positive),
            confusion=_load(ConfusionCounts, data.get("confusion")),
            scores=_load(ScoreHistograms, data.get("scores")),
            regression=_load(RegressionSums, data.get("regression")),
            ranking=_load(RankingSums, data.get("ranking")),
            groups=_load(GroupCounts, data.get("groups")),
        )


def _merge(left: Any, right: Any) -> Any:
    return None if left is None else left.merge(right)


def _load(kind: Any, data: Mapping[str, Any] | None) -> Any:
    return None if data is None else kind.from_dict(data)


# -- building a profile from a frame -------------------------------------------------------


def _require_columns(frame: pd.DataFrame, roles: Mapping[str, str | None]) -> None:
    for role, column in roles.items():
        if column is not None and column not in frame.columns:
            raise InvalidInputError(
                f"the {role} column {column!r} is not in the data; columns: {list(frame.columns)}",
                reason="missing_column",
            )


def _present(frame: pd.DataFrame, column: str | None) -> NDArray[np.bool_]:
    if column is None:
        return np.ones(len(frame), dtype=bool)
    return np.asarray(frame[column].notna().to_numpy(), dtype=bool)


def _resolve_positive_class(
    classes: tuple[Label, ...], positive_class: Label | None, *, columns: str
) -> Label:
    """The positive class of a binary task; ``columns`` names where the classes come from.

    Messages count the classes and name their kinds, never their values (a label may be
    sensitive).
    """
    if len(classes) > 2:
        raise InvalidInputError(
            f"binary_classification expects at most 2 classes; got "
            f"{describe_classes(classes)} in {columns}",
            reason="too_many_classes",
            classes=len(classes),
        )
    if positive_class is None:
        if any(isinstance(label, str) for label in classes):
            raise InvalidInputError(
                f"the {describe_classes(classes)} in {columns} are not all numbers, so "
                "positive_class cannot default to 1; set schema.positive_class",
                reason="unknown_positive_class",
                classes=len(classes),
            )
        return 1
    positive = normalise_label(positive_class)
    if len(classes) == 2 and positive not in classes:
        raise InvalidInputError(
            f"positive_class {positive!r} is not one of the {describe_classes(classes)} in "
            f"{columns}; set schema.positive_class to one of them",
            reason="unknown_positive_class",
            classes=len(classes),
        )
    return positive


def profile_performance(
    frame: pd.DataFrame,
    *,
    task: Task,
    label: str,
    prediction: str | None = None,
    score: str | None = None,
    positive_class: Label | None = None,
    query: str | None = None,
    rank: str | None = None,
    k: int = 10,
    click: str | None = None,
    conversion: str | None = None,
    sensitive: str | None = None,
) -> PerformanceProfile:
    """Reduce a batch (predictions joined with their labels) to a :class:`PerformanceProfile`.

    Rows without a label are counted (``rows - labelled``) and otherwise ignored; a labelled
    row missing another role's value is left out of that role's figures and counted in
    ``missing``. Which parts the profile has depends only on the arguments, so every batch
    of a model yields mergeable profiles.

    Args:
        frame: the batch.
        task: the model's task.
        label: the truth column (relevance for ranking).
        prediction: the predicted class or value (classification, regression).
        score: binary classification: probability of ``positive_class``; ranking: the
            item's score (higher first).
        positive_class: the class binary metrics are about; default 1 for numeric labels.
        query, rank, k, click, conversion: ranking: the column grouping rows into queries,
            the item's rank (instead of ``score``, 1 first), the cut-off, the click column
            (default: ``label``) and an optional conversion column.
        sensitive: binary classification: the protected-group column for fairness.

    Returns:
        The profile; :meth:`PerformanceProfile.metrics` reads the metrics off it.

    Raises:
        InvalidInputError: a column is absent or holds values of the wrong kind, a binary
            task has more than two classes, or the positive class cannot be determined.
        ValueError: an argument does not apply to ``task`` or a required one is missing.

    >>> frame = pd.DataFrame({"y": [1.0, 2.0, None], "yhat": [1.5, 2.0, 9.0]})
    >>> profile = profile_performance(frame, task="regression", label="y", prediction="yhat")
    >>> profile.rows, profile.labelled, profile.metrics()["mae"]
    (3, 2, 0.25)
    """
    if task not in TASKS:
        raise ValueError(f"expected task in {TASKS}, got {task!r}")
    _check_arguments(
        task,
        prediction=prediction,
        score=score,
        positive_class=positive_class,
        query=query,
        rank=rank,
        sensitive=sensitive,
    )
    _require_columns(
        frame,
        {
            "label": label,
            "prediction": prediction,
            "score": score,
            "query": query,
            "rank": rank,
            "click": click,
            "conversion": conversion,
            "sensitive": sensitive,
        },
    )
    rows = len(frame)
    labelled_frame = frame[_present(frame, label)]
    common = {"task": task, "rows": rows, "labelled": len(labelled_frame)}
    if task == "regression":
        assert prediction is not None
        present = _present(labelled_frame, prediction)
        kept = labelled_frame[present]
        return PerformanceProfile(
            **common,  # type: ignore[arg-type]
            missing={"prediction": int(np.count_nonzero(~present))},
            regression=RegressionSums.from_arrays(kept[label], kept[prediction]),
        )
    if task == "ranking":
        assert query is not None
        return _profile_ranking(
            labelled_frame,
            common,
            label=label,
            score=score,
            query=query,
            rank=rank,
            k=k,
            click=click,
            conversion=conversion,
        )
    return _profile_classification(
        labelled_frame,
        common,
        task=task,
        label=label,
        prediction=prediction,
        score=score,
        positive_class=positive_class,
        sensitive=sensitive,
    )


def _check_arguments(
    task: Task,
    *,
    prediction: str | None,
    score: str | None,
    positive_class: Label | None,
    query: str | None,
    rank: str | None,
    sensitive: str | None,
) -> None:
    if task in _CLASSIFICATION and prediction is None and score is None:
        raise ValueError(f"{task} needs a prediction or a score column")
    if task in ("multiclass_classification", "regression") and prediction is None:
        raise ValueError(f"{task} needs a prediction column")
    if task == "ranking" and (query is None or (score is None) == (rank is None)):
        raise ValueError(
            "ranking needs a query column and exactly one of score and rank; got "
            f"query={query!r}, score={score!r}, rank={rank!r}"
        )
    not_binary = task != "binary_classification"
    for role, value in (("positive_class", positive_class), ("sensitive", sensitive)):
        if not_binary and value is not None:
            raise ValueError(f"{role} applies to binary_classification only; task is {task}")
    if task in ("multiclass_classification", "regression") and score is not None:
        raise ValueError(
            f"score (the positive-class probability) does not apply to {task}; pass score=None"
        )
    if task != "ranking" and (query is not None or rank is not None):
        raise ValueError(f"query and rank apply to ranking only; task is {task}")
    if sensitive is not None and prediction is None:
        raise ValueError("fairness (sensitive) needs a prediction column")


def _profile_classification(
    frame: pd.DataFrame,
    common: Mapping[str, Any],
    *,
    task: Task,
    label: str,
    prediction: str | None,
    score: str | None,
    positive_class: Label | None,
    sensitive: str | None,
) -> PerformanceProfile:
    missing: dict[str, int] = {}
    confusion = None
    predicted = np.ones(len(frame), dtype=bool)
    if prediction is not None:
        predicted = _present(frame, prediction)
        missing["prediction"] = int(np.count_nonzero(~predicted))
        kept = frame[predicted]
        confusion = ConfusionCounts.from_labels(kept[label], kept[prediction])
    if task == "multiclass_classification":
        return PerformanceProfile(**common, missing=missing, confusion=confusion)
    classes = confusion.classes if confusion is not None else _classes(frame[label])
    columns = f"the label column {label!r}"
    if prediction is not None:
        columns += f" and the prediction column {prediction!r}"
    positive = _resolve_positive_class(classes, positive_class, columns=columns)
    scores = None
    if score is not None:
        scored = _present(frame, score)
        missing["score"] = int(np.count_nonzero(~scored))
        kept = frame[scored]
        is_positive = _is_class(kept[label], positive)
        scores = ScoreHistograms.from_scores(
            is_positive, as_float_array(kept[score], role=f"score column {score!r}")
        )
    groups = None
    if sensitive is not None:
        assert prediction is not None
        grouped = _present(frame, sensitive) & predicted
        missing["sensitive"] = int(np.count_nonzero(~_present(frame, sensitive) & predicted))
        kept = frame[grouped]
        groups = GroupCounts.from_labels(
            kept[label], kept[prediction], kept[sensitive], positive_class=positive
        )
    return PerformanceProfile(
        **common,
        missing=dict(sorted(missing.items())),
        positive_class=positive,
        confusion=confusion,
        scores=scores,
        groups=groups,
    )


def _classes(labels: ArrayLike) -> tuple[Label, ...]:
    classes, _ = encode_labels(("label", labels))
    return classes


def _is_class(labels: ArrayLike, positive: Label) -> NDArray[np.bool_]:
    classes, (codes,) = encode_labels(("label", labels))
    if positive not in classes:
        return np.zeros(codes.size, dtype=bool)
    return np.asarray(codes == classes.index(positive))


def _profile_ranking(
    frame: pd.DataFrame,
    common: Mapping[str, Any],
    *,
    label: str,
    score: str | None,
    query: str,
    rank: str | None,
    k: int,
    click: str | None,
    conversion: str | None,
) -> PerformanceProfile:
    missing: dict[str, int] = {}
    kept = np.ones(len(frame), dtype=bool)
    for role, column in (
        ("query", query),
        ("score", score),
        ("rank", rank),
        ("click", click),
        ("conversion", conversion),
    ):
        if column is None or column == label:
            continue
        present = _present(frame, column)
        missing[role] = int(np.count_nonzero(~present))
        kept &= present
    sums = RankingSums.from_frame(
        frame[kept],
        query=query,
        label=label,
        score=score,
        rank=rank,
        k=k,
        click=click,
        conversion=conversion,
    )
    return PerformanceProfile(**common, missing=dict(sorted(missing.items())), ranking=sums)
