"""servicekit.db.Database: settings, SQLite set-up, and every wait bounded by a timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from servicekit.config import Secret
from servicekit.db import Database, DatabaseSettings, SqlAlchemyUnitOfWork
from servicekit.db.engine import EngineOptions, build_engine
from servicekit.errors import DeadlineExceeded, Unavailable
from servicekit.testing.proxy import TcpProxy

OpenDatabase = Callable[..., Database]


def select_one(database: Database) -> int:
    with SqlAlchemyUnitOfWork(database) as uow:
        value: int = uow.session.execute(text("SELECT 1")).scalar_one()
        return value


def select_twice_cutting_between(database: Database, proxy: TcpProxy) -> None:
    """The connection is dropped in the middle of a transaction."""
    with SqlAlchemyUnitOfWork(database) as uow:
        uow.session.execute(text("SELECT 1"))
        proxy.cut()
        uow.session.execute(text("SELECT 1"))


def test_a_plain_postgresql_url_is_served_by_psycopg_and_logged_without_password() -> None:
    settings = DatabaseSettings(url=Secret("postgresql://app:s3cret@db.internal:5432/users"))
    database = Database(settings, pool_size=4)

    assert database.engine.dialect.driver == "psycopg"
    assert database.url == "postgresql+psycopg://app:***@db.internal:5432/users"
    assert "s3cret" not in repr(database)
    database.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://app@db/users", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://app:s3cret@db/users", "unsupported database"),
        ("not a url", "cannot be parsed"),
    ],
)
def test_settings_refuse_a_database_that_is_not_supported(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        DatabaseSettings(url=Secret(url))
    assert "s3cret" not in str(raised.value)


def test_the_settings_pool_size_wins_over_the_thread_pool_size(tmp_path: Path) -> None:
    settings = DatabaseSettings(url=Secret(f"sqlite:///{tmp_path}/a.db"), pool_size=3)
    database = Database(settings, pool_size=16)

    pool = database.engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.size() == 3
    database.dispose()


def test_sqlite_creates_its_folder_and_runs_in_wal_mode_with_foreign_keys(
    tmp_path: Path, open_database: OpenDatabase
) -> None:
    path = tmp_path / "var" / "data" / "user.db"
    database = open_database(f"sqlite:///{path}")

    with SqlAlchemyUnitOfWork(database) as uow:
        journal = uow.session.execute(text("PRAGMA journal_mode")).scalar_one()
        foreign_keys = uow.session.execute(text("PRAGMA foreign_keys")).scalar_one()
        busy = uow.session.execute(text("PRAGMA busy_timeout")).scalar_one()

    assert path.is_file()
    assert (journal, foreign_keys, busy) == ("wal", 1, 5000)
    assert database.ping()


@contextmanager
def writing_for(path: Path, seconds: float) -> Iterator[None]:
    """Another process's connection holds the write lock of a new rollback-journal database
    (as a replica making it does) for ``seconds``, then lets go."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE made_first (id INTEGER PRIMARY KEY)")
    release = threading.Timer(seconds, holder.commit)
    release.start()
    try:
        yield
    finally:
        release.cancel()
        release.join()
        holder.close()


def test_a_new_sqlite_database_being_written_is_switched_to_wal_once_it_is_free(
    tmp_path: Path,
) -> None:
    # SQLite fails the switch to WAL at once while another connection writes, whatever
    # the busy timeout: replicas opening a new database together failed at random.
    path = tmp_path / "new.db"
    engine = build_engine(f"sqlite:///{path}", EngineOptions(pool_size=None))
    try:
        with writing_for(path, 0.3), engine.connect() as connection:
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
            tables = connection.exec_driver_sql("SELECT name FROM sqlite_master").scalars()
            assert (journal, list(tables)) == ("wal", ["made_first"])
    finally:
        engine.dispose()


