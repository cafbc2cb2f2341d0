"""Auth Service fixtures on real databases: one migrated database per backend for the
whole run, each test isolated in a session whose commits are rolled back at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from servicekit.testing.databases import (
    DatabaseKind,
    MigratedDatabases,
    SessionUnitOfWork,
    rolled_back_session,
)
from services.auth.key_management import stored_signing_keys
from services.auth.keys import KeyEncryption, SigningKeys
from services.auth.models import MIGRATIONS_DIR
from services.auth.repository.login_attempts import SqlAlchemyLoginAttemptRepository
from services.auth.repository.sessions import (
    SqlAlchemyRefreshTokenRepository,
    SqlAlchemySessionRepository,
)
from services.auth.repository.signing_keys import SqlAlchemySigningKeyRepository
from services.auth.service import AuthService
from services.auth.tokens import TokenIssuer
from services.auth.unit_of_work import AuthUnitOfWork
from tests.unit.auth.fakes import FakeUserDirectory

EngineFor = Callable[[DatabaseKind], Engine]
PASSWORD = "correct horse battery staple"
SECRET = b"integration-test key-encryption secret"


@pytest.fixture(scope="session")
def migrated_engine_for(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineFor]:
    """An engine on a migrated database of each backend, made on first use, dropped at the end."""
    with MigratedDatabases(
        MIGRATIONS_DIR, lambda kind: tmp_path_factory.mktemp(f"auth-{kind}")
    ) as databases:
        yield databases.engine_for


@pytest.fixture
def session(database_kind: DatabaseKind, migrated_engine_for: EngineFor) -> Iterator[Session]:
    """A session on the migrated ``database_kind`` database; all its work undone afterwards."""
    with rolled_back_session(migrated_engine_for(database_kind)) as opened:
        yield opened


class SessionAuthUnitOfWork(SessionUnitOfWork):
    """The use cases' unit of work on a test's session: commits become savepoints."""

    def _open(self, session: Session) -> None:
        self.sessions = SqlAlchemySessionRepository(session)
        self.refresh_tokens = SqlAlchemyRefreshTokenRepository(session)
        self.signing_keys = SqlAlchemySigningKeyRepository(session)
        self.login_attempts = SqlAlchemyLoginAttemptRepository(session)


@pytest.fixture
def users() -> FakeUserDirectory:
    directory = FakeUserDirectory()
    directory.add("ada@example.org", PASSWORD, roles=("admin", "auditor"))
    return directory


def build_service(
    unit_of_work: Callable[[], AuthUnitOfWork], users: FakeUserDirectory
) -> AuthService:
    """The use cases over ``unit_of_work`` with the real clock; failures are not slowed."""
    keys = SigningKeys(
        stored_signing_keys(unit_of_work), encryption=KeyEncryption(SECRET), cache_for=timedelta(0)
    )
    tokens = TokenIssuer(keys, issuer="acme-auth", audience="acme")
    service = AuthService(
        unit_of_work=unit_of_work, users=users, keys=keys, tokens=tokens, sleep=lambda _: None
    )
    service.ensure_signing_key()
    return service


@pytest.fixture
def auth_service(session: Session, users: FakeUserDirectory) -> AuthService:
    """The use cases on the test's isolated session of the ``database_kind`` database."""
    unit_of_work = SessionAuthUnitOfWork(session)
    return build_service(lambda: unit_of_work, users)
