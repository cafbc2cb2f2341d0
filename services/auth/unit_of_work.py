"""Units of work of the Auth Service: one transaction over the four repositories.

A use case opens one (``with uow:``), works through its repositories and calls
``commit()``; leaving the block without committing rolls back. The service takes a
factory, because a unit of work holds one session and calls run on many threads.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self

from sqlalchemy.orm import Session as OrmSession

from servicekit.db import SqlAlchemyUnitOfWork
from services.auth.fakes import (
    FakeLoginAttemptRepository,
    FakeRefreshTokenRepository,
    FakeSessionRepository,
    FakeSigningKeyRepository,
)
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

__all__ = ["AuthUnitOfWork", "FakeAuthUnitOfWork", "SqlAlchemyAuthUnitOfWork"]


class AuthUnitOfWork(Protocol):
    """What the use cases need of a unit of work."""

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def signing_keys(self) -> SigningKeyRepository: ...

    @property
    def login_attempts(self) -> LoginAttemptRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


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


class FakeAuthUnitOfWork:
    """A transaction over the fake repositories: rollback restores the snapshot taken on
    entry, so tests see exactly what a failed use case left behind."""

    def __init__(self) -> None:
        self.refresh_tokens = FakeRefreshTokenRepository()
        self.sessions = FakeSessionRepository(self.refresh_tokens)
        self.signing_keys = FakeSigningKeyRepository()
        self.login_attempts = FakeLoginAttemptRepository()
        self.commits = 0
        self._snapshot: tuple[dict[str, Any], ...] | None = None

    def __enter__(self) -> Self:
        self._snapshot = self._rows()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self._snapshot = None

    def commit(self) -> None:
        self.commits += 1
        self._snapshot = self._rows()

    def rollback(self) -> None:
        if self._snapshot is None:
            return
        sessions, tokens, keys, attempts = (dict(rows) for rows in self._snapshot)
        self.sessions.rows = sessions
        self.refresh_tokens.rows = tokens
        self.signing_keys.rows = keys
        self.login_attempts.rows = attempts

    def _rows(self) -> tuple[dict[str, Any], ...]:
        return tuple(
            dict(repository.rows)
            for repository in (
                self.sessions,
                self.refresh_tokens,
                self.signing_keys,
                self.login_attempts,
            )
        )
