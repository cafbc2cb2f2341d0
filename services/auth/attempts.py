"""Sign-in attempts and the brute-force rules over them; free of transport and storage.

Failed sign-ins are counted per account (a hash of the normalised email, whether or not
such a user exists, so a lockout tells nothing about which accounts exist) and per account
*and client* (``client_key``): a few failures lock out one client's attempts on an account,
and only many more, from any clients together, lock the account for everyone. Attempts
still being checked are held as ``pending``, so a burst of parallel guesses cannot slip
under either limit, while parallel correct sign-ins all succeed. ``throttling`` applies
these rules to the stored counters.
"""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from servicekit.errors import ResourceExhausted

__all__ = [
    "AttemptKeys",
    "AttemptsInProgress",
    "LoginAttempts",
    "LoginThrottle",
    "TooManyAttempts",
    "account_key",
    "client_key",
]


def account_key(email: str) -> str:
    """The key failed sign-ins are counted under: SHA-256 of the email as the User Service
    compares it (NFKC, case folding, NFKC), so ``ADA@x`` and ``ada@x`` share one counter."""
    normalised = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).casefold())
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()


def client_key(account: str, client: str) -> str:
    """The key one client's sign-ins on one account are counted under: SHA-256 of the
    account key and the client's address (``""`` when it is not known)."""
    return hashlib.sha256(f"{account}\x00{client}".encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class AttemptKeys:
    """The two counters a sign-in counts against: its client's on the account, the account's."""

    client: str
    account: str

    @classmethod
    def of(cls, email: str, client: str) -> AttemptKeys:
        account = account_key(email)
        return cls(client=client_key(account, client), account=account)


@dataclass(frozen=True, kw_only=True, slots=True)
class LoginAttempts:
    """Sign-in attempts under one key (``account_key``: an account, or an account from one
    client, ``client_key``) in the current window.

    ``failures`` counts the attempts judged wrong; ``pending`` the attempts being checked
    now, until ``pending_until`` (past it, an attempt that never reported back, say from
    a process that died, stops counting).
    """

    account_key: str
    failures: int = 0
    window_start: datetime
    locked_until: datetime | None = None
    pending: int = 0
    pending_until: datetime | None = None

    @property
    def is_idle(self) -> bool:
        """Nothing to remember: no failure, no lock, nothing in progress."""
        return self.failures == 0 and self.pending == 0 and self.locked_until is None


@dataclass(frozen=True, kw_only=True, slots=True)
class LoginThrottle:
    """Brute-force rules.

    ``max_failures`` failures of one client on one account within ``window`` lock that
    client out of that account for ``lockout``; ``max_account_failures`` failures from all
    clients together lock the account for everyone. An attempt is admitted only while
    the failures and the attempts still in progress stay below the limit, so parallel
    guesses cannot exceed it; only a judged failure counts, so parallel correct sign-ins
    are all admitted (up to the limit at once). From the ``slow_after``-th failure of a
    client on an account on, each answer is held back, starting at ``slowdown`` and
    doubling up to ``max_slowdown``. An attempt counts as in progress for at most
    ``attempt_timeout``.
    """

    max_failures: int = 5
    max_account_failures: int = 50
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    slow_after: int = 3
    slowdown: timedelta = timedelta(seconds=1)
    max_slowdown: timedelta = timedelta(seconds=4)
    attempt_timeout: timedelta = timedelta(minutes=1)
    busy_retry_after: timedelta = timedelta(seconds=1)

    def __post_init__(self) -> None:
        if not 1 <= self.slow_after <= self.max_failures:
            raise ValueError("the throttle needs 1 <= slow_after <= max_failures")
        if self.max_account_failures < self.max_failures:
            raise ValueError("the throttle needs max_failures <= max_account_failures")
        if min(self.window, self.lockout, self.attempt_timeout) <= timedelta(0):
            raise ValueError("the throttle's window, lockout and attempt_timeout must be positive")
        if self.slowdown < timedelta(0) or self.max_slowdown < self.slowdown:
            raise ValueError("the throttle needs 0 <= slowdown <= max_slowdown")

    def fresh(self, key: str, now: datetime) -> LoginAttempts:
        return LoginAttempts(account_key=key, window_start=now)

    def admit(self, attempts: LoginAttempts, now: datetime, *, limit: int) -> LoginAttempts:
        """The attempts with one more in progress; ``TooManyAttempts`` while locked out,
        ``AttemptsInProgress`` while the attempts in progress could reach ``limit``."""
        current = self._current(attempts, now)
        if current.locked_until is not None:
            raise TooManyAttempts(retry_after=(current.locked_until - now).total_seconds())
        if current.failures + current.pending >= limit:
            raise AttemptsInProgress(retry_after=self.busy_retry_after.total_seconds())
        return dataclasses.replace(
            current, pending=current.pending + 1, pending_until=now + self.attempt_timeout
        )

    def failed(self, attempts: LoginAttempts, now: datetime, *, limit: int) -> LoginAttempts:
        """The attempts after one in progress was judged wrong; the ``limit``-th locks."""
        current = self._done(attempts, now)
        failures = current.failures + 1
        locked_until = now + self.lockout if failures >= limit else current.locked_until
        return dataclasses.replace(current, failures=failures, locked_until=locked_until)

    def succeeded(self, attempts: LoginAttempts, now: datetime) -> LoginAttempts:
        """The attempts after one in progress signed in: the failures are forgotten."""
        return dataclasses.replace(self._done(attempts, now), failures=0, locked_until=None)

    def released(self, attempts: LoginAttempts, now: datetime) -> LoginAttempts:
        """The attempts without one in progress whose outcome is unknown (the directory
        could not tell): it counts neither way."""
        return self._done(attempts, now)

    def delay(self, attempts: LoginAttempts) -> float:
        """Seconds to hold back the answer to the failure counted in ``attempts``."""
        extra = attempts.failures - self.slow_after
        if extra < 0:
            return 0.0
        delay: timedelta = min(self.slowdown * 2**extra, self.max_slowdown)
        return delay.total_seconds()

    def _done(self, attempts: LoginAttempts, now: datetime) -> LoginAttempts:
        current = self._current(attempts, now)
        pending = max(current.pending - 1, 0)
        return dataclasses.replace(
            current, pending=pending, pending_until=current.pending_until if pending else None
        )

    def _current(self, attempts: LoginAttempts, now: datetime) -> LoginAttempts:
        if attempts.locked_until is not None:
            if now < attempts.locked_until:
                return attempts
            return self.fresh(attempts.account_key, now)
        if now - attempts.window_start >= self.window:
            return self.fresh(attempts.account_key, now)
        if attempts.pending_until is not None and now >= attempts.pending_until:
            return dataclasses.replace(attempts, pending=0, pending_until=None)
        return attempts


class TooManyAttempts(ResourceExhausted):
    """Too many failed sign-ins for this email: refused for ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(
            message or "too many failed sign-in attempts; try again later", retry_after
        )


class AttemptsInProgress(TooManyAttempts):
    """As many sign-ins for this email are being checked as may still fail: refused for a
    moment, until they are judged."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after, "too many sign-in attempts in progress; try again shortly")
