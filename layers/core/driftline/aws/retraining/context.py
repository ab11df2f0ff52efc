"""What every retraining step gets: the adapters (:class:`RetrainingServices`), its event
(:class:`StepEvent`), and the settings it reads from the model's monitor definition."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from driftline.aws.jobs.services import Services, load_definition
from driftline.aws.notify import Notifier
from driftline.aws.registry import ModelRegistry
from driftline.aws.s3 import ObjectStore
from driftline.config import MonitorDefinition, RetrainingSpec, parse_duration
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
            _time(str(event["now"])),
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


def _definition(services: RetrainingServices, model: str) -> MonitorDefinition:
    definition = load_definition(services.jobs, model)
    if definition is None:
        raise ConfigError(
            f"no monitor definition for model {model!r}: upload config/{model}.yaml",
            reason="no_monitor_definition",
        )
    return definition


def _spec(definition: MonitorDefinition) -> RetrainingSpec:
    return definition.retraining or RetrainingSpec()


def _training_spec(definition: MonitorDefinition) -> Any:
    from driftline.training import TrainingSpec, feature_columns  # noqa: PLC0415

    schema = definition.schema_
    spec = _spec(definition)
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
    configured = _spec(definition).canary.metric
    if configured is not None:
        return configured
    task = definition.schema_.task
    return {"regression": "absolute_error", "ranking": "ctr"}.get(task, "error_rate")


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _seconds(duration: str) -> int:
    return max(1, int(parse_duration(duration).total_seconds()))
