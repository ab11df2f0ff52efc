"""A label file uploaded: joined to the kept predictions, the labelled rows profiled, the
streaming detectors fed, detections acted on."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from driftline.aws.jobs.acting import act
from driftline.aws.jobs.holding import usable_input
from driftline.aws.jobs.keys import content_version, time_of
from driftline.aws.jobs.reconciling import reconcile_labelled_batch
from driftline.aws.jobs.rejections import reject
from driftline.aws.jobs.services import (
    WRITE_ATTEMPTS,
    Services,
    get_input,
    read_input,
    stored_document,
)
from driftline.aws.store import ConflictError
from driftline.checks import CheckResult, Status, segment_key
from driftline.config.definition import MonitorDefinition
from driftline.config.durations import parse_duration
from driftline.detector_feed import detector_signal, event_order, feed
from driftline.detectors import make_detector
from driftline.detectors.base import DriftDetector
from driftline.errors import ConfigError, DriftlineError
from driftline.evaluation import profile_spec
from driftline.ids import digest
from driftline.labels import JoinReport, LabelTable, conform_labels, id_text, join_labels
from driftline.profile.dataset import Reference, profile_frames

#: How far back a label file looks for the predictions it labels, at least: the longest
#: evaluation window of the model is used when longer (labels of a monthly model arrive
#: weeks later), up to :data:`MAX_LABEL_LOOKBACK`.
LABEL_LOOKBACK = timedelta(days=7)
MAX_LABEL_LOOKBACK = timedelta(days=92)
#: How far behind the newest labelled batch (in the event time of its predictions) a batch
#: may arrive and still be fed to the detectors in its place (docs/aws.md); an older one is
#: counted as late in the detector's state and not fed. As long as the shortest label
#: lookback: any labels that can still find their predictions can be put in their place.
REORDER_HORIZON = LABEL_LOOKBACK
#: Batches a detector state remembers having applied (duplicates older than this many
#: batches would be applied again; S3 redelivers within minutes).
APPLIED_MEMORY = 500


def ingest_labels(services: Services, key: str, *, received: datetime) -> dict[str, Any]:
    """A label file uploaded: join it to the kept predictions, profile the labelled rows,
    update the streaming detectors, act on detections."""
    found = usable_input(services, key, prefix="labels", what="label file", kind="labels")
    if isinstance(found, dict):
        return found
    model, stored, definition, reference = found
    schema = definition.schema_
    if schema.id is None or schema.label is None:
        missing_roles: DriftlineError = ConfigError(
            "labels need schema.id and schema.label in the monitor definition",
            reason="labels_not_configured",
        )
        return reject(services, key, stored.etag, model=model, exc=missing_roles, what="label file")
    try:
        labels = _label_table(services, definition, reference, stored.body, key)
    except DriftlineError as exc:
        return reject(services, key, stored.etag, model=model, exc=exc, what="label file")
    day = (time_of(key) or received).replace(hour=0, minute=0, second=0, microsecond=0)
    pairs = LabelPairs(services, definition, reference)
    source = LabelSource(key, digest(key, stored.etag), day, labels)
    rows_keys = [
        rows_key
        for offset in range((_lookback(definition).days) + 1)
        for rows_key in services.store.keys(
            f"profiles/{model}/rows/{day - timedelta(days=offset):%Y/%m/%d}/"
        )
    ]
    reconciled: list[dict[str, Any]] = []
    for rows_key in sorted(rows_keys):
        rows, rows_version = read_rows(services, rows_key)
        if pairs.join(source, rows_key, rows, rows_version=rows_version):
            done = pairs.reconcile(rows_key, rows)
            if done is not None:
                reconciled.append(done)
    outcome: dict[str, Any] = {"labels": len(labels), **pairs.join_report.to_dict(labels)}
    outcome.pop("coverage", None)
    if reconciled:
        outcome["batches"] = reconciled
    outcome["detectors"] = {name: run["fired"] for name, run in pairs.detector_runs.items()}
    if any(run["fired"] or run["reordered"] for run in pairs.detector_runs.values()):
        result = detector_result(
            definition, pairs.detector_runs, evaluation_id=f"{model}-labels-{source.batch_id}"
        )
        outcome["acted"] = act(services, definition, result, now=received)
    services.log(
        "labels ingested", model=model, key=key, labels=len(labels), joined=pairs.join_report.joined
    )
    return outcome


def join_waiting_labels(
    services: Services,
    definition: MonitorDefinition,
    reference: Reference,
    rows_key: str,
    *,
    rows_version: str,
    day: datetime,
) -> LabelPairs:
    """Join a new batch's rows with the label files already there (from its day on).

    A label file that cannot be read or whose labels fit no class is skipped here: its own
    invocation quarantines it, and these predictions are profiled regardless.
    """
    pairs = LabelPairs(services, definition, reference)
    schema = definition.schema_
    if schema.id is None or schema.label is None:
        return pairs
    start = day.replace(hour=0)
    label_keys = [
        key
        for offset in range(_lookback(definition).days + 1)
        for key in services.store.keys(
            f"labels/{definition.model}/{start + timedelta(days=offset):%Y/%m/%d}/"
        )
    ]
    if not label_keys:
        return pairs
    rows, _ = read_rows(services, rows_key)
    for label_key in sorted(label_keys):
        try:
            stored = get_input(services, label_key)
            labels = _label_table(services, definition, reference, stored.body, label_key)
        except DriftlineError:
            continue  # a bad label file is rejected by its own invocation
        label_day = (time_of(label_key) or start).replace(hour=0)
        source = LabelSource(label_key, digest(label_key, stored.etag), label_day, labels)
        pairs.join(source, rows_key, rows, rows_version=rows_version)
    return pairs


def _label_table(
    services: Services, definition: MonitorDefinition, reference: Reference, body: bytes, key: str
) -> LabelTable:
    """A label file's labels by id, written as the model's classes (or numbers).

    Raises:
        InvalidInputError: the file cannot be read, lacks the id or label column, or holds
            labels that fit none of the model's classes (``invalid_label``).
    """
    schema = definition.schema_
    assert schema.id is not None and schema.label is not None
    table = LabelTable.from_frames(
        read_input(services, body, key, definition), id=schema.id, label=schema.label
    )
    return conform_labels(
        table,
        task=schema.task,
        classes=model_classes(reference),
        column=schema.label,
        source=key,
    )


def model_classes(reference: Reference) -> tuple[Any, ...]:
    """The classes the baseline's labels and predictions hold (empty: none known)."""
    performance = reference.profile.performance
    if performance is None or performance.confusion is None:
        return ()
    return performance.confusion.classes


