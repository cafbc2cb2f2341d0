"""Sessions, refresh tokens and signing keys; free of transport and storage.

A session is one sign-in and the family of refresh tokens that renews it: each refresh
token works once and names its successor, and presenting a used one ends the session.
Each refresh asks the user directory for the user as it is now: a deleted user's session
ends, as does one whose password was set again since it began, and the new access token
carries the user's current roles.

Sign-in attempts and the rules that throttle them live in ``attempts``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from servicekit.errors import Unauthenticated, Unavailable

__all__ = [
    "ES256",
    "InvalidCredentials",
    "InvalidRefreshToken",
    "NoSigningKey",
    "RefreshToken",
    "RefreshTokenReused",
    "Session",
    "SessionLifetimes",
    "SigningKey",
]

ES256 = "ES256"
"""The one signature algorithm of this service: ECDSA on P-256 with SHA-256."""

_INVALID_REFRESH_TOKEN = "refresh token is invalid or expired"  # noqa: S105 - a message  # nosec B105


@dataclass(frozen=True, kw_only=True, slots=True)
class Session:
    """One sign-in of one user; its id is also the id of its refresh-token family.

    ``roles`` are the user's roles at sign-in (refreshed access tokens carry the roles of
    the time of the refresh); ``password_set_at`` is when the user's password had been
    set at sign-in: once the directory reports another time, the session ends (None:
    a session from before this was kept, never ended for it).
    """

    id: str
    user_id: str
    roles: frozenset[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    password_set_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def outlived_password(self, password_set_at: datetime | None) -> bool:
        """Whether the password was set again since this session began."""
        known = self.password_set_at
        return known is not None and password_set_at is not None and known != password_set_at


@dataclass(frozen=True, kw_only=True, slots=True)
class RefreshToken:
    """What is kept of a refresh token: its SHA-256 (hex), never the token itself."""

    token_hash: str
    session_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    replaced_by: str | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionLifetimes:
    """A refresh token lives ``refresh_token_ttl``, a session at most ``session_ttl``
    (then its user signs in again); ended sessions are kept ``retention`` before a purge
    deletes them, so a reused token is still recognised meanwhile."""

    refresh_token_ttl: timedelta = timedelta(days=14)
    session_ttl: timedelta = timedelta(days=30)
    retention: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if min(self.refresh_token_ttl, self.session_ttl) <= timedelta(0):
            raise ValueError("refresh_token_ttl and session_ttl must be positive")
        if self.retention < timedelta(0):
            raise ValueError("retention must not be negative")


@dataclass(frozen=True, kw_only=True, slots=True)
class SigningKey:
    """A key pair that signs access tokens.

    Published (in the JWKS) until ``retire_at``; it signs only while it is the newest key
    whose ``activated_at`` has come. ``private_key_pem`` is PKCS#8, encrypted at rest.
    """

    kid: str
    algorithm: str = ES256
    private_key_pem: str = dataclasses.field(repr=False)
    public_jwk: dict[str, str]
    created_at: datetime
    activated_at: datetime
    retire_at: datetime | None = None

    def is_published(self, now: datetime) -> bool:
        return self.retire_at is None or now < self.retire_at

    def is_active(self, now: datetime) -> bool:
        return self.activated_at <= now and self.is_published(now)


class InvalidCredentials(Unauthenticated):
    """One error for an unknown email and a wrong password, so neither is revealed."""

    def __init__(self) -> None:
        super().__init__("invalid credentials")


class InvalidRefreshToken(Unauthenticated):
    """The refresh token is unknown, expired, or its session has ended."""

    def __init__(self) -> None:
        super().__init__(_INVALID_REFRESH_TOKEN)


class RefreshTokenReused(Unauthenticated):
    """A used refresh token came back: its session is revoked. Callers see the same
    message as for an invalid token; only the logs tell the two apart."""

    def __init__(self) -> None:
        super().__init__(_INVALID_REFRESH_TOKEN)


class NoSigningKey(Unavailable):
    """No key can sign tokens now (none created yet, or none can be decrypted)."""

    def __init__(self) -> None:
        super().__init__("no signing key is available")
