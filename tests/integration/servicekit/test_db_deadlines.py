"""A database that stops answering holds a call no longer than the call's own deadline.

PostgreSQL sits behind a ``TcpProxy`` that the test freezes (connections up, nothing
answered) or slows down; the shared server itself is never touched. The bounds are the
client's (``servicekit.db.guards``): a frozen server answers no ``statement_timeout``.
A test bounds no duration under 5 s: it asserts that the work returned at all while the
freeze still held, which it never would without the bound.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from servicekit.calls import CANCELLED, call_scope
from servicekit.db import Database, SqlAlchemyUnitOfWork
from servicekit.db.uow import CommitOutcomeUnknown
from servicekit.errors import Cancelled, DeadlineExceeded, ServiceError
from servicekit.testing.proxy import TcpProxy
from tests.integration.servicekit.conftest import OpenDatabase

FREEZE_HOLDS_FOR = 10.0  # seconds a frozen call may take before the test calls it stuck


@dataclass
class Outcome:
    """What a piece of work in a thread of its own did: ``finished`` in time, and how."""

    thread: threading.Thread
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def finished(self, within: float = FREEZE_HOLDS_FOR) -> bool:
        return self.done.wait(within)


def in_thread(work: Callable[[], object]) -> Outcome:
    outcome = Outcome(threading.Thread(target=lambda: None))

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the test to judge
            outcome.error = exc
        finally:
            outcome.done.set()

    outcome.thread = threading.Thread(target=run, daemon=True)
    outcome.thread.start()
    return outcome


@contextmanager
def proxied(postgresql_url: str) -> Iterator[tuple[TcpProxy, str]]:
    with TcpProxy.to_database(postgresql_url) as proxy:
        url = make_url(postgresql_url).set(host="127.0.0.1", port=proxy.port)
        try:
            yield proxy, url.render_as_string(hide_password=False)
        finally:
            proxy.thaw()


def select_one(database: Database) -> int:
    with SqlAlchemyUnitOfWork(database) as uow:
        value: int = uow.session.execute(text("SELECT 1")).scalar_one()
        return value


def backend_pids(database: Database) -> set[int]:
    """The server processes behind the pool's two connections (both checked out at once)."""
    with SqlAlchemyUnitOfWork(database) as first, SqlAlchemyUnitOfWork(database) as second:
        return {
            uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            for uow in (first, second)
        }


