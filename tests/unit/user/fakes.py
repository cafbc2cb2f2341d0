"""The User Service's test doubles: the in-memory users repository, with the rules of the
database, and the unit of work over it.

The repository passes the same contract tests as the SQLAlchemy one
(``tests/integration/user/test_user_repository_contract.py``): unique live email keys,
soft-deleted users invisible to every read, and versions checked on every write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from servicekit.testing.unit_of_work import InMemoryRepository, InMemoryUnitOfWork
from services.user.domain import EmailTaken, RequestIdTaken, StaleEtag, User, UserNotFound
from services.user.pagination import Position, UserFilter
from services.user.repository import UserRepository

__all__ = ["FakeUserRepository", "FakeUserUnitOfWork"]


class FakeUserRepository(UserRepository):
    """Users in a dict, with the same rules as the database (unique live email keys)."""

    def __init__(self, users_: Iterable[User] = ()) -> None:
        self.rows: dict[str, User] = {user.id: user for user in users_}

    def add(self, user: User) -> None:
        if user.id in self.rows:
            raise ValueError(f"duplicate id {user.id}")
        self._check_email_free(user)
        if user.request_id is not None and self.get_by_request_id(user.request_id) is not None:
            raise RequestIdTaken
        self.rows[user.id] = user

    def get(self, user_id: str) -> User | None:
        user = self.rows.get(user_id)
        return user if user is not None and user.delete_time is None else None

    def get_by_email_key(self, email_key: str) -> User | None:
        return next((u for u in self._live() if u.email_key == email_key), None)

    def get_by_request_id(self, request_id: str) -> User | None:
        return next((u for u in self.rows.values() if u.request_id == request_id), None)

    def list_page(self, filter_: UserFilter, *, after: Position | None, limit: int) -> list[User]:
        chosen = sorted(
            (u for u in self._live() if _matches(u, filter_, after)),
            key=lambda u: (u.create_time, u.id),
        )
        return chosen[:limit]

    def update(self, user: User, *, expected_version: int) -> None:
        self._current(user.id, expected_version)
        self._check_email_free(user)
        self.rows[user.id] = user

    def soft_delete(self, user_id: str, *, expected_version: int | None, when: datetime) -> None:
        user = self._current(user_id, expected_version)
        self.rows[user_id] = dataclasses.replace(user, delete_time=when, version=user.version + 1)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        user = self.rows[user_id]
        self.rows[user_id] = dataclasses.replace(user, password_hash=password_hash)

    def _live(self) -> list[User]:
        return [user for user in self.rows.values() if user.delete_time is None]

    def _current(self, user_id: str, expected_version: int | None) -> User:
        user = self.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        if expected_version is not None and user.version != expected_version:
            raise StaleEtag
        return user

    def _check_email_free(self, user: User) -> None:
        holder = self.get_by_email_key(user.email_key)
        if holder is not None and holder.id != user.id:
            raise EmailTaken


def _matches(user: User, filter_: UserFilter, after: Position | None) -> bool:
    if filter_.email_key is not None and user.email_key != filter_.email_key:
        return False
    if filter_.role is not None and filter_.role not in user.roles:
        return False
    return after is None or (user.create_time, user.id) > (after.create_time, after.id)


class FakeUserUnitOfWork(InMemoryUnitOfWork):
    """A transaction over a :class:`FakeUserRepository` (servicekit.testing): rollback
    restores the users as they were on entry; ``reading()`` refuses to commit."""

    def __init__(self, users: FakeUserRepository | None = None) -> None:
        super().__init__()
        self.users = users if users is not None else FakeUserRepository()

    def repositories(self) -> list[InMemoryRepository]:
        return [self.users]
