"""Create the auth service's tables: sessions, refresh tokens, signing keys, login attempts.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

Refresh tokens are stored by the SHA-256 of the token (the primary key, so unique) and go
with their session (ON DELETE CASCADE).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        _time("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_auth_sessions"),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])
    op.create_index("ix_auth_sessions_expires_at", "auth_sessions", ["expires_at"])
    op.create_table(
        "auth_refresh_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        _time("issued_at"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.Column("replaced_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_auth_refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name="fk_auth_refresh_tokens_session_id_auth_sessions",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_auth_refresh_tokens_session_id", "auth_refresh_tokens", ["session_id"])
    op.create_table(
        "auth_signing_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        _time("created_at"),
        _time("activated_at"),
        _time("retire_at", nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_auth_signing_keys"),
    )
    op.create_table(
        "auth_login_attempts",
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _time("window_start"),
        _time("locked_until", nullable=True),
        sa.PrimaryKeyConstraint("account_key", name="pk_auth_login_attempts"),
    )
    op.create_index("ix_auth_login_attempts_window_start", "auth_login_attempts", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_auth_login_attempts_window_start", table_name="auth_login_attempts")
    op.drop_table("auth_login_attempts")
    op.drop_table("auth_signing_keys")
    op.drop_index("ix_auth_refresh_tokens_session_id", table_name="auth_refresh_tokens")
    op.drop_table("auth_refresh_tokens")
    op.drop_index("ix_auth_sessions_expires_at", table_name="auth_sessions")
    op.drop_index("ix_auth_sessions_user_id", table_name="auth_sessions")
    op.drop_table("auth_sessions")
