"""The client promises for grpc.aio callers: the interceptors of ``interceptors``, awaited.

Same steps, same order, same rules as the synchronous face (read
``servicekit.clients.interceptors`` first for why this order)::

    request id        an AIP-155 request_id for every attempt (servicekit.clients.idempotency)
    deadline          the settings' deadline when the caller gave none
    propagation       x-request-id of the request being served; the trace context
    caller identity   authorization: Bearer <this service's own token>
    metrics           go-grpc-prometheus client series (servicekit.clients.metrics)
    circuit breaker   fails fast while a method of the dependency keeps failing

What a finished call says about the dependency is ``servicekit.clients.outcomes``, the
rule of both faces. The breaker here is one per method (``MethodBreakers``): on an
asyncio caller many unrelated calls share a channel, and one slow method must not close
the others. A refused call raises ``AioCircuitOpenError`` (an ``AioRpcError`` with status
UNAVAILABLE) before anything is sent.

Each interceptor awaits the end of the call it passes on (grpc.aio gives a call's status
as a coroutine only), then returns the call itself: the caller's ``await`` gets the reply
or the ``AioRpcError`` as without interceptors. When the caller's task is cancelled while
waiting, the call is cancelled too and the cancellation goes on up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from servicekit.clients.breaker import MethodBreakers
from servicekit.clients.credentials import CallCredentialsProvider
from servicekit.clients.errors import AioCircuitOpenError
from servicekit.clients.metrics import GrpcClientMetrics
from servicekit.clients.outcomes import report_outcome
from servicekit.errors import Unavailable
from servicekit.grpc.context import current_request_id
from servicekit.grpc.interceptors.request_context import REQUEST_ID_HEADER

__all__ = [
    "AioCallerIdentityInterceptor",
    "AioCircuitBreakerInterceptor",
    "AioClientMetricsInterceptor",
    "AioDeadlineInterceptor",
    "AioPropagationInterceptor",
    "AioUnaryClientInterceptor",
    "finished",
    "method_of",
]

AioContinuation = Callable[[Any, Any], Awaitable[Any]]
_AUTHORIZATION = "authorization"


class AioUnaryClientInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]  # grpcio has no stubs
    """Base of the interceptors here: ``intercept_unary_unary`` is the one method."""

    async def intercept_unary_unary(
        self, continuation: AioContinuation, details: Any, request: Any
    ) -> Any:
        raise NotImplementedError


def method_of(details: Any) -> str:
    """The call's method as text (``/pkg.Service/Method``; grpc.aio hands it over as bytes)."""
    method = details.method
    return method.decode() if isinstance(method, bytes) else str(method)


def _details(
    details: Any, *, timeout: float | None = None, metadata: Iterable[Any] | None = None
) -> Any:
    """``details`` with a new timeout and/or metadata; other fields are kept."""
    return grpc.aio.ClientCallDetails(
        details.method,
        details.timeout if timeout is None else timeout,
        details.metadata if metadata is None else grpc.aio.Metadata(*metadata),
        details.credentials,
        details.wait_for_ready,
    )


def _added(details: Any, extra: Iterable[tuple[str, str]]) -> Any:
    return _details(details, metadata=(*(details.metadata or ()), *extra))


async def finished(call: Any) -> grpc.StatusCode:
    """The status code ``call`` ends with; a cancelled wait cancels the call as well."""
    try:
        code: grpc.StatusCode = await call.code()
    except asyncio.CancelledError:
        call.cancel()
        raise
    return code


class AioDeadlineInterceptor(AioUnaryClientInterceptor):
    """Gives a call without a deadline ``deadline_seconds``: no call may wait forever."""

    def __init__(self, deadline_seconds: float) -> None:
        self._deadline = deadline_seconds

    async def intercept_unary_unary(
        self, continuation: AioContinuation, details: Any, request: Any
    ) -> Any:
        if details.timeout is None:
            details = _details(details, timeout=self._deadline)
        return await continuation(details, request)


