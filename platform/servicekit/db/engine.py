"""The database of one service: settings, a pooled engine, sessions and a health ping.

Two backends, chosen by the URL: PostgreSQL through psycopg 3 (``postgresql+psycopg://``;
``postgresql://`` and ``postgres://`` are read as psycopg) in the cluster, and SQLite as the
embedded default (``sqlite:///var/user.db``, relative to the working folder).

Every wait is bounded, so that a request fails fast with ``Unavailable`` or
``DeadlineExceeded`` instead of holding a gRPC worker thread: connecting
(``connect_timeout_seconds``), waiting for a pooled connection (``pool_timeout_seconds``),
one statement (``statement_timeout_ms``: PostgreSQL's ``statement_timeout``; SQLite's busy
timeout, its only wait) and, on PostgreSQL, unacknowledged network writes
(``tcp_user_timeout``), which ends a query on a silently dead network.

Dead pooled connections (a database restarted, a network cut) are handled without a
round trip per checkout: a statement that fails with a disconnect invalidates the whole
pool (SQLAlchemy's disconnect detection), so at most the calls in flight fail; and a
connection that sat idle for ``ping_after_idle_seconds`` or more is pinged before it is
handed out, so the first call after a quiet outage does not fail either. Under load no
connection is idle that long (the pool hands out the most recently used one first), so
no call pays for a ping.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, pool
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import ArgumentError, InvalidatePoolError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from servicekit.config import Secret

__all__ = [
    "Database",
    "DatabaseSettings",
    "EngineOptions",
    "build_engine",
    "database_url",
    "reads_engine",
]

_PSYCOPG = "postgresql+psycopg"
_SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite")


@dataclass(frozen=True, kw_only=True, slots=True)
class DatabaseSettings:
    """Where the database is and how long anything may wait for it.

    ``pool_size`` 0 sizes the pool to the gRPC thread pool (the service passes that size to
    ``Database``): one connection per worker thread, so a worker never waits for another.
    ``statement_timeout_ms`` 0 sets no statement timeout. ``ping_after_idle_seconds``: a
    pooled PostgreSQL connection unused for that long is pinged before use (0: always).
    """

    url: Secret
    pool_size: int = 0
    pool_timeout_seconds: float = 2.0
    statement_timeout_ms: int = 5000
    connect_timeout_seconds: float = 2.0
    ping_after_idle_seconds: float = 1.0
    echo: bool = False

    def __post_init__(self) -> None:
        database_url(self.url.reveal())  # a ValueError here is reported by load_settings
        if self.pool_size < 0:
            raise ValueError("pool_size must be 0 (one per gRPC worker) or more")
        if self.pool_timeout_seconds <= 0 or self.connect_timeout_seconds <= 0:
            raise ValueError("pool_timeout_seconds and connect_timeout_seconds must be > 0")
        if self.statement_timeout_ms < 0:
            raise ValueError("statement_timeout_ms must be 0 (no timeout) or more")
        if self.ping_after_idle_seconds < 0:
            raise ValueError("ping_after_idle_seconds must be 0 (ping always) or more")


@dataclass(frozen=True, kw_only=True, slots=True)
class EngineOptions:
    """How ``build_engine`` makes an engine; ``pool_size`` None: a new connection each time.

    ``foreign_keys`` and ``immediate_transactions`` only concern SQLite: migrations turn
    foreign keys off (SQLite's own procedure for rebuilding tables), and a health ping
    must not queue for the write lock that ``BEGIN IMMEDIATE`` takes.
    ``ping_after_idle_seconds`` concerns pooled PostgreSQL connections (see the module).
    """

    pool_size: int | None
    pool_timeout_seconds: float = 2.0
    connect_timeout_seconds: float = 2.0
    statement_timeout_ms: int = 0
    ping_after_idle_seconds: float = 1.0
    foreign_keys: bool = True
    immediate_transactions: bool = True
    echo: bool = False


def database_url(url: str | URL) -> URL:
    """``url`` parsed, with PostgreSQL pointed at psycopg 3; ``ValueError`` if unsupported.

    The message never contains the URL: it may hold a password.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("the database URL cannot be parsed (value hidden)") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return parsed.set(drivername=_PSYCOPG)
    if parsed.drivername in _SQLITE_DRIVERS:
        return parsed
    raise ValueError(
        f"unsupported database {parsed.drivername!r}: use postgresql+psycopg:// or sqlite:///"
    )


def build_engine(url: str | URL, options: EngineOptions) -> Engine:
    """An engine for ``url`` with every timeout of ``options`` applied per connection."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, options)
    return _postgresql_engine(parsed, options)


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


def _postgresql_engine(url: URL, options: EngineOptions) -> Engine:
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
    if options.pool_size is not None:
        _ping_when_idle(engine, options.ping_after_idle_seconds)
    return engine


_IDLE_SINCE = "servicekit_idle_since"


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
            raise InvalidatePoolError(f"idle connection failed its ping: {exc}") from exc

    event.listen(engine, "checkin", on_checkin)
    event.listen(engine, "checkout", on_checkout)


def _sqlite_engine(url: URL, options: EngineOptions) -> Engine:
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
    pragmas = [f"PRAGMA busy_timeout = {busy_ms}"]
    if not in_memory:
        pragmas.append("PRAGMA journal_mode = WAL")  # readers and the writer do not block
    pragmas.append(f"PRAGMA foreign_keys = {'ON' if options.foreign_keys else 'OFF'}")

    def on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not sqlite3, emits BEGIN
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    event.listen(engine, "connect", on_connect)
    if options.immediate_transactions:
        event.listen(engine, "begin", _begin_immediate)
    return engine


def _begin_immediate(connection: Connection) -> None:
    """Take the write lock at BEGIN: a read-then-write transaction then waits its turn
    (busy timeout) instead of failing at once with SQLITE_BUSY when it starts writing.

    Not on a connection for reads (``reads_engine``): ``sqlite3`` emits no BEGIN itself,
    so each of its statements is its own transaction, and takes no write lock.
    """
    if not connection.get_execution_options().get(_READS, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_READS = "servicekit_reads"
"""Execution option of ``reads_engine``: statements run outside any transaction."""


def reads_engine(engine: Engine) -> Engine:
    """``engine`` (and its pool) for reads outside any transaction: no BEGIN, no ROLLBACK.

    Each statement is atomic and sees what was committed when it started, so a use case
    that reads with one statement loses nothing; one that writes, or reads several times
    and needs one snapshot, uses a transaction. PostgreSQL: the connection is in
    ``AUTOCOMMIT`` while checked out (psycopg then sends no BEGIN). SQLite: ``sqlite3``
    runs in its own autocommit mode already, and the ``begin`` listener stays silent.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_READS: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT", **{_READS: True})


class Database:
    """One service's database: the engine, its sessions and a ping for health checks.

    Built once by the service's wiring function, closed by ``dispose()`` at shutdown.
    ``pool_size`` (the gRPC thread pool size) applies when ``settings.pool_size`` is 0.
    After an outage the engine recovers by itself: a statement that fails with a lost
    connection invalidates the whole pool, and a connection idle for a while is pinged
    before it is handed out (see the module).
    """

    def __init__(self, settings: DatabaseSettings, *, pool_size: int) -> None:
        size = settings.pool_size or pool_size
        if size < 1:
            raise ValueError(f"the pool needs at least one connection, got {size}")
        url = database_url(settings.url.reveal())
        self.url = url.render_as_string(hide_password=True)
        self.engine = build_engine(
            url,
            EngineOptions(
                pool_size=size,
                pool_timeout_seconds=settings.pool_timeout_seconds,
                connect_timeout_seconds=settings.connect_timeout_seconds,
                statement_timeout_ms=settings.statement_timeout_ms,
                ping_after_idle_seconds=settings.ping_after_idle_seconds,
                echo=settings.echo,
            ),
        )
        # Pings use their own, unpooled connections: a busy pool is not an unhealthy
        # database, and a ping must never wait behind requests for a connection.
        ping_ms = math.ceil(settings.connect_timeout_seconds * 1000)
        self._ping_engine = build_engine(
            url,
            EngineOptions(
                pool_size=None,
                connect_timeout_seconds=settings.connect_timeout_seconds,
                statement_timeout_ms=ping_ms,
                immediate_transactions=False,
            ),
        )
        self._ping_sql = (
            "PRAGMA schema_version" if url.get_backend_name() == "sqlite" else "SELECT 1"
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reads = reads_engine(self.engine)

    def __repr__(self) -> str:
        return f"Database({self.url!r})"

    def session(self) -> Session:
        """A new ORM session; the caller (a unit of work) closes it."""
        return self._sessions()

    def read_connection(self) -> Connection:
        """A pooled connection for reads outside any transaction (``reads_engine``): one
        round trip per statement, no BEGIN or ROLLBACK. The caller closes it."""
        return self._reads.connect()

    def ping(self) -> bool:
        """Whether the database answers now; never raises, bounded by the connect timeout."""
        try:
            with self._ping_engine.connect() as connection:
                connection.exec_driver_sql(self._ping_sql)
        except (SQLAlchemyError, OSError):
            return False
        return True

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown)."""
        self.engine.dispose()
        self._ping_engine.dispose()
