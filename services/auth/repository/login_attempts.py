"""The sign-in counters of the login throttle, one row per account key.

A row is locked (``SELECT ... FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` serialises
writers anyway) before it is counted, so concurrent sign-ins count one after another.
"""

from __future__ import annotations

import abc
from datetime import datetime

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from servicekit.db import is_unique_violation
from services.auth.attempts import LoginAttempts
from services.auth.models import login_attempts
from services.auth.repository._rows import rowcount, to_entity, to_values

__all__ = ["LoginAttemptRepository", "SqlAlchemyLoginAttemptRepository"]

_LOCK_TRIES = 3


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
                    self._session.execute(insert(login_attempts).values(**to_values(fresh)))
            except IntegrityError as exc:
                if not is_unique_violation(exc):
                    raise
                continue  # a concurrent sign-in created it first: lock that row
            return fresh  # the inserted row is this transaction's until it ends
        raise RuntimeError("the login attempts row keeps vanishing")  # pragma: no cover

    def save(self, attempts: LoginAttempts) -> None:
        row = to_values(attempts)
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
        return rowcount(self._session.execute(statement))

    def _locked(self, account_key: str) -> LoginAttempts | None:
        statement = (
            select(login_attempts)
            .where(login_attempts.c.account_key == account_key)
            .with_for_update()
        )
        row = self._session.execute(statement).first()
        return None if row is None else to_entity(LoginAttempts, row)
