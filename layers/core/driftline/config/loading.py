"""Reading a monitor definition: YAML (or JSON) text parsed strictly
(:func:`load_monitor_definition`), a parsed mapping validated
(:func:`validate_monitor_definition`), each of pydantic's errors told by its key path."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from driftline.config.definition import MonitorDefinition
from driftline.config.messages import key_part, shown
from driftline.errors import ConfigError


class _DefinitionLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping."""


def _mapping_with_unique_keys(loader: _DefinitionLoader, node: yaml.MappingNode) -> Any:
    seen: set[tuple[str, str]] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
            continue  # merge keys ("<<") may be overridden; complex keys are refused anyway
        key = (key_node.tag, key_node.value)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found the key {shown(key_node.value)} twice (the first would be ignored)",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node)


_MERGE_TAG = "tag:yaml.org,2002:merge"
_DefinitionLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_unique_keys
)


def _format_location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "schema_":
            path += ".schema" if path else "schema"
        else:
            path += f".{key_part(part)}" if path else key_part(part)
    return path


def _describe(error: Any) -> str:
    loc = tuple(part for part in error["loc"] if not str(part).startswith("function-after"))
    # Literal/Union validators add the member type to the location; drop those parts.
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in _TYPE_PARTS)))
    key = _format_location(loc)
    kind = error["type"]
    message = str(error["msg"])
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    if kind == "missing":
        return f"{key}: required key is missing"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if "input" in error and kind not in ("value_error",):
        message = f"{message} (got {shown(error['input'])})"
    return f"{key}: {message}" if key else message


_TYPE_PARTS = frozenset({"str", "int", "float", "bool", "literal", "none", "function-after"})


def validate_monitor_definition(
    data: Any, *, source: str = "<string>", expected_model: str | None = None
) -> MonitorDefinition:
    """Validate an already parsed definition (a mapping).

    Args:
        data: the parsed definition.
        source: how errors name it (``config/churn.yaml``).
        expected_model: the model its file is named for (``config/<model>.yaml``), if any.
            A ``model:`` that differs is the error reported, before any other: the other
            keys (``baseline.path`` names the model's folder) would only follow from it.

    Raises:
        ConfigError: naming every offending key path, e.g. ``checks[1].metric``.

    >>> validate_monitor_definition({"model": "other"}, source="config/churn.yaml",
    ...                             expected_model="churn")
    Traceback (most recent call last):
    ...
    driftline.errors.ConfigError: invalid monitor definition config/churn.yaml: model: 'other' \
does not match the file name config/churn.yaml (expected 'churn')
    """
    if not isinstance(data, dict):
        problem = f"expected a mapping at the top level, got {type(data).__name__}"
        raise ConfigError(
            f"invalid monitor definition {source}: {problem}",
            reason="invalid_config",
            source=source,
            problems=[problem],
        )
    model = data.get("model")
    if expected_model is not None and isinstance(model, str) and model != expected_model:
        problem = (
            f"model: {shown(model)} does not match the file name {source} "
            f"(expected {shown(expected_model)})"
        )
        raise ConfigError(
            f"invalid monitor definition {source}: {problem}",
            reason="invalid_config",
            source=source,
            key="model",
            problems=[problem],
        )
    try:
        return MonitorDefinition.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            problems.append(_describe(error))
        problems = list(dict.fromkeys(problems))
        raise ConfigError(
            f"invalid monitor definition {source}: " + "; ".join(problems),
            reason="invalid_config",
            source=source,
            problems=problems,
        ) from None


def load_monitor_definition(
    text: str | bytes, *, source: str = "<string>", expected_model: str | None = None
) -> MonitorDefinition:
    """Parse YAML (or JSON) text and validate it (``expected_model``: see
    :func:`validate_monitor_definition`).

    Raises:
        ConfigError: the text is not UTF-8 (``not_utf8``), not YAML or nested too deeply to
            parse (``invalid_yaml``), or not a valid definition (``invalid_config``).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"invalid monitor definition {source}: not UTF-8 text "
                f"(byte {exc.start} is {text[exc.start]:#04x})",
                reason="not_utf8",
                source=source,
            ) from None
    try:
        data = yaml.load(text, Loader=_DefinitionLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"invalid monitor definition {source}: not valid YAML{where}: {problem}",
            reason="invalid_yaml",
            source=source,
        ) from None
    except RecursionError:
        raise ConfigError(
            f"invalid monitor definition {source}: not valid YAML: nested too deeply",
            reason="invalid_yaml",
            source=source,
        ) from None
    except (ValueError, OverflowError) as exc:  # a tagged value no constructor accepts
        raise ConfigError(
            f"invalid monitor definition {source}: not valid YAML: a value cannot be read "
            f"({shown(str(exc))})",
            reason="invalid_yaml",
            source=source,
        ) from None
    return validate_monitor_definition(data, source=source, expected_model=expected_model)
