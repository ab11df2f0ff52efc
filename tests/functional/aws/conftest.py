"""moto-backed adapters for the functional tests (no network, no real AWS)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from driftline.aws.jobs import Services
from moto_support import REGION, moto_services, subscribe_inbox


@pytest.fixture
def aws() -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
    )
    with mock_aws():
        yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def services(aws: None) -> Services:
    return moto_services("driftline-test")


@pytest.fixture
def inbox(services: Services) -> Any:
    """An SQS queue subscribed to the topic; call it to read the notifications so far."""
    return subscribe_inbox(services)


@pytest.fixture
def atomic_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make each AWS API call atomic, as the real services are.

    moto's in-memory backends take no locks, so two threads can both pass one conditional
    write's check; DynamoDB evaluates a condition and writes atomically. One lock around each
    call restores that, while the read-modify-write *between* calls still interleaves across
    threads, which is what the concurrency tests exercise.
    """
    import threading

    from botocore.client import BaseClient

    lock = threading.Lock()
    original = BaseClient._make_api_call

    def atomic(self: Any, operation: str, params: Any) -> Any:
        with lock:
            return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", atomic)
