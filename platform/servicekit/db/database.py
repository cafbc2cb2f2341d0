"""The database of one service: a pooled engine, its sessions and a health ping.

``Database`` is built once by the wiring function from ``DatabaseSettings`` (in
``servicekit.db.engine``, with the engines it makes) and closed at shutdown. Its
connections are bounded by the call that uses them (``servicekit.db.guards``: cut at the
call's deadline, or when the call ends early), by one watchdog thread of its own.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from servicekit.calls import call_scope
from servicekit.db.engine import (
    DatabaseSettings,
    EngineOptions,
    build_engine,
    database_url,
    reads_engine,
)
from servicekit.db.guards import guard_connections, note_round_trips
from servicekit.db.watchdog import Watchdog
from servicekit.errors import ServiceError

__all__ = ["Database"]


class Database:
    """One service's database: the engine, its sessions and a ping for health checks.

    Built once by the service's wiring function, closed by ``dispose()`` at shutdown.
    ``pool_size`` (the gRPC thread pool size) applies when ``settings.pool_size`` is 0.
    After an outage the engine recovers by itself: a statement that fails with a lost
    connection invalidates the whole pool, and a connection idle for a while is pinged
    before it is handed out (see ``servicekit.db.backends``).
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
        # Pings use a connection of their own: a busy pool is not an unhealthy database,
        # and a ping must never wait behind requests for a connection. It is kept between
        # pings (a new connection a second would be a new socket a second) and is pinged
        # itself when idle, so a database restart is no failed ping.
        self._ping_seconds = settings.connect_timeout_seconds
        self._ping_engine = build_engine(
            url,
            EngineOptions(
                pool_size=1,
                pool_timeout_seconds=settings.connect_timeout_seconds,
                connect_timeout_seconds=settings.connect_timeout_seconds,
                ping_after_idle_seconds=settings.ping_after_idle_seconds,
                immediate_transactions=False,
            ),
        )
        self._watchdog = Watchdog()
        for engine in (self.engine, self._ping_engine):
            guard_connections(engine, self._watchdog)
        note_round_trips(self.engine)
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
        """Whether the database answers now; never raises. Bounded by the connect timeout
        on the client side: a database that stopped answering fails the ping in time."""
        try:
            with call_scope(self._ping_seconds), self._ping_engine.connect() as connection:
                connection.exec_driver_sql(self._ping_sql)
        except (SQLAlchemyError, ServiceError, OSError):
            return False
        return True

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown)."""
        self.engine.dispose()
        self._ping_engine.dispose()
        self._watchdog.stop()
