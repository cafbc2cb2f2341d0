"""The one handler of every operation: REST in, gRPC call, REST out.

``TranscodingResolver`` gives connexion, for each ``operationId``, a handler bound to that
operation's plan; all of them run ``Transcoder.transcode``:

1. the request message from connexion's arguments (``messages.request_message``);
2. the call through the backend's grpc.aio channel, with the backend's deadline and the
   request's metadata (``Authorization``, ``x-request-id``, trace context), unless the
   backend's circuit is open;
3. the reply (or its ``response_body`` field) as proto3 JSON, or a problem document
   derived from the gRPC status.

The content type of every answer is set here explicitly: connexion cannot pick one for
operations whose responses mix ``application/json`` and ``application/problem+json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from connexion.exceptions import ResolverError
from connexion.resolver import Resolver
from google.protobuf import json_format
from starlette.responses import Response

from servicekit.clients import GrpcClientMetrics
from servicekit.errors import Unavailable
from services.gateway import scope
from services.gateway.backends import Backend
from services.gateway.messages import RequestError, reply_body, request_message
from services.gateway.plans import OperationPlan
from services.gateway.problems import Problem, Violation, from_rpc_error, summary

__all__ = ["JSON", "Transcoder", "TranscodingResolver"]

JSON = "application/json"

Handler = Callable[..., Awaitable[Response]]


@dataclass(slots=True)
class _Route:
    """A plan bound to its backend's channel, with its client metric series resolved."""

    plan: OperationPlan
    backend: Backend
    call: Any
    timeout: float
    started: Any = None
    handled: dict[str, Any] = field(default_factory=dict)
    seconds: Any = None


class Transcoder:
    """Runs every operation; ``bind()`` on the event loop once the backends are open."""

    def __init__(
        self,
        plans: Mapping[str, OperationPlan],
        backends: Mapping[str, Backend],
        *,
        metrics: GrpcClientMetrics | None = None,
    ) -> None:
        missing = {plan.service for plan in plans.values()} - set(backends)
        if missing:
            raise ValueError(f"no backend for the services {', '.join(sorted(missing))}")
        self._plans = dict(plans)
        self._backends = dict(backends)
        self._metrics = metrics
        self._routes: dict[str, _Route] = {}

    @property
    def plans(self) -> Mapping[str, OperationPlan]:
        return self._plans

    def bind(self) -> None:
        """Create each operation's multi-callable on the open channels."""
        for operation_id, plan in self._plans.items():
            backend = self._backends[plan.service]
            route = _Route(
                plan=plan,
                backend=backend,
                call=backend.unary_unary(
                    plan.grpc_path,
                    plan.request_class.SerializeToString,
                    plan.response_class.FromString,
                ),
                timeout=backend.deadline_seconds,
            )
            if self._metrics is not None:
                labels = ("unary", plan.service, plan.method.name)
                route.started = self._metrics.started.labels(*labels)
                route.seconds = self._metrics.handling_seconds.labels(*labels)
            self._routes[operation_id] = route

    def handler(self, operation_id: str) -> Handler:
        """The connexion handler of ``operation_id``: every argument, by keyword."""
        if operation_id not in self._plans:
            raise ResolverError(f"{operation_id!r} is not a gRPC method of the contracts")

        async def transcode(**arguments: Any) -> Response:
            return await self.transcode(operation_id, arguments)

        transcode.__name__ = transcode.__qualname__ = operation_id.rsplit(".", 1)[-1]
        return transcode

    async def transcode(self, operation_id: str, arguments: Mapping[str, Any]) -> Response:
        """Serve one call of ``operation_id`` with connexion's ``arguments``."""
        route = self._routes[operation_id]
        plan = route.plan
        request_scope = scope.current()
        try:
            request = request_message(plan, arguments)
        except RequestError as exc:
            field_path = plan.document_field(exc.field)
            violation = Violation(field=field_path, rule=exc.rule, message=exc.message)
            problem = Problem.of_code(
                "INVALID_ARGUMENT", summary((violation,)), violations=(violation,)
            )
            return _problem(problem, request_scope)
        metadata = request_scope.metadata if request_scope is not None else ()
        outcome = await self._call(route, request, metadata)
        if isinstance(outcome, Problem):
            return _problem(outcome, request_scope)
        body = json_format.MessageToDict(reply_body(plan, outcome))
        return Response(json.dumps(body).encode(), media_type=JSON)

    async def _call(
        self, route: _Route, request: Any, metadata: tuple[tuple[str, str], ...]
    ) -> Any:
        backend = route.backend
        try:
            permit = backend.breaker.acquire()
        except Unavailable:
            self._handled(route, "UNAVAILABLE", None)
            return Problem.of_code("UNAVAILABLE", f"{backend.display_name} is unavailable")
        if route.started is not None:
            route.started.inc()
        started = time.perf_counter()
        try:
            reply = await route.call(request, timeout=route.timeout, metadata=metadata)
        except grpc.aio.AioRpcError as error:
            code = error.code()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                backend.breaker.record_failure(permit)
            else:
                backend.breaker.record_success(permit)
            self._handled(route, code.name, started)
            return from_rpc_error(
                error, backend=backend.display_name, request=route.plan.method.input_type
            )
        except BaseException:  # cancelled by the server (client gone) or a local error
            backend.breaker.release(permit)
            raise
        backend.breaker.record_success(permit)
        self._handled(route, "OK", started)
        return reply

    def _handled(self, route: _Route, code: str, started: float | None) -> None:
        if self._metrics is None:
            return
        counter = route.handled.get(code)
        if counter is None:
            plan = route.plan
            labels = ("unary", plan.service, plan.method.name, code)
            counter = route.handled[code] = self._metrics.handled.labels(*labels)
        counter.inc()
        if started is not None and route.seconds is not None:
            route.seconds.observe(time.perf_counter() - started)


class TranscodingResolver(Resolver):  # type: ignore[misc]  # connexion is untyped
    """Resolves every ``operationId`` to the transcoder's handler for it."""

    def __init__(self, transcoder: Transcoder) -> None:
        super().__init__()
        self._transcoder = transcoder

    def resolve_function_from_operation_id(self, operation_id: str) -> Handler:
        return self._transcoder.handler(operation_id)


def _problem(problem: Problem, request_scope: scope.RequestScope | None) -> Response:
    if request_scope is None:
        return problem.response(instance="", request_id=None)
    return problem.response(instance=request_scope.instance, request_id=request_scope.request_id)
