"""The Auth Service's tables (SQLAlchemy 2), portable to PostgreSQL and SQLite.

The schema is created only by the migrations; ``metadata`` is their reference and the
repositories' source of column objects. These are the auth service's own tables, in its
own database: users live in the User Service and are referred to by id only.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import cast

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db.schema import NAMING_CONVENTION, UtcDateTime, new_metadata

__all__ = [
    "MIGRATIONS_DIR",
    "NAMING_CONVENTION",
    "Base",
    "LoginAttemptsRow",
    "RefreshTokenRow",
    "SessionRow",
    "SigningKeyRow",
    "UtcDateTime",
    "login_attempts",
    "metadata",
    "refresh_tokens",
    "sessions",
    "signing_keys",
]


MIGRATIONS_DIR = Path(__file__).parent / "migrations"
"""The alembic revisions that build this schema: ``servicekit.db.upgrade(url, MIGRATIONS_DIR)``."""


class Base(DeclarativeBase):
    metadata = new_metadata()


class SessionRow(Base):
    """One sign-in; ``roles`` is the comma-separated snapshot of the user's role names at
    sign-in, ``password_set_at`` when the user's password had been set then."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    roles: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    password_set_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class RefreshTokenRow(Base):
    """One refresh token of a session, by the SHA-256 of the token (the primary key, so
    unique); deleting a session deletes its tokens."""

    __tablename__ = "auth_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    replaced_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SigningKeyRow(Base):
    """A signing key: encrypted PKCS#8 PEM and the public JWK as JSON text."""

    __tablename__ = "auth_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retire_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class LoginAttemptsRow(Base):
    """Sign-in attempts under one key, hex: an account's (SHA-256 of a normalised email)
    or one client's on an account (SHA-256 of both); ``pending`` are attempts in progress."""

    __tablename__ = "auth_login_attempts"

    account_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    pending: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pending_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


metadata = Base.metadata
sessions = cast(Table, SessionRow.__table__)
refresh_tokens = cast(Table, RefreshTokenRow.__table__)
signing_keys = cast(Table, SigningKeyRow.__table__)
login_attempts = cast(Table, LoginAttemptsRow.__table__)
