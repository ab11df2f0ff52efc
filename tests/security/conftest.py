"""Fixtures of the security review: the template (as written and as the SAM transform turns it
into CloudFormation, offline) and a moto deployment of the adapters with the handlers'
environment, for the tests that run the real jobs and handlers."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from moto import mock_aws

from driftline.aws import handler as shared
from driftline.aws.jobs import Services
from moto_support import REGION, handler_environment, moto_services, subscribe_inbox

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"


@pytest.fixture(scope="session")
def written() -> dict[str, Any]:
    """template.yaml as written (intrinsic functions in their long form)."""
    samtranslator = pytest.importorskip("samtranslator.yaml_helper", reason="aws-sam-translator")
    document: dict[str, Any] = samtranslator.yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="session")
def transformed(written: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation the SAM transform makes of template.yaml, without AWS."""
    from samtranslator.translator.transform import transform

    document = copy.deepcopy(written)
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://driftline-artifacts/{properties[key].strip('/')}"

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            raise AssertionError("the template must not need AWS managed policy look-ups")

    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):
        result: dict[str, Any] = transform(document, {}, _NoManagedPolicies())
    return result


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The adapters on moto, and the handlers' DRIFTLINE_* environment pointing at them."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        services = moto_services("driftline-security")
        environment = handler_environment(services)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        shared.services.cache_clear()
        yield services
        shared.services.cache_clear()


@pytest.fixture
def inbox(stack: Services) -> Any:
    """An SQS queue subscribed to the alert topic; call it for the messages so far."""
    return subscribe_inbox(stack)
