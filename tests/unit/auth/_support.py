"""Shared by the Auth Service's unit tests: constants, a clock the tests move, a sleep
that only records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from servicekit.auth import Principal

ISSUER = "acme-auth"
AUDIENCE = "acme"
SECRET = b"unit-test key-encryption secret"
PASSWORD = "correct horse battery staple"
ADA = "ada@example.org"
ADA_ID = "00000000-0000-4000-8000-00000000000a"


class Clock:
    """Stands still until told to move; starts ten minutes before the real time.

    Access tokens are checked by the real ``TokenVerifier``, which compares ``iat`` and
    ``exp`` with the real time: a token minted within the first ten minutes of a test's
    time is neither in the future nor expired (15 minutes) when it is verified.
    """

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Sleeps:
    """Records the delays the service asks for instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


Verify = Callable[[str], Principal]
"""Checks an access token as every other service does; ``Unauthenticated`` if invalid."""
