"""Fixtures for the infrastructure tests: the template as written, and as the SAM transform
turns it into CloudFormation (offline)."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from template_support import TEMPLATE, load_script


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml as plain data (short-form tags in their long form)."""
    return load_script("size_report").load_template(TEMPLATE)


@pytest.fixture(scope="session")
def transformed() -> Iterator[dict[str, Any]]:
    """The CloudFormation the SAM transform makes of template.yaml, offline.

    Local code locations are rewritten to s3:// first, as ``sam package`` would.
    """
    pytest.importorskip("samtranslator", reason="aws-sam-translator (comes with cfn-lint)")
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    document = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://driftline-artifacts/{properties[key].strip('/')}"

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            raise AssertionError("the template must not need AWS managed policy look-ups")

    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": "eu-west-1"}):
        yield transform(copy.deepcopy(document), {}, _NoManagedPolicies())
