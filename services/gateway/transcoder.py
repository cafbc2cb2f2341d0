"""The one handler of every operation: REST in, gRPC call, REST out.

``TranscodingResolver`` gives connexion, for each ``operationId``, a handler bound to that
operation's plan; all of them run ``Transcoder.transcode``:

0. a client over the operation's rate limit (``ratelimits``) is answered 429 at once;
1. the request message from connexion's arguments (``messages.request_message``),
   checked against the contract's rules by protovalidate (``servicekit.validation``, as
   the gRPC servers check theirs: one rule id and message for one bad input, whichever
   face it came through);
2. the call through the channel of the backend that serves the plan's contract service
   (``backends``), with the request's ``authorization`` and trace context; the channel's
   servicekit interceptors add the deadline, the request id, the client metrics and the
   method's circuit breaker;
3. the reply (or its ``response_body`` field) as proto3 JSON (``replies``: an encoder per
   message type, built once), or a problem document derived from the gRPC status.

An operation of a contract service that no backend serves answers 503 naming the
service, without a call. The content type of every answer is set here explicitly:
connexion cannot pick one for operations whose responses mix ``application/json`` and
``application/problem+json``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import protovalidate
from connexion.exceptions import ResolverError
from connexion.resolver import Resolver
from starlette.responses import Response

from servicekit.clients import AioCircuitOpenError
from servicekit.errors import InvalidArgument
from servicekit.validation import validate_request
from services.gateway import scope
from services.gateway.backends import Backend
from services.gateway.messages import RequestError, reply_body, reply_body_type, request_message
from services.gateway.plans import OperationPlan
from services.gateway.problems import (
    Problem,
    Violation,
    from_rpc_error,
    invalid_request,
    summary,
)
from services.gateway.ratelimits import RateLimits
from services.gateway.replies import ReplyEncoder

__all__ = ["JSON", "Transcoder", "TranscodingResolver", "circuit_open", "no_backend"]

JSON = "application/json"

Handler = Callable[..., Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class _Route:
    """A plan bound to its backend's channel (``call``), or to none (``backend`` None), and
    to the encoder of its reply's body."""

    plan: OperationPlan
    backend: Backend | None
    call: Any
    encoder: ReplyEncoder


class Transcoder:
    """Runs every operation; ``bind()`` on the event loop once the backends are open.

    ``backends`` maps a contract service's full name to the backend that serves it; the
    operations of any other service answer 503 (``no_backend``).
    """

    def __init__(
        self,
        plans: Mapping[str, OperationPlan],
        backends: Mapping[str, Backend],
        rate_limits: RateLimits | None = None,
        validator: protovalidate.Validator | None = None,
    ) -> None:
        self._plans = dict(plans)
        # One validator for the gateway's life: it compiles and caches each message's rules.
        self._validator = validator or protovalidate.Validator()
        self._backends = dict(backends)
        self._rate_limits = rate_limits
        self._routes: dict[str, _Route] = {}

    @property
    def plans(self) -> Mapping[str, OperationPlan]:
        return self._plans

    def bind(self) -> None:
        """Create each operation's multi-callable on the open channels."""
        encoders: dict[str, ReplyEncoder] = {}
        for operation_id, plan in self._plans.items():
            body_type = reply_body_type(plan)
            encoder = encoders.get(body_type.full_name)
            if encoder is None:
                encoder = encoders[body_type.full_name] = ReplyEncoder(body_type)
            backend = self._backends.get(plan.service)
            call = None
            if backend is not None:
                call = backend.unary_unary(
                    plan.grpc_path,
                    plan.request_class.SerializeToString,
                    plan.response_class.FromString,
                )
            self._routes[operation_id] = _Route(
                plan=plan, backend=backend, call=call, encoder=encoder
            )

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
        if self._rate_limits is not None and request_scope is not None:
            refused = await self._rate_limits.admit(operation_id, request_scope.client)
            if refused is not None:
                return _problem(refused, request_scope)
        if route.backend is None:
            return _problem(no_backend(plan), request_scope)
        try:
            request = request_message(plan, arguments)
            validate_request(self._validator, request)
        except InvalidArgument as exc:
            return _problem(invalid_request(exc.violations, plan.method.input_type), request_scope)
        except RequestError as exc:
            field_path = plan.request_field(exc.field)
            violation = Violation(field=field_path, rule=exc.rule, message=exc.message)
            problem = Problem.of_code(
                "INVALID_ARGUMENT", summary((violation,)), violations=(violation,)
            )
            return _problem(problem, request_scope)
        metadata = request_scope.metadata if request_scope is not None else ()
        try:
            reply = await route.call(request, metadata=metadata)
        except grpc.aio.AioRpcError as error:
            return _problem(_failure(error, route.plan, route.backend), request_scope)
        return Response(route.encoder.encode(reply_body(plan, reply)), media_type=JSON)


def no_backend(plan: OperationPlan) -> Problem:
    """503 for an operation of a contract service that no backend serves."""
    return Problem.of_code(
        "UNAVAILABLE", f"no backend serves {plan.service} at this gateway (not configured)"
    )


def circuit_open(plan: OperationPlan, backend: Backend) -> Problem:
    """503 for a call its method's open circuit refused, naming the method and backend;
    ``Retry-After`` is the breaker's reset time."""
    method = f"{_short(plan.service)}.{plan.method.name}"
    detail = f"{method} is unavailable (circuit open for backend {backend.name}); retry later"
    return Problem.of_code(
        "UNAVAILABLE", detail, retry_after=backend.settings.breaker_reset_seconds
    )


def _failure(error: grpc.aio.AioRpcError, plan: OperationPlan, backend: Backend) -> Problem:
    if isinstance(error, AioCircuitOpenError):
        return circuit_open(plan, backend)
    return from_rpc_error(error, service=_short(plan.service), request=plan.method.input_type)


def _short(service: str) -> str:
    """``UserService`` for ``acme.user.v1.UserService``: how messages name a service."""
    return service.rsplit(".", 1)[-1]


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
