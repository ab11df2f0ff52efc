"""A scheduled (or on-demand) evaluation: every window's stored profiles merged (whole days
through their roll-ups), evaluated, reported, stored as metrics and acted on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache, reduce
from typing import Any

from driftline.alerts.windows import combine_windows
from driftline.aws.emf import emit_many
from driftline.aws.jobs.acting import act
from driftline.aws.jobs.holding import page_once, ready
from driftline.aws.jobs.keys import time_of
from driftline.aws.jobs.reconciling import TIME_FORMAT, batch_coverage, batch_error
from driftline.aws.jobs.services import Services
from driftline.config.definition import MonitorDefinition
from driftline.config.durations import parse_duration
from driftline.estimation import ESTIMATED_METRICS
from driftline.estimation.loss_model import REGRESSION_METRICS
from driftline.estimation.multiclass import MULTICLASS_METRICS
from driftline.estimation.reconciled_error import ReconciledError
from driftline.evaluation import EvaluationResult, Window, evaluate
from driftline.profile.dataset import DatasetProfile, Reference
from driftline.reconciliation import (
    COVERAGE_RECORD,
    ESTIMATED_RECORD,
    EstimateCoverage,
    estimate_records,
)
from driftline.report import render_report

#: The evaluation status as the dashboard's ``Status`` metric plots it.
STATUS_LEVELS = {"ok": 0, "warning": 1, "critical": 2}


def evaluate_model(services: Services, model: str, *, now: datetime) -> dict[str, Any]:
    """A scheduled (or on-demand) evaluation of every window; the first window is acted on."""
    definition, reference, problem = ready(services, model)
    if definition is None or reference is None:
        assert problem is not None
        if problem.reason in ("baseline_profile_missing", "stored_definition_invalid"):
            page_once(services, model, problem, first=f"evaluation at {now:%Y-%m-%dT%H:%MZ}")
        return {"status": "skipped", "reason": problem.reason}
    end = now.replace(minute=0, second=0, microsecond=0)
    results: list[dict[str, Any]] = []
    evaluated: list[tuple[str, dict[str, Any]]] = []
    links: list[str] = []

    # The reconciled batches up to the hour, read once for every window that is evaluated.
    @cache
    def reconciled() -> tuple[EstimateCoverage | None, ReconciledError | None]:
        return (
            batch_coverage(services, definition, until=end),
            batch_error(services, definition, until=end),
        )

    for window in definition.windows:
        start = end - parse_duration(window)
        evaluation_id = f"{model}-{window}-{end:%Y%m%dT%H%M}"
        report_key = f"reports/{model}/{evaluation_id}.json"
        if services.store.exists(report_key):
            document = services.store.get_json(report_key)
        else:
            current = _window_profile(
                services,
                reference=reference,
                definition=definition,
                model=model,
                start=start,
                end=end,
            )
            if current is None:
                results.append({"window": window, "status": "no_data"})
                continue
            result = evaluate(
                definition,
                reference,
                current,
                evaluation_id=evaluation_id,
                window=Window(start.isoformat(), end.isoformat()),
                # The coverage counts the batches reconciled when their labels landed; the
                # window is reconciled for reading only (its rows are those batches' rows).
                estimate_coverage=reconciled()[0],
                # Their error widens the intervals where the baseline's is narrower.
                reconciled_error=reconciled()[1],
            )
            document = result.to_dict()
            _store_metrics(
                services,
                model,
                result,
                window=window,
                time=end,
                segment_metrics=definition.cloudwatch.segment_metrics,
            )
            services.store.put(
                report_key.removesuffix(".json") + ".html",
                render_report(
                    document,
                    reference=reference.profile,
                    current=current,
                    history=_history(services, model, window, before=evaluation_id),
                ).encode("utf-8"),
                content_type="text/html; charset=utf-8",
            )
            services.store.put_json_once(report_key, document)
        results.append(
            {"window": window, "evaluation_id": evaluation_id, "status": document["status"]}
        )
        evaluated.append((window, document))
        links.append(report_key.removesuffix(".json") + ".html")
    acted: dict[str, Any] | None = None
    if evaluated:
        # Every window is acted on, in one go: one grouped notification per run (docs/alerts.md).
        run_id = f"{model}-{definition.windows[0]}-{end:%Y%m%dT%H%M}"
        combined = combine_windows(run_id, definition.windows[0], evaluated)
        link = services.store.presigned_url(links[0])
        acted = act(services, definition, combined, now=now, report=link)
    return {"model": model, "windows": results, "acted": acted}


#: Earlier evaluations of the same window shown in a report's "over time" charts.
HISTORY = 30


def _history(services: Services, model: str, window: str, *, before: str) -> list[Any]:
    """The last :data:`HISTORY` result documents of a model's window, oldest first."""
    keys = sorted(
        key
        for key in services.store.keys(f"reports/{model}/{model}-{window}-")
        if key.endswith(".json") and key < f"reports/{model}/{before}.json"
    )
    return [services.store.get_json(key) for key in keys[-HISTORY:]]


