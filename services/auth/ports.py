"""What the Auth Service needs from outside, and in-memory stand-ins for tests.

The real ``UserDirectory`` is an adapter over the User Service's generated client (wired in
``app.py``): it calls ``VerifyCredentials`` as the service ``auth`` and raises this
module's errors, never grpc's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from servicekit.errors import Unavailable
from services.auth.domain import InvalidCredentials, account_key

__all__ = ["Clock", "FakeUserDirectory", "Sleep", "UserDirectory", "VerifiedUser", "utc_now"]

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


class FakeUserDirectory:
    """Users in a dict, keyed as the User Service compares emails; can be switched off."""

    def __init__(self) -> None:
        self._users: dict[str, tuple[str, VerifiedUser]] = {}
        self.available = True
        self.calls = 0

    def add(
        self, email: str, password: str, *, roles: Iterable[str] = (), user_id: str | None = None
    ) -> VerifiedUser:
        user = VerifiedUser(id=user_id or str(uuid.uuid4()), roles=frozenset(roles))
        self._users[account_key(email)] = (password, user)
        return user

    def verify(self, email: str, password: str) -> VerifiedUser:
        self.calls += 1
        if not self.available:
            raise Unavailable("user service unavailable")
        known = self._users.get(account_key(email))
        if known is None or known[0] != password:
            raise InvalidCredentials
        return known[1]
