"""Sign-in throttling applied: ``LoginThrottle``'s rules over the stored attempt counters.

Each sign-in counts against two counters (``AttemptKeys``): its client's on the account,
limited to ``max_failures``, and the account's, limited to ``max_account_failures``. An
attempt is admitted, in its own short transaction, as *in progress* on both before the
password is checked; once judged it becomes a failure (or clears the failures) in another,
so no transaction stays open while the User Service answers or a failure is held back.
Both rows are locked in the same order (client, then account) by every transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import structlog

from services.auth.attempts import AttemptKeys, LoginAttempts, LoginThrottle, TooManyAttempts
from services.auth.ports import Clock, Sleep, utc_now
from services.auth.unit_of_work import AuthUnitOfWork

__all__ = ["LoginAttemptCounter"]

_log = structlog.get_logger(__name__)


class LoginAttemptCounter:
    """Admits, judges, releases and holds back the sign-in attempts of each account."""

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

    def admit(self, keys: AttemptKeys) -> None:
        """Count one more attempt in progress, or raise ``TooManyAttempts`` (while either
        counter is locked out, or could reach its limit with the attempts in progress)."""
        now = self._clock()
        rules = self._throttle
        with self._uow() as uow:
            admitted = []
            for key, limit in self._limits(keys):
                current = uow.login_attempts.lock(rules.fresh(key, now))
                try:
                    admitted.append(rules.admit(current, now, limit=limit))
                except TooManyAttempts as refused:
                    _log.warning(
                        "sign-in refused",
                        account=keys.account[:16],
                        counter="client" if key == keys.client else "account",
                        reason=refused.message,
                        retry_after=refused.retry_after,
                    )
                    raise
            for attempts in admitted:
                uow.login_attempts.save(attempts)
            uow.commit()

    def failed(self, keys: AttemptKeys) -> LoginAttempts:
        """The attempt in progress was judged wrong: count a failure on both counters.
        Returns the client's counter (whose failures decide the hold-back)."""
        now = self._clock()
        rules = self._throttle
        with self._uow() as uow:
            judged = [
                rules.failed(uow.login_attempts.lock(rules.fresh(key, now)), now, limit=limit)
                for key, limit in self._limits(keys)
            ]
            for attempts in judged:
                uow.login_attempts.save(attempts)
            uow.commit()
        for attempts, (key, _) in zip(judged, self._limits(keys), strict=True):
            if attempts.locked_until == now + rules.lockout:
                counter = "client" if key == keys.client else "account"
                _log.warning(
                    "sign-in attempts exhausted",
                    account=keys.account[:16],
                    counter=counter,
                    failures=attempts.failures,
                )
        return judged[0]

    def succeeded(self, uow: AuthUnitOfWork, keys: AttemptKeys, now: datetime) -> None:
        """In ``uow``: the attempt in progress signed in; both counters forget their failures."""
        for key, _ in self._limits(keys):
            attempts = self._throttle.succeeded(
                uow.login_attempts.lock(self._throttle.fresh(key, now)), now
            )
            if attempts.is_idle:
                uow.login_attempts.delete(key)
            else:
                uow.login_attempts.save(attempts)

    def release(self, keys: AttemptKeys) -> None:
        """Take back an attempt in progress whose password was never judged."""
        now = self._clock()
        rules = self._throttle
        with self._uow() as uow:
            for key, _ in self._limits(keys):
                uow.login_attempts.save(
                    rules.released(uow.login_attempts.lock(rules.fresh(key, now)), now)
                )
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

    def _limits(self, keys: AttemptKeys) -> tuple[tuple[str, int], tuple[str, int]]:
        """Both counters of ``keys`` with their limits, in the order every lock is taken."""
        return (
            (keys.client, self._throttle.max_failures),
            (keys.account, self._throttle.max_account_failures),
        )
