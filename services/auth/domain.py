"""Sessions, refresh tokens, signing keys and sign-in throttling; free of transport and storage.

A session is one sign-in and the family of refresh tokens that renews it: each refresh
token works once and names its successor, and presenting a used one ends the session.
Failed sign-ins are counted per account key (a hash of the normalised email, whether or
not such a user exists), so a lockout tells nothing about which accounts exist.
"""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from servicekit.errors import ResourceExhausted, Unauthenticated, Unavailable

__all__ = [
    "ES256",
    "InvalidCredentials",
    "InvalidRefreshToken",
    "LoginAttempts",
    "LoginThrottle",
    "NoSigningKey",
    "RefreshToken",
    "RefreshTokenReused",
    "Session",
    "SessionLifetimes",
    "SigningKey",
    "TooManyAttempts",
    "account_key",
]

ES256 = "ES256"
"""The one signature algorithm of this service: ECDSA on P-256 with SHA-256."""

_INVALID_REFRESH_TOKEN = "refresh token is invalid or expired"  # noqa: S105 - a message  # nosec B105


def account_key(email: str) -> str:
    """The key failed sign-ins are counted under: SHA-256 of the email as the User Service
    compares it (NFKC, case folding, NFKC), so ``ADA@x`` and ``ada@x`` share one counter."""
    normalised = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).casefold())
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class Session:
    """One sign-in of one user; its id is also the id of its refresh-token family.

    ``roles`` is the snapshot taken at sign-in: refreshed access tokens carry the same
    roles until the user signs in again.
    """

    id: str
    user_id: str
    roles: frozenset[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


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


@dataclass(frozen=True, kw_only=True, slots=True)
class LoginAttempts:
    """Sign-in attempts of one account key in the current window.

    ``failures`` counts every attempt not known to have succeeded, including ones still
    being checked: an attempt is counted before the password is, so a burst of parallel
    guesses cannot all slip under the limit.
    """

    account_key: str
    failures: int = 0
    window_start: datetime
    locked_until: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LoginThrottle:
    """Brute-force rules: ``max_failures`` within ``window`` lock the account key for
    ``lockout``; from the ``slow_after``-th failure on, each answer is held back, starting
    at ``slowdown`` and doubling up to ``max_slowdown``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    slow_after: int = 3
    slowdown: timedelta = timedelta(seconds=1)
    max_slowdown: timedelta = timedelta(seconds=4)

    def __post_init__(self) -> None:
        if not 1 <= self.slow_after <= self.max_failures:
            raise ValueError("the throttle needs 1 <= slow_after <= max_failures")
        if min(self.window, self.lockout) <= timedelta(0):
            raise ValueError("the throttle's window and lockout must be positive")
        if self.slowdown < timedelta(0) or self.max_slowdown < self.slowdown:
            raise ValueError("the throttle needs 0 <= slowdown <= max_slowdown")

    def fresh(self, key: str, now: datetime) -> LoginAttempts:
        return LoginAttempts(account_key=key, window_start=now)

    def admit(self, attempts: LoginAttempts, now: datetime) -> LoginAttempts:
        """The attempts with one more counted; ``TooManyAttempts`` while locked out.

        The attempt that reaches ``max_failures`` locks at once: should it fail, the next
        one is refused; should it succeed, the success resets everything.
        """
        current = self._current(attempts, now)
        if current.locked_until is not None:
            raise TooManyAttempts(retry_after=(current.locked_until - now).total_seconds())
        failures = current.failures + 1
        locked_until = now + self.lockout if failures >= self.max_failures else None
        return dataclasses.replace(current, failures=failures, locked_until=locked_until)

    def released(self, attempts: LoginAttempts, now: datetime) -> LoginAttempts:
        """The attempts without one whose outcome is unknown (the directory was down)."""
        current = self._current(attempts, now)
        failures = max(current.failures - 1, 0)
        locked_until = current.locked_until if failures >= self.max_failures else None
        return dataclasses.replace(current, failures=failures, locked_until=locked_until)

    def delay(self, attempts: LoginAttempts) -> float:
        """Seconds to hold back the answer to the failed attempt counted in ``attempts``."""
        extra = attempts.failures - self.slow_after
        if extra < 0:
            return 0.0
        delay: timedelta = min(self.slowdown * 2**extra, self.max_slowdown)
        return delay.total_seconds()

    def _current(self, attempts: LoginAttempts, now: datetime) -> LoginAttempts:
        if attempts.locked_until is not None:
            if now < attempts.locked_until:
                return attempts
            return self.fresh(attempts.account_key, now)
        if now - attempts.window_start >= self.window:
            return self.fresh(attempts.account_key, now)
        return attempts


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


class TooManyAttempts(ResourceExhausted):
    """Too many failed sign-ins for this email: refused for ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many failed sign-in attempts; try again later", retry_after)


class NoSigningKey(Unavailable):
    """No key can sign tokens now (none created yet, or none can be decrypted)."""

    def __init__(self) -> None:
        super().__init__("no signing key is available")
