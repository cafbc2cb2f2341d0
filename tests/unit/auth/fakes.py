"""The Auth Service's test doubles: in-memory repositories with the rules of the database,
the unit of work over them, and a user directory.

The repositories pass the same contract tests as the SQLAlchemy ones
(``tests/integration/auth/test_auth_repository_contract.py``): unique keys, the
one-time claim of a refresh token, and sessions whose deletion takes their tokens along.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TypeVar

from servicekit.errors import Unavailable
from servicekit.testing.unit_of_work import InMemoryRepository, InMemoryUnitOfWork
from services.auth.attempts import LoginAttempts, account_key
from services.auth.domain import InvalidCredentials, RefreshToken, Session, SigningKey
from services.auth.ports import VerifiedUser
from services.auth.repository.login_attempts import LoginAttemptRepository
from services.auth.repository.sessions import RefreshTokenRepository, SessionRepository
from services.auth.repository.signing_keys import SigningKeyRepository

__all__ = [
    "FakeAuthUnitOfWork",
    "FakeLoginAttemptRepository",
    "FakeRefreshTokenRepository",
    "FakeSessionRepository",
    "FakeSigningKeyRepository",
    "FakeUserDirectory",
]


K = TypeVar("K")
V = TypeVar("V")


def _add(rows: dict[K, V], key: K, value: V) -> None:
    if key in rows:
        raise ValueError(f"duplicate key {key!r}")
    rows[key] = value


class FakeRefreshTokenRepository(RefreshTokenRepository):
    def __init__(self) -> None:
        self.rows: dict[str, RefreshToken] = {}

    def add(self, token: RefreshToken) -> None:
        _add(self.rows, token.token_hash, token)

    def get(self, token_hash: str) -> RefreshToken | None:
        return self.rows.get(token_hash)

    def claim(self, token_hash: str, when: datetime, replaced_by: str) -> bool:
        token = self.rows.get(token_hash)
        if token is None or token.used_at is not None:
            return False
        self.rows[token_hash] = dataclasses.replace(token, used_at=when, replaced_by=replaced_by)
        return True


class FakeSessionRepository(SessionRepository):
    """Sessions; deleting one deletes its refresh tokens in ``tokens`` (the foreign key)."""

    def __init__(self, tokens: FakeRefreshTokenRepository) -> None:
        self.rows: dict[str, Session] = {}
        self._tokens = tokens

    def add(self, session: Session) -> None:
        _add(self.rows, session.id, session)

    def get(self, session_id: str) -> Session | None:
        return self.rows.get(session_id)

    def revoke(self, session_id: str, when: datetime) -> bool:
        session = self.rows.get(session_id)
        if session is None or session.revoked_at is not None:
            return False
        self.rows[session_id] = dataclasses.replace(session, revoked_at=when)
        return True

    def delete_ended(self, before: datetime) -> int:
        ended = {
            s.id
            for s in self.rows.values()
            if s.expires_at < before or (s.revoked_at is not None and s.revoked_at < before)
        }
        self.rows = {id_: s for id_, s in self.rows.items() if id_ not in ended}
        tokens = self._tokens.rows
        self._tokens.rows = {h: t for h, t in tokens.items() if t.session_id not in ended}
        return len(ended)


class FakeSigningKeyRepository(SigningKeyRepository):
    def __init__(self) -> None:
        self.rows: dict[str, SigningKey] = {}

    def add(self, key: SigningKey) -> None:
        _add(self.rows, key.kid, key)

    def list_all(self) -> list[SigningKey]:
        return list(self.rows.values())

    def retire(self, kid: str, when: datetime) -> None:
        if kid in self.rows:
            self.rows[kid] = dataclasses.replace(self.rows[kid], retire_at=when)

    def delete(self, kid: str) -> None:
        self.rows.pop(kid, None)


class FakeLoginAttemptRepository(LoginAttemptRepository):
    def __init__(self) -> None:
        self.rows: dict[str, LoginAttempts] = {}

    def lock(self, fresh: LoginAttempts) -> LoginAttempts:
        return self.rows.setdefault(fresh.account_key, fresh)

    def save(self, attempts: LoginAttempts) -> None:
        if attempts.account_key in self.rows:
            self.rows[attempts.account_key] = attempts

    def delete(self, account_key: str) -> None:
        self.rows.pop(account_key, None)

    def delete_stale(self, *, window_start_before: datetime, now: datetime) -> int:
        stale = {
            key
            for key, row in self.rows.items()
            if row.window_start < window_start_before
            and (row.locked_until is None or row.locked_until <= now)
        }
        self.rows = {key: row for key, row in self.rows.items() if key not in stale}
        return len(stale)


class FakeAuthUnitOfWork(InMemoryUnitOfWork):
    """A transaction over the fake repositories (servicekit.testing): rollback restores
    every one as it was on entry, so tests see exactly what a failed use case left behind."""

    def __init__(self) -> None:
        super().__init__()
        self.refresh_tokens = FakeRefreshTokenRepository()
        self.sessions = FakeSessionRepository(self.refresh_tokens)
        self.signing_keys = FakeSigningKeyRepository()
        self.login_attempts = FakeLoginAttemptRepository()

    def repositories(self) -> list[InMemoryRepository]:
        return [self.sessions, self.refresh_tokens, self.signing_keys, self.login_attempts]


class FakeUserDirectory:
    """Users in a dict, keyed as the User Service compares emails; can be switched off.

    ``remove``, ``set_roles`` and ``set_password`` change a user as the User Service's
    use cases would; ``calls`` counts the credential checks, ``lookups`` the ``current``
    reads. ``meanwhile`` plays concurrency without threads: while a check is under way,
    the next callable of the list runs (another sign-in arriving) and its outcome is kept
    in ``outcomes``.
    """

    def __init__(self) -> None:
        self._users: dict[str, tuple[str, VerifiedUser]] = {}
        self.available = True
        self.calls = 0
        self.lookups = 0
        self.meanwhile: list[Callable[[], str]] = []
        self.outcomes: list[str] = []

    def add(
        self, email: str, password: str, *, roles: Iterable[str] = (), user_id: str | None = None
    ) -> VerifiedUser:
        user = VerifiedUser(
            id=user_id or str(uuid.uuid4()),
            roles=frozenset(roles),
            password_set_at=datetime(2024, 1, 1, tzinfo=UTC),
        )
        self._users[account_key(email)] = (password, user)
        return user

    def remove(self, user_id: str) -> None:
        self._users = {key: entry for key, entry in self._users.items() if entry[1].id != user_id}

    def set_roles(self, user_id: str, roles: Iterable[str]) -> None:
        self._change(
            user_id,
            lambda password, user: (password, dataclasses.replace(user, roles=frozenset(roles))),
        )

    def set_password(self, user_id: str, password: str, *, at: datetime) -> None:
        self._change(
            user_id, lambda _, user: (password, dataclasses.replace(user, password_set_at=at))
        )

    def verify(self, email: str, password: str) -> VerifiedUser:
        if self.meanwhile:
            self.outcomes.append(self.meanwhile.pop()())
        self.calls += 1
        if not self.available:
            raise Unavailable("user service unavailable")
        known = self._users.get(account_key(email))
        if known is None or known[0] != password:
            raise InvalidCredentials
        return known[1]

    def current(self, user_id: str) -> VerifiedUser | None:
        self.lookups += 1
        if not self.available:
            raise Unavailable("user service unavailable")
        return next((user for _, user in self._users.values() if user.id == user_id), None)

    def _change(
        self,
        user_id: str,
        change: Callable[[str, VerifiedUser], tuple[str, VerifiedUser]],
    ) -> None:
        self._users = {
            key: change(*entry) if entry[1].id == user_id else entry
            for key, entry in self._users.items()
        }