def _lookback(definition: MonitorDefinition) -> timedelta:
    """How far back labels look for their predictions (and predictions forward for labels):
    the longest window, at least :data:`LABEL_LOOKBACK`, at most :data:`MAX_LABEL_LOOKBACK`."""
    longest = max([LABEL_LOOKBACK, *(parse_duration(w) for w in definition.windows)])
    return min(longest, MAX_LABEL_LOOKBACK)


def read_rows(services: Services, rows_key: str) -> tuple[pd.DataFrame, str]:
    """A batch's kept rows and the version of their bytes."""
    body = services.store.get(rows_key).body
    return pd.read_csv(io.BytesIO(body), compression="gzip"), content_version(body)


@dataclass(frozen=True)
class LabelSource:
    """One label file: its key, id (key + ETag), day and labels."""

    key: str
    batch_id: str
    day: datetime
    labels: LabelTable

    @property
    def file_id(self) -> str:
        """The label file's id by key alone (a new upload under the key replaces it)."""
        return digest(self.key)


class LabelPairs:
    """Joins label files with kept prediction rows, one (label file, rows file) pair at a time.

    Each pair's labelled rows become one profile under a key derived from both ids, written
    once, and feed the detectors once (the pair id is what they remember). So whichever side
    arrives second — labels after predictions (the usual case, :func:`ingest_labels`) or
    predictions after labels (:func:`profile_batch`), or both at once — the pair is counted
    exactly once.
    """

    def __init__(
        self, services: Services, definition: MonitorDefinition, reference: Reference
    ) -> None:
        self.services = services
        self.definition = definition
        self.reference = reference
        self.join_report = JoinReport()
        self.detector_runs: dict[str, dict[str, Any]] = {}
        #: The label tables joined so far, by label file key; the rows keys they labelled.
        self.tables: dict[str, LabelTable] = {}
        self.labelled: set[str] = set()

    def join(
        self, source: LabelSource, rows_key: str, rows: pd.DataFrame, *, rows_version: str
    ) -> bool:
        """Join one label file with one batch's kept rows; True when it labels some of them.

        The labelled rows are profiled under the predictions' hour (a window's performance
        counts the predictions made in it, whenever their labels came) and under the ids of
        both files by key: a new version of either file replaces the pair's profile (the
        versions it was made of are stored with it). Detectors see each pair once, the first
        version of it: a streaming detector cannot take back what it saw.
        """
        schema = self.definition.schema_
        assert schema.id is not None and schema.label is not None
        pair_id = digest(source.file_id, rows_key)
        known = set(source.labels.labels)
        if rows.empty or schema.id not in rows.columns:
            return False
        ids = id_text(rows[schema.id])
        matched = rows[ids.isin(known).to_numpy()]
        if matched.empty:
            return False
        self.tables[source.key] = source.labels
        self.labelled.add(rows_key)
        # Only labels from the file: inline labels are already in the batch's own profile.
        joined, _ = join_labels(
            matched.drop(columns=[schema.label], errors="ignore"),
            source.labels,
            id=schema.id,
            label=schema.label,
            report=self.join_report,
        )
        model = self.definition.model
        hour = time_of(rows_key) or source.day
        rows_file = rows_key.rsplit("/", 1)[-1].removesuffix(".csv.gz")
        out_key = f"profiles/{model}/labelled/{hour:%Y/%m/%d/%H}/{rows_file}-{source.file_id}.json"
        versions = {"labels_version": source.batch_id, "rows_version": rows_version}
        earlier = stored_document(self.services, out_key)
        if earlier is None or any(earlier.get(k) != v for k, v in versions.items()):
            profile = profile_frames([joined], profile_spec(self.definition), self.reference.bins)
            document = {
                "labels": source.key,
                "rows": rows_key,
                **versions,
                "time": hour.isoformat(),
                "profile": profile.to_dict(),
            }
            if earlier is None:
                self.services.store.put_json_once(out_key, document)
            else:
                self.services.store.put_json(out_key, document)
        runs = _update_detectors(self.services, self.definition, joined, pair_id, time=hour)
        for name, run in runs.items():
            previous = self.detector_runs.get(
                name, {"fired": [], "rows": 0, "reordered": 0, "without_signal": 0}
            )
            self.detector_runs[name] = {
                "fired": previous["fired"] + [previous["rows"] + i for i in run["fired"]],
                "rows": previous["rows"] + run["rows"],
                "reordered": previous["reordered"] + run["reordered_fires"],
                "without_signal": previous["without_signal"] + run["without_signal"],
            }
        return True

    def reconcile(self, rows_key: str, rows: pd.DataFrame) -> dict[str, Any] | None:
        """Reconcile the batch of ``rows_key`` with every label file that labels it
        (:func:`~driftline.aws.jobs.reconciling.reconcile_labelled_batch`), the label files
        joined here read once."""

        def read_labels(key: str) -> LabelTable:
            table = _label_table(
                self.services,
                self.definition,
                self.reference,
                get_input(self.services, key).body,
                key,
            )
            self.tables[key] = table
            return table

        return reconcile_labelled_batch(
            self.services,
            self.definition,
            self.reference,
            rows_key,
            rows,
            known=self.tables,
            read_labels=read_labels,
        )


