"""Client interceptors, one job each; ``open_channel`` puts them in this order::

    request id        an AIP-155 request_id for every attempt (servicekit.clients.idempotency)
    deadline          the settings' deadline when the caller gave none
    propagation       x-request-id of the call being served; a CLIENT span and traceparent
    caller identity   authorization: Bearer <this service's own token>
    metrics           go-grpc-prometheus client series (servicekit.clients.metrics)
    circuit breaker   fails fast while the dependency is down
    (network: gRPC's retry policy re-sends UNAVAILABLE attempts below all of these)

Why this order: the deadline is set first so every later step (and the span) sees it;
metrics sit outside the breaker, so calls it refuses still count as UNAVAILABLE; the
breaker is innermost and sees the outcome of a call after gRPC's retries, so one call
that needed a retry is one success, and a failure means every attempt failed.

Unary-unary calls only (every RPC of the contracts is one); a streaming call goes through
the channel untouched. The asyncio face (``servicekit.clients.aio_interceptors``) has the
same steps in the same order, and the same rule for what a status says about the
dependency (``servicekit.clients.outcomes``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_interceptor.client import ClientCallDetails
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.grpc import client_interceptor

from servicekit.clients.breaker import CircuitBreaker
from servicekit.clients.credentials import CallCredentialsProvider
from servicekit.clients.errors import CircuitOpenError
from servicekit.clients.outcomes import BREAKER_FAILURES, report_outcome
from servicekit.errors import Unavailable
from servicekit.grpc.context import current_request_id
from servicekit.grpc.interceptors.request_context import REQUEST_ID_HEADER

__all__ = [
    "BREAKER_FAILURES",
    "CallerIdentityInterceptor",
    "CircuitBreakerInterceptor",
    "DeadlineInterceptor",
    "PropagationInterceptor",
    "UnaryClientInterceptor",
    "with_details",
]

_AUTHORIZATION = "authorization"
Continuation = Callable[[Any, Any], Any]


class UnaryClientInterceptor(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]  # grpcio has no stubs
    """Base of the interceptors here: ``intercept_unary_unary`` is the one method."""

    def intercept_unary_unary(self, continuation: Continuation, details: Any, request: Any) -> Any:
        raise NotImplementedError


def with_details(
    details: Any,
    *,
    timeout: float | None = None,
    metadata: Sequence[tuple[str, str | bytes]] | None = None,
) -> ClientCallDetails:
    """``details`` with a new timeout and/or metadata; other fields are kept."""
    return ClientCallDetails(
        method=details.method,
        timeout=details.timeout if timeout is None else timeout,
        metadata=details.metadata if metadata is None else tuple(metadata),
        credentials=details.credentials,
        wait_for_ready=details.wait_for_ready,
        compression=details.compression,
    )


def _added(details: Any, extra: Sequence[tuple[str, str]]) -> ClientCallDetails:
    return with_details(details, metadata=(*(details.metadata or ()), *extra))


class DeadlineInterceptor(UnaryClientInterceptor):
    """Gives a call without a deadline ``deadline_seconds``: no call may wait forever."""

    def __init__(self, deadline_seconds: float) -> None:
        self._deadline = deadline_seconds

    def intercept_unary_unary(self, continuation: Continuation, details: Any, request: Any) -> Any:
        if details.timeout is None:
            details = with_details(details, timeout=self._deadline)
        return continuation(details, request)


@dataclass(frozen=True, slots=True)
class _UnaryClientInfo:
    """What opentelemetry-instrumentation-grpc's client interceptor reads of a call."""

    full_method: str
    timeout: float | None


class PropagationInterceptor(UnaryClientInterceptor):
    """Carries the request scope to the callee: its request id and its trace.

    ``x-request-id`` is the id of the call this service is serving (unless the caller set
    one), so one id follows a request through every service. With a tracer provider each
    call gets a CLIENT span from opentelemetry-instrumentation-grpc, which injects it as
    W3C ``traceparent`` (the configured propagators); without one, the current context is
    injected as it is, so a trace that came in still goes on.
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self._tracing: Any = None
        if tracer_provider is not None:
            # The instrumentation ships no annotations; it returns a grpcext interceptor.
            self._tracing = client_interceptor(  # type: ignore[no-untyped-call]
                tracer_provider=tracer_provider
            )

    def intercept_unary_unary(self, continuation: Continuation, details: Any, request: Any) -> Any:
        request_id = current_request_id()
        present = {key for key, _ in details.metadata or ()}
        if request_id is not None and REQUEST_ID_HEADER not in present:
            details = _added(details, [(REQUEST_ID_HEADER, request_id)])
        if self._tracing is None:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            return continuation(_added(details, sorted(carrier.items())), request)

        def invoke(request: Any, metadata: Any) -> Any:
            return continuation(with_details(details, metadata=metadata), request)

        info = _UnaryClientInfo(full_method=details.method, timeout=details.timeout)
        return self._tracing.intercept_unary(request, details.metadata, info, invoke)


class CallerIdentityInterceptor(UnaryClientInterceptor):
    """Sends this service's own token as ``authorization: Bearer <token>``.

    A call that already carries an ``authorization`` header is refused with
    ``ValueError``: through this channel the service speaks as itself, and forwarding a
    user's token would let the callee's policies see the user instead (or as well).
    """

    def __init__(self, credentials: CallCredentialsProvider) -> None:
        self._credentials = credentials

    def intercept_unary_unary(self, continuation: Continuation, details: Any, request: Any) -> Any:
        if any(key.lower() == _AUTHORIZATION for key, _ in details.metadata or ()):
            raise ValueError(
                "this channel calls as the service itself: do not pass authorization metadata"
            )
        header = (_AUTHORIZATION, f"Bearer {self._credentials.token()}")
        return continuation(_added(details, [header]), request)


class CircuitBreakerInterceptor(UnaryClientInterceptor):
    """Asks ``breaker`` before each call and tells it how the call ended
    (``servicekit.clients.outcomes``: the same rule as the asyncio face).

    While the circuit is open the call ends here, before anything is sent, with a
    ``CircuitOpenError`` (a ``servicekit.errors.Unavailable``) raised to the caller. The
    outcome is read in a done-callback, so ``.future()`` calls report when they finish.
    """

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker

    def intercept_unary_unary(self, continuation: Continuation, details: Any, request: Any) -> Any:
        try:
            permit = self._breaker.acquire()
        except Unavailable as refused:
            return CircuitOpenError(refused.message)
        try:
            outcome = continuation(details, request)
        except BaseException:
            self._breaker.release(permit)
            raise

        outcome.add_done_callback(lambda done: report_outcome(self._breaker, permit, done.code()))
        return outcome
