"""Reading without a transaction: read-only units of work and compiled selects, on both
backends, with the failures a service maps to gRPC statuses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InvalidRequestError

from servicekit.db import CompiledSelect, Database, SqlAlchemyUnitOfWork
from servicekit.db.schema import UtcDateTime
from servicekit.errors import DeadlineExceeded, Unavailable
from servicekit.testing.proxy import TcpProxy

OpenDatabase = Callable[..., Database]


metadata = MetaData()
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("at", UtcDateTime, nullable=True),
)
T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
BY_NAME = CompiledSelect(
    select(events).where(events.c.name == bindparam("name")).order_by(events.c.id)
)


@pytest.fixture
def database(empty_database_url: str, open_database: OpenDatabase) -> Database:
    """A Database holding three events, committed."""
    opened = open_database(empty_database_url)
    metadata.create_all(opened.engine)
    with opened.engine.begin() as connection:
        connection.execute(
            insert(events),
            [
                {"id": 1, "name": "deploy", "at": T0},
                {"id": 2, "name": "deploy", "at": None},
                {"id": 3, "name": "rollback", "at": T0 + timedelta(hours=1)},
            ],
        )
    return opened


def in_transaction(connection: Connection) -> bool:
    """Whether the driver's connection is inside a database transaction now."""
    driver: Any = connection.connection.driver_connection
    if connection.dialect.name == "sqlite":
        return bool(driver.in_transaction)
    return str(driver.info.transaction_status.name) != "IDLE"


def test_a_compiled_select_reads_what_execute_reads_typed_the_same(database: Database) -> None:
    with database.engine.connect() as connection:
        expected = connection.execute(BY_NAME.statement, {"name": "deploy"}).all()
        rows = BY_NAME.all(connection, {"name": "deploy"})
        first = BY_NAME.first(connection, {"name": "rollback"})
        none = BY_NAME.first(connection, {"name": "nothing"})

    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    assert [(row.id, row.name, row.at) for row in rows] == [(1, "deploy", T0), (2, "deploy", None)]
    assert rows[0].at.tzinfo is UTC
    assert first is not None
    assert first.at == T0 + timedelta(hours=1)
    assert none is None


def test_a_compiled_select_needs_every_parameter(database: Database) -> None:
    with database.engine.connect() as connection, pytest.raises(InvalidRequestError, match="name"):
        BY_NAME.first(connection, {})


def test_a_select_rendered_at_execution_time_is_refused(database: Database) -> None:
    expanding = CompiledSelect(
        select(events).where(events.c.id.in_(bindparam("ids", expanding=True)))
    )

    with database.engine.connect() as connection, pytest.raises(ValueError, match="execute"):
        expanding.all(connection, {"ids": [1, 2]})


def test_a_read_only_unit_of_work_reads_outside_any_transaction(database: Database) -> None:
    with SqlAlchemyUnitOfWork(database).reading() as uow:
        rows = BY_NAME.all(uow.connection, {"name": "deploy"})
        count = uow.connection.execute(select(func.count()).select_from(events)).scalar_one()
        left_open = in_transaction(uow.connection)

    assert len(rows) == 2
    assert count == 3
    assert not left_open


def test_a_read_only_unit_of_work_does_not_hold_back_writers(database: Database) -> None:
    """A reader that takes its time holds no lock (SQLite's write lock included)."""
    written = threading.Event()

    def write() -> None:
        with SqlAlchemyUnitOfWork(database) as uow:
            uow.session.execute(insert(events).values(id=4, name="deploy"))
            uow.commit()
        written.set()

    with SqlAlchemyUnitOfWork(database).reading() as uow:
        before = len(BY_NAME.all(uow.connection, {"name": "deploy"}))
        writer = threading.Thread(target=write)
        writer.start()
        finished_while_reading = written.wait(3.0)
        after = len(BY_NAME.all(uow.connection, {"name": "deploy"}))
    writer.join()

    assert finished_while_reading
    assert (before, after) == (2, 3)  # each statement sees what was committed before it


def test_a_read_only_unit_of_work_refuses_to_commit(database: Database) -> None:
    uow = SqlAlchemyUnitOfWork(database)
    reader = uow.reading()

    with reader, pytest.raises(RuntimeError, match="nothing to commit"):
        reader.commit()
    assert reader.read_only
    assert not uow.read_only


def test_a_read_only_unit_of_work_opens_a_session_on_its_connection_when_asked(
    database: Database,
) -> None:
    class EventUnitOfWork(SqlAlchemyUnitOfWork):
        def _open(self, session: object) -> None:
            self.seen = session

    with EventUnitOfWork(database).reading() as uow:
        names = uow.session.scalars(select(events.c.name).order_by(events.c.id)).all()

        assert uow.seen is uow.session
        assert uow.session.connection() is uow.connection
    assert names == ["deploy", "deploy", "rollback"]


def test_a_read_only_unit_of_work_without_a_database_is_unavailable(
    tmp_path: Any, open_database: OpenDatabase
) -> None:
    (tmp_path / "a-folder").mkdir()
    database = open_database(f"sqlite:///{tmp_path / 'a-folder'}")

    with pytest.raises(Unavailable) as raised, SqlAlchemyUnitOfWork(database).reading() as uow:
        uow.connection.execute(text("SELECT 1"))
    assert isinstance(raised.value.__cause__, DBAPIError)


def test_a_compiled_select_over_the_statement_timeout_is_deadline_exceeded(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    database = open_database(postgresql_url, statement_timeout_ms=200)
    slow = CompiledSelect(select(func.pg_sleep(bindparam("seconds"))))

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded), SqlAlchemyUnitOfWork(database).reading() as uow:
        slow.first(uow.connection, {"seconds": 30})

    assert time.monotonic() - started < 10  # cut short by the timeout, not slept out
    with SqlAlchemyUnitOfWork(database).reading() as uow:
        assert slow.first(uow.connection, {"seconds": 0}) is not None
        timeout = uow.connection.exec_driver_sql("SHOW statement_timeout").scalar_one()
    assert timeout == "200ms"


def test_a_connection_lost_under_a_compiled_select_is_unavailable_then_heals(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    one = CompiledSelect(select(func.abs(bindparam("n", type_=Integer))))
    with TcpProxy.to_database(postgresql_url) as proxy:
        url = make_url(postgresql_url).set(host="127.0.0.1", port=proxy.port)
        database = open_database(url.render_as_string(hide_password=False), pool_size=2)

        def read() -> Any:
            with SqlAlchemyUnitOfWork(database).reading() as uow:
                return one.first(uow.connection, {"n": -1})

        assert read() == (1,)
        proxy.cut()
        proxy.restore()  # the pooled connection is dead, the database is back
        with pytest.raises(Unavailable, match="database unavailable"):
            read()
        assert read() == (1,)