def _update_detectors(
    services: Services,
    definition: MonitorDefinition,
    rows: pd.DataFrame,
    batch_id: str,
    *,
    time: datetime,
) -> dict[str, dict[str, Any]]:
    """Feed every detector check this batch's signal, exactly once per batch, in event-time
    order (:mod:`driftline.detector_feed`: a batch that arrives after later ones is put
    in its place within :data:`REORDER_HORIZON`), with optimistic locking (a lost race
    re-reads the state and feeds the batch again on it).

    Each batch's signal is stored once (``profiles/<model>/signals/<check>/<batch>.json``) and
    read back while the state keeps the batch, so a reordering can replay it; the functions
    cannot delete objects, so it stays after that (one small object per batch and check).
    """
    model = definition.model
    schema = definition.schema_
    found: dict[str, dict[str, Any]] = {}
    rows = event_order(rows, schema.timestamp)
    for check in definition.checks:
        if check.detector is None:
            continue
        signal = detector_signal(check, schema, rows)
        if signal.missing:
            services.log(
                "detector signal not fed: columns absent",
                model=model,
                check=check.name,
                columns=list(signal.missing),
            )
        series = signal.values
        prefix = f"profiles/{model}/signals/{check.name}/"
        services.store.put_json_once(f"{prefix}{batch_id}.json", {"values": series})

        def load(batch: str, prefix: str = prefix) -> list[float] | None:
            document = stored_document(services, f"{prefix}{batch}.json")
            return None if document is None else list(document["values"])

        detector_name, params = str(check.detector), dict(check.params)

        def make(name: str = detector_name, params: dict[str, Any] = params) -> DriftDetector:
            return make_detector(name, **params)

        for _ in range(WRITE_ATTEMPTS):
            saved = services.table.state(model, "DETECTOR", check.name)
            document, fed = feed(
                saved.document,
                time,
                batch_id,
                series,
                horizon=REORDER_HORIZON,
                make=make,
                load=load,
                memory=APPLIED_MEMORY,
            )
            if fed.status == "duplicate":
                break
            if fed.fired:
                document["last_fired"] = fed.fired[-1]
            try:
                services.table.put_state(
                    model, "DETECTOR", check.name, document, version=saved.version
                )
            except ConflictError:
                continue
            if fed.status == "late":
                services.log("late labels not fed to a detector", model=model, check=check.name)
            found[check.name] = {
                "fired": fed.fired,
                "rows": fed.rows,
                "reordered_fires": len(fed.fired_elsewhere),
                "without_signal": signal.without_signal,
                "status": fed.status,
            }
            break
        else:
            raise ConflictError(
                f"{model} detector {check.name}: {WRITE_ATTEMPTS} conflicting writes"
            )
    return found


