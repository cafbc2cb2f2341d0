"""What the Auth Service's migrations build, on PostgreSQL and on SQLite (the rules every
service's migrations keep are in tests/integration/test_migrations.py)."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from servicekit.db import current, head, upgrade
from servicekit.testing.databases import application_tables as tables
from services.auth.models import MIGRATIONS_DIR

TABLES = {"auth_sessions", "auth_refresh_tokens", "auth_signing_keys", "auth_login_attempts"}


def test_upgrade_creates_the_auth_tables_and_no_user_table(
    empty_database_url: str, engine: Engine
) -> None:
    upgrade(empty_database_url, MIGRATIONS_DIR)

    inspector = inspect(engine)
    (foreign_key,) = inspector.get_foreign_keys("auth_refresh_tokens")
    assert tables(engine) == TABLES
    assert current(empty_database_url, MIGRATIONS_DIR) == head(MIGRATIONS_DIR)
    assert inspector.get_pk_constraint("auth_refresh_tokens")["constrained_columns"] == [
        "token_hash"
    ]
    assert foreign_key["referred_table"] == "auth_sessions"
    assert foreign_key["options"].get("ondelete") == "CASCADE"
