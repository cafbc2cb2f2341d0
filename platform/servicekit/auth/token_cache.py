"""Recently verified access tokens, so that a caller's token is not re-verified every call.

Verifying an ES256 signature costs about 100 us of CPU, more than a whole bare gRPC call;
a client sends the same token with every call for minutes. ``VerifiedTokens`` remembers
the principal of a token that verified, keyed by the SHA-256 of the token (the tokens
themselves are never kept), with the token's ``exp``:

- a hit is re-checked against ``exp`` and the leeway on every call, so an expired token is
  refused exactly as the full verification would refuse it;
- an entry is also forgotten ``max_age`` seconds after its verification, so a signing key
  withdrawn from the JWKS stops being trusted soon after the JWKS says so;
- at most ``max_entries`` tokens are remembered, the least recently used going first;
- only successes are remembered: a token that failed is verified afresh every time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from servicekit.auth.principal import Principal

__all__ = ["VerifiedTokens"]


class _Entry(NamedTuple):
    principal: Principal
    expires: float
    verified_at: float


class VerifiedTokens:
    """A bounded, thread-safe LRU of verified tokens: ``find`` before verifying, ``add``
    after a success."""

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_age: float = 60.0,
        leeway: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` is the wall clock ``exp`` is read against (seconds since the epoch)."""
        if max_entries < 0 or max_age < 0:
            raise ValueError("max_entries and max_age must be >= 0")
        self._max_entries = max_entries
        self._max_age = max_age
        self._leeway = leeway
        self._clock = clock
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when the cache may hold nothing (size or age 0): every token is verified."""
        return self._max_entries > 0 and self._max_age > 0

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, token: str) -> tuple[Principal | None, bool]:
        """``(principal, False)`` for a remembered token still valid; ``(None, True)`` for a
        remembered token whose ``exp`` has passed; ``(None, False)`` when not remembered
        (or remembered too long ago)."""
        key = _key(token)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None, False
            if not 0.0 <= now - entry.verified_at < self._max_age:
                del self._entries[key]
                return None, False
            if entry.expires <= now - self._leeway:  # PyJWT's own test of exp
                del self._entries[key]
                return None, True
            self._entries.move_to_end(key)
            return entry.principal, False

    def add(self, token: str, principal: Principal, expires: float) -> None:
        """Remember that ``token`` verified as ``principal`` and expires at ``expires``."""
        if not self.enabled:
            return
        entry = _Entry(principal=principal, expires=expires, verified_at=self._clock())
        key = _key(token)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)


def _key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
