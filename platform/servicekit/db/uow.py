"""The unit of work: one session per use case, committed only when the use case says so.

A service subclasses ``SqlAlchemyUnitOfWork`` to attach its repositories::

    class UserUnitOfWork(SqlAlchemyUnitOfWork):
        users: SqlAlchemyUserRepository

        def _open(self, session: Session) -> None:
            self.users = SqlAlchemyUserRepository(session)

    with uow:                       # in the use case
        uow.users.add(user)
        uow.commit()                # without this, everything is rolled back

A use case that only reads uses ``uow.reading()`` instead: no transaction, no session, one
round trip per statement (the subclass builds its repositories in ``_open_for_reading``,
on a ``Connection``).

Inside a served call (``servicekit.calls``), a unit of work is not opened once the call is
over, and ``commit()`` starts only while the call is live with time left to answer
(``CallScope.committing``): otherwise it raises the call's error and everything is
rolled back, so a caller that was told "failed" (its deadline passed, it went away, the
server gave up on it while stopping) was not written for.

Database failures leave the ``with`` block as ``servicekit.errors``, so the gRPC edge maps
them without knowing SQLAlchemy: a lost or refused connection, or no free connection in the
pool, is ``Unavailable`` (nothing was written: clients send such a call again); but a
connection lost *during* the commit is ``CommitOutcomeUnknown``, a ``DeadlineExceeded``
(gRPC's code for "may have completed"), since the database may have committed before the
line went down: the caller resends with the same request id to learn which; a statement
over its timeout is ``DeadlineExceeded``; a serialization failure or deadlock is
``Conflict`` (retry). Integrity errors are left alone:
the repository knows which unique violation means what (see ``is_unique_violation``).
"""

from __future__ import annotations

import copy
import sqlite3
from types import TracebackType
from typing import NoReturn, Self

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from servicekit.calls import current_call
from servicekit.db.database import Database
from servicekit.errors import Conflict, DeadlineExceeded, ServiceError, Unavailable

__all__ = [
    "CommitOutcomeUnknown",
    "SqlAlchemyUnitOfWork",
    "is_unique_violation",
    "translate_error",
]

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


class CommitOutcomeUnknown(DeadlineExceeded):
    """The connection was lost during the commit: written or not, nobody can tell here."""

    def __init__(self) -> None:
        super().__init__(
            "the database connection was lost during the commit: the change may or may not "
            "have been written; send the request again with the same request id"
        )


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

    ``read_only`` (or ``reading()`` of any unit of work) makes one for a use case that only
    reads: its statements run on a pooled connection outside any transaction
    (``Database.read_connection``), with no BEGIN, no ROLLBACK and no ORM session unless
    ``session`` is asked for. Each statement sees what was committed when it started, so
    a use case that needs several reads to agree, or writes, takes a transaction (a
    write there would be committed at once, statement by statement). It cannot commit.
    Subclasses attach their repositories to that connection in ``_open_for_reading``.
    """

    def __init__(self, database: Database, *, read_only: bool = False) -> None:
        self._database = database
        self._read_only = read_only
        self._session: Session | None = None
        self._connection: Connection | None = None

    @property
    def read_only(self) -> bool:
        """Whether this unit of work only reads, outside any transaction."""
        return self._read_only

    def reading(self) -> Self:
        """A closed unit of work like this one (same class, same database), read-only."""
        clone = copy.copy(self)
        clone._read_only = True
        clone._session = None
        clone._connection = None
        return clone

    @property
    def session(self) -> Session:
        """The open session; only inside ``with``. In a read-only unit of work, a session
        on its connection, made when first asked for."""
        if self._session is None:
            if self._connection is None:
                raise RuntimeError("the unit of work is not open: use it in a `with` block")
            self._session = Session(bind=self._connection)
        return self._session

    @property
    def connection(self) -> Connection:
        """The connection the statements run on; only inside ``with``. Outside a read-only
        unit of work it is the session's, in its transaction."""
        if self._connection is not None:
            return self._connection
        return self.session.connection()

    def __enter__(self) -> Self:
        if self._session is not None or self._connection is not None:
            raise RuntimeError("the unit of work is open already")
        scope = current_call()
        if scope is not None:
            scope.check()  # a call that is over starts no database work
        if not self._read_only:
            self._session = self._database.session()
            self._open(self._session)
            return self
        try:
            self._connection = self._database.read_connection()
        except SQLAlchemyError as exc:
            _raise_translated(exc)
        try:
            self._open_for_reading(self._connection)
        except BaseException:
            self._close()
            raise
        return self

    def _open(self, session: Session) -> None:
        """Hook for subclasses: build the repositories on ``session``."""

    def _open_for_reading(self, connection: Connection) -> None:
        """Hook for subclasses: build the repositories of a read-only unit of work on
        ``connection``. By default, ``_open`` on a session bound to it."""
        self._open(self.session)

    def commit(self) -> None:
        """Make the work done so far permanent; database failures come out translated."""
        if self._read_only:
            raise RuntimeError("a read-only unit of work has nothing to commit")
        scope = current_call()
        try:
            self.session.flush()  # pending ORM changes: a failure here wrote nothing
        except SQLAlchemyError as exc:
            _raise_translated(exc)
        try:
            if scope is None:
                self.session.commit()
            else:
                with scope.committing():
                    self.session.commit()
        except SQLAlchemyError as exc:
            translated = translate_error(exc)
            if isinstance(translated, Unavailable):
                raise CommitOutcomeUnknown from exc
            _raise_translated(exc)

    def rollback(self) -> None:
        """Drop the work done since the last commit (a read-only one has none)."""
        if not self._read_only:
            self.session.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is None and self._connection is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        self._close()  # rolls back whatever was not committed; returns the connection
        translated = translate_error(exc) if exc is not None else None
        if translated is not None:
            raise translated from exc

    def _close(self) -> None:
        session, self._session = self._session, None
        connection, self._connection = self._connection, None
        try:
            if session is not None:
                session.close()
        finally:
            if connection is not None:
                connection.close()


def _raise_translated(exc: SQLAlchemyError) -> NoReturn:
    translated = translate_error(exc)
    if translated is None:
        raise exc
    raise translated from exc
