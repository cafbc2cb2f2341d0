"""The engine listeners that bound a call's database work by the call itself.

``guard_connections(engine, watchdog)`` (``Database`` calls it for its engines) makes every
connection checked out inside a call (``servicekit.calls.current_call``) subject to that
call: cut at its deadline or when it ends early (``servicekit.db.watchdog``). The guard is
armed before anything else runs at checkout, so the ping of an idle connection is bounded
too, and released at checkin. A statement, commit or ping that fails because its
connection was cut raises the call's own error (``DeadlineExceeded``, ``Cancelled``,
``Unavailable`` when the server stops) and discards that connection only: the database
did nothing wrong, so the rest of the pool stays. A connection cut after its call's last
statement (a read: nothing to roll back at check-in, so nothing noticed the cut) is
replaced at its next checkout, never handed to another call.

``note_round_trips(engine)`` tells the call how long its statements take, so that a
commit is not started with less time left than one round trip (``CallScope.committing``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

from servicekit.calls import CANCELLED, DEADLINE, STOPPING, CallScope, current_call
from servicekit.db.watchdog import Alarm, ConnectionCut, Watchdog, cutter_for
from servicekit.errors import Cancelled, DeadlineExceeded, ServiceError, Unavailable

__all__ = ["cut_reason_of", "error_if_cut", "guard_connections", "note_round_trips"]

_GUARD = "servicekit_guard"
_CUT = "servicekit_cut"
_STARTED = "servicekit_started"


def _error(reason: str) -> ServiceError:
    if reason == STOPPING:
        return Unavailable("the server is stopping: the database work was abandoned; retry")
    if reason == CANCELLED:
        return Cancelled("the call was cancelled: the database work was abandoned")
    return DeadlineExceeded("the database did not answer within the call's deadline")


class _Guard:
    __slots__ = ("alarm", "cutter", "forget")

    def __init__(
        self, cutter: ConnectionCut, alarm: Alarm | None, forget: Callable[[], None]
    ) -> None:
        self.cutter = cutter
        self.alarm = alarm
        self.forget = forget

    def release(self) -> None:
        if self.alarm is not None:
            self.alarm.cancel()
        self.forget()
        self.cutter.release()


def guard_connections(engine: Engine, watchdog: Watchdog) -> None:
    """Bound every connection a call checks out from ``engine`` by that call."""
    guards = _Guards(watchdog)
    # First in line at checkout: the idle ping (servicekit.db.backends) runs guarded.
    event.listen(engine, "checkout", guards.on_checkout, insert=True)
    for name in ("checkin", "invalidate", "close", "detach"):
        event.listen(engine, name, guards.release)
    event.listen(engine, "handle_error", guards.on_error)


class _Guards:
    """The listeners of ``guard_connections``."""

    def __init__(self, watchdog: Watchdog) -> None:
        self._watchdog = watchdog

    def on_checkout(self, dbapi_connection: Any, record: Any, _proxy: object) -> None:
        info = record.info
        if info.pop(_CUT, None) is not None:
            # Cut for an earlier call after its last use: the pool replaces it (SQLAlchemy
            # invalidates a connection whose checkout raises this, and checks out anew).
            raise DisconnectionError("the connection was cut for an earlier call")
        scope = current_call()
        cutter = None if scope is None else cutter_for(dbapi_connection)
        if scope is None or cutter is None:
            return

        def cut(reason: str) -> None:
            info[_CUT] = reason
            cutter.cut()

        alarm = None
        if scope.deadline is not None:
            alarm = self._watchdog.arm(scope.deadline, lambda: cut(DEADLINE))
        forget = scope.on_end(lambda: cut(_reason(scope)))
        info[_GUARD] = _Guard(cutter, alarm, forget)

    @staticmethod
    def release(_dbapi_connection: Any, record: Any, *_args: object) -> None:
        guard = record.info.pop(_GUARD, None)
        if guard is not None:
            guard.release()

    @staticmethod
    def on_error(context: ExceptionContext) -> ServiceError | None:
        reason = _cut_reason(context)
        if reason is None:
            return None
        context.is_disconnect = True  # the socket is shut: this connection is done
        context.invalidate_pool_on_disconnect = False  # ... but not the others
        return _error(reason)


def cut_reason_of(record_info: dict[str, Any]) -> str | None:
    """Why the connection of a pool record was cut (``DEADLINE``, ...), or None."""
    reason = record_info.get(_CUT)
    return reason if isinstance(reason, str) else None


def error_if_cut(record_info: dict[str, Any]) -> ServiceError | None:
    """The call's error when the connection of a pool record was cut for it, else None."""
    reason = cut_reason_of(record_info)
    return None if reason is None else _error(reason)


def _reason(scope: CallScope) -> str:
    return scope.ended or CANCELLED


def _cut_reason(context: ExceptionContext) -> str | None:
    connection = context.connection
    if connection is None or connection.invalidated:
        return None
    try:
        info = connection.connection.info
    except SQLAlchemyError:  # closed: no connection to ask, so not one we cut
        return None
    return cut_reason_of(info)


def note_round_trips(engine: Engine) -> None:
    """Tell the call (if any) how long each statement took."""

    def before(connection: Any, _cursor: Any, *_args: object) -> None:
        connection.info[_STARTED] = time.monotonic()

    def after(connection: Any, _cursor: Any, *_args: object) -> None:
        scope = current_call()
        started = connection.info.pop(_STARTED, None)
        if scope is not None and started is not None:
            scope.note_round_trip(time.monotonic() - started)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
