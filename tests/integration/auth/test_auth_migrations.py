"""The Auth Service's migrations: up, down and up again, on PostgreSQL and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from servicekit.db import EngineOptions, build_engine, current, downgrade, upgrade
from services.auth.models import MIGRATIONS_DIR, metadata

TABLES = {"auth_sessions", "auth_refresh_tokens", "auth_signing_keys", "auth_login_attempts"}


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[Engine]:
    built = build_engine(empty_database_url, EngineOptions(pool_size=None))
    yield built
    built.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_creates_the_auth_tables_and_no_user_table(
    empty_database_url: str, engine: Engine
) -> None:
    upgrade(empty_database_url, MIGRATIONS_DIR)

    inspector = inspect(engine)
    (foreign_key,) = inspector.get_foreign_keys("auth_refresh_tokens")
    assert tables(engine) == TABLES
    assert current(empty_database_url, MIGRATIONS_DIR) == "0001"
    assert inspector.get_pk_constraint("auth_refresh_tokens")["constrained_columns"] == [
        "token_hash"
    ]
    assert foreign_key["referred_table"] == "auth_sessions"
    assert foreign_key["options"].get("ondelete") == "CASCADE"


def test_the_migrated_schema_is_what_the_models_declare(
    empty_database_url: str, engine: Engine
) -> None:
    upgrade(empty_database_url, MIGRATIONS_DIR)

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)

    assert differences == []


def test_downgrade_removes_everything_and_upgrade_works_again(
    empty_database_url: str, engine: Engine
) -> None:
    upgrade(empty_database_url, MIGRATIONS_DIR)

    downgrade(empty_database_url, MIGRATIONS_DIR, "base")
    assert tables(engine) == set()
    assert current(empty_database_url, MIGRATIONS_DIR) is None

    upgrade(empty_database_url, MIGRATIONS_DIR)
    assert tables(engine) == TABLES


def test_upgrading_twice_changes_nothing(empty_database_url: str, engine: Engine) -> None:
    upgrade(empty_database_url, MIGRATIONS_DIR)
    upgrade(empty_database_url, MIGRATIONS_DIR)

    assert current(empty_database_url, MIGRATIONS_DIR) == "0001"
