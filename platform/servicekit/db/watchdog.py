"""Cut a database connection when the call using it runs out of time: client-side bounds.

PostgreSQL's ``statement_timeout`` is the server's: a database that stopped answering
(frozen, its host gone, the network holding packets) answers nothing, not even a timeout,
and a worker thread blocked in the driver would wait for as long as the freeze lasts.
``tcp_user_timeout`` does not help either while something on the way keeps acknowledging.
So every connection a call checks out is guarded on the client side: when the call's
deadline passes (``Watchdog``, one thread for all connections) or the call ends early
(``servicekit.calls.CallScope.on_end``), the guard *cuts* the connection:

- PostgreSQL: ``shutdown(SHUT_RDWR)`` of its socket, through a duplicate of the socket's
  descriptor taken at checkout (so the cut can never reach a later socket that reused the
  number). The blocked driver call returns at once with a lost connection; that one
  connection is discarded, not the pool (``servicekit.db.backends``).
- SQLite: ``interrupt()``, which ends the statement running on the connection.

The checkout ping of an idle connection is guarded the same way.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Alarm", "ConnectionCut", "Watchdog", "cutter_for"]

_COMPACT_AFTER = 1024  # cancelled alarms in the heap before it may be rebuilt


class Alarm:
    """One armed deadline: ``fire()`` runs its action once (now), ``cancel()`` disarms it."""

    __slots__ = ("_action", "_lock", "_watchdog", "deadline")

    def __init__(
        self, deadline: float, action: Callable[[], object], watchdog: Watchdog | None = None
    ) -> None:
        self.deadline = deadline
        self._action: Callable[[], object] | None = action
        self._lock = threading.Lock()
        self._watchdog = watchdog

    @property
    def armed(self) -> bool:
        return self._action is not None

    def fire(self) -> None:
        with self._lock:
            action, self._action = self._action, None
            if action is not None:
                action()

    def cancel(self) -> None:
        with self._lock:
            was_armed, self._action = self._action is not None, None
        if was_armed and self._watchdog is not None:
            self._watchdog.cancelled()


class Watchdog:
    """Fires each ``Alarm`` at its deadline (``time.monotonic``), from one daemon thread
    started at the first ``arm``; ``stop()`` ends the thread (alarms left are dropped).

    A cancelled alarm stays in the heap until its deadline would have come; when they are
    most of it, the heap is rebuilt without them, so a busy server's heap stays the size of
    the connections in use (not the calls of the last 30 s).
    """

    def __init__(self, *, name: str = "servicekit-db-watchdog") -> None:
        self._name = name
        self._heap: list[tuple[float, int, Alarm]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._cancelled = 0

    def arm(self, deadline: float, action: Callable[[], object]) -> Alarm:
        """Run ``action`` at ``deadline`` unless the alarm is cancelled first."""
        alarm = Alarm(deadline, action, self)
        with self._wake:
            if self._cancelled > _COMPACT_AFTER and 2 * self._cancelled > len(self._heap):
                self._heap = [entry for entry in self._heap if entry[2].armed]
                heapq.heapify(self._heap)
                self._cancelled = 0
            heapq.heappush(self._heap, (deadline, next(self._seq), alarm))
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            if self._heap[0][2] is alarm:
                self._wake.notify()
        return alarm

    def cancelled(self) -> None:
        """An alarm of this watchdog was cancelled (it waits in the heap till compaction)."""
        with self._wake:
            self._cancelled += 1

    @property
    def pending(self) -> int:
        """Entries in the heap, cancelled ones included (for tests)."""
        with self._wake:
            return len(self._heap)

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._heap.clear()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            due: list[Alarm] = []
            with self._wake:
                while not self._stopping:
                    now = time.monotonic()
                    while self._heap and self._heap[0][0] <= now:
                        alarm = heapq.heappop(self._heap)[2]
                        if alarm.armed:
                            due.append(alarm)
                        else:
                            self._cancelled = max(0, self._cancelled - 1)
                    if due:
                        break
                    timeout = self._heap[0][0] - now if self._heap else None
                    self._wake.wait(timeout)
                if self._stopping:
                    return
            for alarm in due:
                alarm.fire()


class ConnectionCut:
    """How to cut one DBAPI connection (``cut()``), and ``release()`` once it is checked in."""

    __slots__ = ("_cut", "_release")

    def __init__(self, cut: Callable[[], None], release: Callable[[], None]) -> None:
        self._cut = cut
        self._release = release

    def cut(self) -> None:
        self._cut()

    def release(self) -> None:
        self._release()


def cutter_for(dbapi_connection: Any) -> ConnectionCut | None:
    """A ``ConnectionCut`` for a psycopg 3 or sqlite3 connection (None for another kind)."""
    interrupt = getattr(dbapi_connection, "interrupt", None)
    if callable(interrupt):  # sqlite3
        return ConnectionCut(interrupt, _nothing)
    fileno = getattr(dbapi_connection, "fileno", None)
    if not callable(fileno):
        return None
    try:
        duplicate = os.dup(fileno())  # the same socket, under a number only we close
    except OSError:
        return None  # closed already: nothing to guard

    def cut() -> None:
        sock = socket.socket(fileno=duplicate)  # made only when cutting: checkouts stay cheap
        try:
            with contextlib.suppress(OSError):  # closed or never connected: nothing to cut
                sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.detach()  # the number stays ours, closed at release

    return ConnectionCut(cut, lambda: os.close(duplicate))


def _nothing() -> None:
    return None
