"""The User Service's tables (SQLAlchemy 2), portable to PostgreSQL and SQLite.

The schema is created only by the migrations; ``metadata`` is their reference and the
repository's source of column objects. Unique live emails are enforced here, by a partial
unique index (``WHERE delete_time IS NULL``): a soft-deleted user frees its email, and two
concurrent creates cannot both pass a check done in Python. The request that created a
user (its AIP-155 ``request_id``, unique among all users, deleted ones included) is kept
with it, with a digest of the request's other fields, so a create sent again is known.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Index, Integer, String, Table, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db.schema import NAMING_CONVENTION, UtcDateTime, new_metadata

__all__ = [
    "EMAIL_INDEX",
    "MIGRATIONS_DIR",
    "NAMING_CONVENTION",
    "REQUEST_ID_INDEX",
    "Base",
    "UserRow",
    "UtcDateTime",
    "metadata",
    "users",
]


MIGRATIONS_DIR = Path(__file__).parent / "migrations"
"""The alembic revisions that build this schema: ``servicekit.db.upgrade(url, MIGRATIONS_DIR)``."""

EMAIL_INDEX = "uq_users_email_key_live"
"""The partial unique index on live users' email keys; its violations mean EmailTaken."""

REQUEST_ID_INDEX = "uq_users_request_id"
"""The unique index on the ids of the requests that created users."""

_LIVE = "delete_time IS NULL"


class Base(DeclarativeBase):
    metadata = new_metadata()


class UserRow(Base):
    """One user. ``roles`` is comma-bracketed text (``,admin,auditor,``), portable and
    filterable with ``LIKE '%,admin,%'``; ``version`` backs the etag."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    email_key: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    roles: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(Text)
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)
    delete_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    request_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    request_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        Index(REQUEST_ID_INDEX, "request_id", unique=True),
        Index(
            EMAIL_INDEX,
            "email_key",
            unique=True,
            postgresql_where=text(_LIVE),
            sqlite_where=text(_LIVE),
        ),
        Index(
            "ix_users_create_time_id_live",
            "create_time",
            "id",
            postgresql_where=text(_LIVE),
            sqlite_where=text(_LIVE),
        ),
    )


metadata = Base.metadata
users = cast(Table, UserRow.__table__)
"""The users table, for SQLAlchemy Core statements in the repository."""
