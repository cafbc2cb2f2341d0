"""The outermost step of every server: which calls run, on which threads, and for how long.

``CallAdmission`` is the first interceptor of every ``build_server`` server, before the
service's chain:

- **A bound on concurrent calls.** At most ``limit`` unary calls run at once; one more is
  refused at once with RESOURCE_EXHAUSTED and a ``RetryInfo`` delay, instead of queueing
  for a worker thread until its deadline. The limit stays below the worker pool's size
  (``GrpcSettings.max_concurrent_rpcs``), so there is always a thread to refuse on, even
  when every admitted call is stuck (a frozen database).
- **Health off the worker pool.** ``grpc.health.v1.Health/Check`` (readiness, and the
  ``liveness`` service Kubernetes restarts pods by) runs on a small executor of its own
  (gRPC's ``experimental_thread_pool`` on the method's behaviour): it is answered even
  when every worker thread is busy. Streams (health Watch, reflection) are not counted.
- **The call scope.** Each admitted call runs inside a ``servicekit.calls.CallScope``:
  its deadline (the caller's, or ``default_deadline_seconds`` when it gave none) bounds
  its database work, and when gRPC ends the call before its handler returns (the caller
  cancelled, the deadline passed, the server aborted it) the scope ends too, which cuts
  the call's database connections and forbids its commit.
- **The drain.** ``close()`` refuses new calls with UNAVAILABLE (they were not started:
  safe to send elsewhere); ``wait_idle`` waits for the running handlers;
  ``end_all`` gives up on the ones left: no new commit starts, a commit under way is
  waited for, and a call that committed is given time to answer before gRPC aborts the rest.

A refusal is logged once per spell of saturation (when it starts, and when half the
limit is free again, with how many calls it refused so far), never once per call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import structlog
from google.protobuf.duration_pb2 import Duration
from google.rpc import (  # type: ignore[import-untyped, unused-ignore]  # ships no py.typed
    code_pb2,
    error_details_pb2,
    status_pb2,
)
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]
from structlog.typing import FilteringBoundLogger

from servicekit.calls import CANCELLED, DEADLINE, STOPPING, CallScope, bind_call, reset_call

__all__ = ["HEALTH_CHECK", "CallAdmission"]

HEALTH_CHECK = "/grpc.health.v1.Health/Check"


class _OnLane:
    """A behaviour gRPC runs on ``experimental_thread_pool`` instead of the worker pool."""

    __slots__ = ("_behavior", "experimental_thread_pool")

    def __init__(self, behavior: Callable[..., Any], pool: ThreadPoolExecutor) -> None:
        self._behavior = behavior
        self.experimental_thread_pool = pool

    def __call__(self, request: Any, context: Any) -> Any:
        return self._behavior(request, context)


class _Call:
    """An admitted call: its scope, and whether gRPC has ended it (``terminated``)."""

    __slots__ = ("scope", "terminated")

    def __init__(self, scope: CallScope) -> None:
        self.scope = scope
        self.terminated = False  # a flag, not an Event: a call must cost little


class CallAdmission(grpc.ServerInterceptor):  # type: ignore[misc]  # grpcio has no stubs
    """See the module. ``health_pool`` runs health checks (None: on the worker pool)."""

    def __init__(
        self,
        *,
        limit: int,
        retry_after_seconds: float = 1.0,
        default_deadline_seconds: float | None = None,
        health_pool: ThreadPoolExecutor | None = None,
        logger: FilteringBoundLogger | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        self.limit = limit
        self._default_deadline = default_deadline_seconds
        self._health_pool = health_pool
        self._log: FilteringBoundLogger = logger or structlog.get_logger(__name__)
        self._calls: set[_Call] = set()
        self._idle = threading.Condition(threading.Lock())
        self._closed = False
        self._refused = 0
        self._saturated = False
        self._built: dict[str, tuple[Any, Any]] = {}
        self._busy = _status(
            code_pb2.RESOURCE_EXHAUSTED,
            "the server is at its limit of concurrent calls; retry shortly",
            retry_after_seconds,
        )
        self._stopping = _status(code_pb2.UNAVAILABLE, "the server is stopping; retry", None)

    @property
    def in_flight(self) -> int:
        """How many admitted calls are running now."""
        with self._idle:
            return len(self._calls)

    @property
    def refused(self) -> int:
        """How many calls were refused for the limit since the start."""
        return self._refused

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        if method == HEALTH_CHECK:
            return self._reuse(method, handler, self._on_lane)
        if handler.unary_unary is None:
            return handler  # streams (health Watch, reflection) are not bounded here
        return self._reuse(method, handler, self._admitting)

    def _reuse(self, method: str, handler: Any, build: Callable[[Any], Any]) -> Any:
        """The handler built for ``method`` last time, while the next step's is the same."""
        known = self._built.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        built = build(handler)
        self._built[method] = (handler, built)
        return built

    def _on_lane(self, handler: Any) -> Any:
        if self._health_pool is None or handler.unary_unary is None:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            _OnLane(handler.unary_unary, self._health_pool),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _admitting(self, handler: Any) -> Any:
        behavior = handler.unary_unary

        def admitted(request: Any, context: Any) -> Any:
            call = self._enter(context)
            token = bind_call(call.scope)
            try:
                return behavior(request, context)
            finally:
                reset_call(token)
                self._leave(call)

        return grpc.unary_unary_rpc_method_handler(
            admitted,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _enter(self, context: Any) -> _Call:
        call = _Call(CallScope(deadline=self._deadline(context), is_active=context.is_active))
        with self._idle:
            refusal = self._refusal()
            if refusal is None:
                self._calls.add(call)
        if refusal is not None:
            context.abort_with_status(refusal)  # raises: the handler never runs
        if not context.add_callback(lambda: self._terminated(call)):
            self._terminated(call)  # ended before it started (the caller went away)
        return call

    def _refusal(self) -> grpc.Status | None:
        """Why a new call may not run now (under the lock), or None."""
        if self._closed:
            return self._stopping
        if len(self._calls) < self.limit:
            return None
        self._refused += 1
        if not self._saturated:
            self._saturated = True
            self._log.warning("refusing calls: at the limit of concurrent calls", limit=self.limit)
        return self._busy

    def _deadline(self, context: Any) -> float | None:
        remaining: float | None = context.time_remaining()
        if remaining is None or remaining > 1e9:  # grpcio says "no deadline" with a huge value
            seconds = self._default_deadline
            return None if seconds is None else time.monotonic() + seconds
        return time.monotonic() + remaining

    def _leave(self, call: _Call) -> None:
        with self._idle:
            self._calls.discard(call)
            # Hysteresis: one line when a spell of saturation ends, not one per free slot.
            if self._saturated and len(self._calls) <= self.limit // 2:
                self._saturated = False
                self._log.info("admitting calls again", refused_so_far=self._refused)
            if not self._calls:
                self._idle.notify_all()

    def _terminated(self, call: _Call) -> None:
        """gRPC ended the call (on its poller thread: nothing here may block)."""
        call.terminated = True
        with self._idle:
            running = call in self._calls
            closed = self._closed
        if running:  # the handler still works for a caller that got its answer already
            scope = call.scope
            reason = STOPPING if closed else (DEADLINE if scope.ended == DEADLINE else CANCELLED)
            scope.end(reason)

    def close(self) -> None:
        """Refuse every new call with UNAVAILABLE from now on (the server is stopping)."""
        with self._idle:
            self._closed = True

    def wait_idle(self, timeout: float, *, cut_short: threading.Event | None = None) -> bool:
        """Wait until no admitted call runs, ``timeout`` seconds at most (less once
        ``cut_short`` is set); True when none runs."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._calls:
                left = deadline - time.monotonic()
                if left <= 0 or (cut_short is not None and cut_short.is_set()):
                    return False
                self._idle.wait(min(left, 0.05) if cut_short is not None else left)
            return True

    def end_all(self, *, settle: float) -> None:
        """Give up on the calls still running: none may commit from now on; a commit under
        way is waited for, and a call that committed gets ``settle`` seconds to answer."""
        with self._idle:
            calls = list(self._calls)
        until = time.monotonic() + settle
        for call in calls:
            call.scope.end(STOPPING, wait=max(0.0, until - time.monotonic()))
        answering = [call for call in calls if call.scope.committed]
        while any(not call.terminated for call in answering) and time.monotonic() < until:
            time.sleep(0.01)


def _status(code: int, message: str, retry_after: float | None) -> grpc.Status:
    status = status_pb2.Status(code=code, message=message)
    if retry_after is not None:
        delay = Duration()
        delay.FromNanoseconds(round(retry_after * 1e9))
        status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return rpc_status.to_status(status)
