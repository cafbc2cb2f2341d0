"""The User Service's unit of work: one transaction, one ``users`` repository.

A use case opens one (``with uow:``), works through ``uow.users`` and calls ``commit()``;
leaving the block without committing rolls back. A use case that only reads, in one
statement, opens ``uow.reading()`` instead: no transaction, no commit. The service takes
a factory, because a unit of work holds one session and calls run on many threads.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from servicekit.db import SqlAlchemyUnitOfWork, UnitOfWork
from services.user.repository import SqlAlchemyUserRepository, UserRepository

__all__ = ["SqlAlchemyUserUnitOfWork", "UserUnitOfWork"]


class UserUnitOfWork(UnitOfWork, Protocol):
    """What the use cases need of a unit of work: servicekit's, with the users in it."""

    @property
    def users(self) -> UserRepository: ...


class SqlAlchemyUserUnitOfWork(SqlAlchemyUnitOfWork):
    """A database transaction (servicekit.db) with the SQLAlchemy users repository;
    ``reading()``: the repository on a connection outside any transaction."""

    users: UserRepository

    def _open(self, session: Session) -> None:
        self.users = SqlAlchemyUserRepository(session)

    def _open_for_reading(self, connection: Connection) -> None:
        self.users = SqlAlchemyUserRepository(connection)
