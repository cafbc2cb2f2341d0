"""The outermost layer of every request: its scope, its size limit, its summary.

Before connexion runs, the edge gives the request an id (the caller's ``x-request-id``
when it is a sane token, else a new one) and binds it as servicekit's request id (the
backends' channels send it as ``x-request-id``, as every servicekit client does), works
out the rest of the metadata the backends will get (``authorization``, W3C
``traceparent``/``tracestate``: see ``services.gateway.propagation``; the client's address
as ``x-forwarded-for``, which the services believe from the gateway only) and binds it for
the transcoder (``services.gateway.scope``). The response carries ``x-request-id``. A
request with more than one ``Authorization`` header is refused with 400, one with an
``Authorization`` header larger than any token with 431, and a body declared larger than
the limit with 413, before connexion reads it. After
the response, the request's span ends and ``services.gateway.accesslog`` writes its one
line and its metrics, under the route of the document that served it.

Requests for the backends are bounded (``services.gateway.admission``): past the bound,
503 at once. Every 503 the gateway answers, whoever decided it (the bound, a backend
UNAVAILABLE, a service no backend serves, ``/readyz``), carries ``Retry-After``: the
backend's own delay when it gave one, else ``retry_after_seconds``.

The edge also answers the gateway's own endpoints, which are not operations of the
document: ``/healthz``, ``/readyz``, ``/.well-known/jwks.json`` and ``/openapi.json``.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from opentelemetry import trace
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.grpc.context import bind_request_id, reset_request_id
from servicekit.grpc.forwarding import FORWARDED_FOR, canonical_address
from services.gateway import scope as request_scope
from services.gateway.accesslog import AccessLog, method_label
from services.gateway.admission import RequestBound
from services.gateway.metrics import HttpServerMetrics
from services.gateway.plans import OperationPlan
from services.gateway.problems import Problem, code_of_http_status
from services.gateway.propagation import (
    MAX_AUTHORIZATION_BYTES,
    REQUEST_ID_HEADER,
    RequestTrace,
    Tracing,
    read_headers,
)

__all__ = ["Edge", "LocalEndpoint", "client_address"]

LocalEndpoint = Callable[[], Awaitable[Response]]
"""An endpoint of the gateway itself: no arguments, the response."""

_RETRY_AFTER = b"retry-after"
_UNMATCHED = "unmatched"
_UNKNOWN = "unknown"
_ROUTING = "connexion_routing"


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
        bound: RequestBound | None = None,
        retry_after_seconds: float = 1.0,
    ) -> None:
        self._app = app
        self._bound = bound
        self._retry_after = str(max(1, math.ceil(retry_after_seconds))).encode()
        self._plans = plans
        self._local = dict(local)
        self._docs_path = docs_path
        self._max_body = max_body_bytes
        self._tracing = Tracing(tracer_provider)
        self._access_log = AccessLog(metrics=metrics, logger=logger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)  # lifespan: connexion runs the wiring's
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        incoming = read_headers(scope["headers"])
        request_id = incoming.request_id or uuid.uuid4().hex
        request_trace = self._tracing.start(incoming, method, request_id=request_id)
        client = client_address(scope)
        metadata = [*request_trace.metadata, (FORWARDED_FOR, client)]
        if incoming.authorization is not None:
            metadata.append(("authorization", incoming.authorization))
        raw_path = scope.get("raw_path")
        scope_token = request_scope.bind(
            request_scope.RequestScope(
                request_id=request_id,
                raw_path=raw_path.decode("latin-1") if raw_path else path,
                metadata=tuple(metadata),
                client=client,
            )
        )
        request_id_token = bind_request_id(request_id)
        log_tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        extensions = scope.get("extensions")
        if extensions is None:
            # connexion's router copies the scope; a shared dict brings its routing back.
            extensions = scope["extensions"] = {}
        answer = _Answer(send, request_id, self._retry_after)
        local = self._local.get(path)
        try:
            if incoming.authorizations > 1:
                await self._respond(_several_authorizations(), scope, receive, answer.send)
                await _discard_body(receive, self._max_body)
            elif incoming.authorization_too_large:
                await self._respond(_authorization_too_large(), scope, receive, answer.send)
                await _discard_body(receive, self._max_body)
            elif incoming.content_length > self._max_body:
                await self._respond(_too_large(self._max_body), scope, receive, answer.send)
                await _discard_body(receive, 16 * self._max_body)
            elif local is not None:
                await self._serve_local(local, scope, receive, answer.send)
            else:
                await self._forward(scope, receive, answer.send)
        finally:
            route = path if local is not None else self._route(extensions, path)
            self._finish(
                method,
                route,
                answer.status,
                started=started,
                request_trace=request_trace,
                request_id=request_id,
            )
            structlog.contextvars.reset_contextvars(**log_tokens)
            reset_request_id(request_id_token)
            request_scope.reset(scope_token)
            request_trace.detach()

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to connexion, within the bound on concurrent requests."""
        bound = self._bound
        if bound is None:
            await self._app(scope, receive, send)
            return
        if not bound.try_enter():
            await self._respond(bound.problem(), scope, receive, send)
            await _discard_body(receive, self._max_body)
            return
        try:
            await self._app(scope, receive, send)
        finally:
            bound.leave()

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
        self,
        method: str,
        route: str,
        status: int,
        *,
        started: float,
        request_trace: RequestTrace,
        request_id: str,
    ) -> None:
        seconds = time.perf_counter() - started
        label = method_label(method)
        request_trace.end(method=method, label=label, route=route, status=status)
        self._access_log.record(
            label=label,
            route=route,
            status=status,
            seconds=seconds,
            request_id=request_id,
            trace_id=request_trace.trace_id,
        )


class _Answer:
    """The response's ``send``: adds ``x-request-id`` (and ``Retry-After`` to a 503 that
    has none) and remembers the status."""

    __slots__ = ("_header", "_retry_after", "_send", "status")

    def __init__(self, send: Send, request_id: str, retry_after: bytes) -> None:
        self._send = send
        self._header = (REQUEST_ID_HEADER.encode(), request_id.encode())
        self._retry_after = (_RETRY_AFTER, retry_after)
        self.status = 500  # what the caller sees if nothing is ever sent

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            headers = [*message.get("headers", ()), self._header]
            if self.status == 503 and not any(k.lower() == _RETRY_AFTER for k, _ in headers):
                headers.append(self._retry_after)
            message["headers"] = headers
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


def client_address(scope: Scope) -> str:
    """The caller's address (ASGI's ``client``: the peer, or what a trusted proxy's
    ``X-Forwarded-For`` says); ``unknown`` when it is none, or not an IP address."""
    client = scope.get("client")
    address = canonical_address(client[0]) if client else None
    return address or _UNKNOWN


def _several_authorizations() -> Problem:
    """400 for a request with several ``Authorization`` headers, as the services refuse
    several ``authorization`` metadata: a gateway keeping one would pick for the caller."""
    detail = "send one Authorization header, not several"
    return Problem(status=400, code="INVALID_ARGUMENT", detail=detail)


def _authorization_too_large() -> Problem:
    """431 for an ``Authorization`` header larger than any token of this platform."""
    detail = f"the Authorization header is larger than {MAX_AUTHORIZATION_BYTES} bytes"
    return Problem(status=431, code="RESOURCE_EXHAUSTED", detail=detail)


def _too_large(limit: int) -> Problem:
    """413, answered from the declared length, before a byte of the body is read."""
    detail = f"the request body is larger than {limit} bytes"
    return Problem(status=413, code=code_of_http_status(413), detail=detail)
