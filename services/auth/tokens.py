"""Access tokens (signed JWTs) for users and services, and opaque refresh tokens.

Claims are what ``servicekit.auth.TokenVerifier`` checks: ``iss``, ``aud``, ``sub``,
``exp``, ``iat``, ``jti`` and ``roles`` (lowercase names). A user's token also names its
session (``sid``); a service's token says ``svc`` with the same value as ``sub``, so the
access policies can name the service and no user id is ever borrowed. Outgoing calls
re-mint it before it expires with ``servicekit.clients.RefreshingToken``::

    RefreshingToken(lambda: issuer.mint_service_token("auth").token,
                    lifetime_seconds=issuer.ttl.total_seconds())
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.auth.keys import SigningKeys
from services.auth.ports import Clock, utc_now

__all__ = [
    "AccessToken",
    "TokenIssuer",
    "new_refresh_token",
    "refresh_token_hash",
]


def new_refresh_token() -> str:
    """An opaque refresh token: 256 random bits, urlsafe base64."""
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    """The form a refresh token is stored and looked up in: SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessToken:
    """A signed JWT, when it expires (whole seconds, as its ``exp``) and its ``jti``."""

    token: str = field(repr=False)
    expires_at: datetime
    token_id: str


class TokenIssuer:
    """Mints access tokens valid for ``ttl``, signed by the newest active key."""

    def __init__(
        self,
        keys: SigningKeys,
        *,
        issuer: str,
        audience: str,
        ttl: timedelta = timedelta(minutes=15),
        clock: Clock = utc_now,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError("the access token ttl must be positive")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self.ttl = ttl
        self._clock = clock

    def mint_access_token(
        self, *, subject: str, roles: Iterable[str], session_id: str, now: datetime | None = None
    ) -> AccessToken:
        """A user's token: ``sub`` is the user id, ``sid`` the session."""
        return self._mint(subject, roles, {"sid": session_id}, now)

    def mint_service_token(self, service: str, *, now: datetime | None = None) -> AccessToken:
        """A service's own token: ``sub`` and ``svc`` are its name; it has no roles."""
        return self._mint(service, (), {"svc": service}, now)

    def _mint(
        self,
        subject: str,
        roles: Iterable[str],
        extra: dict[str, Any],
        now: datetime | None,
    ) -> AccessToken:
        now = now or self._clock()
        issued = int(now.timestamp())
        expires = issued + int(self.ttl.total_seconds())
        token_id = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": issued,
            "exp": expires,
            "jti": token_id,
            "roles": sorted({role.lower() for role in roles}),
            **extra,
        }
        signed = self._keys.sign(claims, now)
        return AccessToken(
            token=signed, expires_at=datetime.fromtimestamp(expires, UTC), token_id=token_id
        )
