"""``config/<model>.yaml`` uploaded: the monitor definition validated, stored and scheduled."""

from __future__ import annotations

from typing import Any

from driftline.aws.jobs.baseline import build_baseline
from driftline.aws.jobs.rejections import reject
from driftline.aws.jobs.services import Services
from driftline.config.definition import MonitorDefinition
from driftline.config.loading import load_monitor_definition
from driftline.config.messages import shown
from driftline.errors import ConfigError


def configure(services: Services, key: str) -> dict[str, Any]:
    """``config/<model>.yaml`` uploaded: validate, store, schedule, build the baseline."""
    parts = key.split("/")
    if len(parts) != 2 or parts[0] != "config" or not parts[1].endswith((".yaml", ".yml")):
        return {"status": "ignored", "reason": "expected config/<model>.yaml"}
    model = parts[1].removesuffix(".yaml").removesuffix(".yml")
    stored = services.store.get(key)
    try:
        definition = load_monitor_definition(stored.body, source=key, expected_model=model)
        _check_baseline_in_bucket(definition, key)
    except ConfigError as exc:
        return reject(services, key, stored.etag, model=model, exc=exc, what="monitor definition")
    services.table.put_definition(
        model, {"yaml": stored.body.decode("utf-8")}, source=f"{key}@{stored.etag}"
    )
    if services.schedules is not None:
        services.schedules.put(model, definition.schedule)
    result: dict[str, Any] = {"status": "stored", "model": model}
    if services.store.exists(definition.baseline.path):
        result["baseline"] = build_baseline(services, definition.baseline.path)
    services.log("monitor definition stored", model=model, checks=len(definition.checks))
    return result


def _check_baseline_in_bucket(definition: MonitorDefinition, key: str) -> None:
    """In the bucket a baseline is ``baselines/<model>/<file>``: the monitor definition
    also allows a bare file name (local runs), which on AWS would name an object outside
    every model's prefix (and one ``build_baseline`` could not place).

    Raises:
        ConfigError: ``invalid_config``, naming ``baseline.path``.
    """
    path = definition.baseline.path
    folders = path.split("/")
    if len(folders) < 3 or folders[:2] != ["baselines", definition.model]:
        raise ConfigError(
            f"invalid monitor definition {key}: baseline.path: expected "
            f"baselines/{definition.model}/<file> in the monitoring bucket, got {shown(path)}",
            reason="invalid_config",
            key="baseline.path",
        )
