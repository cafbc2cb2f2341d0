"""A UserService that records every call it gets, for the client and TLS tests.

``GetUser`` answers by request id: ``"flaky"`` fails with UNAVAILABLE ``flaky_failures``
times and then answers, ``"missing"`` aborts with NOT_FOUND, ``"busy"`` raises
``ResourceExhausted`` (retry after 3 s: the error mapping interceptor must be in the
chain), any other id answers.
``VerifyCredentials`` answers ``valid`` (its access policy admits the auth service only).
Each call leaves a ``Seen``: the metadata, the deadline left and the caller the
authentication interceptor bound.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.auth import Principal
from servicekit.errors import ResourceExhausted
from servicekit.grpc import GrpcServer, GrpcSettings, Registration, build_server
from servicekit.grpc.context import current_principal
from tests.unit.servicekit._fake_user_service import UnimplementedUserService

SERVICE_NAME = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name


@dataclass(frozen=True)
class Seen:
    method: str
    metadata: dict[str, str]
    time_remaining: float | None
    principal: Principal | None


@dataclass
class ScriptedUserService(UnimplementedUserService):
    flaky_failures: int = 2
    calls: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _flaky_seen: int = 0

    def GetUser(  # noqa: N802 - the generated servicer's method name
        self, request: user_service_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> user_service_pb2.GetUserResponse:
        self._record("GetUser", context)
        if request.id == "missing":
            context.abort(grpc.StatusCode.NOT_FOUND, "user 42 not found in shard db-7")
        if request.id == "busy":
            raise ResourceExhausted("slow down", retry_after=3.0)
        if request.id == "flaky" and self._flaky_failure():
            context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        return user_service_pb2.GetUserResponse(user=user_pb2.User(id=request.id))

    def VerifyCredentials(  # noqa: N802
        self, request: Any, context: grpc.ServicerContext
    ) -> user_service_pb2.VerifyCredentialsResponse:
        self._record("VerifyCredentials", context)
        return user_service_pb2.VerifyCredentialsResponse(user=user_pb2.User(id="u-1"))

    @property
    def call_count(self) -> int:
        with self._lock:
            return len(self.calls)

    def _flaky_failure(self) -> bool:
        with self._lock:
            self._flaky_seen += 1
            return self._flaky_seen <= self.flaky_failures

    def _record(self, method: str, context: grpc.ServicerContext) -> None:
        metadata = dict(context.invocation_metadata())
        seen = Seen(method, metadata, context.time_remaining(), current_principal())
        with self._lock:
            self.calls.append(seen)


@contextmanager
def serving(
    servicer: ScriptedUserService,
    *,
    settings: GrpcSettings | None = None,
    interceptors: Sequence[Any] = (),
) -> Iterator[GrpcServer]:
    """A started servicekit server on 127.0.0.1 (port 0 unless the settings say), stopped
    on the way out."""
    server = build_server(
        settings or GrpcSettings(port=0, max_workers=4),
        registrations=[
            Registration(
                user_service_pb2_grpc.add_UserServiceServicer_to_server, servicer, SERVICE_NAME
            )
        ],
        interceptors=interceptors,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop(0)
