"""Throw-away databases for integration tests, on PostgreSQL and on SQLite.

``temporary_database`` gives a test (or a test module) a fresh, empty database and drops
it afterwards; ``rolled_back_session`` isolates each test inside one database by rolling
back an outer transaction, whatever the code under test commits, and
``SessionUnitOfWork`` hands that session to use cases as their unit of work.

The PostgreSQL server is the one of ``TEST_POSTGRES_URL`` when it is set (a developer's
own server or container); otherwise ``postgres_server_url`` starts one of the project's own
(``servicekit.testing.postgres``) on first use, for the rest of the process, and stops it
when the process ends. The tests only create and drop their own databases on it.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Literal, Self
from uuid import uuid4

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from servicekit.db.engine import EngineOptions, build_engine, database_url
from servicekit.db.migrations import upgrade
from servicekit.testing.postgres import LocalPostgres, PostgresUnavailable

__all__ = [
    "DatabaseKind",
    "MigratedDatabases",
    "SessionUnitOfWork",
    "application_tables",
    "postgres_server_url",
    "rolled_back_session",
    "temporary_database",
]

DatabaseKind = Literal["postgresql", "sqlite"]


class _ProcessServer:
    """The server this process started for its tests: started once, on first use; a
    failure to start is remembered too, so that every later test says why at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: LocalPostgres | None = None
        self._failure: PostgresUnavailable | None = None

    def url(self) -> str:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._server is None:
                try:
                    self._server = LocalPostgres().start()
                except PostgresUnavailable as exc:
                    self._failure = exc
                    raise
                atexit.register(self._server.stop)
            return self._server.url


_PROCESS_SERVER = _ProcessServer()


def postgres_server_url() -> str:
    """``TEST_POSTGRES_URL``, or the URL of the server this process started for its tests.

    Raises ``PostgresUnavailable`` (saying why) when there is none and none can start.
    """
    return os.environ.get("TEST_POSTGRES_URL") or _PROCESS_SERVER.url()


@contextmanager
def temporary_database(kind: DatabaseKind, directory: Path) -> Iterator[str]:
    """Yield the SQLAlchemy URL of a new, empty database; drop it afterwards.

    PostgreSQL: a database with a unique name on ``postgres_server_url()``'s server, dropped
    ``WITH (FORCE)`` even if connections are left open. SQLite: a file in ``directory``.
    """
    if kind == "postgresql":
        with _postgresql_database() as url:
            yield url
    elif kind == "sqlite":
        path = directory / f"test-{uuid4().hex[:12]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
    else:
        raise ValueError(f"unknown database kind {kind!r}: 'postgresql' or 'sqlite'")


@contextmanager
def _postgresql_database() -> Iterator[str]:
    server = database_url(postgres_server_url())
    name = f"test_{uuid4().hex[:16]}"
    engine = build_engine(server, EngineOptions(pool_size=None))
    # CREATE and DROP DATABASE cannot run inside a transaction.
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


def application_tables(engine: Engine) -> set[str]:
    """The tables of the database ``engine`` is on, but for alembic's version table."""
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


@contextmanager
def rolled_back_session(engine: Engine) -> Iterator[Session]:
    """A session whose every commit is undone at the end of the ``with`` block.

    The session runs on one connection inside an outer transaction; its own commits and
    rollbacks become savepoints (``join_transaction_mode="create_savepoint"``), and the
    outer transaction is rolled back at the end, so tests that commit stay isolated.
    """
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


class MigratedDatabases:
    """One migrated database per backend, made on first use, shared by a whole test run.

    ``engine_for(kind)`` returns an engine on it; ``close()`` (or leaving ``with``) disposes
    the engines and drops the databases. Tests isolate themselves with
    ``rolled_back_session``.
    """

    def __init__(self, migrations: Path, directory: Callable[[str], Path]) -> None:
        self._migrations = migrations
        self._directory = directory
        self._engines: dict[str, Engine] = {}
        self._stack = ExitStack()

    def engine_for(self, kind: DatabaseKind) -> Engine:
        if kind not in self._engines:
            url = self._stack.enter_context(temporary_database(kind, self._directory(kind)))
            upgrade(url, self._migrations)
            engine = build_engine(url, EngineOptions(pool_size=4))
            self._stack.callback(engine.dispose)
            self._engines[kind] = engine
        return self._engines[kind]

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SessionUnitOfWork:
    """A use case's unit of work on a test's session (``rolled_back_session``).

    Its commits and rollbacks become savepoints of the test's outer transaction, so use
    cases run unchanged and the test still sees (and then loses) what they wrote. Leaving
    ``with`` without ``commit()`` rolls back, as the real unit of work does. ``reading()``
    shares the same session: the test's isolation is the point. Subclasses attach their
    repositories to the session in ``_open``.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._committed = False
        self._open(session)

    def _open(self, session: Session) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.rollback()

    def commit(self) -> None:
        self._session.commit()
        self._committed = True

    def rollback(self) -> None:
        self._session.rollback()

    def reading(self) -> Self:
        return self
