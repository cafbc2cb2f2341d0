"""Units of work of the User Service: one transaction, one ``users`` repository.

A use case opens one (``with uow:``), works through ``uow.users`` and calls ``commit()``;
leaving the block without committing rolls back. A use case that only reads, in one
statement, opens ``uow.reading()`` instead: no transaction, no commit. The service takes
a factory, because a unit of work holds one session and calls run on many threads.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from servicekit.db import SqlAlchemyUnitOfWork
from services.user.domain import User
from services.user.fakes import FakeUserRepository
from services.user.repository import SqlAlchemyUserRepository, UserRepository

__all__ = ["FakeUserUnitOfWork", "SqlAlchemyUserUnitOfWork", "UserUnitOfWork"]


class UserUnitOfWork(Protocol):
    """What the use cases need of a unit of work."""

    @property
    def users(self) -> UserRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def reading(self) -> UserUnitOfWork:
        """A unit of work on the same users for reads only: no transaction, no commit."""
        ...


class SqlAlchemyUserUnitOfWork(SqlAlchemyUnitOfWork):
    """A database transaction (servicekit.db) with the SQLAlchemy users repository;
    ``reading()``: the repository on a connection outside any transaction."""

    users: UserRepository

    def _open(self, session: Session) -> None:
        self.users = SqlAlchemyUserRepository(session)

    def _open_for_reading(self, connection: Connection) -> None:
        self.users = SqlAlchemyUserRepository(connection)


class FakeUserUnitOfWork:
    """A transaction over a :class:`FakeUserRepository`: rollback restores the snapshot
    taken on entry, so tests see exactly what a failed use case left behind.

    ``reading()`` gives one on the same repository that refuses to commit, as the real
    read-only unit of work does.
    """

    def __init__(self, users: FakeUserRepository | None = None, *, read_only: bool = False) -> None:
        self.users: FakeUserRepository = users if users is not None else FakeUserRepository()
        self.read_only = read_only
        self.commits = 0
        self._snapshot: dict[str, User] | None = None

    def reading(self) -> FakeUserUnitOfWork:
        return FakeUserUnitOfWork(self.users, read_only=True)

    def __enter__(self) -> Self:
        self._snapshot = dict(self.users.rows)
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
        if self.read_only:
            raise RuntimeError("a read-only unit of work has nothing to commit")
        self.commits += 1
        self._snapshot = dict(self.users.rows)

    def rollback(self) -> None:
        if self._snapshot is not None:
            self.users.rows = dict(self._snapshot)
