"""Where the Auth Service keeps its state: four small repositories, each an interface with a
SQLAlchemy implementation (fakes in ``services.auth.fakes``).

Both implementations pass one contract test suite. Repositories never commit: the use
case's unit of work does. Two writes decide races in the database itself: claiming a
refresh token is a conditional UPDATE (``WHERE used_at IS NULL``) whose row count says who
won, and a login-attempts row is locked (``SELECT ... FOR UPDATE``; SQLite's
``BEGIN IMMEDIATE`` serialises writers anyway) before it is counted.
"""

from __future__ import annotations

import abc
import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from servicekit.db import is_unique_violation
from services.auth.domain import LoginAttempts, RefreshToken, Session, SigningKey
from services.auth.models import login_attempts, refresh_tokens, sessions, signing_keys

__all__ = [
    "LoginAttemptRepository",
    "RefreshTokenRepository",
    "SessionRepository",
    "SigningKeyRepository",
    "SqlAlchemyLoginAttemptRepository",
    "SqlAlchemyRefreshTokenRepository",
    "SqlAlchemySessionRepository",
    "SqlAlchemySigningKeyRepository",
]

_LOCK_TRIES = 3


class SessionRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, session: Session) -> None: ...

    @abc.abstractmethod
    def get(self, session_id: str) -> Session | None: ...

    @abc.abstractmethod
    def revoke(self, session_id: str, when: datetime) -> bool:
        """Mark the session revoked unless it is already; True when this call did it."""

    @abc.abstractmethod
    def delete_ended(self, before: datetime) -> int:
        """Delete sessions (and their tokens) that expired or were revoked before ``before``."""


class RefreshTokenRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, token: RefreshToken) -> None: ...

    @abc.abstractmethod
    def get(self, token_hash: str) -> RefreshToken | None: ...

    @abc.abstractmethod
    def claim(self, token_hash: str, when: datetime, replaced_by: str) -> bool:
        """Mark the token used, if it is not yet; True for the one caller that did it."""


class SigningKeyRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, key: SigningKey) -> None: ...

    @abc.abstractmethod
    def list_all(self) -> list[SigningKey]:
        """Every stored key, in no particular order."""

    @abc.abstractmethod
    def retire(self, kid: str, when: datetime) -> None:
        """Set the key's ``retire_at``."""

    @abc.abstractmethod
    def delete(self, kid: str) -> None: ...


class LoginAttemptRepository(abc.ABC):
    @abc.abstractmethod
    def lock(self, fresh: LoginAttempts) -> LoginAttempts:
        """The attempts of ``fresh.account_key`` (stored as ``fresh`` when there are none),
        locked against concurrent sign-ins until the transaction ends."""

    @abc.abstractmethod
    def save(self, attempts: LoginAttempts) -> None:
        """Overwrite the locked row."""

    @abc.abstractmethod
    def delete(self, account_key: str) -> None: ...

    @abc.abstractmethod
    def delete_stale(self, *, window_start_before: datetime, now: datetime) -> int:
        """Delete rows whose window started before ``window_start_before`` and that hold
        no lock beyond ``now``."""


class SqlAlchemySessionRepository(SessionRepository):
    def __init__(self, session: OrmSession) -> None:
        self._session = session

    def add(self, session: Session) -> None:
        self._session.execute(insert(sessions).values(**_session_row(session)))

    def get(self, session_id: str) -> Session | None:
        row = self._session.execute(select(sessions).where(sessions.c.id == session_id)).first()
        return None if row is None else _to_session(row)

    def revoke(self, session_id: str, when: datetime) -> bool:
        statement = (
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=when)
        )
        return _rowcount(self._session.execute(statement)) == 1

    def delete_ended(self, before: datetime) -> int:
        ended = or_(sessions.c.expires_at < before, sessions.c.revoked_at < before)
        return _rowcount(self._session.execute(delete(sessions).where(ended)))


class SqlAlchemyRefreshTokenRepository(RefreshTokenRepository):
    def __init__(self, session: OrmSession) -> None:
        self._session = session

    def add(self, token: RefreshToken) -> None:
        self._session.execute(insert(refresh_tokens).values(**_token_row(token)))

    def get(self, token_hash: str) -> RefreshToken | None:
        statement = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        row = self._session.execute(statement).first()
        return None if row is None else _to_token(row)

    def claim(self, token_hash: str, when: datetime, replaced_by: str) -> bool:
        statement = (
            update(refresh_tokens)
            .where(refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.used_at.is_(None))
            .values(used_at=when, replaced_by=replaced_by)
        )
        return _rowcount(self._session.execute(statement)) == 1


