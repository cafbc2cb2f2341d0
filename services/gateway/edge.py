"""The outermost layer of every request: its scope, its metrics, its one log line.

Before connexion runs, the edge gives the request an id (the caller's ``x-request-id``
when it is a sane token, else a new one), works out the metadata the backends will get
(``authorization``, ``x-request-id``, W3C ``traceparent``/``tracestate``) and binds both
for the transcoder (``services.gateway.scope``). The response carries ``x-request-id``.
After the response, one line::

    event="http" method="GET" route="/v1/users/{id}" status=200 duration_ms=3.1
    request_id="9f0c..."

and one observation in ``http_server_requests_total`` and
``http_server_request_duration_seconds``.

Trace context: when the gateway exports spans, each request gets a SERVER span (child of
the caller's ``traceparent``) and the backends get that span as their parent; otherwise
the caller's trace context is passed on as it came, so the trace still joins up.

The edge also answers the gateway's own endpoints, which are not operations of the
document: ``/healthz``, ``/readyz``, ``/.well-known/jwks.json`` and ``/openapi.json``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway import scope as request_scope
from services.gateway.metrics import HttpServerMetrics
from services.gateway.plans import OperationPlan
from services.gateway.problems import Problem, code_of_http_status

__all__ = ["REQUEST_ID_HEADER", "Edge", "LocalEndpoint"]

REQUEST_ID_HEADER = "x-request-id"

LocalEndpoint = Callable[[], Awaitable[Response]]
"""An endpoint of the gateway itself: no arguments, the response."""

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_VALID_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_QUIET_ROUTES = frozenset({"/healthz", "/readyz"})
_UNMATCHED = "unmatched"
_ROUTING = "connexion_routing"


@dataclass(frozen=True, slots=True)
class _Incoming:
    """The headers the edge cares about, as sent (already checked to be plain ASCII)."""

    authorization: str | None = None
    request_id: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    content_length: int = 0


class Edge:
    """Wraps connexion (``app``) with the request scope, metrics and the summary line."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        plans: Mapping[str, OperationPlan],
        local: Mapping[str, LocalEndpoint],
        docs_path: str,
        max_body_bytes: int,
        metrics: HttpServerMetrics | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        logger: Any = None,
    ) -> None:
        self._app = app
        self._plans = plans
        self._local = dict(local)
        self._docs_path = docs_path
        self._max_body = max_body_bytes
        self._metrics = metrics
        self._tracer = None if tracer_provider is None else tracer_provider.get_tracer(__name__)
        self._propagator = TraceContextTextMapPropagator()
        self._log = logger if logger is not None else structlog.get_logger("services.gateway")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)  # lifespan: connexion runs the wiring's
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        incoming = _read_headers(scope["headers"])
        request_id = incoming.request_id or uuid.uuid4().hex
        span, trace_token, trace_metadata = self._trace(incoming, method)
        metadata = [(REQUEST_ID_HEADER, request_id), *trace_metadata]
        if incoming.authorization is not None:
            metadata.append(("authorization", incoming.authorization))
        raw_path = scope.get("raw_path")
        scope_token = request_scope.bind(
            request_scope.RequestScope(
                request_id=request_id,
                raw_path=raw_path.decode("latin-1") if raw_path else path,
                metadata=tuple(metadata),
            )
        )
        log_tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        extensions = scope.get("extensions")
        if extensions is None:
            # connexion's router copies the scope; a shared dict brings its routing back.
            extensions = scope["extensions"] = {}
        answer = _Answer(send, request_id)
        local = self._local.get(path)
        try:
            if incoming.content_length > self._max_body:
                await self._respond(_too_large(self._max_body), scope, receive, answer.send)
                await _discard_body(receive, 16 * self._max_body)
            elif local is not None:
                await self._serve_local(local, scope, receive, answer.send)
            else:
                await self._app(scope, receive, answer.send)
        finally:
            route = path if local is not None else self._route(extensions, path)
            self._finish(
                method, route, answer.status, started=started, span=span, request_id=request_id
            )
            structlog.contextvars.reset_contextvars(**log_tokens)
            request_scope.reset(scope_token)
            if trace_token is not None:
                otel_context.detach(trace_token)

    async def _serve_local(
        self, endpoint: LocalEndpoint, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scope["method"] in ("GET", "HEAD"):
            response = await endpoint()
            await response(scope, receive, send)
            return
        problem = Problem(
            status=405,
            code="UNIMPLEMENTED",
            detail=f"{scope['method']} is not allowed here",
            headers={"Allow": "GET, HEAD"},
        )
        await self._respond(problem, scope, receive, send)

    @staticmethod
    async def _respond(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
        current = request_scope.current()
        response = problem.response(
            instance=current.instance if current else "",
            request_id=current.request_id if current else None,
        )
        await response(scope, receive, send)

    def _trace(self, incoming: _Incoming, method: str) -> tuple[Any, Any, list[tuple[str, str]]]:
        """The request's span (or None), its context token and the trace metadata."""
        if self._tracer is None:
            passed = [("traceparent", incoming.traceparent)] if incoming.traceparent else []
            if incoming.traceparent and incoming.tracestate:
                passed.append(("tracestate", incoming.tracestate))
            return None, None, passed
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
        return span, token, sorted(outgoing.items())

    def _route(self, extensions: Mapping[str, Any], path: str) -> str:
        routing = extensions.get(_ROUTING)
        operation_id = routing.get("operation_id") if isinstance(routing, Mapping) else None
        plan = self._plans.get(operation_id) if isinstance(operation_id, str) else None
        if plan is not None:
            return plan.route
        docs = self._docs_path
        if path == docs or path.startswith(f"{docs}/"):
            return docs
        return _UNMATCHED

    def _finish(
        self, method: str, route: str, status: int, *, started: float, span: Any, request_id: str
    ) -> None:
        seconds = time.perf_counter() - started
        label = method if method in _METHODS else "_OTHER"
        if self._metrics is not None:
            self._metrics.observe(label, route, status, seconds)
        if span is not None:
            span.update_name(f"{method} {route}")
            span.set_attribute("http.request.method", label)
            span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(trace.StatusCode.ERROR)
            span.end()
        self._log.log(
            _level(route, status),
            "http",
            method=label,
            route=route,
            status=status,
            duration_ms=round(seconds * 1000.0, 3),
            request_id=request_id,
        )


class _Answer:
    """The response's ``send``: adds ``x-request-id`` and remembers the status."""

    __slots__ = ("_header", "_send", "status")

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self._header = (REQUEST_ID_HEADER.encode(), request_id.encode())
        self.status = 500  # what the caller sees if nothing is ever sent

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            message["headers"] = [*message.get("headers", ()), self._header]
        await self._send(message)


async def _discard_body(receive: Receive, limit: int) -> None:
    """Read and drop a refused body (up to ``limit`` bytes), so the client reads the 413
    rather than a connection reset for the bytes it was still sending."""
    discarded = 0
    while discarded <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        discarded += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _too_large(limit: int) -> Problem:
    """413, answered from the declared length, before a byte of the body is read."""
    detail = f"the request body is larger than {limit} bytes"
    return Problem(status=413, code=code_of_http_status(413), detail=detail)


def _read_headers(headers: Any) -> _Incoming:
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
    return _Incoming(authorization, request_id, traceparent, tracestate, content_length)


def _printable(raw: bytes) -> str | None:
    """The header as text when gRPC metadata can carry it (printable ASCII), else None."""
    if not raw or len(raw) > 8192:
        return None
    text = raw.decode("latin-1")
    return text if text.isascii() and text.isprintable() else None


def _level(route: str, status: int) -> int:
    if status >= 500:
        return logging.ERROR
    if route in _QUIET_ROUTES and status < 400:
        return logging.DEBUG
    return logging.INFO
