"""A batch of predictions reconciled when a label file is joined to it
(:mod:`driftline.batch_reconciliation`), its figures stored under the batch's id, and the
running coverage the scheduled evaluation reads back from them.

Stored, per batch, under the batch's predictions' hour, window ``batch`` and the id
``<model>-reconciled-<batch id>``: ``reconciled.<metric>.estimated``, ``.realised``,
``.inside`` (1 or 0) and ``.sampling_variance`` (the estimate's), overall and per segment.
Each reconciliation of the batch writes the whole set again and deletes what it no longer
holds, so the stored figures are always the latest reconciliation's: a function of the
batch's rows and the current contents of the label files that label it, whatever order they
came in and however often they were delivered. The scheduled evaluation reads back the
running coverage (:func:`batch_coverage`) and the estimator's error on the latest batches
(:func:`batch_error`), which widens its intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from driftline.aws.jobs.keys import time_of
from driftline.aws.jobs.services import Services, stored_document
from driftline.batch_reconciliation import (
    BATCH_WINDOW,
    batch_reconciliation_id,
    labelled_profile,
    reconcile_batch,
    record_names,
    skipped_reason,
)
from driftline.config.definition import MonitorDefinition
from driftline.errors import DriftlineError
from driftline.estimation.reconciled_error import ReconciledError, ReconciledPair
from driftline.evaluation import not_estimated
from driftline.labels import LabelTable, merge_label_tables
from driftline.profile.dataset import DatasetProfile, Reference
from driftline.reconciliation import (
    BATCHES,
    RECONCILED_METRICS_BY_TASK,
    RECONCILED_RECORD,
    EstimateCoverage,
    ReconciledPoint,
    reconciled_records,
)

#: How a metric point's time is written in the metrics store's sort key.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: Where a label file without a ``YYYY/MM/DD`` folder sorts among a batch's label files.
_UNDATED = datetime(1970, 1, 1, tzinfo=UTC)


def reconcile_labelled_batch(
    services: Services,
    definition: MonitorDefinition,
    reference: Reference,
    rows_key: str,
    rows: pd.DataFrame,
    *,
    known: Mapping[str, LabelTable],
    read_labels: Callable[[str], LabelTable],
) -> dict[str, Any] | None:
    """Reconcile the batch whose kept rows are ``rows_key`` with every label file that
    labels it, store its figures and delete those it no longer holds.

    Args:
        rows: the batch's kept rows (read from ``rows_key``).
        known: label tables already read in this invocation, by label file key.
        read_labels: reads another label file's table by key (``(key) -> LabelTable``);
            raises a :class:`~driftline.errors.DriftlineError` for a file that cannot be
            used (that file is left out: its own invocation quarantines it).

    Returns:
        None for a model whose performance is not estimated; else the batch's id and
        ``reconciled`` (the overall metrics reconciled) or ``skipped`` (why, counts only).
    """
    if not_estimated(definition) is not None:
        return None
    model = definition.model
    batch = rows_key.rsplit("/", 1)[-1].removesuffix(".csv.gz")
    hour = time_of(rows_key)
    if hour is None:
        return {"batch": batch, "skipped": "the batch's kept rows have no hour folder"}
    stored = stored_document(services, f"profiles/{model}/batches/{hour:%Y/%m/%d/%H}/{batch}.json")
    if stored is None:
        # profile_batch reconciles it once its profile is stored (labels that came first).
        return {"batch": batch, "skipped": "the batch's profile is not stored yet"}
    tables = []
    for label_key in _label_files(services, model, hour, batch):
        if label_key in known:
            tables.append(known[label_key])
            continue
        try:
            tables.append(read_labels(label_key))
        except (DriftlineError, KeyError):
            services.log("label file left out of a reconciliation", model=model, key=label_key)
    profile = DatasetProfile.from_dict(stored["profile"])
    labelled = labelled_profile(definition, reference, rows, merge_label_tables(tables))
    reconciliation = reconcile_batch(definition, reference, profile, labelled, batch_id=batch)
    records = [r for r in reconciled_records(reconciliation) if math.isfinite(r[2])]
    identity = {
        "time": hour.strftime(TIME_FORMAT),
        "window": BATCH_WINDOW,
        "evaluation_id": batch_reconciliation_id(model, batch),
    }
    services.table.put_metrics(model, figures=records, **identity)
    written = {(name, segment) for name, segment, _ in records}
    possible = record_names(definition.schema_.task, profile.segments)
    stale = [name for name in possible if name not in written]
    services.table.delete_metrics(model, figures=stale, **identity)
    reason = skipped_reason(reconciliation)
    if reason is not None:
        services.log("batch not reconciled", model=model, batch=batch, reason=reason)
        return {"batch": batch, "skipped": reason}
    assert reconciliation.overall is not None
    return {"batch": batch, "reconciled": sorted(reconciliation.overall.metrics)}


def _label_files(services: Services, model: str, hour: datetime, batch: str) -> list[str]:
    """The label files that labelled rows of a batch (each left a labelled profile), in
    the order their labels stand in: by the file's day, then its key (a later file's
    label of a row replaces an earlier one's)."""
    keys = set()
    for pair_key in services.store.keys(labelled_prefix(model, hour, batch)):
        document = stored_document(services, pair_key)
        if document is not None and isinstance(document.get("labels"), str):
            keys.add(document["labels"])
    return sorted(keys, key=lambda key: (time_of(key) or _UNDATED, key))


