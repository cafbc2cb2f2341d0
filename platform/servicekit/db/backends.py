"""How each backend's engine is made: its pool, its connection setup and its listeners.

PostgreSQL: timeouts as libpq connect arguments, ``statement_timeout`` as a startup
option, and a ping for pooled connections that sat idle. Dead pooled connections (a
database restarted, a network cut) are handled without a round trip per checkout: a
statement that fails with a disconnect invalidates the whole pool (SQLAlchemy's
disconnect detection), so at most the calls in flight fail; and a connection that sat
idle for ``ping_after_idle_seconds`` or more is pinged before it is handed out, so the
first call after a quiet outage does not fail either. Under load no connection is idle
that long (the pool hands out the most recently used one first), so no call pays for a
ping. A connection made inside a call waits no longer than the call has left (libpq's
floor: 2 s), and a connect attempt that fails releases its socket at once: psycopg 3.3
keeps a timed-out attempt in a reference cycle (its frames hold the half-open
connection), which only the garbage collector would free, so every attempt during a
slow or frozen database left a socket open meanwhile.

SQLite: pragmas on every new connection (busy timeout, WAL, foreign keys; the switch to
WAL retried while another connection writes, as SQLite does not wait for it) and
``BEGIN IMMEDIATE`` for transactions, except on a connection marked ``READS_OPTION``.
"""

from __future__ import annotations

import math
import sqlite3
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, pool
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import InvalidatePoolError

from servicekit.calls import current_call
from servicekit.db.guards import error_if_cut

if TYPE_CHECKING:
    from servicekit.db.engine import EngineOptions

__all__ = ["READS_OPTION", "postgresql_engine", "sqlite_engine"]

READS_OPTION = "servicekit_reads"
"""Execution option of ``reads_engine``: statements run outside any transaction."""

_IDLE_SINCE = "servicekit_idle_since"


def _pool_arguments(options: EngineOptions) -> dict[str, Any]:
    if options.pool_size is None:
        return {"poolclass": pool.NullPool}
    return {
        "poolclass": pool.QueuePool,
        "pool_size": options.pool_size,
        "max_overflow": 0,  # the pool is the limit: a request past it waits, then fails
        "pool_timeout": options.pool_timeout_seconds,
        "pool_use_lifo": True,  # busy connections stay busy, spare ones idle (and get pinged)
    }


def postgresql_engine(url: URL, options: EngineOptions) -> Engine:
    """A psycopg 3 engine for ``url`` with every timeout of ``options`` applied."""
    timeout_ms = math.ceil(options.connect_timeout_seconds * 1000)
    startup = url.query.get("options", "")
    if options.statement_timeout_ms:
        startup = f"{startup} -c statement_timeout={options.statement_timeout_ms}".strip()
    connect_args: dict[str, Any] = {
        "connect_timeout": max(2, math.ceil(options.connect_timeout_seconds)),  # libpq min 2
        "tcp_user_timeout": timeout_ms,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if startup:
        connect_args["options"] = startup
    engine = create_engine(
        url, connect_args=connect_args, echo=options.echo, **_pool_arguments(options)
    )
    event.listen(engine, "do_connect", _connect_within_the_call)
    if options.pool_size is not None:
        _ping_when_idle(engine, options.ping_after_idle_seconds)
    return engine


def _connect_within_the_call(
    dialect: Any, _record: object, cargs: list[Any], cparams: dict[str, Any]
) -> Any:
    """Connect, waiting no longer than the current call has left (libpq's minimum is 2 s);
    a failed attempt's frames are cleared, so its socket is closed now, not at the next
    garbage collection (see the module)."""
    scope = current_call()
    remaining = None if scope is None else scope.remaining()
    if remaining is not None:
        configured = float(cparams.get("connect_timeout", 2))
        cparams["connect_timeout"] = max(2, math.ceil(min(configured, max(remaining, 0.0))))
    try:
        return dialect.connect(*cargs, **cparams)
    except dialect.loaded_dbapi.Error as exc:
        _release_frames(exc)
        raise


def _release_frames(exc: BaseException) -> None:
    """Clear the locals of the frames ``exc`` (and what it chains) passed through."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        current = current.__cause__ or current.__context__


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use when it sat idle ``idle_seconds`` or more.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip per call. A
    failed ping here invalidates the whole pool (the database restarted, most likely),
    and the pool connects afresh; if it cannot, the checkout fails as a lost connection.
    """
    dialect = engine.dialect

    def on_checkin(_dbapi_connection: Any, record: pool.ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def on_checkout(
        dbapi_connection: Any, record: pool.ConnectionPoolEntry, _proxy: object
    ) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            cut = error_if_cut(record.info)
            if cut is not None:  # the call ran out of time: this connection only is done
                raise cut from exc
            raise InvalidatePoolError(f"idle connection failed its ping: {exc}") from exc

    event.listen(engine, "checkin", on_checkin)
    event.listen(engine, "checkout", on_checkout)


def sqlite_engine(url: URL, options: EngineOptions) -> Engine:
    """A ``sqlite3`` engine for ``url``: its folder made, its pragmas set per connection."""
    in_memory = url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    if not in_memory and not url.query.get("uri"):
        Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
    arguments = _pool_arguments(options)
    if in_memory:  # one database only while its one connection lives: share it
        arguments = {"poolclass": pool.StaticPool}
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False},  # pooled connections move between threads
        echo=options.echo,
        **arguments,
    )
    busy_ms = options.statement_timeout_ms or 5000
    foreign_keys = f"PRAGMA foreign_keys = {'ON' if options.foreign_keys else 'OFF'}"

    def on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not sqlite3, emits BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if not in_memory:  # readers and the writer do not block each other
                _switch_to_wal(cursor, busy_ms / 1000)
            cursor.execute(foreign_keys)
        finally:
            cursor.close()

    event.listen(engine, "connect", on_connect)
    if options.immediate_transactions:
        event.listen(engine, "begin", _begin_immediate)
    return engine


def _switch_to_wal(cursor: sqlite3.Cursor, busy_seconds: float) -> None:
    """``PRAGMA journal_mode = WAL``, waiting for its turn as every other statement does.

    SQLite does not always wait: while another connection holds the write lock of a
    database still in rollback-journal mode (a replica making a new database, or switching
    it to WAL), the switch fails at once with SQLITE_BUSY, busy timeout or not (its rule
    against two writers waiting on each other). Replicas opening a new database together
    then failed at random. Neither ``sqlite3`` nor SQLAlchemy retries it, so it is retried
    here until ``busy_seconds`` have passed.
    """
    deadline = time.monotonic() + busy_seconds
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            left = deadline - time.monotonic()
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or left <= 0:
                raise
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.1)


def _begin_immediate(connection: Connection) -> None:
    """Take the write lock at BEGIN: a read-then-write transaction then waits its turn
    (busy timeout) instead of failing at once with SQLITE_BUSY when it starts writing.

    Not on a connection for reads (``reads_engine``): ``sqlite3`` emits no BEGIN itself,
    so each of its statements is its own transaction, and takes no write lock.
    """
    if not connection.get_execution_options().get(READS_OPTION, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
