"""What every retraining step gets: the adapters (:class:`RetrainingServices`), its event
(:class:`StepEvent`), and the settings it reads from the model's monitor definition."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from driftline.aws.jobs.services import Services, load_definition
from driftline.aws.model_store import ModelRegistry
from driftline.aws.notify import Notifier
from driftline.aws.s3 import ObjectStore
from driftline.config.definition import MonitorDefinition
from driftline.config.durations import parse_duration
from driftline.config.retraining import RetrainingSpec
from driftline.errors import ConfigError, InvalidInputError


@dataclass
class RetrainingServices:
    """The adapters the steps use; ``clients(name)`` makes a boto3 client on demand (the
    traffic adapters' SageMaker or Lambda)."""

    store: ObjectStore
    notifier: Notifier
    registry: ModelRegistry
    jobs: Services
    clients: Callable[[str], Any]
    log: Callable[..., None] = lambda message, **fields: None

    @classmethod
    def from_services(cls, services: Services, clients: Callable[[str], Any]) -> RetrainingServices:
        registry = ModelRegistry(services.table.client, services.table.name, services.store)
        return cls(services.store, services.notifier, registry, services, clients, log=services.log)


@dataclass(frozen=True)
class StepEvent:
    """One task's input, as the state machine passes it."""

    step: str
    execution: str
    now: datetime
    state: dict[str, Any]
    outcome: str | None = None

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> StepEvent:
        """Raises:
        InvalidInputError: a key is missing or malformed (names it)."""
        for key in ("step", "execution", "now", "state"):
            if key not in event:
                raise InvalidInputError(f"retraining step event: {key}: required key is missing")
        state = event["state"]
        if not isinstance(state, dict) or not isinstance(state.get("model"), str):
            raise InvalidInputError("retraining step event: state.model: expected the model name")
        return cls(
            str(event["step"]),
            str(event["execution"]),
            parse_time(str(event["now"])),
            state,
            None if event.get("outcome") is None else str(event["outcome"]),
        )

    @property
    def model(self) -> str:
        return str(self.state["model"])

    def result(self, key: str) -> dict[str, Any]:
        """An earlier step's result.

        Raises:
            InvalidInputError: that step has not run in this execution.
        """
        value = self.state.get(key)
        if not isinstance(value, dict):
            raise InvalidInputError(f"retraining step {self.step}: no {key} in the state")
        return value


def monitor_definition(services: RetrainingServices, model: str) -> MonitorDefinition:
    """The model's stored monitor definition.

    Raises:
        ConfigError: none is stored (``no_monitor_definition``), or it no longer validates.
    """
    definition = load_definition(services.jobs, model)
    if definition is None:
        raise ConfigError(
            f"no monitor definition for model {model!r}: upload config/{model}.yaml",
            reason="no_monitor_definition",
        )
    return definition


def retraining_spec(definition: MonitorDefinition) -> RetrainingSpec:
    """The definition's ``retraining`` section, its defaults when it has none."""
    return definition.retraining or RetrainingSpec()


def training_spec(definition: MonitorDefinition) -> Any:
    """What to fit (a :class:`driftline.training.data.TrainingSpec`; scikit-learn is imported only
    by the steps that train or predict)."""
    from driftline.training.data import TrainingSpec, feature_columns  # noqa: PLC0415

    schema = definition.schema_
    spec = retraining_spec(definition)
    assert schema.label is not None
    numeric, categorical = feature_columns(schema.features)
    positive = 1 if schema.positive_class is None else schema.positive_class
    return TrainingSpec(
        task=schema.task,
        label=schema.label,
        numeric=numeric,
        categorical=categorical,
        estimator=spec.estimator,
        params=dict(spec.params),
        seed=spec.seed,
        positive_class=positive,
    )


def canary_metric(definition: MonitorDefinition) -> str:
    """The canary metric: configured, else by task."""
    configured = retraining_spec(definition).canary.metric
    if configured is not None:
        return configured
    task = definition.schema_.task
    return {"regression": "absolute_error", "ranking": "ctr"}.get(task, "error_rate")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time, UTC when it names no zone.

    >>> parse_time("2026-11-24T13:00:00Z").isoformat()
    '2026-11-24T13:00:00+00:00'
    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def iso_utc(moment: datetime) -> str:
    """``moment`` in UTC, to the second, with a ``Z``.

    >>> from datetime import timedelta, timezone
    >>> iso_utc(datetime(2026, 11, 24, 14, 30, tzinfo=timezone(timedelta(hours=1))))
    '2026-11-24T13:30:00Z'
    """
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def duration_seconds(duration: str) -> int:
    """An ISO 8601 duration in whole seconds, at least one.

    >>> duration_seconds("PT15M"), duration_seconds("P1D")
    (900, 86400)
    """
    return max(1, int(parse_duration(duration).total_seconds()))
