"""Sessions remember when their user's password had been set; sign-in attempts in progress.

Revision ID: 0002
Revises: 0001
Create Date: 2024-07-01

``auth_sessions.password_set_at``: a refresh ends a session once the user's password was
set again (NULL for sessions from before: never ended for it). ``auth_login_attempts``
counts attempts still being checked (``pending``, until ``pending_until``) apart from the
judged ``failures``. Both are added columns: no table is rebuilt, on SQLite either.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "auth_sessions", sa.Column("password_set_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "auth_login_attempts",
        sa.Column("pending", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "auth_login_attempts",
        sa.Column("pending_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("auth_login_attempts") as table:
        table.drop_column("pending_until")
        table.drop_column("pending")
    with op.batch_alter_table("auth_sessions") as table:
        table.drop_column("password_set_at")
