"""Sessions and their refresh tokens: a session's deletion takes its tokens along.

Claiming a refresh token is a conditional UPDATE (``WHERE used_at IS NULL``) whose row
count says which of two concurrent refreshes won.
"""

from __future__ import annotations

import abc
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session as OrmSession

from services.auth.domain import RefreshToken, Session
from services.auth.models import refresh_tokens, sessions
from services.auth.repository._rows import rowcount, to_entity, to_values

__all__ = [
    "RefreshTokenRepository",
    "SessionRepository",
    "SqlAlchemyRefreshTokenRepository",
    "SqlAlchemySessionRepository",
]


K = TypeVar("K")
V = TypeVar("V")


class _Keyed(abc.ABC, Generic[K, V]):
    """Stored by key: ``add`` stores a new item (its key must be new), ``get`` finds one."""

    @abc.abstractmethod
    def add(self, item: V) -> None: ...

    @abc.abstractmethod
    def get(self, key: K) -> V | None: ...


class SessionRepository(_Keyed[str, Session]):
    """Sessions by id."""

    @abc.abstractmethod
    def revoke(self, session_id: str, when: datetime) -> bool:
        """Mark the session revoked unless it is already; True when this call did it."""

    @abc.abstractmethod
    def delete_ended(self, before: datetime) -> int:
        """Delete sessions (and their tokens) that expired or were revoked before ``before``."""


class RefreshTokenRepository(_Keyed[str, RefreshToken]):
    """Refresh tokens by hash, used or not."""

    @abc.abstractmethod
    def claim(self, token_hash: str, when: datetime, replaced_by: str) -> bool:
        """Mark the token used, if it is not yet; True for the one caller that did it."""


class SqlAlchemySessionRepository(SessionRepository):
    """``roles`` is stored as the sorted, comma-separated role names."""

    def __init__(self, session: OrmSession) -> None:
        self._session = session

    def add(self, session: Session) -> None:
        row = to_values(session, roles=",".join(sorted(session.roles)))
        self._session.execute(insert(sessions).values(**row))

    def get(self, session_id: str) -> Session | None:
        row = self._session.execute(select(sessions).where(sessions.c.id == session_id)).first()
        if row is None:
            return None
        return to_entity(
            Session, row, roles=frozenset(name for name in row.roles.split(",") if name)
        )

    def revoke(self, session_id: str, when: datetime) -> bool:
        statement = (
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=when)
        )
        return rowcount(self._session.execute(statement)) == 1

    def delete_ended(self, before: datetime) -> int:
        ended = or_(sessions.c.expires_at < before, sessions.c.revoked_at < before)
        return rowcount(self._session.execute(delete(sessions).where(ended)))


class SqlAlchemyRefreshTokenRepository(RefreshTokenRepository):
    def __init__(self, session: OrmSession) -> None:
        self._session = session

    def add(self, token: RefreshToken) -> None:
        self._session.execute(insert(refresh_tokens).values(**to_values(token)))

    def get(self, token_hash: str) -> RefreshToken | None:
        statement = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        row = self._session.execute(statement).first()
        return None if row is None else to_entity(RefreshToken, row)

    def claim(self, token_hash: str, when: datetime, replaced_by: str) -> bool:
        statement = (
            update(refresh_tokens)
            .where(refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.used_at.is_(None))
            .values(used_at=when, replaced_by=replaced_by)
        )
        return rowcount(self._session.execute(statement)) == 1
