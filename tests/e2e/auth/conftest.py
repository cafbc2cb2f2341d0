"""Fixtures of the auth e2e tests: the two services on PostgreSQL and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servicekit.testing.databases import DatabaseKind
from tests.e2e.auth._stack import Stack, running_stack


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def database_kind(request: pytest.FixtureRequest) -> DatabaseKind:
    kind: DatabaseKind = request.param
    return kind


@pytest.fixture(scope="module")
def stack(database_kind: DatabaseKind, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(database_kind, tmp_path_factory.mktemp("auth-e2e")) as running:
        yield running


@pytest.fixture
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of the test's own (SQLite), for tests that stop or reconfigure servers."""
    with running_stack("sqlite", tmp_path_factory.mktemp("auth-own")) as running:
        yield running
