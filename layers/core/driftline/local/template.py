"""Read a SAM/CloudFormation template and resolve the intrinsic functions the local runtime
needs (Ref, Fn::Sub, Fn::GetAtt, Fn::If, Fn::Join, Fn::Select, Fn::Equals, Fn::Not, Fn::And,
Fn::Or) against the names and ARNs of the resources it provisions in moto."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

_SUB = re.compile(r"\$\{([^}!][^}]*)\}")


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (``!Ref``, ``!Sub``, ``!GetAtt``, ...)."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _tag)


def load_template(path: Path) -> dict[str, Any]:
    """The template as plain data (short-form tags turned into their long form)."""
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=_TemplateLoader)
    if not isinstance(document, dict) or "Resources" not in document:
        raise ValueError(f"{path}: not a CloudFormation template (no Resources)")
    return document


class Resolver:
    """Evaluates intrinsic functions.

    Args:
        parameters: parameter name → value (defaults applied by the caller).
        pseudo: ``AWS::Region``, ``AWS::AccountId``, ``AWS::StackName``, ``AWS::Partition``.
        ref: logical id → what ``Ref`` returns for a resource.
        attribute: ``(logical id, attribute)`` → value, for ``Fn::GetAtt``.
        conditions: the template's Conditions section.
    """

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, str],
        ref: Callable[[str], Any],
        attribute: Callable[[str, str], Any],
        conditions: Mapping[str, Any],
    ) -> None:
        self.parameters = parameters
        self.pseudo = pseudo
        self.ref = ref
        self.attribute = attribute
        self.conditions = conditions

    def __call__(self, value: Any) -> Any:
        return self.resolve(value)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value if not _is_no_value(item)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            handler = getattr(self, "_" + name.replace("Fn::", "fn_").replace("::", "_"), None)
            if handler is not None:
                return handler(argument)
        return {k: self.resolve(v) for k, v in value.items() if not _is_no_value(v)}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions[name]))

    def _Ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.ref(name)

    def _Condition(self, name: str) -> bool:
        return self.condition(name)

    def _fn_Sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], {k: self.resolve(v) for k, v in argument[1].items()}
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] not in self.pseudo:
                logical, attribute = name.split(".", 1)
                return str(self.attribute(logical, attribute))
            return str(self._Ref(name))

        return _SUB.sub(replace, str(text)).replace("${!", "${")

    def _fn_GetAtt(self, argument: list[str] | str) -> Any:
        logical, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return self.attribute(logical, attribute)

    def _fn_Join(self, argument: list[Any]) -> str:
        separator, items = argument
        return str(separator).join(str(item) for item in self.resolve(items))

    def _fn_Select(self, argument: list[Any]) -> Any:
        index, items = argument
        return self.resolve(items)[int(self.resolve(index))]

    def _fn_If(self, argument: list[Any]) -> Any:
        name, yes, no = argument
        chosen = yes if self.condition(name) else no
        return None if _is_no_value(chosen) else self.resolve(chosen)

    def _fn_Equals(self, argument: list[Any]) -> bool:
        left, right = (self.resolve(item) for item in argument)
        return bool(str(left) == str(right))

    def _fn_Not(self, argument: list[Any]) -> bool:
        return not self.resolve(argument[0])

    def _fn_And(self, argument: list[Any]) -> bool:
        return all(self.resolve(item) for item in argument)

    def _fn_Or(self, argument: list[Any]) -> bool:
        return any(self.resolve(item) for item in argument)


def _is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}
