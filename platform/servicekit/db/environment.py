"""The alembic environment every service's migrations run in: the body of the one ``env.py``.

Alembic runs ``servicekit/db/script_directory/env.py`` (one for all services, see
``servicekit.db.migrations``), which calls :func:`run_migrations_online` with the models'
metadata that the runner put in ``config.attributes`` (only ``revision`` needs it).

All pending migrations run in one transaction, under a PostgreSQL advisory lock, so two
replicas migrating at once take turns. On SQLite, tables are altered by batch mode (copy
and rename), with foreign keys off as SQLite's own procedure requires, and checked by
``PRAGMA foreign_key_check`` before the commit. Autogenerate renders a column type of the
project's own (``servicekit.db.schema.UtcDateTime``) by its class name, and imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

__all__ = ["METADATA", "MigrationEnvironment", "render_custom_type", "run_migrations_online"]

METADATA = "target_metadata"
"""The key of ``config.attributes`` that holds the models' metadata, for autogenerate."""

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


def run_migrations_online(
    context: MigrationEnvironment, target_metadata: MetaData | Sequence[MetaData] | None
) -> None:
    """Run the migrations alembic asks for, on the connection in
    ``config.attributes["connection"]`` (set by ``servicekit.db.migrations``)."""
    if context.is_offline_mode():
        raise CommandError("offline (--sql) migrations are not supported; run them online")
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise CommandError("no database: run migrations through servicekit.db.migrations")
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,  # SQLite alters a table by copying it
        render_item=render_custom_type,
        compare_type=True,
        transactional_ddl=True,  # both backends can: all migrations or none
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        context.run_migrations()
        if sqlite:
            _check_foreign_keys(connection)


def render_custom_type(kind: str, item: Any, context: AutogenContext) -> str | Literal[False]:
    """Autogenerate's ``render_item`` hook: a column type from outside SQLAlchemy is written
    as its class (``UtcDateTime()``) and imported from its module; anything else is left to
    alembic (``False``)."""
    if kind != "type" or not isinstance(item, TypeEngine):
        return False
    cls = type(item)
    if cls.__module__.split(".")[0] == "sqlalchemy":
        return False
    context.imports.add(f"from {cls.__module__} import {cls.__name__}")
    return repr(item)


def _check_foreign_keys(connection: Connection) -> None:
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if problems:
        tables = sorted({str(row[0]) for row in problems})
        raise CommandError(f"the migration leaves broken foreign keys in {', '.join(tables)}")