class AioPropagationInterceptor(AioUnaryClientInterceptor):
    """Carries the request scope to the callee: its request id and its trace.

    ``x-request-id`` is the id of the request being served (``servicekit.grpc.context``)
    unless the call carries one. With a tracer provider each call gets a CLIENT span
    (opentelemetry-instrumentation-grpc) injected as ``traceparent``; without one, the
    current trace context is injected as it is, unless the call carries its own
    ``traceparent`` already (an edge that passes on its caller's context as it came).
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self._tracing: Any = None
        if tracer_provider is not None:
            # The instrumentation ships no annotations; the first one is the unary-unary.
            self._tracing = aio_client_interceptors(  # type: ignore[no-untyped-call]
                tracer_provider=tracer_provider
            )[0]

    async def intercept_unary_unary(
        self, continuation: AioContinuation, details: Any, request: Any
    ) -> Any:
        present = {key for key, _ in details.metadata or ()}
        extra: list[tuple[str, str]] = []
        request_id = current_request_id()
        if request_id is not None and REQUEST_ID_HEADER not in present:
            extra.append((REQUEST_ID_HEADER, request_id))
        if self._tracing is None and "traceparent" not in present:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            extra += sorted(carrier.items())
        if extra:
            details = _added(details, extra)
        if self._tracing is None:
            return await continuation(details, request)
        return await self._tracing.intercept_unary_unary(continuation, details, request)


class AioCallerIdentityInterceptor(AioUnaryClientInterceptor):
    """Sends this service's own token as ``authorization: Bearer <token>``; a call that
    carries an ``authorization`` header already is refused with ``ValueError`` (see
    ``servicekit.clients.interceptors.CallerIdentityInterceptor``)."""

    def __init__(self, credentials: CallCredentialsProvider) -> None:
        self._credentials = credentials

    async def intercept_unary_unary(
        self, continuation: AioContinuation, details: Any, request: Any
    ) -> Any:
        if any(key.lower() == _AUTHORIZATION for key, _ in details.metadata or ()):
            raise ValueError(
                "this channel calls as the service itself: do not pass authorization metadata"
            )
        header = (_AUTHORIZATION, f"Bearer {self._credentials.token()}")
        return await continuation(_added(details, [header]), request)


class _MethodSeries:
    """The series children of one method, resolved once (``labels()`` costs a lookup)."""

    __slots__ = ("handled", "labels", "metrics", "received", "seconds", "sent", "started")

    def __init__(self, metrics: GrpcClientMetrics, method: str) -> None:
        service, _, name = method.lstrip("/").partition("/")
        self.labels = ("unary", service, name)
        self.metrics = metrics
        self.started = metrics.started.labels(*self.labels)
        self.sent = metrics.msg_sent.labels(*self.labels)
        self.received = metrics.msg_received.labels(*self.labels)
        self.seconds = metrics.handling_seconds.labels(*self.labels)
        self.handled: dict[grpc.StatusCode, Any] = {}

    def finish(self, code: grpc.StatusCode, started: float) -> None:
        if code is grpc.StatusCode.OK:
            self.received.inc()
        counter = self.handled.get(code)
        if counter is None:
            counter = self.handled[code] = self.metrics.handled.labels(*self.labels, code.name)
        counter.inc()
        self.seconds.observe(time.perf_counter() - started)


class AioClientMetricsInterceptor(AioUnaryClientInterceptor):
    """Records each unary call in ``metrics`` when it ends; a call the breaker refused
    counts as UNAVAILABLE, one the caller cancelled as CANCELLED."""

    def __init__(self, metrics: GrpcClientMetrics) -> None:
        self._metrics = metrics
        self._series: dict[str, _MethodSeries] = {}

    async def intercept_unary_unary(
        self, continuation: AioContinuation, details: Any, request: Any
    ) -> Any:
        method = method_of(details)
        series = self._series.get(method)
        if series is None:
            series = self._series[method] = _MethodSeries(self._metrics, method)
        series.started.inc()
        series.sent.inc()
        started = time.perf_counter()
        try:
            call = await continuation(details, request)
            code = await finished(call)
        except grpc.aio.AioRpcError as refused:  # refused before it was sent
            series.finish(refused.code(), started)
            raise
        except asyncio.CancelledError:
            series.finish(grpc.StatusCode.CANCELLED, started)
            raise
        series.finish(code, started)
        return call


class AioCircuitBreakerInterceptor(AioUnaryClientInterceptor):
    """Asks the breaker of the call's method before the call and tells it how it ended."""

    def __init__(self, breakers: MethodBreakers) -> None:
        self._breakers = breakers

    async def intercept_unary_unary(
        self, continuation: AioContinuation, details: Any, request: Any
    ) -> Any:
        method = method_of(details)
        breaker = self._breakers.for_method(method)
        if breaker is None:
            return await continuation(details, request)
        try:
            permit = breaker.acquire()
        except Unavailable as refused:
            raise AioCircuitOpenError(refused.message, method=method) from None
        try:
            call = await continuation(details, request)
            code = await finished(call)
        except BaseException:  # the caller cancelled, or a local error: no verdict
            breaker.release(permit)
            raise
        report_outcome(breaker, permit, code)
        return call
