"""A server span per call, continuing the caller's trace; recorded only when exported.

When the tracer provider exports (``ServiceTracerProvider.exports``: an OTLP endpoint is
configured, or any span processor was added; any other provider is taken to export), the
span comes from opentelemetry-instrumentation-grpc's server interceptor: it extracts the
W3C ``traceparent`` (and baggage) from the incoming metadata with the configured
propagators, opens a SERVER span named after the method with the standard ``rpc.*`` and
``net.peer.*`` attributes, and makes it current for the rest of the chain. This class
wraps that interceptor (a plain ``grpc.ServerInterceptor``) to add the three things it
leaves out:

- the request id of the call (``servicekit.grpc.context``) is a span attribute,
  ``request_id``, so the local trace store finds a request's trace by the id its log
  lines carry (``servicekit.traces``);
- the ids of the server span are bound to structlog's context variables, so that the
  summary line written by the request context interceptor, after the span has ended,
  still carries ``trace_id`` and ``span_id`` (lines written during the span get them from
  ``servicekit.logging.add_trace_context``); the request context interceptor's per-call
  scope discards them afterwards;
- the final status code is recorded on the span even when the error mapping interceptor
  used ``abort_with_status`` (rich error details), which the instrumentation does not
  see; server faults mark the span as an error, as the semantic conventions say.

When nothing would receive the span, recording it (attributes, status, timing, the
servicer context wrapper) is work for nobody. The call then gets what the SDK gives a
span its sampler drops: a non-recording span with the caller's trace id (from the same
propagators) or a new one, a new span id, and the sampler's decision as its sampled flag.
It is current for the rest of the chain, so log lines carry its ids and the services this
one calls continue the same trace.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
import structlog
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.grpc import server_interceptor
from opentelemetry.trace import Status, StatusCode

from servicekit.grpc.context import current_request_id
from servicekit.grpc.interceptors._outcome import final_code, is_stream, watch_stream
from servicekit.grpc.interceptors.base import ServerInterceptor
from servicekit.tracing import REQUEST_ID_ATTRIBUTE, ServiceTracerProvider, local_span_context

__all__ = ["TracingInterceptor"]

_T = TypeVar("_T")

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
    """A server span per call made by ``tracer_provider`` (see the module docstring)."""

    def __init__(self, tracer_provider: trace.TracerProvider) -> None:
        # The instrumentation ships no annotations; it returns a grpc.ServerInterceptor.
        self._instrumentation: Any = server_interceptor(  # type: ignore[no-untyped-call]
            tracer_provider=tracer_provider
        )
        self._in_span = _SpanObserver()
        self._local = (
            tracer_provider if isinstance(tracer_provider, ServiceTracerProvider) else None
        )

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        """The instrumentation's span around ``_SpanObserver`` around the rest when spans
        are exported; else ``intercept`` (a non-recording span) around the rest."""
        if self._local is None or self._local.exports:
            inside_the_span = functools.partial(self._in_span.intercept_service, continuation)
            return self._instrumentation.intercept_service(inside_the_span, handler_call_details)
        return super().intercept_service(continuation, handler_call_details)

    def intercept(
        self,
        method: Callable[[Any, grpc.ServicerContext], Any],
        request_or_iterator: Any,
        context: grpc.ServicerContext,
        method_name: str,
    ) -> Any:
        """The call in a non-recording span continuing the caller's trace (no exporter)."""
        provider = self._local
        if provider is None:  # not reached: intercept_service spans such calls for real
            return method(request_or_iterator, context)
        incoming = propagate.extract(dict(context.invocation_metadata() or ()))
        span_context = local_span_context(provider, incoming, method_name)
        scope = trace.set_span_in_context(trace.NonRecordingSpan(span_context), incoming)
        _bind_to_logs(span_context)
        token = otel_context.attach(scope)
        try:
            response = method(request_or_iterator, context)
        finally:
            otel_context.detach(token)
        if is_stream(response):
            return watch_stream(response, context, _ignore, step=functools.partial(_within, scope))
        return response


class _SpanObserver(ServerInterceptor):
    """Inside the instrumentation's span: its ids to the logs, the request id and the final
    code on it."""

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
            _bind_to_logs(span_context)
        request_id = current_request_id()
        if request_id is not None:
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        try:
            response = method(request_or_iterator, context)
        except BaseException as error:
            _record(span, final_code(context, error))
            raise
        if is_stream(response):
            return watch_stream(response, context, lambda code: _record(span, code))
        _record(span, final_code(context, None))
        return response


def _bind_to_logs(span_context: trace.SpanContext) -> None:
    """Put the span's W3C ids on every log line of the call (structlog context variables)."""
    structlog.contextvars.bind_contextvars(
        trace_id=trace.format_trace_id(span_context.trace_id),
        span_id=trace.format_span_id(span_context.span_id),
    )


def _within(scope: otel_context.Context, piece: Callable[[], _T]) -> _T:
    """Run one step of a response stream with the call's span current."""
    token = otel_context.attach(scope)
    try:
        return piece()
    finally:
        otel_context.detach(token)


def _ignore(_code: grpc.StatusCode) -> None:
    """Nothing records a non-recording span's outcome."""


def _record(span: trace.Span, code: grpc.StatusCode) -> None:
    span.set_attribute(_STATUS_CODE_ATTRIBUTE, code.value[0])
    if code in _SERVER_FAULTS:
        span.set_status(Status(StatusCode.ERROR, code.name))