def labelled_prefix(model: str, hour: datetime, batch: str) -> str:
    """Where the labelled profiles of a batch's (label file, batch) pairs are stored.

    >>> labelled_prefix("churn", datetime(2026, 11, 24, 10, tzinfo=UTC), "ab12")
    'profiles/churn/labelled/2026/11/24/10/ab12-'
    """
    return f"profiles/{model}/labelled/{hour:%Y/%m/%d/%H}/{batch}-"


def batch_coverage(
    services: Services, definition: MonitorDefinition, *, until: datetime
) -> EstimateCoverage | None:
    """The running coverage of the batches reconciled when their labels landed, of
    predictions made up to ``until``: each metric's latest
    ``estimation.coverage_evaluations`` batches, read from their overall
    ``reconciled.<metric>.inside`` figures (one Query each, read backwards, window
    ``batch``). None for a model whose performance is not estimated (no read at all)."""
    if not_estimated(definition) is not None:
        return None
    found: list[tuple[tuple[str, str], ReconciledPoint]] = []
    for metric in RECONCILED_METRICS_BY_TASK[definition.schema_.task]:
        for order, value in _batch_figures(services, definition, metric, "inside", until).items():
            found.append((order, ReconciledPoint(order[1], metric, value >= 0.5)))
    return EstimateCoverage.of(
        [point for _, point in sorted(found, key=lambda entry: entry[0])],
        trailing=definition.estimation.coverage_evaluations,
        counts=BATCHES,
    )


def batch_error(
    services: Services, definition: MonitorDefinition, *, until: datetime
) -> ReconciledError | None:
    """The estimator's error on the same batches as :func:`batch_coverage`
    (:mod:`~driftline.estimation.reconciled_error`): per metric, each batch's overall
    ``reconciled.<metric>.estimated``, ``.realised`` and ``.sampling_variance`` (three
    Queries; a batch stored without its sampling variance, before it was kept, is left
    out). None for a model whose performance is not estimated (no read at all)."""
    if not_estimated(definition) is not None:
        return None
    pairs: list[tuple[tuple[str, str], ReconciledPair]] = []
    for metric in RECONCILED_METRICS_BY_TASK[definition.schema_.task]:
        estimated, realised, variance = (
            _batch_figures(services, definition, metric, part, until)
            for part in ("estimated", "realised", "sampling_variance")
        )
        for order in sorted(estimated.keys() & realised.keys() & variance.keys()):
            pair = ReconciledPair(
                order[1], metric, estimated[order], realised[order], variance[order]
            )
            pairs.append((order, pair))
    return ReconciledError.of(
        [pair for _, pair in sorted(pairs, key=lambda entry: entry[0])],
        trailing=definition.estimation.coverage_evaluations,
    )


def _batch_figures(
    services: Services, definition: MonitorDefinition, metric: str, part: str, until: datetime
) -> dict[tuple[str, str], float]:
    """One part of a metric's overall reconciled figures, of the latest
    ``estimation.coverage_evaluations`` batches of predictions made up to ``until``, by
    (time, batch id): one Query, read backwards, window ``batch``."""
    stamp = until.strftime(TIME_FORMAT)
    return {
        (point.time, point.evaluation_id): point.value
        for point in services.table.latest_metric(
            definition.model,
            RECONCILED_RECORD.format(metric=metric, part=part),
            until=f"{stamp}#~",
            limit=definition.estimation.coverage_evaluations,
            window=BATCH_WINDOW,
        )
    }
