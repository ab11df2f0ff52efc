"""The JSON Schema of the monitor definition, generated from its models: what
``driftline schema`` prints and ``docs/monitor-definition.schema.json`` holds."""

from __future__ import annotations

import json
from typing import Any

from driftline.config.definition import MonitorDefinition


def monitor_definition_json_schema() -> dict[str, Any]:
    """The JSON Schema of the monitor definition, as published in ``docs/``."""
    schema = MonitorDefinition.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "driftline monitor definition"
    return schema


def dump_json_schema() -> str:
    """The JSON Schema as stable, pretty-printed text (what ``docs/`` holds)."""
    return json.dumps(monitor_definition_json_schema(), indent=2, sort_keys=True) + "\n"
