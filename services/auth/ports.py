"""What the Auth Service needs from outside: the time, waiting, and the user directory.

The real ``UserDirectory`` is an adapter over the User Service's generated client (wired in
``app.py``): it calls ``VerifyCredentials`` as the service ``auth`` and raises this
module's errors, never grpc's. Its stand-in for tests lives beside them
(``tests/unit/auth/fakes.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "Sleep", "UserDirectory", "VerifiedUser", "utc_now"]

Clock = Callable[[], datetime]
"""The current time, as an aware UTC datetime."""

Sleep = Callable[[float], None]
"""Waits that many seconds (``time.sleep``); tests pass a recorder."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifiedUser:
    """The user a pair of credentials belongs to; ``roles`` are lowercase role names."""

    id: str
    roles: frozenset[str] = frozenset()


class UserDirectory(Protocol):
    """Checks credentials against the users' store."""

    def verify(self, email: str, password: str) -> VerifiedUser:
        """The user, or ``InvalidCredentials`` (unknown email and wrong password alike);
        ``servicekit.errors.Unavailable`` (or ``DeadlineExceeded``) when it cannot tell."""
        ...
