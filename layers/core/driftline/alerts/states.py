"""What acting remembers between evaluations: one :class:`AlertState` per check (with, for a
check with a persistence rule, its recent outcomes) and one :class:`ActionState` per
retraining action, saved as JSON-able dicts and read back checked, and the time format they
are written in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

AlertStatus = Literal["ok", "pending", "firing"]

#: How many handled evaluation ids each state remembers (a redelivery of any of them is a
#: no-op). Duplicate deliveries of S3 and EventBridge events arrive within minutes, long
#: before twenty newer evaluations of the same model.
RECENT_EVALUATIONS = 20
#: Format of the saved states.
STATE_VERSION = 1


@dataclass(frozen=True)
class Outcome:
    """One decided evaluation of a check with a persistence rule, as its alert state keeps it.

    Attributes:
        window: the length of the evaluated window (``P1D``, ``PT1H``; ``unknown`` when the
            result does not say), so that hourly batches and daily windows count apart.
        end: the end of the evaluated window (ISO 8601, UTC), or None when unknown; the
            history is ordered by it, not by arrival.
        evaluation_id: the evaluation, so that a redelivery does not count twice.
        failed: whether the check failed (a pass otherwise; skips are not kept).
    """

    window: str
    end: str | None
    evaluation_id: str
    failed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "end": self.end,
            "evaluation_id": self.evaluation_id,
            "failed": self.failed,
        }


@dataclass(frozen=True)
class AlertState:
    """What driftline remembers about one check of one model.

    Attributes:
        status: ``firing`` from the evaluation where the check failed until the one where it
            passes again; ``pending`` while a check with a persistence rule fails without
            meeting it (nothing is sent); ``ok`` otherwise.
        since: when the status started (ISO 8601, UTC).
        fingerprint: :func:`alert_fingerprint` of the model, check, status and segment.
        evaluation_id: the evaluation that set the status.
        last_notified: when a notification last covered the check (firing, reminder or
            resolved), or None.
        recent_evaluations: the last :data:`RECENT_EVALUATIONS` evaluations that decided the
            check, oldest first.
        history: for a check with a persistence rule, its recent decided outcomes per
            window length, each length ordered by window end (:mod:`~driftline.alerts.persistence`);
            empty otherwise.
    """

    status: AlertStatus
    since: str
    fingerprint: str
    evaluation_id: str
    last_notified: str | None = None
    recent_evaluations: tuple[str, ...] = ()
    history: tuple[Outcome, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (also a valid DynamoDB item body); ``history`` only when kept."""
        document: dict[str, Any] = {
            "version": STATE_VERSION,
            "status": self.status,
            "since": self.since,
            "fingerprint": self.fingerprint,
            "evaluation_id": self.evaluation_id,
            "last_notified": self.last_notified,
            "recent_evaluations": list(self.recent_evaluations),
        }
        if self.history:
            document["history"] = [outcome.to_dict() for outcome in self.history]
        return document

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertState:
        """Rebuild a state saved by :meth:`to_dict`.

        Raises:
            ValueError: a key is missing, the status is unknown or a time is not ISO 8601
                with a time zone.
        """
        _expect_version("alert state", data)
        status = _text("alert state", data, "status")
        statuses: tuple[AlertStatus, ...] = get_args(AlertStatus)
        if status not in statuses:
            raise ValueError(
                f"alert state: expected status {', '.join(statuses[:-1])} or {statuses[-1]}, "
                f"got {status!r}"
            )
        since = _time_text("alert state", data, "since")
        notified = data.get("last_notified")
        return cls(
            status=next(known for known in statuses if known == status),
            since=since,
            fingerprint=_text("alert state", data, "fingerprint"),
            evaluation_id=_text("alert state", data, "evaluation_id"),
            last_notified=None
            if notified is None
            else _time_text("alert state", data, "last_notified"),
            recent_evaluations=_texts("alert state", data, "recent_evaluations"),
            history=_outcomes(data.get("history") or []),
        )


@dataclass(frozen=True)
class ActionState:
    """What driftline remembers about one retraining action of one model.

    Attributes:
        last_started: when its last execution started (ISO 8601, UTC), or None.
        last_execution: the name of that execution, or None.
        recent_evaluations: the last :data:`RECENT_EVALUATIONS` evaluations that asked for
            the action, oldest first (started or not).
    """

    last_started: str | None = None
    last_execution: str | None = None
    recent_evaluations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (also a valid DynamoDB item body)."""
        return {
            "version": STATE_VERSION,
            "last_started": self.last_started,
            "last_execution": self.last_execution,
            "recent_evaluations": list(self.recent_evaluations),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActionState:
        """Rebuild a state saved by :meth:`to_dict`.

        Raises:
            ValueError: the version is unknown or a value has the wrong type.
        """
        _expect_version("action state", data)
        started = data.get("last_started")
        execution = data.get("last_execution")
        return cls(
            last_started=None
            if started is None
            else _time_text("action state", data, "last_started"),
            last_execution=None
            if execution is None
            else _text("action state", data, "last_execution"),
            recent_evaluations=_texts("action state", data, "recent_evaluations"),
        )


def iso_utc(moment: datetime) -> str:
    """A time-zone-aware time as the states and messages write it: UTC, to the second.

    >>> from datetime import timedelta, timezone
    >>> iso_utc(datetime(2024, 6, 1, 5, 0, 30, 999, tzinfo=timezone(timedelta(hours=2))))
    '2024-06-01T03:00:30Z'
    """
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """A time written by :func:`iso_utc` (or any ISO 8601 time), read back."""
    return datetime.fromisoformat(text)


def remember(recent: Sequence[str], evaluation_id: str) -> tuple[str, ...]:
    """``recent`` with ``evaluation_id`` added, the last :data:`RECENT_EVALUATIONS` kept.

    >>> remember(("e1", "e2"), "e3"), len(remember([str(i) for i in range(20)], "new"))
    (('e1', 'e2', 'e3'), 20)
    """
    return (*recent, evaluation_id)[-RECENT_EVALUATIONS:]


def _expect_version(what: str, data: Mapping[str, Any]) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected {what} to be a mapping, got {type(data).__name__}")
    if data.get("version") != STATE_VERSION:
        raise ValueError(f"{what}: expected version {STATE_VERSION}, got {data.get('version')!r}")


def _text(what: str, data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what}: {key}: expected a non-empty string, got {value!r}")
    return value


def _time_text(what: str, data: Mapping[str, Any], key: str) -> str:
    value = _text(what, data, key)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"{what}: {key}: expected an ISO 8601 time with a time zone, got {value!r}"
        )
    return value


def _outcomes(value: Any) -> tuple[Outcome, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"alert state: history: expected a list, got {type(value).__name__}")
    outcomes = []
    for index, item in enumerate(value):
        where = f"history[{index}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"alert state: {where}: expected a mapping, got {item!r}")
        if not isinstance(item.get("failed"), bool):
            raise ValueError(
                f"alert state: {where}.failed: expected a boolean, got {item.get('failed')!r}"
            )
        end = item.get("end")
        outcomes.append(
            Outcome(
                window=_text(f"alert state: {where}", item, "window"),
                end=None if end is None else _time_text(f"alert state: {where}", item, "end"),
                evaluation_id=_text(f"alert state: {where}", item, "evaluation_id"),
                failed=item["failed"],
            )
        )
    return tuple(outcomes)


def _texts(what: str, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"{what}: {key}: expected a list of strings, got {value!r}")
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{what}: {key}: expected a list of strings, got {value!r}")
    return items
