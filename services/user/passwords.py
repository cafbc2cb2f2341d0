"""Password hashing with argon2id (argon2-cffi), costs taken from the settings.

Passwords are NFKC-normalised before hashing (NIST SP 800-63B): the same password typed
on two keyboards that compose characters differently still matches.

Every argon2 run (hash, verify, the dummy verify of an unknown email) goes through one
``servicekit.concurrency.Bulkhead``: each run takes ``memory_cost_kib`` of memory and a
core for tens of milliseconds, so only ``max_concurrent`` run at once, ``max_waiting``
more may wait a moment, and any other call is refused at once with RESOURCE_EXHAUSTED
and a retry delay, rather than taking the server's memory and threads from everyone.
"""

from __future__ import annotations

import secrets
import unicodedata
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from servicekit.concurrency import Bulkhead

if TYPE_CHECKING:
    from services.user.settings import PasswordSettings

__all__ = ["Passwords"]


class Passwords:
    """Hashes and checks passwords; one instance per process (it holds a dummy hash).

    ``hashing`` bounds the concurrent argon2 runs (None: unbounded, for commands that run
    one at a time).
    """

    def __init__(
        self,
        *,
        time_cost: int,
        memory_cost_kib: int,
        parallelism: int,
        hashing: Bulkhead | None = None,
    ) -> None:
        self._hashing = hashing
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        # Verified when an email is unknown, so that answer costs one argon2 run too and
        # timing does not tell which emails exist.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    @classmethod
    def from_settings(cls, settings: PasswordSettings) -> Passwords:
        return cls(
            time_cost=settings.time_cost,
            memory_cost_kib=settings.memory_cost_kib,
            parallelism=settings.parallelism,
            hashing=Bulkhead(
                "password hashing",
                limit=settings.max_concurrent,
                queue=settings.max_waiting,
                max_wait_seconds=settings.max_wait_seconds,
                retry_after_seconds=settings.retry_after_seconds,
            ),
        )

    @property
    def hashing(self) -> Bulkhead | None:
        """The bound on concurrent argon2 runs, if any."""
        return self._hashing

    def hash(self, password: str) -> str:
        """An encoded argon2id hash (salt and costs included) of ``password``;
        ``servicekit.concurrency.Saturated`` when too many runs are under way."""
        with self._slot():
            return self._hasher.hash(_normalised(password))

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; a corrupt or foreign hash never matches.
        ``Saturated`` as for :meth:`hash`."""
        with self._slot():
            try:
                return self._hasher.verify(password_hash, _normalised(password))
            except (VerificationError, InvalidHashError):
                return False

    def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification, for callers with no user to check."""
        self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other costs than today's settings."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _slot(self) -> AbstractContextManager[None]:
        return self._hashing.slot() if self._hashing is not None else nullcontext()


def _normalised(password: str) -> str:
    return unicodedata.normalize("NFKC", password)