def detector_result(
    definition: MonitorDefinition,
    detections: Mapping[str, Mapping[str, Any]],
    *,
    evaluation_id: str,
) -> dict[str, Any]:
    checks: list[CheckResult] = []
    for check in definition.checks:
        if check.name not in detections:
            continue
        fired = detections[check.name]["fired"]
        rows = detections[check.name]["rows"]
        reordered = int(detections[check.name].get("reordered", 0))
        left_out = int(detections[check.name].get("without_signal", 0))
        unread = (
            f" ({left_out} labelled rows without a readable signal left out)" if left_out else ""
        )
        # A detector that saw no change says nothing about recovery (it re-arms after
        # firing): "skip" leaves a firing alert firing instead of resolving it at once.
        status: Status = "fail" if fired or reordered else "skip"
        if fired:
            detail = (
                f"{check.detector} on {check.signal} detected a change at row {fired[0]} of "
                f"{rows} newly labelled rows{unread}"
            )
        elif reordered:
            detail = (
                f"{check.detector} on {check.signal} detected a change in labels that arrived "
                f"earlier, once {rows} newly labelled rows were put in event-time order{unread}"
            )
        else:
            detail = (
                f"{check.detector} on {check.signal}: no change in {rows} newly labelled "
                f"rows{unread}"
            )
        checks.append(
            CheckResult(
                check.name,
                status,
                float(len(fired) + reordered),
                None,
                None,
                segment_key(check),
                check.action,
                detail,
            )
        )
    failed = [c for c in checks if c.status == "fail"]
    wanted: dict[str, list[str]] = {}
    for c in failed:
        wanted.setdefault(c.action, []).append(c.name)
    order = ("emergency_retrain", "retrain", "notify")
    overall = (
        "ok" if not failed else ("critical" if any(a in wanted for a in order[:2]) else "warning")
    )
    return {
        "version": 1,
        "model": definition.model,
        "evaluation_id": evaluation_id,
        "checks": [c.to_dict() for c in checks],
        "actions": [{"action": a, "checks": wanted[a]} for a in order if a in wanted],
        "worst_slices": [],
        "status": overall,
    }
