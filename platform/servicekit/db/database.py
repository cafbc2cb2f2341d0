"""The database of one service: a pooled engine, its sessions and a health ping.

``Database`` is built once by the wiring function from ``DatabaseSettings`` (in
``servicekit.db.engine``, with the engines it makes) and closed at shutdown.
"""

from __future__ import annotations

import math

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from servicekit.db.engine import (
    DatabaseSettings,
    EngineOptions,
    build_engine,
    database_url,
    reads_engine,
)

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
