"""The Auth Service's unit of work: one transaction over the four repositories.

A use case opens one (``with uow:``), works through its repositories and calls
``commit()``; leaving the block without committing rolls back. The service takes a
factory, because a unit of work holds one session and calls run on many threads.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session as OrmSession

from servicekit.db import SqlAlchemyUnitOfWork, UnitOfWork
from services.auth.repository.login_attempts import (
    LoginAttemptRepository,
    SqlAlchemyLoginAttemptRepository,
)
from services.auth.repository.sessions import (
    RefreshTokenRepository,
    SessionRepository,
    SqlAlchemyRefreshTokenRepository,
    SqlAlchemySessionRepository,
)
from services.auth.repository.signing_keys import (
    SigningKeyRepository,
    SqlAlchemySigningKeyRepository,
)

__all__ = ["AuthUnitOfWork", "SqlAlchemyAuthUnitOfWork"]


class AuthUnitOfWork(UnitOfWork, Protocol):
    """What the use cases need of a unit of work: servicekit's, with the four repositories."""

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def signing_keys(self) -> SigningKeyRepository: ...

    @property
    def login_attempts(self) -> LoginAttemptRepository: ...


class SqlAlchemyAuthUnitOfWork(SqlAlchemyUnitOfWork):
    """A database transaction (servicekit.db) with the SQLAlchemy repositories."""

    sessions: SessionRepository
    refresh_tokens: RefreshTokenRepository
    signing_keys: SigningKeyRepository
    login_attempts: LoginAttemptRepository

    def _open(self, session: OrmSession) -> None:
        self.sessions = SqlAlchemySessionRepository(session)
        self.refresh_tokens = SqlAlchemyRefreshTokenRepository(session)
        self.signing_keys = SqlAlchemySigningKeyRepository(session)
        self.login_attempts = SqlAlchemyLoginAttemptRepository(session)
