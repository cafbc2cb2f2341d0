"""A dependency's gRPC status, re-raised in domain terms by the service that called it.

A service's adapter catches ``grpc.RpcError`` and raises ``translate_rpc_error(error,
"UserService")``: a ``servicekit.errors`` class its use cases understand, and that the
edge's error table maps back to a status for its own caller::

    try:
        response = self._stub.VerifyCredentials(request)
    except grpc.RpcError as error:
        raise translate_rpc_error(error, "UserService") from error

Messages name the dependency and what happened, never the dependency's own message:
that text was written for the dependency's callers and may carry its internals (ids,
addresses, request ids). ``raise ... from error`` keeps it for the logs.

A dependency refusing *this service's* credentials, or failing inside, is this
deployment's fault, not the end caller's: it becomes ``DependencyError``, which no table
maps, so the caller gets INTERNAL and the error is logged with its request id.

``CircuitOpenError`` is what a call gets while the circuit breaker is open: both a
``servicekit.errors.Unavailable`` and a finished ``grpc.RpcError`` call with status
UNAVAILABLE, so the interceptors outside the breaker (metrics, the trace span) and a
caller catching either type all see the same thing. ``AioCircuitOpenError`` is the same
for the asyncio face: a ``grpc.aio.AioRpcError``, as grpc.aio's own failed calls are.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, NoReturn

import grpc
from google.rpc import (  # type: ignore[import-untyped, unused-ignore]  # ships no py.typed
    error_details_pb2,
)
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]

from servicekit import errors

__all__ = ["AioCircuitOpenError", "CircuitOpenError", "DependencyError", "translate_rpc_error"]


class DependencyError(errors.ServiceError):
    """A dependency failed in a way the end caller can do nothing about (INTERNAL)."""

    def __init__(self, message: str, code: grpc.StatusCode) -> None:
        super().__init__(message)
        self.code = code


_TRANSLATIONS: dict[grpc.StatusCode, Callable[[str], errors.ServiceError]] = {
    grpc.StatusCode.UNAVAILABLE: lambda s: errors.Unavailable(f"{s} unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: lambda s: errors.DeadlineExceeded(
        f"{s} did not answer in time"
    ),
    grpc.StatusCode.NOT_FOUND: lambda s: errors.NotFound(f"{s}: not found"),
    grpc.StatusCode.ALREADY_EXISTS: lambda s: errors.AlreadyExists(f"{s}: already exists"),
    grpc.StatusCode.INVALID_ARGUMENT: lambda s: errors.InvalidArgument(
        f"{s} rejected the request as invalid"
    ),
    grpc.StatusCode.OUT_OF_RANGE: lambda s: errors.InvalidArgument(
        f"{s} rejected the request as out of range"
    ),
    grpc.StatusCode.FAILED_PRECONDITION: lambda s: errors.FailedPrecondition(
        f"{s} cannot do this in its current state"
    ),
    grpc.StatusCode.ABORTED: lambda s: errors.Conflict(f"{s} reported a conflict; retry"),
}


def translate_rpc_error(error: grpc.RpcError, service: str) -> errors.ServiceError:
    """The ``servicekit.errors`` equivalent of the status ``error`` carries.

    ``service`` names the dependency in the message (``"UserService"``).
    RESOURCE_EXHAUSTED keeps the dependency's ``RetryInfo`` delay as ``retry_after``; an
    error that is a ``ServiceError`` already (``CircuitOpenError``) is returned as it is.
    """
    if isinstance(error, errors.ServiceError):
        return error
    code = _code(error)
    translate = _TRANSLATIONS.get(code)
    if translate is not None:
        return translate(service)
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        return errors.ResourceExhausted(f"{service} is over its limits", _retry_after(error))
    return DependencyError(f"{service} failed the call with {code.name}", code)


def _code(error: grpc.RpcError) -> grpc.StatusCode:
    code_of = getattr(error, "code", None)
    code = code_of() if callable(code_of) else None
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN


def _retry_after(error: grpc.RpcError) -> float | None:
    """The ``google.rpc.RetryInfo`` delay of a rich error status, in seconds."""
    try:
        status = rpc_status.from_call(error)
    except (AttributeError, ValueError):
        return None  # not a call, or its status details do not match its code
    for detail in status.details if status is not None else ():
        info = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            return float(info.retry_delay.ToNanoseconds()) / 1e9
    return None


class CircuitOpenError(errors.Unavailable, grpc.RpcError, grpc.Call, grpc.Future):  # type: ignore[misc]  # grpcio has no stubs
    """A call refused by an open circuit: raised to the caller, never sent.

    It is the call's outcome as well (a finished ``grpc.Call`` and ``grpc.Future`` with
    status UNAVAILABLE), as grpcio's own failed calls are, so the interceptors outside the
    breaker record UNAVAILABLE rather than an unknown local exception.
    """

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return self.message

    def initial_metadata(self) -> tuple[()]:
        return ()

    def trailing_metadata(self) -> tuple[()]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> None:
        return None

    def cancel(self) -> bool:
        return False

    def cancelled(self) -> bool:
        return False

    def running(self) -> bool:
        return False

    def done(self) -> bool:
        return True

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False  # grpc's contract: False when the call has ended already

    def result(self, timeout: float | None = None) -> NoReturn:
        raise self

    def exception(self, timeout: float | None = None) -> CircuitOpenError:
        return self

    def traceback(self, timeout: float | None = None) -> TracebackType | None:
        return self.__traceback__

    def add_done_callback(self, fn: Callable[[Any], None]) -> None:
        fn(self)


class AioCircuitOpenError(errors.Unavailable, grpc.aio.AioRpcError):  # type: ignore[misc]  # grpcio has no stubs
    """A grpc.aio call refused by an open circuit: raised to the caller, never sent.

    An ``AioRpcError`` with status UNAVAILABLE (what ``await call`` and ``call.code()`` of a
    grpc.aio call give for a failed call) that is also a ``servicekit.errors.Unavailable``.
    ``method`` is the refused method (``/pkg.Service/Method``).
    """

    def __init__(self, message: str, *, method: str = "") -> None:
        grpc.aio.AioRpcError.__init__(
            self,
            grpc.StatusCode.UNAVAILABLE,
            grpc.aio.Metadata(),
            grpc.aio.Metadata(),
            details=message,
        )
        self.message = message
        self.method = method
        self.args = (message,)

    def __str__(self) -> str:
        return self.message
