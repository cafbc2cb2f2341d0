"""Fixtures of the gateway e2e tests: the gateway before real services, on each database."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.auth._stack import Stack
from tests.e2e.gateway._gateway import Rest, RunningGateway, gateway_env, running_gateway


@pytest.fixture(scope="module")
def gateway(stack: Stack) -> Iterator[RunningGateway]:
    with running_gateway(gateway_env(stack)) as running:
        yield running


@pytest.fixture(scope="module")
def rest(gateway: RunningGateway, stack: Stack) -> Iterator[Rest]:
    with httpx.Client(base_url=gateway.base_url, timeout=20) as client:
        yield Rest(client=client, stack=stack)
