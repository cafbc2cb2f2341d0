"""The unit of work: one session per use case, committed only when the use case says so.

A service subclasses ``SqlAlchemyUnitOfWork`` to attach its repositories::

    class UserUnitOfWork(SqlAlchemyUnitOfWork):
        users: SqlAlchemyUserRepository

        def _open(self, session: Session) -> None:
            self.users = SqlAlchemyUserRepository(session)

    with uow:                       # in the use case
        uow.users.add(user)
        uow.commit()                # without this, everything is rolled back

Database failures leave the ``with`` block as ``servicekit.errors``, so the gRPC edge maps
them without knowing SQLAlchemy: a lost or refused connection, or no free connection in the
pool, is ``Unavailable``; a statement over its timeout is ``DeadlineExceeded``; a
serialization failure or deadlock is ``Conflict`` (retry). Integrity errors are left alone:
the repository knows which unique violation means what (see ``is_unique_violation``).
"""

from __future__ import annotations

import sqlite3
from types import TracebackType
from typing import Self

from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from servicekit.db.engine import Database
from servicekit.errors import Conflict, DeadlineExceeded, ServiceError, Unavailable

__all__ = ["SqlAlchemyUnitOfWork", "is_unique_violation", "translate_error"]

UNAVAILABLE = "database unavailable"

# PostgreSQL SQLSTATE classes and codes (https://www.postgresql.org/docs/current/errcodes-appendix.html)
_UNAVAILABLE_CLASSES = ("08", "53", "57P")  # connection, resources, operator intervention
_QUERY_CANCELED = "57014"  # statement_timeout (also a cancel request)
_RETRYABLE = ("40001", "40P01")  # serialization failure, deadlock detected
_UNIQUE_VIOLATION = "23505"
# SQLite primary result codes (the low byte of the extended code).
_SQLITE_UNAVAILABLE = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
)
_SQLITE_UNIQUE = frozenset({sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY})


def translate_error(exc: BaseException) -> ServiceError | None:
    """The ``servicekit.errors`` error that ``exc`` (a SQLAlchemy error) stands for, if any."""
    if isinstance(exc, PoolTimeoutError):
        return Unavailable(UNAVAILABLE)
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:
        return Unavailable(UNAVAILABLE)
    if isinstance(exc.orig, sqlite3.Error):
        code = getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF
        return Unavailable(UNAVAILABLE) if code in _SQLITE_UNAVAILABLE else None
    return _postgresql_error(exc)


def _postgresql_error(exc: DBAPIError) -> ServiceError | None:
    sqlstate: str | None = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:  # psycopg's own errors: refused, lost, connect timeout
        return Unavailable(UNAVAILABLE) if isinstance(exc, OperationalError) else None
    if sqlstate == _QUERY_CANCELED:
        return DeadlineExceeded("the database did not answer in time")
    if sqlstate in _RETRYABLE:
        return Conflict("a concurrent change got in the way; retry")
    if sqlstate.startswith(_UNAVAILABLE_CLASSES):
        return Unavailable(UNAVAILABLE)
    return None


def is_unique_violation(exc: BaseException, constraint_name: str | None = None) -> bool:
    """Whether ``exc`` is a unique (or primary key) violation, of ``constraint_name`` if given.

    PostgreSQL names the constraint (SQLSTATE 23505). SQLite does not: it reports
    ``UNIQUE constraint failed: users.email``, so the name matches when it is one that the
    usual conventions give those columns: ``uq_users_email`` (SQLAlchemy naming convention,
    ``column_0_name`` or ``column_0_N_name``), ``users_email_key`` (PostgreSQL's default),
    ``ix_users_email`` (a unique index), ``pk_users``/``users_pkey`` (primary key), or one of
    these followed by ``_`` and a suffix (``uq_users_email_live`` for a partial index). A
    unique index on an expression is reported by name on both.
    """
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.IntegrityError):
        return _sqlite_unique_violation(orig, constraint_name)
    if getattr(orig, "sqlstate", None) != _UNIQUE_VIOLATION:
        return False
    if constraint_name is None:
        return True
    diag = getattr(orig, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint_name


def _sqlite_unique_violation(error: sqlite3.IntegrityError, constraint_name: str | None) -> bool:
    code = getattr(error, "sqlite_errorcode", 0)
    if code not in _SQLITE_UNIQUE:
        return False
    if constraint_name is None:
        return True
    detail = str(error).partition(": ")[2]
    if detail.startswith("index '"):  # a unique index on an expression
        return detail.removeprefix("index '").removesuffix("'") == constraint_name
    columns = [part.strip().partition(".") for part in detail.split(",")]
    table = columns[0][0]
    names = [column for _, _, column in columns]
    if code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
        return constraint_name in (f"pk_{table}", f"{table}_pkey")
    joined = "_".join(names)
    exact = {f"uq_{table}_{joined}", f"uq_{table}_{names[0]}", f"{table}_{joined}_key"}
    exact |= {f"ix_{table}_{joined}", f"ix_{table}_{names[0]}"}
    return constraint_name in exact or any(constraint_name.startswith(f"{n}_") for n in exact)


class SqlAlchemyUnitOfWork:
    """One session for one use case; rollback unless ``commit()`` is called.

    Subclasses attach repositories in ``_open``. An instance may be entered again after
    it is left (a new session each time), but not while it is open.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The open session; only inside ``with``."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._session

    def __enter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("the unit of work is open already")
        self._session = self._database.session()
        self._open(self._session)
        return self

    def _open(self, session: Session) -> None:
        """Hook for subclasses: build the repositories on ``session``."""

    def commit(self) -> None:
        """Make the work done so far permanent; database failures come out translated."""
        try:
            self.session.commit()
        except SQLAlchemyError as exc:
            translated = translate_error(exc)
            if translated is None:
                raise
            raise translated from exc

    def rollback(self) -> None:
        """Drop the work done since the last commit."""
        self.session.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session = self.session, None
        session.close()  # rolls back whatever was not committed; returns the connection
        translated = translate_error(exc) if exc is not None else None
        if translated is not None:
            raise translated from exc