def test_a_statement_on_a_frozen_database_ends_at_the_deadline_and_keeps_the_rest_of_the_pool(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    with proxied(postgresql_url) as (proxy, url):
        database = open_database(url, pool_size=2)
        before = backend_pids(database)
        proxy.freeze()

        def frozen_select() -> None:
            with call_scope(0.5):
                select_one(database)

        outcome = in_thread(frozen_select)
        finished = outcome.finished()
        proxy.thaw()
        after = backend_pids(database)

    assert finished, "the statement waited for the frozen database past its deadline"
    assert isinstance(outcome.error, DeadlineExceeded)
    assert len(before & after) == 1  # its own connection was dropped, not the other one


def test_the_ping_of_an_idle_connection_on_a_frozen_database_ends_at_the_deadline(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    with proxied(postgresql_url) as (proxy, url):
        database = open_database(url, pool_size=1, ping_after_idle_seconds=0.1)
        assert select_one(database) == 1
        time.sleep(0.2)  # idle long enough to be pinged at its next checkout
        proxy.freeze()

        def checkout() -> None:
            with call_scope(0.5):
                select_one(database)

        outcome = in_thread(checkout)
        finished = outcome.finished()
        proxy.thaw()
        recovered = select_one(database)

    assert finished, "the checkout ping waited for the frozen database past the deadline"
    assert isinstance(outcome.error, DeadlineExceeded)
    assert recovered == 1


def test_work_past_the_deadline_is_not_committed(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    setup = create_engine(postgresql_url)
    with setup.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body text)"))
    database = open_database(postgresql_url)

    def late_insert() -> None:
        with call_scope(0.3), SqlAlchemyUnitOfWork(database) as uow:
            uow.session.execute(text("INSERT INTO notes VALUES ('late')"))
            time.sleep(0.5)  # the call's time runs out before the commit
            uow.commit()

    with pytest.raises(DeadlineExceeded):
        late_insert()

    with setup.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM notes")).scalar_one()
    setup.dispose()
    assert rows == 0
    assert select_one(database) == 1


def test_a_call_that_ends_early_gets_its_database_work_cut_at_once(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    database = open_database(postgresql_url, statement_timeout_ms=60_000)
    started = threading.Event()
    scopes = []

    def long_statement() -> None:
        with call_scope(None) as scope:
            scopes.append(scope)
            with SqlAlchemyUnitOfWork(database) as uow:
                started.set()
                uow.session.execute(text("SELECT pg_sleep(30)"))

    outcome = in_thread(long_statement)
    assert started.wait(10)
    time.sleep(0.2)  # the statement is under way
    scopes[0].end(CANCELLED)  # as gRPC's end of a call a caller cancelled does

    assert outcome.finished(), "the statement ran on after its call had ended"
    assert isinstance(outcome.error, Cancelled)
    assert select_one(database) == 1


def test_a_connection_cut_after_its_last_statement_is_not_handed_to_the_next_call(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    """A caller that cancels (or whose deadline passes) after a read's last statement but
    before its connection is back in the pool (a read runs outside any transaction, so
    nothing is rolled back on the cut socket at check-in): the connection was cut for that
    call, and the next call on the pool gets a working one, not the shut socket."""
    database = open_database(postgresql_url, pool_size=1)
    with call_scope(None) as scope, SqlAlchemyUnitOfWork(database, read_only=True) as uow:
        cut = uow.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        scope.end(CANCELLED)  # the caller went away; the connection is not checked in yet

    with call_scope(5.0), SqlAlchemyUnitOfWork(database, read_only=True) as uow:
        served_by = uow.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()

    assert served_by != cut  # a new connection: the cut one was discarded


def _inodes_connected_to(port: int) -> set[str]:
    """Socket inodes of the machine whose remote end is 127.0.0.1:``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def sockets_to(port: int) -> int:
    """How many sockets of this process are connected to ``port`` (the database's)."""
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed since the listing
        if target.startswith("socket:["):
            ours.add(target[len("socket:[") : -1])
    return len(ours & _inodes_connected_to(port))


def test_connect_attempts_that_time_out_leave_no_socket_open(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    with proxied(postgresql_url) as (proxy, url):
        database = open_database(url)
        proxy.freeze()
        gc.disable()  # the garbage collector would close a leaked socket some time later
        try:
            pings = [database.ping() for _ in range(3)]  # three connects that time out
            left_open = sockets_to(proxy.port)
        finally:
            gc.enable()

    assert pings == [False, False, False]
    assert left_open == 0


def test_a_call_scope_bounds_a_ping_and_any_service_error_means_not_ready(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    with proxied(postgresql_url) as (proxy, url):
        database = open_database(url)
        assert database.ping()
        proxy.freeze()
        pings: list[bool] = []
        outcome = in_thread(lambda: pings.append(database.ping()))
        finished = outcome.finished()
        proxy.thaw()
        back = database.ping()

    assert finished, "a ping waited for the frozen database past its bound"
    assert not isinstance(outcome.error, ServiceError)
    assert pings == [False]
    assert back


def test_a_connection_lost_during_the_commit_is_an_unknown_outcome_not_unavailable(
    postgresql_url: str, open_database: OpenDatabase
) -> None:
    with proxied(postgresql_url) as (proxy, url):
        database = open_database(url)

        def commit_into_the_void() -> None:
            with SqlAlchemyUnitOfWork(database) as uow:
                uow.session.execute(text("SELECT 1"))
                proxy.freeze()  # the COMMIT leaves, and nobody can say whether it landed
                threading.Timer(0.3, proxy.cut).start()
                uow.commit()

        outcome = in_thread(commit_into_the_void)
        finished = outcome.finished()
        proxy.thaw()
        proxy.restore()

    assert finished
    assert isinstance(outcome.error, CommitOutcomeUnknown)
    assert isinstance(outcome.error, DeadlineExceeded)  # gRPC: "may have completed"
