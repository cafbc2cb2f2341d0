"""Sign-in throttling applied: ``LoginThrottle``'s rules over the stored attempt counters.

Every attempt is counted in its own short transaction before the password is checked, so
no transaction stays open while the User Service answers or a failure is held back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import structlog

from services.auth.domain import LoginAttempts, LoginThrottle, TooManyAttempts
from services.auth.ports import Clock, Sleep, utc_now
from services.auth.unit_of_work import AuthUnitOfWork

__all__ = ["LoginAttemptCounter"]

_log = structlog.get_logger(__name__)


class LoginAttemptCounter:
    """Counts, releases and holds back the sign-in attempts of each account key."""

    def __init__(
        self,
        *,
        unit_of_work: Callable[[], AuthUnitOfWork],
        throttle: LoginThrottle,
        clock: Clock = utc_now,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._uow = unit_of_work
        self._throttle = throttle
        self._clock = clock
        self._sleep = sleep

    def admit(self, key: str) -> LoginAttempts:
        """Count one more attempt, or raise ``TooManyAttempts`` while the key is locked out."""
        now = self._clock()
        with self._uow() as uow:
            current = uow.login_attempts.lock(self._throttle.fresh(key, now))
            try:
                counted = self._throttle.admit(current, now)
            except TooManyAttempts as refused:
                _log.warning("sign-in refused", account=key[:16], retry_after=refused.retry_after)
                raise
            uow.login_attempts.save(counted)
            uow.commit()
        if counted.locked_until is not None:
            _log.warning("sign-in attempts exhausted", account=key[:16], failures=counted.failures)
        return counted

    def release(self, key: str) -> None:
        """Take back an attempt whose password was never judged."""
        now = self._clock()
        with self._uow() as uow:
            current = uow.login_attempts.lock(self._throttle.fresh(key, now))
            uow.login_attempts.save(self._throttle.released(current, now))
            uow.commit()

    def hold_back(self, attempt: LoginAttempts) -> None:
        """Answer a failed ``attempt`` late, from the ``slow_after``-th failure on."""
        delay = self._throttle.delay(attempt)
        if delay > 0:
            self._sleep(delay)

    def delete_stale(self, uow: AuthUnitOfWork, now: datetime) -> int:
        """In ``uow``: delete counters whose window and lockout are both over."""
        return uow.login_attempts.delete_stale(
            window_start_before=now - self._throttle.window, now=now
        )