def _window_profile(
    services: Services,
    *,
    reference: Reference,
    definition: MonitorDefinition,
    model: str,
    start: datetime,
    end: datetime,
) -> DatasetProfile | None:
    current = _merged(services, _window_parts(services, model, "batches", start, end))
    if current is None:
        return None
    labelled = _merged(services, _window_parts(services, model, "labelled", start, end))
    if labelled is None or current.performance is None:
        return current
    return with_labels(current, labelled, label=definition.schema_.label)


#: Version of the daily roll-up documents (:func:`_daily_profile`); others are rebuilt.
ROLLUP_VERSION = 1


@dataclass(frozen=True)
class _Day:
    """The stored profiles of a day the window covers entirely, ``(key, ETag)`` in key
    order: one roll-up can stand for them."""

    model: str
    kind: str
    day: datetime
    sources: tuple[tuple[str, str], ...]


def _window_parts(
    services: Services, model: str, kind: str, start: datetime, end: datetime
) -> Iterator[str | _Day]:
    """What a window of ``profiles/<model>/<kind>/`` merges, oldest first: the profiles of
    the days the window covers entirely as one :class:`_Day` each, the others key by key.

    The order is canonical (days in turn, within a day by key: the keys sort by the hour of
    the batch, then its name), whatever order the store lists in or the files arrived in:
    a numeric column past 100,000 values merges into a deterministic sketch that depends
    on the grouping, so the same stored profiles must always merge the same way.

    Inference batches and labelled profiles both count by the hour of the predictions
    (``start <= hour < end``): a window's performance is that of the predictions made in it,
    whatever day their labels arrived (labelled profiles are stored under the hour of the
    predictions they label).
    """
    first = start.replace(hour=0)
    day = first
    while day < end:
        following = day + timedelta(days=1)
        sources = []
        listed = services.store.listing(f"profiles/{model}/{kind}/{day:%Y/%m/%d}/")
        for key, etag in sorted(listed):
            moment = time_of(key)
            if moment is None:
                continue
            if start <= moment < end:
                sources.append((key, etag))
        whole = following <= end and day >= start
        if whole and len(sources) > 1:
            yield _Day(model, kind, day, tuple(sources))
        else:
            yield from (key for key, _ in sources)
        day = following


def _merged(services: Services, parts: Iterable[str | _Day]) -> DatasetProfile | None:
    """The stored profiles of ``parts`` (keys, or whole days read through their roll-up)
    merged in that order, one loaded at a time: a 30-day window of hourly batches is
    hundreds of profiles, far more than the function's memory if held together."""
    profiles = (
        _daily_profile(services, part)
        if isinstance(part, _Day)
        else DatasetProfile.from_dict(services.store.get_json(part)["profile"])
        for part in parts
    )
    first = next(profiles, None)
    return None if first is None else reduce(DatasetProfile.merge, profiles, first)


def _daily_profile(services: Services, day: _Day) -> DatasetProfile:
    """One whole day's profiles merged, read from its roll-up when the roll-up was made of
    exactly these objects (same keys, same ETags), else merged again and the roll-up
    rewritten. A 30-day window of hourly batches then reads about 53 objects instead of 720.

    A file that lands late for a past day, or a label file that labels an old day, changes
    the listing, so the next evaluation rebuilds that day. Two evaluations at once write the
    same merge of the same sources; either stands. Reading or writing the roll-up failing
    costs only time: the day is merged from its sources and the evaluation goes on.
    """
    key = f"profiles/{day.model}/daily/{day.kind}/{day.day:%Y/%m/%d}.json"
    listed = [list(source) for source in day.sources]
    try:
        document = services.store.get_json(key)
        if document.get("version") == ROLLUP_VERSION and document.get("sources") == listed:
            return DatasetProfile.from_dict(document["profile"])
    except KeyError:
        pass
    except Exception as exc:  # a roll-up is a cache: rebuild from the sources, say why
        services.log("roll-up unreadable, rebuilt", key=key, error=type(exc).__name__)
    merged = _merged(services, (source for source, _ in day.sources))
    assert merged is not None  # a _Day has sources
    try:
        services.store.put_json(
            key, {"version": ROLLUP_VERSION, "sources": listed, "profile": merged.to_dict()}
        )
    except Exception as exc:  # the evaluation does not need it stored
        services.log("roll-up not stored", key=key, error=type(exc).__name__)
    return merged


