"""The outermost interceptor: gives every call a request id and one summary log line.

The request id comes from the caller's ``x-request-id`` metadata when it is a sane token
(at most 128 characters of ``[A-Za-z0-9._-]``), so one id follows a request through the
gateway and every service; anything else is replaced by a fresh random (version 4) UUID
in hex, never trusted into the logs. The id is sent back as initial metadata
``x-request-id``, which is why handlers must not send initial metadata of their own.

During the call the id is readable through ``servicekit.grpc.context.current_request_id``
and is on every log line (with the method), through structlog's context variables. So is
the end client's address (``current_client``): the peer's, or the ``x-forwarded-for`` of a
trusted edge (``servicekit.grpc.forwarding``). The
call runs in a copy of the thread's context, so whatever it binds there (the request id,
the trace ids bound by the tracing interceptor, anything a handler binds) is discarded
when it ends: a worker thread starts each call clean.

After the call, exactly one line::

    event="rpc" method=... code="NOT_FOUND" duration_ms=1.234 peer="ipv4:127.0.0.1:50312"
    client="203.0.113.9"

at ``error`` for the codes that mean the server is at fault (UNKNOWN, INTERNAL,
DATA_LOSS, UNIMPLEMENTED), ``warning`` for UNAVAILABLE and DEADLINE_EXCEEDED, ``info``
otherwise; OK calls of the ``quiet_methods`` (health checks, polled every few seconds)
are logged at ``debug``.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import time
from collections.abc import Callable, Collection
from typing import Any, Protocol

import grpc
import structlog

from servicekit.grpc.context import bind_client, bind_request_id, current_client
from servicekit.grpc.forwarding import ClientAddresses
from servicekit.grpc.interceptors._outcome import final_code, is_stream, watch_stream
from servicekit.grpc.interceptors.base import ServerInterceptor

__all__ = [
    "HEALTH_CHECK",
    "REQUEST_ID_HEADER",
    "RequestContextInterceptor",
    "incoming_request_id",
    "new_request_id",
]

REQUEST_ID_HEADER = "x-request-id"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.DATA_LOSS,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)
_WARNING_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
_UUID_CLEARED = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)
"""The version (4) and variant (RFC 4122) bits of a UUID, as ``uuid.uuid4`` sets them."""


class SummaryLogger(Protocol):
    """What the interceptor needs of a logger: structlog's ``log(level, event, **kw)``."""

    def log(self, level: int, event: str, **kw: Any) -> Any: ...


class RequestContextInterceptor(ServerInterceptor):
    """Binds the request scope of each call and writes its summary line."""

    def __init__(
        self,
        logger: SummaryLogger | None = None,
        *,
        quiet_methods: Collection[str] = (HEALTH_CHECK,),
        clients: ClientAddresses | None = None,
    ) -> None:
        self._logger: SummaryLogger = (
            logger if logger is not None else structlog.get_logger("servicekit.rpc")
        )
        self._quiet = frozenset(quiet_methods)
        self._clients = clients if clients is not None else ClientAddresses()

    def intercept(
        self,
        method: Callable[[Any, grpc.ServicerContext], Any],
        request_or_iterator: Any,
        context: grpc.ServicerContext,
        method_name: str,
    ) -> Any:
        scope = contextvars.copy_context()
        call = scope.run(self._begin, context, method_name)
        try:
            context.send_initial_metadata(((REQUEST_ID_HEADER, call.request_id),))
            response = scope.run(method, request_or_iterator, context)
        except BaseException as error:
            scope.run(call.finish, final_code(context, error))
            raise
        if is_stream(response):
            return watch_stream(
                response, context, lambda code: scope.run(call.finish, code), step=scope.run
            )
        scope.run(call.finish, final_code(context, None))
        return response

    def _begin(self, context: grpc.ServicerContext, method_name: str) -> _Call:
        """Bind the request scope; runs inside the call's own context."""
        request_id = incoming_request_id(context.invocation_metadata())
        bind_request_id(request_id)
        bind_client(self._clients.of(context))
        structlog.contextvars.bind_contextvars(request_id=request_id, method=method_name)
        return _Call(
            self._logger, method_name, request_id, context.peer(), method_name in self._quiet
        )


def incoming_request_id(metadata: Any) -> str:
    """The caller's request id if it is a sane token, else a new one."""
    for key, value in metadata or ():
        if key == REQUEST_ID_HEADER and isinstance(value, str):
            if _VALID_REQUEST_ID.fullmatch(value):
                return value
            break
    return new_request_id()


def new_request_id() -> str:
    """``uuid.uuid4().hex``, without building a ``uuid.UUID`` (a third of the time)."""
    value = int.from_bytes(os.urandom(16), "big")
    return f"{value & _UUID_CLEARED | _UUID4_SET:032x}"


class _Call:
    """One call being served: what its summary line needs."""

    __slots__ = ("client", "logger", "method", "peer", "quiet", "request_id", "started")

    def __init__(
        self, logger: SummaryLogger, method: str, request_id: str, peer: str, quiet: bool
    ) -> None:
        self.logger = logger
        self.method = method
        self.request_id = request_id
        self.peer = peer
        self.quiet = quiet
        self.client = current_client()
        self.started = time.perf_counter()

    def finish(self, code: grpc.StatusCode) -> None:
        """Write the summary line (complete by itself, whatever the logging configuration).

        It runs in the call's context, so it also carries what was bound there, such as
        the trace ids.
        """
        duration_ms = round((time.perf_counter() - self.started) * 1000.0, 3)
        self.logger.log(
            _level(code, quiet=self.quiet),
            "rpc",
            method=self.method,
            code=code.name,
            duration_ms=duration_ms,
            peer=self.peer,
            client=self.client,
            request_id=self.request_id,
        )


def _level(code: grpc.StatusCode, *, quiet: bool) -> int:
    if code in _ERROR_CODES:
        return logging.ERROR
    if code in _WARNING_CODES:
        return logging.WARNING
    if quiet and code == grpc.StatusCode.OK:
        return logging.DEBUG
    return logging.INFO
