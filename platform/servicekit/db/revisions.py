"""New migrations: ``python -m services.<name> revision -m "add locale" [--autogenerate]``.

Revisions are numbered in order, and their id carries the message: the one after ``0001``
is ``0002_add_locale``, in ``0002_add_locale.py``. An id is at most 32 characters, what
alembic's ``alembic_version.version_num`` column holds (PostgreSQL refuses a longer one
when the migration runs): the message is cut at a word to fit. Two branches that each add a ``0002``
get two ids, so alembic reports two heads to merge instead of one id written twice.

``new_revision`` compares the models with a throw-away SQLite database migrated to head,
so no database server is needed and no database of the service is touched; ``revision``
compares them with the database it is given (which must be at head).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData

from servicekit.config import Secret
from servicekit.db.migrations import alembic_config, migration_connection, upgrade

__all__ = ["new_revision", "next_revision_id", "revision"]

_NUMBERED = re.compile(r"(\d+)(?:_|$)")
_ID_LENGTH = 32  # alembic_version.version_num is VARCHAR(32)


def new_revision(folder: Path, metadata: MetaData, message: str, *, autogenerate: bool) -> Path:
    """Write the next migration of ``folder``, from what ``metadata`` (the models) adds to
    the schema of its migrations when ``autogenerate``; returns the file written."""
    with tempfile.TemporaryDirectory(prefix="revision-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'schema.db'}"
        upgrade(url, folder)
        return revision(url, folder, message, metadata=metadata, autogenerate=autogenerate)


def revision(
    database_url: str | Secret,
    folder: Path,
    message: str,
    *,
    metadata: MetaData | None = None,
    autogenerate: bool = True,
) -> Path:
    """Write the next migration of ``folder``; with ``autogenerate``, what ``metadata``
    declares beyond the schema of the database at ``database_url``."""
    with migration_connection(database_url) as connection:
        config = alembic_config(folder, connection, metadata)
        rev_id = next_revision_id(ScriptDirectory.from_config(config), message)
        written = command.revision(
            config, message=message, autogenerate=autogenerate, rev_id=rev_id
        )
    if not isinstance(written, Script):
        raise CommandError(f"alembic wrote no single revision for {message!r}")
    return Path(written.path)


def next_revision_id(scripts: ScriptDirectory, message: str) -> str:
    """``0002_add_locale``: one more than the highest numbered revision, then the slug of
    ``message`` (lower-case ASCII words joined by ``_``, at most 40 characters)."""
    numbers = [0]
    for script in scripts.walk_revisions():
        match = _NUMBERED.match(script.revision)
        if match:
            numbers.append(int(match.group(1)))
    number = f"{max(numbers) + 1:04d}"
    slug = _slug(message, _ID_LENGTH - len(number) - 1)
    return f"{number}_{slug}" if slug else number


def _slug(message: str, length: int) -> str:
    slug = "_".join(re.findall(r"[a-z0-9]+", message.lower()))
    if len(slug) <= length:
        return slug
    cut = slug[: length + 1]  # one more: a word that ends at the limit stays whole
    return cut.rsplit("_", 1)[0] if "_" in cut else cut[:length]
