"""A service's database, as its command line reports it: one line instead of a traceback.

``migrate``, ``serve`` and a service's own commands (``create-admin``) meet the database
before anything else; when it cannot be used, the operator needs the setting to fix
(``USER_DATABASE__URL``), where it points (host and port, or the SQLite file) and the cause
(``connection refused``, ``database "user" does not exist``), not 115 lines of traceback::

    user: cannot reach the database at 127.0.0.1:5432 (USER_DATABASE__URL): connection refused
    user: the database at .run/user.db (USER_DATABASE__URL) is not migrated (no such table:
    users): run `python -m services.user migrate` first

``check_reachable`` connects once (``serve`` does, before it starts); ``database_problem``
turns an error raised anywhere below a command into that line, or None when the error is
not the database's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from servicekit.db import DatabaseSettings, EngineOptions, build_engine
from servicekit.db.engine import database_url

__all__ = ["check_reachable", "database_problem", "where"]

_UNDEFINED = ("42P01", "42703")  # PostgreSQL's undefined_table, undefined_column


def check_reachable(settings: DatabaseSettings) -> None:
    """Connect once and run ``SELECT 1``; the driver's error (wrapped by SQLAlchemy) if not."""
    options = EngineOptions(
        pool_size=None, connect_timeout_seconds=settings.connect_timeout_seconds
    )
    engine = build_engine(settings.url.reveal(), options)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def where(url: str) -> str:
    """Where ``url`` points, without user or password: ``host:port`` or the SQLite file."""
    parsed: URL = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    host = parsed.host or "localhost"
    return f"{host}:{parsed.port or 5432}"


def database_problem(exc: BaseException, *, service: str, setting: str, url: str) -> str | None:
    """The one line that reports ``exc`` (or the database error it was raised from), naming
    the ``setting`` and where ``url`` points; None when no database error is behind it."""
    place = f"{where(url)} ({setting})"
    error = _database_error(exc)
    if error is None:
        folder = _sqlite_folder_error(exc, url)
        if folder is None:
            return None
        return f"{service}: cannot open the database at {place}: {folder}"
    if _is_missing_table(error):
        return (
            f"{service}: the database at {place} is not migrated ({_cause(error)}): "
            f"run `python -m services.{service} migrate` first"
        )
    return f"{service}: cannot {_verb(error)} the database at {place}: {_cause(error)}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling, each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _database_error(exc: BaseException) -> DBAPIError | None:
    for error in _chain(exc):
        if isinstance(error, OperationalError) or (
            isinstance(error, ProgrammingError) and _is_missing_table(error)
        ):
            return error
    return None


def _sqlite_folder_error(exc: BaseException, url: str) -> str | None:
    """The reason a SQLite file's folder could not be made (``/proc/x``), if that failed."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    folders = {str(folder) for folder in Path(parsed.database).parents}
    for error in _chain(exc):
        if isinstance(error, OSError) and str(error.filename) in folders:
            return f"{error.strerror}: {error.filename}"
    return None


def _verb(error: DBAPIError) -> str:
    """``reach`` a server that refused or is unknown, ``open`` a SQLite file that cannot be,
    ``use`` a database that failed a statement."""
    if isinstance(error.orig, sqlite3.Error):
        return "open" if "unable to open" in str(error.orig) else "use"
    # psycopg: no SQLSTATE before a session exists (refused, unknown host, timeout, FATAL)
    return "reach" if getattr(error.orig, "sqlstate", None) is None else "use"


def _is_missing_table(error: DBAPIError) -> bool:
    """A table or column the code uses that the schema lacks: migrations not applied."""
    if isinstance(error.orig, sqlite3.Error):
        return str(error.orig).startswith(("no such table", "no such column"))
    return getattr(error.orig, "sqlstate", None) in _UNDEFINED


def _cause(error: DBAPIError) -> str:
    """The driver's reason, short: ``connection refused``, ``database "user" does not exist``."""
    lines = str(error.orig).strip().splitlines() or [type(error.orig).__name__]
    cause = lines[0].rpartition(" failed: ")[2].strip()  # psycopg: "connection ... failed: X"
    cause = cause.removeprefix("FATAL:").strip()
    return cause[:1].lower() + cause[1:]
