"""Fixtures of the gateway e2e tests: the gateway before real services, on each database."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

# connexion 3.3 imports Starlette's test client, which warns (a UserWarning, so the
# DeprecationWarning filters of pyproject.toml miss it): the library's notice, not ours.
warnings.filterwarnings("ignore", category=StarletteDeprecationWarning, module="connexion")


from servicekit.testing.databases import DatabaseKind  # noqa: E402
from tests.e2e.auth._stack import Stack, running_stack  # noqa: E402
from tests.e2e.gateway._gateway import (  # noqa: E402
    Rest,
    RunningGateway,
    gateway_env,
    running_gateway,
)


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def database_kind(request: pytest.FixtureRequest) -> DatabaseKind:
    kind: DatabaseKind = request.param
    return kind


@pytest.fixture(scope="module")
def stack(database_kind: DatabaseKind, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(database_kind, tmp_path_factory.mktemp("gateway-e2e")) as running:
        yield running


@pytest.fixture(scope="module")
def gateway(stack: Stack) -> Iterator[RunningGateway]:
    with running_gateway(gateway_env(stack)) as running:
        yield running


@pytest.fixture(scope="module")
def rest(gateway: RunningGateway, stack: Stack) -> Iterator[Rest]:
    with httpx.Client(base_url=gateway.base_url, timeout=20) as client:
        yield Rest(client=client, stack=stack)


@pytest.fixture
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Services of the test's own (SQLite), for tests that stop them."""
    with running_stack("sqlite", tmp_path_factory.mktemp("gateway-own")) as running:
        yield running
