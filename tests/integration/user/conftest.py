"""User Service fixtures on real databases: one migrated database per backend for the
whole run, each test isolated in a session whose commits are rolled back at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from servicekit.testing.databases import (
    DatabaseKind,
    MigratedDatabases,
    SessionUnitOfWork,
    rolled_back_session,
)
from services.user.contract import contract_update_mask
from services.user.models import MIGRATIONS_DIR
from services.user.pagination import PageLimits
from services.user.passwords import Passwords
from services.user.repository import SqlAlchemyUserRepository
from services.user.service import UserService

EngineFor = Callable[[DatabaseKind], Engine]


@pytest.fixture(scope="session")
def migrated_engine_for(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineFor]:
    """An engine on a migrated database of each backend, made on first use, dropped at the end."""
    with MigratedDatabases(
        MIGRATIONS_DIR, lambda kind: tmp_path_factory.mktemp(f"user-{kind}")
    ) as databases:
        yield databases.engine_for


@pytest.fixture
def session(database_kind: DatabaseKind, migrated_engine_for: EngineFor) -> Iterator[Session]:
    """A session on the migrated ``database_kind`` database; all its work undone afterwards."""
    with rolled_back_session(migrated_engine_for(database_kind)) as opened:
        yield opened


class SessionUserUnitOfWork(SessionUnitOfWork):
    """The use cases' unit of work on a test's session: commits become savepoints."""

    def _open(self, session: Session) -> None:
        self.users = SqlAlchemyUserRepository(session)


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
        update_mask=contract_update_mask(),
    )
