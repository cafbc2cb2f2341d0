"""Integration fixtures: each test runs on PostgreSQL and on SQLite, in a fresh database.

PostgreSQL is the server of ``TEST_POSTGRES_URL`` (default: 127.0.0.1:5432, user
postgres); every test gets its own database on it, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from servicekit.db import EngineOptions, build_engine
from servicekit.testing.databases import DatabaseKind, temporary_database


@pytest.fixture(params=["postgresql", "sqlite"])
def database_kind(request: pytest.FixtureRequest) -> DatabaseKind:
    """Which backend the test runs on; every test using it runs once for each."""
    kind: DatabaseKind = request.param
    return kind


@pytest.fixture
def empty_database_url(database_kind: DatabaseKind, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of ``database_kind``, dropped after the test."""
    with temporary_database(database_kind, tmp_path) as url:
        yield url


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[Engine]:
    """An engine on ``empty_database_url``, without a pool (a migration test's inspector)."""
    built = build_engine(empty_database_url, EngineOptions(pool_size=None))
    yield built
    built.dispose()
