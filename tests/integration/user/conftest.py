"""User Service fixtures on real databases: one migrated database per backend for the
whole run, each test isolated in a session whose commits are rolled back at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Self

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from servicekit.testing.databases import DatabaseKind, MigratedDatabases, rolled_back_session
from services.user.models import MIGRATIONS_DIR
from services.user.pagination import PageLimits
from services.user.passwords import Passwords
from services.user.repository import SqlAlchemyUserRepository
from services.user.service import UserService

EngineFor = Callable[[DatabaseKind], Engine]


@pytest.fixture(scope="session")
def migrated_engine_for(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineFor]:
    """An engine on a migrated database of each backend, made on first use, dropped at the end."""
    databases = MigratedDatabases(
        MIGRATIONS_DIR, lambda kind: tmp_path_factory.mktemp(f"user-{kind}")
    )
    try:
        yield databases.engine_for
    finally:
        databases.close()


@pytest.fixture
def session(database_kind: DatabaseKind, migrated_engine_for: EngineFor) -> Iterator[Session]:
    """A session on the migrated ``database_kind`` database; all its work undone afterwards."""
    with rolled_back_session(migrated_engine_for(database_kind)) as opened:
        yield opened


class SessionUserUnitOfWork:
    """The use cases' unit of work on a test's session: commits become savepoints."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.users = SqlAlchemyUserRepository(session)
        self._committed = False

    def __enter__(self) -> Self:
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.rollback()

    def commit(self) -> None:
        self._session.commit()
        self._committed = True

    def reading(self) -> Self:
        """Reads share the test's session too (its isolation is the point)."""
        return self

    def rollback(self) -> None:
        self._session.rollback()


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    """Real argon2id at the lowest costs."""
    return Passwords(time_cost=1, memory_cost_kib=8, parallelism=1)


@pytest.fixture
def user_service(session: Session, passwords: Passwords) -> UserService:
    """The use cases on the test's isolated session of the ``database_kind`` database."""
    unit_of_work = SessionUserUnitOfWork(session)
    return UserService(
        unit_of_work=lambda: unit_of_work,
        passwords=passwords,
        page_limits=PageLimits(default=3, maximum=5),
    )
