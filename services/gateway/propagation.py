"""What a request brings in and passes on: its id, its credentials, its trace context.

``read_headers`` picks the headers the edge cares about, keeping only what gRPC metadata
can carry (printable ASCII): ``authorization`` (more than one is refused: which one would
the backend believe?), the caller's ``x-request-id`` when it is a sane token, a
well-formed W3C ``traceparent`` and its ``tracestate`` within W3C's limits (see
``tracestate``), and the declared ``content-length``.

Trace context: every request belongs to a trace, whose id is on the gateway's log lines
(the access log's ``trace_id``) and goes on to the backends. When the gateway exports
spans, ``Tracing.start`` opens a SERVER span for the request (child of the caller's
``traceparent``), carrying the request id (``request_id``), and the backends get that span
as their parent. When nothing would receive it, the caller's trace context is passed on as
it came (and is current, for the log lines); a request that brings none starts a trace at
the gateway, with a non-recording span whose ids are those the SDK would give it
(``servicekit.tracing.local_span_context``), so the services continue one trace either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from servicekit.tracing import REQUEST_ID_ATTRIBUTE, ServiceTracerProvider, local_span_context

__all__ = [
    "MAX_AUTHORIZATION_BYTES",
    "REQUEST_ID_HEADER",
    "Incoming",
    "RequestTrace",
    "Tracing",
    "read_headers",
    "tracestate",
]

REQUEST_ID_HEADER = "x-request-id"

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_VALID_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
# W3C Trace Context, tracestate: key = simple-key / tenant@system; value = 1-256 printable
# characters but "," and "=", not ending in a space.
_TRACESTATE_MEMBER = re.compile(
    r"(?P<key>[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})"
    r"=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
)
MAX_AUTHORIZATION_BYTES = 4096
"""The largest ``Authorization`` header passed on (this platform's tokens are well under a
kilobyte): with the rest of the metadata it stays within gRPC's default 8 KiB."""
_MAX_MEMBERS = 32
_MAX_TRACESTATE = 512
_LARGE_MEMBER = 128


@dataclass(frozen=True, slots=True)
class Incoming:
    """The headers the edge cares about, as sent (already checked to be plain ASCII);
    ``authorizations`` counts the ``authorization`` headers (only one may be sent), and
    ``authorization_too_large`` says one is over ``MAX_AUTHORIZATION_BYTES``."""

    authorization: str | None = None
    request_id: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    content_length: int = 0
    authorizations: int = 0
    authorization_too_large: bool = False


@dataclass(frozen=True, slots=True)
class RequestTrace:
    """One request's trace: its recorded span (or None), its context token, the metadata to
    pass on, and its trace id (W3C hex; None when the gateway only passes a trace on)."""

    span: Any
    token: Any
    metadata: tuple[tuple[str, str], ...]
    trace_id: str | None = None

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
    """Starts the trace of each request with ``tracer_provider`` (see the module docstring);
    None only passes the caller's trace context on."""

    def __init__(self, tracer_provider: trace.TracerProvider | None) -> None:
        self._tracer: trace.Tracer | None = None
        self._local: ServiceTracerProvider | None = None
        if isinstance(tracer_provider, ServiceTracerProvider) and not tracer_provider.exports:
            self._local = tracer_provider
        elif tracer_provider is not None:
            self._tracer = tracer_provider.get_tracer("services.gateway.edge")
        self._propagator = TraceContextTextMapPropagator()

    def start(
        self, incoming: Incoming, method: str, *, request_id: str | None = None
    ) -> RequestTrace:
        """The request's trace; its span is the current one until detached."""
        if self._tracer is None and self._local is None:
            return _passed_on(incoming)
        carrier = {
            key: value
            for key, value in (
                ("traceparent", incoming.traceparent),
                ("tracestate", incoming.tracestate),
            )
            if value
        }
        parent = self._propagator.extract(carrier)
        if self._tracer is not None:
            span = self._tracer.start_span(method, context=parent, kind=trace.SpanKind.SERVER)
            if request_id is not None:
                span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
            return self._entered(span, parent, recorded=True)
        caller = trace.get_current_span(parent).get_span_context()
        if not caller.is_valid and self._local is not None:
            # Nobody records the gateway's span, but a trace starts here: its ids go on
            # the log lines and to the backends.
            local = trace.NonRecordingSpan(local_span_context(self._local, parent, method))
            return self._entered(local, parent, recorded=False)
        # The caller's span is current (its ids on the log lines); its context goes on as
        # it came.
        passed = _passed_on(incoming)
        return RequestTrace(
            span=None,
            token=otel_context.attach(parent),
            metadata=passed.metadata,
            trace_id=trace.format_trace_id(caller.trace_id) if caller.is_valid else None,
        )

    def _entered(
        self, span: trace.Span, parent: otel_context.Context, *, recorded: bool
    ) -> RequestTrace:
        """``span`` made current, and passed on as the backends' parent."""
        current = trace.set_span_in_context(span, parent)
        token = otel_context.attach(current)
        outgoing: dict[str, str] = {}
        self._propagator.inject(outgoing, context=current)
        return RequestTrace(
            span=span if recorded else None,
            token=token,
            metadata=tuple(sorted(outgoing.items())),
            trace_id=trace.format_trace_id(span.get_span_context().trace_id),
        )