class SqlAlchemySigningKeyRepository(SigningKeyRepository):
    def __init__(self, session: OrmSession) -> None:
        self._session = session

    def add(self, key: SigningKey) -> None:
        self._session.execute(insert(signing_keys).values(**_key_row(key)))

    def list_all(self) -> list[SigningKey]:
        return [_to_key(row) for row in self._session.execute(select(signing_keys))]

    def retire(self, kid: str, when: datetime) -> None:
        statement = update(signing_keys).where(signing_keys.c.kid == kid).values(retire_at=when)
        self._session.execute(statement)

    def delete(self, kid: str) -> None:
        self._session.execute(delete(signing_keys).where(signing_keys.c.kid == kid))


class SqlAlchemyLoginAttemptRepository(LoginAttemptRepository):
    def __init__(self, session: OrmSession) -> None:
        self._session = session

    def lock(self, fresh: LoginAttempts) -> LoginAttempts:
        for _ in range(_LOCK_TRIES):
            found = self._locked(fresh.account_key)
            if found is not None:
                return found
            try:
                # A savepoint: losing the insert race leaves the transaction usable.
                with self._session.begin_nested():
                    self._session.execute(insert(login_attempts).values(**_attempts_row(fresh)))
            except IntegrityError as exc:
                if not is_unique_violation(exc):
                    raise
                continue  # a concurrent sign-in created it first: lock that row
            return fresh  # the inserted row is this transaction's until it ends
        raise RuntimeError("the login attempts row keeps vanishing")  # pragma: no cover

    def save(self, attempts: LoginAttempts) -> None:
        row = _attempts_row(attempts)
        key = row.pop("account_key")
        statement = update(login_attempts).where(login_attempts.c.account_key == key).values(**row)
        self._session.execute(statement)

    def delete(self, account_key: str) -> None:
        statement = delete(login_attempts).where(login_attempts.c.account_key == account_key)
        self._session.execute(statement)

    def delete_stale(self, *, window_start_before: datetime, now: datetime) -> int:
        statement = delete(login_attempts).where(
            login_attempts.c.window_start < window_start_before,
            or_(login_attempts.c.locked_until.is_(None), login_attempts.c.locked_until <= now),
        )
        return _rowcount(self._session.execute(statement))

    def _locked(self, account_key: str) -> LoginAttempts | None:
        statement = (
            select(login_attempts)
            .where(login_attempts.c.account_key == account_key)
            .with_for_update()
        )
        row = self._session.execute(statement).first()
        return None if row is None else _to_attempts(row)


def _rowcount(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount


def _session_row(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "user_id": session.user_id,
        "roles": ",".join(sorted(session.roles)),
        "created_at": session.created_at,
        "expires_at": session.expires_at,
        "revoked_at": session.revoked_at,
    }


def _to_session(row: Row[Any]) -> Session:
    return Session(
        id=row.id,
        user_id=row.user_id,
        roles=frozenset(name for name in row.roles.split(",") if name),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _token_row(token: RefreshToken) -> dict[str, Any]:
    return {
        "token_hash": token.token_hash,
        "session_id": token.session_id,
        "issued_at": token.issued_at,
        "expires_at": token.expires_at,
        "used_at": token.used_at,
        "replaced_by": token.replaced_by,
    }


def _to_token(row: Row[Any]) -> RefreshToken:
    return RefreshToken(
        token_hash=row.token_hash,
        session_id=row.session_id,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        replaced_by=row.replaced_by,
    )


def _key_row(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "algorithm": key.algorithm,
        "private_key_pem": key.private_key_pem,
        "public_jwk": json.dumps(key.public_jwk, sort_keys=True),
        "created_at": key.created_at,
        "activated_at": key.activated_at,
        "retire_at": key.retire_at,
    }


def _to_key(row: Row[Any]) -> SigningKey:
    return SigningKey(
        kid=row.kid,
        algorithm=row.algorithm,
        private_key_pem=row.private_key_pem,
        public_jwk=json.loads(row.public_jwk),
        created_at=row.created_at,
        activated_at=row.activated_at,
        retire_at=row.retire_at,
    )


def _attempts_row(attempts: LoginAttempts) -> dict[str, Any]:
    return {
        "account_key": attempts.account_key,
        "failures": attempts.failures,
        "window_start": attempts.window_start,
        "locked_until": attempts.locked_until,
    }


def _to_attempts(row: Row[Any]) -> LoginAttempts:
    return LoginAttempts(
        account_key=row.account_key,
        failures=row.failures,
        window_start=row.window_start,
        locked_until=row.locked_until,
    )
