"""Engines for a service's database: its settings, the URL check, engine options and reads.

Two backends, chosen by the URL: PostgreSQL through psycopg 3 (``postgresql+psycopg://``;
``postgresql://`` and ``postgres://`` are read as psycopg) in the cluster, and SQLite as the
embedded default (``sqlite:///var/user.db``, relative to the working folder). How each
backend's engine is set up lives in ``servicekit.db.backends``.

Every wait is bounded, so that a request fails fast with ``Unavailable`` or
``DeadlineExceeded`` instead of holding a gRPC worker thread: connecting
(``connect_timeout_seconds``), waiting for a pooled connection (``pool_timeout_seconds``),
one statement (``statement_timeout_ms``: PostgreSQL's ``statement_timeout``; SQLite's busy
timeout, its only wait) and, on PostgreSQL, unacknowledged network writes
(``tcp_user_timeout``), which ends a query on a silently dead network.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from servicekit.config import Secret
from servicekit.db.backends import READS_OPTION, postgresql_engine, sqlite_engine

__all__ = [
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
    ``ping_after_idle_seconds`` concerns pooled PostgreSQL connections (see
    ``servicekit.db.backends``).
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
        return sqlite_engine(parsed, options)
    return postgresql_engine(parsed, options)


def reads_engine(engine: Engine) -> Engine:
    """``engine`` (and its pool) for reads outside any transaction: no BEGIN, no ROLLBACK.

    Each statement is atomic and sees what was committed when it started, so a use case
    that reads with one statement loses nothing; one that writes, or reads several times
    and needs one snapshot, uses a transaction. PostgreSQL: the connection is in
    ``AUTOCOMMIT`` while checked out (psycopg then sends no BEGIN). SQLite: ``sqlite3``
    runs in its own autocommit mode already, and the ``begin`` listener stays silent.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READS_OPTION: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT", **{READS_OPTION: True})
