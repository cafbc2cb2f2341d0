"""Fixtures of the gateway e2e tests: the gateway before real services, on each database:
user and auth (``stack``), and every other grpc service of the manifests (``others``), so
that every operation of the document has a backend."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from servicekit.testing.databases import DatabaseKind
from tests.e2e._services import grpc_services, running_services
from tests.e2e.auth._stack import Stack
from tests.e2e.gateway._gateway import Rest, RunningGateway, gateway_env, running_gateway


@pytest.fixture(scope="module")
def others(stack: Stack, database_kind: DatabaseKind) -> Iterator[dict[str, str]]:
    """The services besides user and auth (none, or those `make new-service` added)."""
    assert stack.auth_server is not None
    with running_services(
        grpc_services(besides=("user", "auth")),
        kind=database_kind,
        folder=stack.folder,
        jwks_file=stack.folder / "jwks.json",
        known={"user": stack.user_address, "auth": f"127.0.0.1:{stack.auth_server.port}"},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def gateway(stack: Stack, others: dict[str, str]) -> Iterator[RunningGateway]:
    targets = {f"GATEWAY_BACKENDS__{name.upper()}__TARGET": at for name, at in others.items()}
    with running_gateway({**gateway_env(stack), **targets}) as running:
        yield running


@pytest.fixture(scope="module")
def rest(gateway: RunningGateway, stack: Stack) -> Iterator[Rest]:
    with httpx.Client(base_url=gateway.base_url, timeout=20) as client:
        yield Rest(client=client, stack=stack)
