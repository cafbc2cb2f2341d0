"""A real gRPC server on port 0 with a tiny UserService, for the observability tests.

The servicer answers GetUser by id: "missing" aborts with NOT_FOUND, "boom" raises an
unexpected error, "rich" aborts with ``abort_with_status`` (as the error mapping
interceptor does), "quietly" binds a context variable of its own; anything else returns
a constant user. Every call logs one line from inside the handler and remembers the
request id, log context, current span and client address it saw. The health service is
registered too: its Watch is a real stream.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry import trace

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.grpc.context import current_client, current_request_id
from servicekit.logging import LoggingSettings, configure_logging

USER = user_pb2.User(id="6f1c0a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f", email="ada@example.com")
GET_USER = "/acme.user.v1.UserService/GetUser"


@dataclass(frozen=True)
class _Status:
    """A ``grpc.Status`` as grpc_status.rpc_status.to_status builds it."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str], ...] = ()


@dataclass
class FixedUserService(user_service_pb2_grpc.UserServiceServicer):
    seen_request_ids: list[str | None] = field(default_factory=list)
    seen_context: list[dict[str, Any]] = field(default_factory=list)
    seen_spans: list[trace.Span] = field(default_factory=list)
    seen_clients: list[str | None] = field(default_factory=list)

    def GetUser(  # noqa: N802 - the generated servicer's method name
        self, request: user_service_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> user_service_pb2.GetUserResponse:
        self.seen_request_ids.append(current_request_id())
        self.seen_context.append(structlog.contextvars.get_contextvars())
        self.seen_spans.append(trace.get_current_span())
        self.seen_clients.append(current_client())
        structlog.get_logger("tests.handler").info("handling", user_id=request.id)
        if request.id == "missing":
            context.abort(grpc.StatusCode.NOT_FOUND, "no such user")
        if request.id == "boom":
            raise RuntimeError("boom")
        if request.id == "rich":
            context.abort_with_status(_Status(grpc.StatusCode.INTERNAL, "internal error"))
        if request.id == "quietly":
            structlog.contextvars.bind_contextvars(leaked="yes")
        return user_service_pb2.GetUserResponse(user=USER)


@dataclass(frozen=True)
class Served:
    port: int
    users: user_service_pb2_grpc.UserServiceStub
    health: Any  # grpc_health ships no stubs
    servicer: FixedUserService
    health_servicer: Any


@contextmanager
def serving(
    interceptors: Sequence[grpc.ServerInterceptor], *, max_workers: int = 4
) -> Iterator[Served]:
    """Start the server with ``interceptors`` (outermost first) and a channel to it."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers), interceptors=interceptors
    )
    # The stubs declare every method abstract; at run time grpc's base class answers
    # UNIMPLEMENTED for those this fake leaves out.
    servicer = FixedUserService()  # type: ignore[abstract]
    user_service_pb2_grpc.add_UserServiceServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer()
    health_servicer.set("acme.user.v1.UserService", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Served(
            port=port,
            users=user_service_pb2_grpc.UserServiceStub(channel),
            health=health_pb2_grpc.HealthStub(channel),
            servicer=servicer,
            health_servicer=health_servicer,
        )
    finally:
        channel.close()
        server.stop(grace=None).wait()


def get_user(
    served: Served, user_id: str = USER.id, metadata: Sequence[tuple[str, str]] = ()
) -> tuple[grpc.StatusCode, dict[str, str]]:
    """Call GetUser; the status code and the initial metadata the server sent."""
    try:
        _, call = served.users.GetUser.with_call(
            user_service_pb2.GetUserRequest(id=user_id), metadata=metadata, timeout=5
        )
    except grpc.RpcError as error:
        call = error
    return call.code(), dict(call.initial_metadata())


class JsonLogs:
    """The JSON lines ``configure_logging`` writes to a string buffer."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["event"] == event]


@contextmanager
def json_logs(level: str = "debug", service: str = "user") -> Iterator[JsonLogs]:
    """Logging configured to JSON in a buffer, undone afterwards."""
    logs = JsonLogs()
    root = logging.getLogger()
    saved_level = root.level
    configure_logging(
        LoggingSettings(level=level, format="json"), service=service, stream=logs.stream
    )
    try:
        yield logs
    finally:
        for handler in list(root.handlers):
            if handler.get_name() == "servicekit":
                root.removeHandler(handler)
        root.setLevel(saved_level)
        logging.captureWarnings(False)
        structlog.reset_defaults()


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until it holds (for what a server does after answering)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
