"""Every service's migrations, held to the same rules on PostgreSQL and on SQLite: they
build exactly the schema the models declare, go down to nothing and up again, and a second
upgrade changes nothing. What each schema holds is tested beside its service."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData

from servicekit.db import current, downgrade, head, upgrade
from servicekit.testing.databases import application_tables as tables
from stackkit.manifest import load_manifests

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Migrations:
    folder: Path
    metadata: MetaData
    tables: frozenset[str]


def _migrations(service: str) -> Migrations:
    models = importlib.import_module(f"services.{service}.models")
    return Migrations(models.MIGRATIONS_DIR, models.metadata, frozenset(models.metadata.tables))


# Every service that owns a database, as the manifests say: a new one is held to the rules
# as soon as it is declared.
SERVICES = {m.name: _migrations(m.name) for m in load_manifests(REPO) if m.database}


@pytest.fixture(params=sorted(SERVICES))
def migrations(request: pytest.FixtureRequest) -> Migrations:
    return SERVICES[request.param]


def test_upgrade_reaches_head_with_the_service_tables(
    migrations: Migrations, empty_database_url: str, engine: Engine
) -> None:
    upgrade(empty_database_url, migrations.folder)

    assert tables(engine) == migrations.tables
    assert current(empty_database_url, migrations.folder) == head(migrations.folder)


def test_the_migrated_schema_is_what_the_models_declare(
    migrations: Migrations, empty_database_url: str, engine: Engine
) -> None:
    upgrade(empty_database_url, migrations.folder)

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), migrations.metadata)

    assert differences == []


def test_downgrade_removes_everything_and_upgrade_works_again(
    migrations: Migrations, empty_database_url: str, engine: Engine
) -> None:
    upgrade(empty_database_url, migrations.folder)

    downgrade(empty_database_url, migrations.folder, "base")
    assert tables(engine) == set()
    assert current(empty_database_url, migrations.folder) is None

    upgrade(empty_database_url, migrations.folder)
    assert tables(engine) == migrations.tables


def test_upgrading_twice_changes_nothing(
    migrations: Migrations, empty_database_url: str, engine: Engine
) -> None:
    upgrade(empty_database_url, migrations.folder)
    upgrade(empty_database_url, migrations.folder)

    assert current(empty_database_url, migrations.folder) == head(migrations.folder)
    assert tables(engine) == migrations.tables
