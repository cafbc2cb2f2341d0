"""A tiny UserService for the servicekit.grpc tests, and a real server around it.

``GetUser`` behaves by request id: an id listed in ``raises`` raises that error, ``"abort"``
aborts the call itself, ``"slow"`` waits at a ``Gate``; any other id answers with the
serving process id in ``display_name`` (to tell worker processes apart).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.grpc import GrpcServer, GrpcSettings, HealthReporter, Registration, build_server

SERVICE_NAME = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name


@dataclass
class Gate:
    """Holds a ``slow`` call: ``entered`` once it runs, it returns when ``release`` is set."""

    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    finished: list[str] = field(default_factory=list)


class UnimplementedUserService(user_service_pb2_grpc.UserServiceServicer):
    """Every method answers UNIMPLEMENTED "not in this fake", as a status (the generated
    base raises instead, which the error mapping would turn into INTERNAL); fakes override
    the methods they play."""

    def _unimplemented(self, context: grpc.ServicerContext) -> Any:
        return context.abort(grpc.StatusCode.UNIMPLEMENTED, "not in this fake")

    def GetUser(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._unimplemented(context)

    def CreateUser(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._unimplemented(context)

    def ListUsers(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._unimplemented(context)

    def UpdateUser(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._unimplemented(context)

    def DeleteUser(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._unimplemented(context)

    def VerifyCredentials(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._unimplemented(context)

    def GetSignInState(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._unimplemented(context)


class FakeUserService(UnimplementedUserService):
    def __init__(
        self, *, raises: Mapping[str, BaseException] | None = None, gate: Gate | None = None
    ) -> None:
        self.raises = dict(raises or {})
        self.gate = gate or Gate()

    def GetUser(  # noqa: N802 - named by the generated servicer
        self, request: user_service_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> user_service_pb2.GetUserResponse:
        if request.id in self.raises:
            raise self.raises[request.id]
        if request.id == "abort":
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "inner code said no")
        if request.id == "slow":
            self.gate.entered.set()
            self.gate.release.wait(timeout=30)
            self.gate.finished.append(request.id)
        user = user_pb2.User(id=request.id, display_name=str(os.getpid()))
        return user_service_pb2.GetUserResponse(user=user)


def registration(servicer: FakeUserService) -> Registration:
    return Registration(
        user_service_pb2_grpc.add_UserServiceServicer_to_server, servicer, SERVICE_NAME
    )


@contextmanager
def running_server(
    servicer: FakeUserService | None = None,
    *,
    interceptors: Sequence[Any] = (),
    health: HealthReporter | None = None,
    settings: GrpcSettings | None = None,
) -> Iterator[GrpcServer]:
    """A started server on a free port of 127.0.0.1, stopped at once on the way out."""
    server = build_server(
        settings or GrpcSettings(port=0, max_workers=4),
        registrations=[registration(servicer or FakeUserService())],
        interceptors=interceptors,
        health=health,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop(0)


@contextmanager
def channel_to(port: int) -> Iterator[grpc.Channel]:
    """A channel of its own (no shared subchannel), so each one opens a new connection."""
    channel = grpc.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
    )
    try:
        yield channel
    finally:
        channel.close()


def get_user(port: int, user_id: str, timeout: float = 5.0) -> user_service_pb2.GetUserResponse:
    with channel_to(port) as channel:
        stub = user_service_pb2_grpc.UserServiceStub(channel)
        request = user_service_pb2.GetUserRequest(id=user_id)
        response: user_service_pb2.GetUserResponse = stub.GetUser(request, timeout=timeout)
        return response
