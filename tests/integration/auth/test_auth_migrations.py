"""What the Auth Service's migrations build, on PostgreSQL and on SQLite (the rules every
service's migrations keep are in tests/integration/test_migrations.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, inspect, text

from servicekit.db import current, head, upgrade
from servicekit.testing.databases import application_tables as tables
from services.auth.models import MIGRATIONS_DIR

T0 = datetime(2024, 6, 1, tzinfo=UTC)
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


def test_rows_from_before_0002_keep_working_after_it(
    empty_database_url: str, engine: Engine
) -> None:
    upgrade(empty_database_url, MIGRATIONS_DIR, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO auth_sessions (id, user_id, roles, created_at, expires_at)"
                " VALUES ('s-1', 'u-1', 'admin', :t, :t)"
            ),
            {"t": T0},
        )
        connection.execute(
            text(
                "INSERT INTO auth_login_attempts (account_key, failures, window_start)"
                " VALUES ('k', 3, :t)"
            ),
            {"t": T0},
        )

    upgrade(empty_database_url, MIGRATIONS_DIR)

    with engine.connect() as connection:
        session = connection.execute(text("SELECT password_set_at FROM auth_sessions")).one()
        attempts = connection.execute(
            text("SELECT failures, pending, pending_until FROM auth_login_attempts")
        ).one()
    assert session.password_set_at is None  # never ended for a password set later
    assert tuple(attempts) == (3, 0, None)
