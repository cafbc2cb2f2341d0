"""What the e2e tests share: the database backends every stack runs on, and the user and
auth services running together on one of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servicekit.testing.databases import DatabaseKind
from tests.e2e.auth._stack import Stack, running_stack


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def database_kind(request: pytest.FixtureRequest) -> DatabaseKind:
    """Which backend the module's servers run on; each module runs once for each."""
    kind: DatabaseKind = request.param
    return kind


@pytest.fixture(scope="module")
def stack(database_kind: DatabaseKind, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The user and auth services on ``database_kind``, for the whole module."""
    with running_stack(database_kind, tmp_path_factory.mktemp("stack-e2e")) as running:
        yield running


@pytest.fixture
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of the test's own (SQLite), for tests that stop or reconfigure servers."""
    with running_stack("sqlite", tmp_path_factory.mktemp("stack-own")) as running:
        yield running