def test_a_new_sqlite_database_written_past_the_busy_timeout_is_unavailable_then(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new.db"
    options = EngineOptions(pool_size=None, statement_timeout_ms=300)
    engine = build_engine(f"sqlite:///{path}", options)
    try:
        with writing_for(path, 30):
            started = time.monotonic()
            with pytest.raises(DBAPIError, match="locked") as raised:
                engine.connect()
            waited = time.monotonic() - started
    finally:
        engine.dispose()

    assert isinstance(raised.value.orig, sqlite3.OperationalError)
    assert 0.3 <= waited < 10  # the busy timeout asked for, not the holder's 30 s


def test_an_sqlite_file_that_cannot_be_opened_is_unavailable(
    tmp_path: Path, open_database: OpenDatabase
) -> None:
    (tmp_path / "a-folder").mkdir()
    database = open_database(f"sqlite:///{tmp_path / 'a-folder'}")

    assert not database.ping()
    with pytest.raises(Unavailable) as raised:
        select_one(database)
    cause = raised.value.__cause__
    assert isinstance(cause, DBAPIError)
    assert isinstance(cause.orig, sqlite3.OperationalError)


def test_waiting_longer_than_the_pool_timeout_is_unavailable(
    empty_database_url: str, open_database: OpenDatabase
) -> None:
    database = open_database(empty_database_url, pool_size=1, pool_timeout_seconds=0.2)
    pool = database.engine.pool
    assert isinstance(pool, QueuePool)
    with SqlAlchemyUnitOfWork(database) as holder:
        holder.session.execute(text("SELECT 1"))
        started = time.monotonic()
        with pytest.raises(Unavailable, match="database unavailable"):
            select_one(database)
        # The holder never lets go: only the pool's timeout ends the wait, and it is the
        # 0.2 s asked for, not SQLAlchemy's 30 s nor the fixture's 1 s.
        assert time.monotonic() - started < 10
        assert pool.timeout() == 0.2
        assert database.ping()  # a busy pool is not an unhealthy database
    assert select_one(database) == 1


def test_a_statement_over_the_timeout_is_deadline_exceeded(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    database = open_database(postgresql_url, statement_timeout_ms=200)

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded), SqlAlchemyUnitOfWork(database) as uow:
        uow.session.execute(text("SELECT pg_sleep(30)"))

    assert time.monotonic() - started < 10  # cut short by the timeout, not slept out
    assert select_one(database) == 1  # the connection is still good
    with SqlAlchemyUnitOfWork(database) as uow:
        assert uow.session.execute(text("SHOW statement_timeout")).scalar_one() == "200ms"


@contextmanager
def waiting_30_seconds(url: str) -> Iterator[Database]:
    """A Database (2 connections) that would wait 30 s to connect, for the network to
    acknowledge a write, or for a pooled connection: a failure sooner than 10 s waited on
    none of them."""
    settings = DatabaseSettings(
        url=Secret(url),
        pool_timeout_seconds=30.0,
        connect_timeout_seconds=30.0,
        ping_after_idle_seconds=60.0,
    )
    database = Database(settings, pool_size=2)
    try:
        yield database
    finally:
        database.dispose()


def test_a_lost_database_is_unavailable_at_once_and_comes_back_without_restart(
    postgresql_url: str,
) -> None:
    with TcpProxy.to_database(postgresql_url) as proxy:
        url = make_url(postgresql_url).set(host="127.0.0.1", port=proxy.port)
        with waiting_30_seconds(url.render_as_string(hide_password=False)) as database:
            assert select_one(database) == 1  # a live connection waits in the pool

            started = time.monotonic()
            with pytest.raises(Unavailable, match="database unavailable"):
                select_twice_cutting_between(database, proxy)
            with pytest.raises(Unavailable, match="database unavailable"):
                select_one(database)  # no new connection can be made
            assert not database.ping()
            assert time.monotonic() - started < 10

            proxy.restore()
            assert database.ping()
            assert select_one(database) == 1


def hold_two_connections(database: Database) -> None:
    """Two connections in use at once: both wait in the pool afterwards."""
    with SqlAlchemyUnitOfWork(database) as first, SqlAlchemyUnitOfWork(database) as second:
        first.session.execute(text("SELECT 1"))
        second.session.execute(text("SELECT 1"))


def test_a_connection_that_died_while_idle_is_replaced_before_use(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    with TcpProxy.to_database(postgresql_url) as proxy:
        url = make_url(postgresql_url).set(host="127.0.0.1", port=proxy.port)
        database = open_database(
            url.render_as_string(hide_password=False), pool_size=2, ping_after_idle_seconds=0.2
        )
        hold_two_connections(database)

        proxy.cut()  # as a database restart does to the connections it had
        proxy.restore()
        time.sleep(0.3)

        assert select_one(database) == 1
        hold_two_connections(database)


def test_a_lost_connection_renews_the_whole_pool_so_only_the_call_on_it_fails(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    with TcpProxy.to_database(postgresql_url) as proxy:
        url = make_url(postgresql_url).set(host="127.0.0.1", port=proxy.port)
        database = open_database(url.render_as_string(hide_password=False), pool_size=2)
        hold_two_connections(database)  # used a moment ago: not pinged

        proxy.cut()
        proxy.restore()

        with pytest.raises(Unavailable, match="database unavailable"):
            select_one(database)
        assert select_one(database) == 1
        hold_two_connections(database)


def test_a_database_down_at_checkout_of_an_idle_connection_is_unavailable(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    with TcpProxy.to_database(postgresql_url) as proxy:
        url = make_url(postgresql_url).set(host="127.0.0.1", port=proxy.port)
        database = open_database(
            url.render_as_string(hide_password=False), pool_size=1, ping_after_idle_seconds=0.1
        )
        assert select_one(database) == 1
        proxy.cut()
        time.sleep(0.2)

        with pytest.raises(Unavailable, match="database unavailable"):
            select_one(database)
        proxy.restore()
        assert select_one(database) == 1


def test_settings_refuse_a_negative_idle_ping_time() -> None:
    with pytest.raises(ValueError, match="ping_after_idle_seconds"):
        DatabaseSettings(url=Secret("sqlite:///x.db"), ping_after_idle_seconds=-1)
