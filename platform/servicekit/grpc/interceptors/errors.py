"""One table at the edge turns raised errors into gRPC status, with rich details.

Handlers, use cases and the inner interceptors raise ``servicekit.errors`` classes and
never touch the status themselves. This interceptor catches what they raise, finds the
status code by walking the exception's MRO through one table (so ``class
UserNotFound(NotFound)`` maps with no extra entry), and aborts the call with a
``google.rpc.Status``: ``BadRequest`` field violations for ``InvalidArgument``,
``RetryInfo`` for ``ResourceExhausted``. Clients read them with
``grpc_status.rpc_status.from_call``; the gateway turns them into problem details.

Anything else is a bug: the caller gets INTERNAL with a generic message naming the request
id, and the traceback goes to the log under that same id. ``repr(exc)`` never reaches the
caller: it may hold SQL, paths or secrets.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import grpc
import structlog
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.rpc import (  # type: ignore[import-untyped, unused-ignore]  # ships no py.typed
    error_details_pb2,
    status_pb2,
)
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]
from structlog.typing import FilteringBoundLogger

from servicekit import errors
from servicekit.grpc.context import current_request_id
from servicekit.grpc.interceptors.base import ServerInterceptor

__all__ = ["DEFAULT_ERROR_TABLE", "ErrorMappingInterceptor"]

DEFAULT_ERROR_TABLE: Mapping[type[BaseException], grpc.StatusCode] = MappingProxyType(
    {
        errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
        errors.NotFound: grpc.StatusCode.NOT_FOUND,
        errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
        errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
        errors.Conflict: grpc.StatusCode.ABORTED,
        errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
        errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
        errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
        errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
        errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
        errors.Cancelled: grpc.StatusCode.CANCELLED,
    }
)
"""Every ``servicekit.errors`` class and its status; a bare ``ServiceError`` stays unmapped."""

Handler = Callable[[Any, grpc.ServicerContext], Any]


class ErrorMappingInterceptor(ServerInterceptor):
    """Maps raised errors to status codes; see the module docstring for the rules.

    ``table`` adds entries for a service's own exception classes, or overrides defaults:
    its entries win. A ``ServiceError`` shows its message to the caller; any other mapped
    class gets a generic message (its text may not be fit for callers) and is logged.
    """

    def __init__(
        self,
        table: Mapping[type[BaseException], grpc.StatusCode] | None = None,
        logger: FilteringBoundLogger | None = None,
    ) -> None:
        self._table: Mapping[type[BaseException], grpc.StatusCode] = {
            **DEFAULT_ERROR_TABLE,
            **(table or {}),
        }
        self._logger: FilteringBoundLogger = logger or structlog.get_logger(__name__)

    def intercept(
        self,
        method: Handler,
        request_or_iterator: Any,
        context: grpc.ServicerContext,
        method_name: str,
    ) -> Any:
        """Calls the next step; a raised error becomes the call's status."""
        if not isinstance(request_or_iterator, Message):
            return method(request_or_iterator, context)  # a client stream: not ours to judge
        try:
            return method(request_or_iterator, context)
        except Exception as exc:  # the edge of every handler: mapped or logged, never lost
            status = self._status_for(exc, context, method_name)
            if status is None:
                raise  # inner code aborted the call itself: its status stands
            context.abort_with_status(status)
            raise  # pragma: no cover - abort_with_status always raises

    def code_for(self, exc_type: type[BaseException]) -> grpc.StatusCode | None:
        """The code of the nearest class in ``exc_type``'s MRO that the table knows."""
        for cls in exc_type.__mro__:
            code = self._table.get(cls)
            if code is not None:
                return code
        return None

    def _status_for(
        self, exc: Exception, context: grpc.ServicerContext, method_name: str
    ) -> grpc.Status | None:
        code = self.code_for(type(exc))
        if code is None:
            if context.code() not in (None, grpc.StatusCode.OK):
                return None  # context.abort() raised this after setting the code
            code = grpc.StatusCode.INTERNAL
        if isinstance(exc, errors.ServiceError) and code is not grpc.StatusCode.INTERNAL:
            return _status(code, exc.message, _details(exc))
        request_id = current_request_id() or uuid.uuid4().hex
        self._logger.error(
            "unhandled error" if code is grpc.StatusCode.INTERNAL else "mapped foreign error",
            rpc_method=method_name,
            request_id=request_id,
            grpc_code=code.name,
            exc_info=exc,
        )
        return _status(code, f"{_words(code)}; request id {request_id}", [])


def _words(code: grpc.StatusCode) -> str:
    """``INTERNAL`` -> ``internal error``; other codes by their name in lower case."""
    if code is grpc.StatusCode.INTERNAL:
        return "internal error"
    return str(code.name).lower().replace("_", " ")


def _details(exc: errors.ServiceError) -> list[Message]:
    """The google.rpc detail messages a client can act on, for the classes that have one."""
    if isinstance(exc, errors.InvalidArgument):
        return [_bad_request(exc.violations)]
    if isinstance(exc, errors.ResourceExhausted) and exc.retry_after is not None:
        delay = Duration()
        delay.FromNanoseconds(round(max(exc.retry_after, 0.0) * 1e9))
        return [error_details_pb2.RetryInfo(retry_delay=delay)]
    return []


def _bad_request(violations: tuple[errors.FieldViolation, ...]) -> error_details_pb2.BadRequest:
    """One FieldViolation per broken rule; ``reason`` carries the rule id (``string.email``)."""
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field=violation.field, description=violation.message, reason=violation.rule
            )
            for violation in violations
        ]
    )


def _status(code: grpc.StatusCode, message: str, details: list[Message]) -> grpc.Status:
    status = status_pb2.Status(code=code.value[0], message=message)
    for detail in details:
        status.details.add().Pack(detail)
    return rpc_status.to_status(status)
