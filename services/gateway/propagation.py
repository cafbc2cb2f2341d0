"""What a request brings in and passes on: its id, its credentials, its trace context.

``read_headers`` picks the headers the edge cares about, keeping only what gRPC metadata
can carry (printable ASCII): ``authorization``, the caller's ``x-request-id`` when it is a
sane token, a well-formed W3C ``traceparent`` and its ``tracestate``, and the declared
``content-length``.

Trace context: when the gateway exports spans, ``Tracing.start`` opens a SERVER span for
the request (child of the caller's ``traceparent``) and the backends get that span as
their parent; otherwise the caller's trace context is passed on as it came, so the trace
still joins up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["REQUEST_ID_HEADER", "Incoming", "RequestTrace", "Tracing", "read_headers"]

REQUEST_ID_HEADER = "x-request-id"

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_VALID_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


@dataclass(frozen=True, slots=True)
class Incoming:
    """The headers the edge cares about, as sent (already checked to be plain ASCII)."""

    authorization: str | None = None
    request_id: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    content_length: int = 0


@dataclass(frozen=True, slots=True)
class RequestTrace:
    """One request's trace: its span (or None), its context token, the metadata to pass on."""

    span: Any
    token: Any
    metadata: tuple[tuple[str, str], ...]

    def end(self, *, method: str, label: str, route: str, status: int) -> None:
        """Name the span after the route and end it (when the request has one)."""
        span = self.span
        if span is None:
            return
        span.update_name(f"{method} {route}")
        span.set_attribute("http.request.method", label)
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(trace.StatusCode.ERROR)
        span.end()

    def detach(self) -> None:
        """Leave the request's trace context (when ``start`` entered one)."""
        if self.token is not None:
            otel_context.detach(self.token)


class Tracing:
    """Starts the trace of each request with ``tracer``, or only passes it on (None)."""

    def __init__(self, tracer: trace.Tracer | None) -> None:
        self._tracer = tracer
        self._propagator = TraceContextTextMapPropagator()

    def start(self, incoming: Incoming, method: str) -> RequestTrace:
        """The request's trace; with a tracer, its span is the current one until detached."""
        if self._tracer is None:
            passed = [("traceparent", incoming.traceparent)] if incoming.traceparent else []
            if incoming.traceparent and incoming.tracestate:
                passed.append(("tracestate", incoming.tracestate))
            return RequestTrace(span=None, token=None, metadata=tuple(passed))
        carrier = {
            key: value
            for key, value in (
                ("traceparent", incoming.traceparent),
                ("tracestate", incoming.tracestate),
            )
            if value
        }
        parent = self._propagator.extract(carrier)
        span = self._tracer.start_span(method, context=parent, kind=trace.SpanKind.SERVER)
        current = trace.set_span_in_context(span, parent)
        token = otel_context.attach(current)
        outgoing: dict[str, str] = {}
        self._propagator.inject(outgoing, context=current)
        return RequestTrace(span=span, token=token, metadata=tuple(sorted(outgoing.items())))


def read_headers(headers: Any) -> Incoming:
    """The headers of an ASGI scope (``(name, value)`` byte pairs) the edge cares about."""
    authorization = request_id = traceparent = tracestate = None
    content_length = 0
    for key, raw in headers:
        if key == b"authorization":
            authorization = _printable(raw)
        elif key == b"x-request-id":
            value = _printable(raw)
            request_id = value if value and _VALID_REQUEST_ID.fullmatch(value) else None
        elif key == b"traceparent":
            value = _printable(raw)
            traceparent = value if value and _VALID_TRACEPARENT.fullmatch(value) else None
        elif key == b"tracestate":
            tracestate = _printable(raw)
        elif key == b"content-length" and raw.isdigit():
            content_length = int(raw)
    return Incoming(authorization, request_id, traceparent, tracestate, content_length)


def _printable(raw: bytes) -> str | None:
    """The header as text when gRPC metadata can carry it (printable ASCII), else None."""
    if not raw or len(raw) > 8192:
        return None
    text = raw.decode("latin-1")
    return text if text.isascii() and text.isprintable() else None
