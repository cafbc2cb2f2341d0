"""Alembic, driven from code: ``python -m services.<name> migrate`` calls ``upgrade``.

A service keeps an alembic script folder (``services/<name>/migrations``: ``env.py``,
``script.py.mako``, ``versions/``) and no ``alembic.ini``: the runner builds the alembic
configuration here and hands ``env.py`` an open connection in
``config.attributes["connection"]``, so the URL never goes through ini interpolation (a
``%`` in a password is safe) and never appears in a log. The whole ``env.py`` is::

    from alembic import context

    from servicekit.db.migrations import run_migrations_online
    from services.user.models import Base

    run_migrations_online(context, Base.metadata)

All pending migrations run in one transaction, under a PostgreSQL advisory lock, so two
replicas migrating at once take turns. On SQLite, tables are altered by batch mode (copy
and rename), with foreign keys off as SQLite's own procedure requires, and checked by
``PRAGMA foreign_key_check`` before the commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from servicekit.config import Secret
from servicekit.db.engine import EngineOptions, build_engine

__all__ = [
    "MigrationEnvironment",
    "current",
    "downgrade",
    "migrate",
    "revision",
    "run_migrations_online",
    "upgrade",
]

# No statement timeout: rebuilding a table or an index may take long, and is wanted.
_MIGRATION_ENGINE = EngineOptions(pool_size=None, statement_timeout_ms=0, foreign_keys=False)
# pg_advisory_xact_lock key: any constant shared by every runner; "alembic" in ASCII.
_LOCK_KEY = 0x616C656D626963


class MigrationEnvironment(Protocol):
    """What ``run_migrations_online`` uses of ``alembic.context`` (the module in env.py)."""

    @property
    def config(self) -> Config: ...

    def configure(self, **kw: Any) -> None: ...

    def begin_transaction(self) -> AbstractContextManager[Any]: ...

    def run_migrations(self, **kw: Any) -> None: ...

    def is_offline_mode(self) -> bool: ...


def upgrade(database_url: str | Secret, script_location: Path, revision: str = "head") -> None:
    """Apply the migrations of ``script_location`` up to ``revision``."""
    with _connection(database_url) as connection:
        command.upgrade(_config(script_location, connection), revision)


def downgrade(database_url: str | Secret, script_location: Path, revision: str) -> None:
    """Revert migrations down to ``revision`` (``"base"``: all of them, ``"-1"``: one)."""
    with _connection(database_url) as connection:
        command.downgrade(_config(script_location, connection), revision)


def migrate(
    database_url: str | Secret,
    script_location: Path,
    *,
    target: str | None = None,
    down: bool = False,
) -> str:
    """A service's ``migrate`` command: up to ``target`` (default ``head``), or, with
    ``down``, down to it (default ``base``). Returns the revision it went to."""
    if down:
        downgrade(database_url, script_location, target or "base")
        return target or "base"
    upgrade(database_url, script_location, target or "head")
    return target or "head"


def current(database_url: str | Secret, script_location: Path) -> str | None:
    """The revision the database is at; None before the first migration.

    With several heads (unmerged branches), they are joined by commas.
    """
    heads: list[str] = []

    def record(rev: Sequence[str], _context: MigrationContext) -> list[Any]:
        heads.extend(rev)
        return []  # nothing to run

    with _connection(database_url) as connection:
        config = _config(script_location, connection)
        script = ScriptDirectory.from_config(config)
        with EnvironmentContext(config, script, fn=record, dont_mutate=True):
            script.run_env()
    return ",".join(sorted(heads)) or None


def revision(
    database_url: str | Secret, script_location: Path, message: str, *, autogenerate: bool = True
) -> None:
    """Write a new migration script, by default compared with the models (autogenerate).

    Autogenerate against PostgreSQL: it sees types that SQLite does not have.
    """
    with _connection(database_url) as connection:
        config = _config(script_location, connection)
        command.revision(config, message=message, autogenerate=autogenerate)


def run_migrations_online(
    context: MigrationEnvironment, target_metadata: MetaData | Sequence[MetaData] | None
) -> None:
    """The body of a service's ``env.py``: run the migrations alembic asks for.

    Uses the connection in ``config.attributes["connection"]`` (set by this module's
    runner); run by the alembic command line instead, it connects to ``sqlalchemy.url``.
    """
    if context.is_offline_mode():
        raise CommandError("offline (--sql) migrations are not supported; run them online")
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(context, connection, target_metadata)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise CommandError("no database: use servicekit.db.migrations or set sqlalchemy.url")
    with _connection(url) as own:
        _run(context, own, target_metadata)


def _run(
    context: MigrationEnvironment,
    connection: Connection,
    target_metadata: MetaData | Sequence[MetaData] | None,
) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,  # SQLite alters a table by copying it
        compare_type=True,
        transactional_ddl=True,  # both backends can: all migrations or none
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        context.run_migrations()
        if sqlite:
            _check_foreign_keys(connection)


def _check_foreign_keys(connection: Connection) -> None:
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if problems:
        tables = sorted({str(row[0]) for row in problems})
        raise CommandError(f"the migration leaves broken foreign keys in {', '.join(tables)}")


def _config(script_location: Path, connection: Connection) -> Config:
    config = Config(attributes={"connection": connection})
    # set_main_option goes through ConfigParser interpolation: a '%' must be doubled.
    config.set_main_option("script_location", str(script_location).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


@contextmanager
def _connection(database_url: str | Secret) -> Iterator[Connection]:
    url = database_url.reveal() if isinstance(database_url, Secret) else database_url
    engine = build_engine(url, _MIGRATION_ENGINE)
    try:
        with engine.connect() as connection:
            yield connection
            connection.commit()  # whatever alembic left open (reading the version table)
    finally:
        engine.dispose()
