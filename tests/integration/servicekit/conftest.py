"""Fixtures of the servicekit integration tests: Databases with short timeouts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from servicekit.config import Secret
from servicekit.db import Database, DatabaseSettings
from servicekit.testing.databases import temporary_database

OpenDatabase = Callable[..., Database]


@pytest.fixture
def open_database() -> Iterator[OpenDatabase]:
    """Builds Databases with short timeouts; disposes every one after the test.

    Idle connections are pinged only after a minute unless a test asks otherwise, so that
    what a test sees does not depend on how long the machine took between its steps.
    """
    opened: list[Database] = []

    def open_(
        url: str,
        *,
        pool_size: int = 4,
        pool_timeout_seconds: float = 1.0,
        statement_timeout_ms: int = 5000,
        ping_after_idle_seconds: float = 60.0,
    ) -> Database:
        settings = DatabaseSettings(
            url=Secret(url),
            pool_timeout_seconds=pool_timeout_seconds,
            statement_timeout_ms=statement_timeout_ms,
            connect_timeout_seconds=2.0,
            ping_after_idle_seconds=ping_after_idle_seconds,
        )
        database = Database(settings, pool_size=pool_size)
        opened.append(database)
        return database

    yield open_
    for database in opened:
        database.dispose()


@pytest.fixture
def postgresql_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database, for what only PostgreSQL does (timeouts, TCP)."""
    with temporary_database("postgresql", tmp_path) as url:
        yield url
