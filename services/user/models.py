"""The User Service's tables (SQLAlchemy 2), portable to PostgreSQL and SQLite.

The schema is created only by the migrations; ``metadata`` is their reference and the
repository's source of column objects. Unique live emails are enforced here, by a partial
unique index (``WHERE delete_time IS NULL``): a soft-deleted user frees its email, and two
concurrent creates cannot both pass a check done in Python.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import DateTime, Dialect, Index, Integer, MetaData, String, Table, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "EMAIL_INDEX",
    "MIGRATIONS_DIR",
    "NAMING_CONVENTION",
    "Base",
    "UserRow",
    "UtcDateTime",
    "metadata",
    "users",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
"""The alembic scripts that build this schema: ``servicekit.db.upgrade(url, MIGRATIONS_DIR)``."""

EMAIL_INDEX = "uq_users_email_key_live"
"""The partial unique index on live users' email keys; its violations mean EmailTaken."""

_LIVE = "delete_time IS NULL"


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so it stores naive UTC
    text, which also sorts in time order (the list order relies on it).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


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

    __table_args__ = (
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