def with_labels(
    current: DatasetProfile, labelled: DatasetProfile, *, label: str | None = None
) -> DatasetProfile:
    """The window's inference profile with what the labels that arrived since tell.

    Performance (and the error slices) come from the labelled rows; label coverage is the
    labelled rows over the window's rows, overall and per segment. The ``label`` column's
    profile, empty in inference logs, is the labelled rows' (for label-distribution drift).
    """

    def combine(profile: DatasetProfile, source: DatasetProfile | None) -> DatasetProfile:
        if source is None:
            return profile
        columns = dict(profile.columns)
        if label is not None and label in source.columns and label in columns:
            columns[label] = source.columns[label]
        performance = source.performance
        if performance is None or profile.performance is None:
            return replace(profile, columns=columns)
        return replace(
            profile,
            columns=columns,
            performance=replace(performance, rows=max(profile.rows, performance.labelled)),
        )

    segments = {
        key: combine(segment, labelled.segments.get(key))
        for key, segment in current.segments.items()
    }
    merged = combine(current, labelled)
    return replace(merged, segments=segments, slices=labelled.slices)


def _store_metrics(
    services: Services,
    model: str,
    result: EvaluationResult,
    *,
    window: str,
    time: datetime,
    segment_metrics: bool = False,
) -> None:
    document = result.to_dict()
    figures: list[tuple[str, str | None, float]] = []
    for name, value in document["performance"].get("overall", {}).items():
        figures.append((name, None, float(value)))
    for segment, values in document["performance"].get("segments", {}).items():
        figures.extend((name, segment, float(value)) for name, value in values.items())
    for name, feature in document["drift"]["features"].items():
        if feature.get("statistic") is not None:
            figures.append((f"drift.{name}", None, float(feature["statistic"])))
    figures.append(("drift.share_drifted", None, float(document["drift"]["share_drifted"])))
    figures.append(("rows", None, float(result.current_rows)))
    # The estimate (value and interval ends), its reconciliation with the labels (estimated,
    # realised, inside) and the running coverage, overall and per segment: to the table.
    estimates = (
        estimate_records(result.estimated, result.reconciled)
        if result.estimated is not None
        else []
    )
    stamp = time.strftime(TIME_FORMAT)
    services.table.put_metrics(
        model,
        time=stamp,
        window=window,
        evaluation_id=result.evaluation_id,
        figures=[*figures, *estimates],
    )
    # CloudWatch gets the overall estimates and the coverage only: every metric name is a
    # custom metric billed per month, and the interval ends and reconciled figures are read
    # from the table (coverage, report), not graphed.
    graphed = {
        ESTIMATED_RECORD.format(metric=metric)
        for metric in (*ESTIMATED_METRICS, *MULTICLASS_METRICS, *REGRESSION_METRICS)
    }
    graphed.add(COVERAGE_RECORD)
    figures += [entry for entry in estimates if entry[1] is None and entry[0] in graphed]
    overall = {name.replace(".", "_"): value for name, segment, value in figures if not segment}
    # For the dashboard: the status as a level (0 ok, 1 warning, 2 critical) and the count of
    # failed checks, beside the overall figures. Segment figures go to CloudWatch only when
    # the definition asks (cloudwatch.segment_metrics): an EMF document is a log line, and a
    # segment's name is a feature value (docs/security.md).
    overall["Status"] = float(STATUS_LEVELS[result.status])
    overall["FailedChecks"] = float(sum(check.status == "fail" for check in result.checks))
    rows: list[tuple[dict[str, str], dict[str, float]]] = [
        ({"model": model, "window": window}, overall)
    ]
    if segment_metrics:
        by_segment: dict[str, dict[str, float]] = {}
        for name, segment, value in figures:
            if segment:
                by_segment.setdefault(segment, {})[name.replace(".", "_")] = value
        rows += [
            ({"model": model, "window": window, "segment": segment}, values)
            for segment, values in sorted(by_segment.items())
        ]
    emit_many(services.namespace, rows, timestamp_ms=int(time.timestamp() * 1000))
