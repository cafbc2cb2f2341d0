"""A bulkhead: at most ``limit`` calls of some costly work at once, a short queue, then no.

Work that costs a lot of memory or CPU per call (argon2 password hashing: 64 MiB and a
core's worth of time each) must not run once per concurrent request: a burst of anonymous
sign-ups would take the server's memory and every worker thread with it, and unrelated
calls would time out behind them. ``Bulkhead.slot()`` admits ``limit`` calls at once and
lets up to ``queue`` more wait for a slot, each at most ``max_wait_seconds``; a call
beyond those, or one whose wait runs out, is refused at once with
``servicekit.errors.ResourceExhausted`` and a ``retry_after`` hint (RESOURCE_EXHAUSTED with
``RetryInfo`` on the wire, 429 with ``Retry-After`` at the gateway). A waiting call holds
no memory of the work: it only holds its own thread::

    hashing = Bulkhead("password hashing", limit=2, queue=4)
    with hashing.slot():
        digest = hasher.hash(password)

Thread-safe; per process (each worker process of a service has its own).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from servicekit.errors import ResourceExhausted

__all__ = ["Bulkhead", "Saturated"]


class Saturated(ResourceExhausted):
    """The bulkhead is full: the work was refused, not started; retry after a moment."""


class Bulkhead:
    """``limit`` concurrent holders of ``slot()``, ``queue`` more waiting, the rest refused."""

    def __init__(
        self,
        name: str,
        *,
        limit: int,
        queue: int = 0,
        max_wait_seconds: float = 1.0,
        retry_after_seconds: float = 1.0,
    ) -> None:
        if limit < 1 or queue < 0:
            raise ValueError("a bulkhead needs limit >= 1 and queue >= 0")
        if max_wait_seconds < 0 or retry_after_seconds < 0:
            raise ValueError("max_wait_seconds and retry_after_seconds must be >= 0")
        self.name = name
        self.limit = limit
        self.queue = queue
        self._max_wait = max_wait_seconds
        self._retry_after = retry_after_seconds
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._admitted = 0  # running and waiting

    @property
    def admitted(self) -> int:
        """How many calls hold a slot or wait for one now."""
        with self._lock:
            return self._admitted

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block; ``Saturated`` when none is free in time."""
        with self._lock:
            if self._admitted >= self.limit + self.queue:
                raise self._refusal()
            self._admitted += 1
        try:
            if not self._slots.acquire(timeout=self._max_wait):
                raise self._refusal()
            try:
                yield
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._admitted -= 1

    def _refusal(self) -> Saturated:
        return Saturated(f"the server is busy ({self.name}); retry shortly", self._retry_after)
