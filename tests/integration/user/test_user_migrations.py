"""What the User Service's migrations build, on PostgreSQL and on SQLite (the rules every
service's migrations keep are in tests/integration/test_migrations.py)."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from servicekit.db import current, head, upgrade
from servicekit.testing.databases import application_tables as tables
from services.user.models import EMAIL_INDEX, MIGRATIONS_DIR


def test_upgrade_creates_the_users_table_with_its_indexes(
    empty_database_url: str, engine: Engine
) -> None:
    upgrade(empty_database_url, MIGRATIONS_DIR)

    indexes = {index["name"]: index for index in inspect(engine).get_indexes("users")}
    assert tables(engine) == {"users"}
    assert current(empty_database_url, MIGRATIONS_DIR) == head(MIGRATIONS_DIR)
    assert indexes[EMAIL_INDEX]["unique"]
    assert indexes[EMAIL_INDEX]["column_names"] == ["email_key"]
