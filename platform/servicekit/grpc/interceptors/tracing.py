"""A server span per call, continuing the caller's trace.

The span itself comes from opentelemetry-instrumentation-grpc's server interceptor: it
extracts the W3C ``traceparent`` (and baggage) from the incoming metadata with the
configured propagators, opens a SERVER span named after the method with the standard
``rpc.*`` and ``net.peer.*`` attributes, and makes it current for the rest of the chain.

This class wraps that interceptor (a plain ``grpc.ServerInterceptor``) to add the two
things it leaves out:

- the ids of the server span are bound to structlog's context variables, so that the
  summary line written by the request context interceptor, after the span has ended,
  still carries ``trace_id`` and ``span_id`` (lines written during the span get them from
  ``servicekit.logging.add_trace_context``); the request context interceptor's per-call
  scope discards them afterwards;
- the final status code is recorded on the span even when the error mapping interceptor
  used ``abort_with_status`` (rich error details), which the instrumentation does not
  see; server faults mark the span as an error, as the semantic conventions say.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import structlog
from grpc_interceptor import ServerInterceptor
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import server_interceptor
from opentelemetry.trace import Status, StatusCode

from servicekit.grpc.interceptors._outcome import final_code, is_stream, watch_stream

__all__ = ["TracingInterceptor"]

_STATUS_CODE_ATTRIBUTE = "rpc.grpc.status_code"

_SERVER_FAULTS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)
"""Codes that make a SERVER span an error (OpenTelemetry semantic conventions for gRPC)."""


class TracingInterceptor(ServerInterceptor):
    """Opens a server span per call with spans made by ``tracer_provider``."""

    def __init__(self, tracer_provider: trace.TracerProvider) -> None:
        # The instrumentation ships no annotations; it returns a grpc.ServerInterceptor.
        self._instrumentation: Any = server_interceptor(  # type: ignore[no-untyped-call]
            tracer_provider=tracer_provider
        )

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        """The instrumentation's span around this class's ``intercept`` around the rest."""

        def inside_the_span(details: Any) -> Any:
            # grpc_interceptor leaves this one unannotated: it returns a grpc handler or None.
            return ServerInterceptor.intercept_service(  # type: ignore[no-untyped-call]
                self, continuation, details
            )

        return self._instrumentation.intercept_service(inside_the_span, handler_call_details)

    def intercept(
        self,
        method: Callable[[Any, grpc.ServicerContext], Any],
        request_or_iterator: Any,
        context: grpc.ServicerContext,
        method_name: str,
    ) -> Any:
        span = trace.get_current_span()
        span_context = span.get_span_context()
        if span_context.is_valid:
            structlog.contextvars.bind_contextvars(
                trace_id=trace.format_trace_id(span_context.trace_id),
                span_id=trace.format_span_id(span_context.span_id),
            )
        try:
            response = method(request_or_iterator, context)
        except BaseException as error:
            _record(span, final_code(context, error))
            raise
        if is_stream(response):
            return watch_stream(response, context, lambda code: _record(span, code))
        _record(span, final_code(context, None))
        return response


def _record(span: trace.Span, code: grpc.StatusCode) -> None:
    span.set_attribute(_STATUS_CODE_ATTRIBUTE, code.value[0])
    if code in _SERVER_FAULTS:
        span.set_status(Status(StatusCode.ERROR, code.name))
