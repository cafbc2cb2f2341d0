"""The call being served: how long it may take, and whether anyone still waits for it.

A server binds one ``CallScope`` per call (``servicekit.grpc.admission`` does, for every
gRPC call it admits); the code below reads it with ``current_call()`` and never learns the
transport. Two things use it:

- the database (``servicekit.db``): a connection a call checks out is cut when the call's
  deadline passes or the call ends early (its caller cancelled, the server stopped), so a
  worker thread never waits longer than its caller on a database that stopped answering;
- the commit (``SqlAlchemyUnitOfWork.commit``): ``scope.committing()`` lets a commit start
  only while the call is live and has time left for it, so a caller told "failed" was not
  written for. A commit already under way is never cut by ``end``: the server waits for
  it instead (``end(..., wait=...)``), then the caller gets the answer it produced.

Outside any call (a command line, a health ping), ``call_scope(seconds)`` bounds a block
the same way. Thread-safe: ``end`` comes from other threads (gRPC's poller, the shutdown).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final

from servicekit.errors import Cancelled, DeadlineExceeded, ServiceError, Unavailable

__all__ = [
    "CANCELLED",
    "DEADLINE",
    "STOPPING",
    "CallScope",
    "bind_call",
    "call_scope",
    "current_call",
    "reset_call",
]

DEADLINE: Final = "deadline"
"""The call's deadline passed."""
CANCELLED: Final = "cancelled"
"""The caller went away (or gRPC ended the call for another reason)."""
STOPPING: Final = "stopping"
"""The server is stopping and gave up waiting for the call."""

_MESSAGES = {
    DEADLINE: "the deadline passed before the work was committed: nothing was written",
    CANCELLED: "the call was cancelled before the work was committed: nothing was written",
    STOPPING: "the server is stopping: nothing was written; retry",
}
_ERRORS: dict[str, type[ServiceError]] = {
    DEADLINE: DeadlineExceeded,
    CANCELLED: Cancelled,
    STOPPING: Unavailable,
}

_current: ContextVar[CallScope | None] = ContextVar("servicekit_call", default=None)


def current_call() -> CallScope | None:
    """The scope of the call being served on this thread, or None outside any call."""
    return _current.get()


def bind_call(scope: CallScope | None) -> object:
    """Make ``scope`` current; pass the returned token to ``reset_call``."""
    return _current.set(scope)


def reset_call(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]  # the token bind_call returned


class CallScope:
    """One call's deadline (``time.monotonic`` seconds, or None) and its end.

    ``is_active`` says whether the transport still has a caller waiting (gRPC's
    ``context.is_active``). ``commit_margin`` is the least time a commit must have left to
    start: the answer still has to reach the caller before its own deadline. A commit
    also needs twice the slowest database round trip seen in the call (``note_round_trip``).
    """

    def __init__(
        self,
        *,
        deadline: float | None,
        is_active: Callable[[], bool] | None = None,
        commit_margin: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.deadline = deadline
        self._is_active = is_active
        self._margin = commit_margin
        self._clock = clock
        self._ended: str | None = None
        self._commit = threading.Lock()
        self._lock = threading.Lock()
        self._callbacks: dict[int, Callable[[], object]] = {}
        self._next_id = 0
        self._slowest = 0.0
        self.committed = False

    def remaining(self) -> float | None:
        """Seconds left before the deadline (negative once it passed); None: no deadline."""
        return None if self.deadline is None else self.deadline - self._clock()

    @property
    def ended(self) -> str | None:
        """Why the call is over (``DEADLINE``, ``CANCELLED``, ``STOPPING``), or None."""
        if self._ended is not None:
            return self._ended
        if self.deadline is not None and self._clock() >= self.deadline:
            return DEADLINE
        if self._is_active is not None and not self._is_active():
            return CANCELLED
        return None

    def check(self) -> None:
        """Raise the error of the call's end (``DeadlineExceeded``, ...) if it is over."""
        reason = self.ended
        if reason is not None:
            raise _ERRORS[reason](_MESSAGES[reason])

    def note_round_trip(self, seconds: float) -> None:
        """A database round trip of the call took ``seconds``: a commit needs time too."""
        self._slowest = max(self._slowest, seconds)

    @contextmanager
    def committing(self) -> Iterator[None]:
        """Guard a commit: it starts only while the call is live with time for it, and
        ``end`` waits for it (or leaves it alone) rather than cut it half-way."""
        with self._commit:
            self.check()
            remaining = self.remaining()
            if remaining is not None and remaining < max(self._margin, 2 * self._slowest):
                raise DeadlineExceeded(
                    "too little time was left to commit before the deadline: nothing was written"
                )
            yield
            self.committed = True

    def on_end(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` when the call ends early (at once if it has); returns the
        function that forgets it."""
        with self._lock:
            ended = self._ended is not None
            key = self._next_id
            self._next_id += 1
            if not ended:
                self._callbacks[key] = callback
        if ended:
            callback()

        def forget() -> None:
            with self._lock:
                self._callbacks.pop(key, None)

        return forget

    def end(self, reason: str, *, wait: float = 0.0) -> bool:
        """Mark the call over for ``reason`` and run the ``on_end`` callbacks (which cut
        its database connections). A commit under way is waited for up to ``wait`` seconds
        (0: not at all; gRPC's poller thread must not block); if it is still under way,
        its connections are left alone. True when no commit was under way by then."""
        free = self._commit.acquire(timeout=wait) if wait > 0 else self._commit.acquire(False)
        try:
            with self._lock:
                if self._ended is None:
                    self._ended = reason
                callbacks = list(self._callbacks.values()) if free else []
                if free:
                    self._callbacks.clear()
        finally:
            if free:
                self._commit.release()
        for callback in callbacks:
            callback()
        return free


@contextmanager
def call_scope(seconds: float | None) -> Iterator[CallScope]:
    """A scope for a block of work outside any served call, ending ``seconds`` from now
    (None: no deadline); the database work inside is bounded by it."""
    deadline = None if seconds is None else time.monotonic() + seconds
    scope = CallScope(deadline=deadline)
    token = bind_call(scope)
    try:
        yield scope
    finally:
        reset_call(token)
