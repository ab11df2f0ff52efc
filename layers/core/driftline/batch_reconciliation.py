"""A batch of predictions reconciled with its labels when they land.

A scheduled evaluation reconciles a window only when 99 % of its rows are labelled
(:mod:`driftline.reconciliation`); a rolling window ending now always holds fresh
unlabelled predictions, so with labels that come days late it would never reconcile. A
*batch* (one inference file) is complete once its labels are in: it is reconciled when a
label file is joined to it, or when it lands carrying its labels inline, on its own rows.

- **The estimate** is the batch's own, from its stored profile's score cells
  (:func:`driftline.evaluation.estimated_performance`): what any window holding only this
  batch reports, to the bit, before or after its labels.
- **The realised metrics** are those of the batch's rows joined with every label file that
  labels them, merged in a fixed order (by the label file's day, then its key: where two
  files label the same row, the later one's label stands, so a corrections file counts
  once and replaces the labels it corrects), each row counted once — a label file
  delivered twice, or uploaded again under another key, labels the same rows, not more.
- **The rule** is the window's (:class:`~driftline.reconciliation.Reconciliation`, one
  implementation): at least 99 % of the batch's rows labelled and estimated, and at least
  :data:`~driftline.config.checks.ESTIMATED_MIN_ROWS` rows estimated (fewer give an
  interval too wide to say anything), per scope.

So the reconciliation is a function of the batch's rows and the label files' current
contents, not of the order they arrived in: stored under the batch's id
(:func:`batch_reconciliation_id`), it is the same whichever file came last, and a file
delivered again writes the same figures.

>>> import pandas as pd
>>> from driftline.config import load_monitor_definition
>>> from driftline.labels import LabelTable
>>> from driftline.profile.dataset import profile_frames
>>> definition = load_monitor_definition(
...     "model: m\\nschema: {id: i, task: binary_classification, prediction: p, score: s, "
...     "label: y, positive_class: 1, features: {a: numeric}}\\nbaseline: {path: b.csv}")
>>> rows = pd.DataFrame({"i": range(200), "a": [float(v % 7) for v in range(200)],
...     "s": [(v % 10) / 10 + 0.05 for v in range(200)],
...     "p": [int(v % 10 >= 5) for v in range(200)]})
>>> labels = LabelTable({str(i): int(i % 10 >= 4) for i in range(200)})
>>> labelled = labelled_profile(definition, None, rows, labels)
>>> labelled.performance.rows, labelled.performance.labelled
(200, 200)
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from driftline.config.checks import ESTIMATED_MIN_ROWS
from driftline.config.definition import MonitorDefinition
from driftline.evaluation import estimated_performance, profile_spec
from driftline.labels import LabelTable, join_labels
from driftline.profile.dataset import DatasetProfile, Reference, profile_frames
from driftline.reconciliation import (
    BATCHES,
    RECONCILED_METRICS_BY_TASK,
    RECONCILED_PARTS,
    RECONCILED_RECORD,
    Reconciliation,
)

#: The ``window`` of a batch reconciliation's stored figures (a scheduled evaluation's is
#: its window length, ``P1D``): what the running coverage reads.
BATCH_WINDOW = "batch"


def batch_reconciliation_id(model: str, batch: str) -> str:
    """The id a batch's reconciled figures are stored under: the model and the batch's id
    (its inference file's key id), whatever label files reconciled it.

    >>> batch_reconciliation_id("churn", "3f2a")
    'churn-reconciled-3f2a'
    """
    return f"{model}-reconciled-{batch}"


def labelled_profile(
    definition: MonitorDefinition,
    reference: Reference | None,
    rows: pd.DataFrame,
    labels: LabelTable,
) -> DatasetProfile:
    """A batch's kept rows, all of them, profiled with ``labels`` joined by id (a label of
    the table replaces an inline one; without label files, the rows' inline labels alone):
    the measured performance of its labelled rows, over all its rows, overall and per
    segment.

    Raises:
        InvalidInputError: labels to join and rows without the id column
            (``missing_column``).
    """
    schema = definition.schema_
    frame = rows
    if len(labels) and schema.id is not None and schema.label is not None:
        frame, _ = join_labels(rows, labels, id=schema.id, label=schema.label)
    bins = reference.bins if reference is not None else None
    return profile_frames([frame], profile_spec(definition), bins)


def reconcile_batch(
    definition: MonitorDefinition,
    reference: Reference,
    batch: DatasetProfile,
    labelled: DatasetProfile,
    *,
    batch_id: str,
    min_rows: int = ESTIMATED_MIN_ROWS,
) -> Reconciliation:
    """The estimate of ``batch`` (its stored profile) against the realised metrics of
    ``labelled`` (:func:`labelled_profile` of the same rows), overall and per segment.

    A scope with fewer than ``min_rows`` rows estimated, or less than 99 % of its rows
    labelled or estimated, is skipped with the counts; the whole batch is when its overall
    scope is (``overall.skipped``). The coverage carried is the batch's own (its pairs):
    the running coverage is counted by the evaluation, over the stored batches.
    """
    estimated = estimated_performance(definition, reference, batch)
    return Reconciliation.of(
        estimated,
        labelled.performance,
        {key: segment.performance for key, segment in labelled.segments.items()},
        evaluation_id=batch_id,
        trailing=definition.estimation.coverage_evaluations,
        min_rows=min_rows,
        counts=BATCHES,
    )


def skipped_reason(reconciliation: Reconciliation) -> str | None:
    """Why a batch was not reconciled at all (counts only, never a value), or None."""
    if reconciliation.overall is None:
        return reconciliation.skipped
    return reconciliation.overall.skipped


def record_names(task: str, segments: Iterable[str]) -> list[tuple[str, str | None]]:
    """Every ``(name, segment)`` a batch's reconciliation of a ``task`` model could store,
    overall and for ``segments``: with the figures written, what is left over is what a
    newer reconciliation of the batch removes (a metric no longer reconciled after a
    corrected file).

    >>> len(record_names("binary_classification", ["plan=pro"]))  # 6 metrics, 4 parts, 2 scopes
    48
    >>> len(record_names("regression", []))  # mae and rmse, 4 parts, overall
    8
    """
    scopes: list[str | None] = [None, *sorted(segments)]
    return [
        (RECONCILED_RECORD.format(metric=metric, part=part), scope)
        for scope in scopes
        for metric in RECONCILED_METRICS_BY_TASK[task]
        for part in RECONCILED_PARTS
    ]
