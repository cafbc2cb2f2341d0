"""Remember the request that created each user.

Revision ID: 0002_remember_create_requests
Revises: 0001
Create Date: 2026-12-06 12:59:43.034669

``users.request_id``: the AIP-155 request id of the CreateUser that made the user (NULL
when the caller gave none, and for users from before), unique among all users, deleted
ones included, so a create sent again finds its user instead of making a second one;
``users.request_digest``: a digest of that request's email and display name, to tell the
same request from another one reusing its id. Added columns and an index: no table is
rebuilt, on SQLite either (NULLs are distinct in a unique index on both databases).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_remember_create_requests"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("request_id", sa.String(length=36), nullable=True))
    op.add_column("users", sa.Column("request_digest", sa.String(length=64), nullable=True))
    op.create_index("uq_users_request_id", "users", ["request_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("uq_users_request_id")
        batch_op.drop_column("request_digest")
        batch_op.drop_column("request_id")