def _passed_on(incoming: Incoming) -> RequestTrace:
    """The caller's trace context, passed on as it came (no span of the gateway's own)."""
    passed = [("traceparent", incoming.traceparent)] if incoming.traceparent else []
    if incoming.traceparent and incoming.tracestate:
        passed.append(("tracestate", incoming.tracestate))
    return RequestTrace(span=None, token=None, metadata=tuple(passed))


def read_headers(headers: Any) -> Incoming:
    """The headers of an ASGI scope (``(name, value)`` byte pairs) the edge cares about."""
    authorization = request_id = traceparent = None
    states: list[str] = []
    content_length = authorizations = 0
    too_large = False
    for key, raw in headers:
        if key == b"authorization":
            authorizations += 1
            too_large = too_large or len(raw) > MAX_AUTHORIZATION_BYTES
            authorization = _printable(raw)
        elif key == b"x-request-id":
            value = _printable(raw)
            request_id = value if value and _VALID_REQUEST_ID.fullmatch(value) else None
        elif key == b"traceparent":
            value = _printable(raw)
            traceparent = value if value and _VALID_TRACEPARENT.fullmatch(value) else None
        elif key == b"tracestate":
            states.append(raw.decode("latin-1"))
        elif key == b"content-length" and raw.isdigit():
            content_length = int(raw)
    return Incoming(
        authorization,
        request_id,
        traceparent,
        tracestate(states),
        content_length,
        authorizations,
        too_large,
    )


def tracestate(values: Iterable[str]) -> str | None:
    """The ``tracestate`` to pass on, from the header's values (several headers make one
    list), or None when there is none or it breaks W3C Trace Context's rules.

    A list with a malformed member, a key twice or more than 32 members is dropped whole
    (the spec's "MUST NOT propagate" an invalid one). A valid list longer than 512
    characters loses members larger than 128 characters first, then members from its end,
    as the spec's limits allow, so no caller can make the backends' metadata large.
    """
    members = [member.strip(" \t") for value in values for member in value.split(",")]
    members = [member for member in members if member]
    if not members or len(members) > _MAX_MEMBERS:
        return None
    keys = []
    for member in members:
        match = _TRACESTATE_MEMBER.fullmatch(member)
        if match is None:
            return None
        keys.append(match["key"])
    if len(set(keys)) != len(keys):
        return None
    if _length(members) > _MAX_TRACESTATE:
        members = [member for member in members if len(member) <= _LARGE_MEMBER]
    while members and _length(members) > _MAX_TRACESTATE:
        members.pop()
    return ",".join(members) or None


def _length(members: list[str]) -> int:
    return sum(map(len, members)) + len(members) - 1


def _printable(raw: bytes) -> str | None:
    """The header as text when gRPC metadata can carry it (printable ASCII), else None."""
    if not raw or len(raw) > 8192:
        return None
    text = raw.decode("latin-1")
    return text if text.isascii() and text.isprintable() else None
