"""What the Auth Service needs from outside: the time, waiting, the user directory, and
somewhere to count what happens (``AuthEvents``: Prometheus counters in the service,
``services.auth.metrics``; nothing by default).

The real ``UserDirectory`` is an adapter over the User Service's generated client (wired in
``app.py``): it calls ``VerifyCredentials`` and ``GetSignInState`` as the service ``auth``
and raises this module's errors, never grpc's. Its stand-in for tests lives beside them
(``tests/unit/auth/fakes.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

__all__ = [
    "LOGIN_OUTCOMES",
    "REVOCATION_REASONS",
    "AuthEvents",
    "Clock",
    "LoginOutcome",
    "NoEvents",
    "RevocationReason",
    "Sleep",
    "UserDirectory",
    "VerifiedUser",
    "utc_now",
]

Clock = Callable[[], datetime]
"""The current time, as an aware UTC datetime."""

Sleep = Callable[[float], None]
"""Waits that many seconds (``time.sleep``); tests pass a recorder."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifiedUser:
    """A user as the directory knows it now: ``roles`` are lowercase role names,
    ``password_set_at`` when its password was last set (None: the directory does not say)."""

    id: str
    roles: frozenset[str] = frozenset()
    password_set_at: datetime | None = None


class UserDirectory(Protocol):
    """Checks credentials against the users' store, and tells what a user is now."""

    def verify(self, email: str, password: str) -> VerifiedUser:
        """The user, or ``InvalidCredentials`` (unknown email and wrong password alike);
        ``servicekit.errors.Unavailable`` (or ``DeadlineExceeded``) when it cannot tell,
        ``ResourceExhausted`` when it is too busy to check now."""
        ...

    def current(self, user_id: str) -> VerifiedUser | None:
        """The user with this id as it is now, or None once it is deleted (or never was);
        errors as for :meth:`verify` when it cannot tell."""
        ...


LoginOutcome = Literal["succeeded", "failed", "locked"]
"""How a judged sign-in ended: signed in, wrong credentials, or refused by the throttle
(locked out, or too many attempts in progress) before the password was checked."""
LOGIN_OUTCOMES: tuple[LoginOutcome, ...] = ("succeeded", "failed", "locked")

RevocationReason = Literal["logout", "refresh_token_reused", "user_deleted", "password_changed"]
"""Why a session ended before its time."""
REVOCATION_REASONS: tuple[RevocationReason, ...] = (
    "logout",
    "refresh_token_reused",
    "user_deleted",
    "password_changed",
)


class AuthEvents(Protocol):
    """The events of the Auth Service worth counting, told as they happen."""

    def login(self, outcome: LoginOutcome) -> None:
        """A sign-in ended so (a sign-in the User Service could not judge is none)."""
        ...

    def refresh_token_reused(self) -> None:
        """A refresh token was presented again after its use: a stolen copy, or a replay."""
        ...

    def session_revoked(self, reason: RevocationReason) -> None:
        """A live session ended, for ``reason``."""
        ...


class NoEvents:
    """``AuthEvents`` that counts nothing (commands, and use cases built without metrics)."""

    def login(self, outcome: LoginOutcome) -> None:
        """Not counted."""

    def refresh_token_reused(self) -> None:
        """Not counted."""

    def session_revoked(self, reason: RevocationReason) -> None:
        """Not counted."""
