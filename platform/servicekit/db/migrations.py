"""Alembic, driven from code: ``python -m services.<name> migrate`` calls ``migrate``.

A service keeps only its revisions, in one folder (``services/<name>/migrations``, e.g.
``0001_create_users.py``); the alembic environment and the revision template are the
platform's (``script_directory``: one ``env.py``, one ``script.py.mako``), with the
service's folder as the version location. There is no ``alembic.ini``: the configuration
is built here, and ``env.py`` gets an open connection in ``config.attributes["connection"]``,
so the URL never goes through ini interpolation (a ``%`` in a password is safe) and never
appears in a log. ``servicekit.db.environment`` says how the migrations run;
``servicekit.db.revisions`` writes new ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from servicekit.config import Secret
from servicekit.db.engine import EngineOptions, build_engine
from servicekit.db.environment import METADATA

__all__ = [
    "SCRIPT_DIRECTORY",
    "alembic_config",
    "current",
    "downgrade",
    "head",
    "migrate",
    "migration_connection",
    "upgrade",
]

SCRIPT_DIRECTORY = Path(__file__).parent / "script_directory"
"""The ``env.py`` and ``script.py.mako`` that every service's migrations share."""

# No statement timeout: rebuilding a table or an index may take long, and is wanted.
_MIGRATION_ENGINE = EngineOptions(pool_size=None, statement_timeout_ms=0, foreign_keys=False)


def upgrade(database_url: str | Secret, folder: Path, revision: str = "head") -> None:
    """Apply the migrations in ``folder`` up to ``revision``."""
    with migration_connection(database_url) as connection:
        command.upgrade(alembic_config(folder, connection), revision)


def downgrade(database_url: str | Secret, folder: Path, revision: str) -> None:
    """Revert migrations down to ``revision`` (``"base"``: all of them, ``"-1"``: one)."""
    with migration_connection(database_url) as connection:
        command.downgrade(alembic_config(folder, connection), revision)


def migrate(
    database_url: str | Secret,
    folder: Path,
    *,
    target: str | None = None,
    down: bool = False,
) -> str:
    """A service's ``migrate`` command: up to ``target`` (default ``head``), or, with
    ``down``, down to it (default ``base``). Returns the revision it went to."""
    if down:
        downgrade(database_url, folder, target or "base")
        return target or "base"
    upgrade(database_url, folder, target or "head")
    return target or "head"


def current(database_url: str | Secret, folder: Path) -> str | None:
    """The revision the database is at; None before the first migration.

    With several heads (unmerged branches), they are joined by commas.
    """
    heads: list[str] = []

    def record(rev: Sequence[str], _context: MigrationContext) -> list[Any]:
        heads.extend(rev)
        return []  # nothing to run

    with migration_connection(database_url) as connection:
        config = alembic_config(folder, connection)
        script = ScriptDirectory.from_config(config)
        with EnvironmentContext(config, script, fn=record, dont_mutate=True):
            script.run_env()
    return ",".join(sorted(heads)) or None


def head(folder: Path) -> str | None:
    """The newest revision in ``folder`` (what ``upgrade`` goes to); None when it holds none.

    With several heads (unmerged branches), they are joined by commas, as ``current`` does.
    """
    script = ScriptDirectory.from_config(alembic_config(folder))
    return ",".join(sorted(script.get_heads())) or None


def alembic_config(
    folder: Path, connection: Connection | None = None, metadata: MetaData | None = None
) -> Config:
    """The alembic configuration of the migrations in ``folder``: the shared environment and
    template, ``folder`` as the only version location, revision files named by their id."""
    config = Config(attributes={"connection": connection, METADATA: metadata})
    # set_main_option goes through ConfigParser interpolation: a '%' must be doubled.
    config.set_main_option("script_location", _escaped(SCRIPT_DIRECTORY))
    config.set_main_option("version_locations", _escaped(folder))
    config.set_main_option("path_separator", "newline")  # a path may hold ':' or ' '
    config.set_main_option("file_template", "%%(rev)s")  # 0002_add_locale.py
    return config


@contextmanager
def migration_connection(database_url: str | Secret) -> Iterator[Connection]:
    """A connection for migrations (no statement timeout, SQLite foreign keys off), on an
    engine of its own, disposed of afterwards."""
    url = database_url.reveal() if isinstance(database_url, Secret) else database_url
    engine = build_engine(url, _MIGRATION_ENGINE)
    try:
        with engine.connect() as connection:
            yield connection
            connection.commit()  # whatever alembic left open (reading the version table)
    finally:
        engine.dispose()


def _escaped(path: Path) -> str:
    return str(path).replace("%", "%%")
