"""A request with an AIP-155 request_id carries one id for every attempt of its call.

gRPC's retry policy sends a call again after UNAVAILABLE; a create whose first attempt
was done before its answer got lost must reach the server a second time with the same
id, or the server cannot know it is the same request (it would make a second user, or
answer ALREADY_EXISTS for the user it made).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.clients import ClientSettings, open_aio_channel, open_channel
from servicekit.clients.idempotency import with_request_id
from servicekit.grpc import GrpcServer
from tests.unit.servicekit._fake_user_service import FakeUserService, running_server

SERVICE = "acme.user.v1.UserService"


class FlakyCreates(FakeUserService):
    """CreateUser answers UNAVAILABLE to the first attempt of each call (as a connection
    lost after the commit looks to a client), then the user; it records every attempt's
    request id."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[str] = []
        self._lock = threading.Lock()

    def CreateUser(  # noqa: N802 - the generated servicer's name
        self, request: user_service_pb2.CreateUserRequest, context: grpc.ServicerContext
    ) -> user_service_pb2.CreateUserResponse:
        with self._lock:
            first = request.request_id not in self.attempts
            self.attempts.append(request.request_id)
        if first:
            context.abort(grpc.StatusCode.UNAVAILABLE, "lost on the way back")
        return user_service_pb2.CreateUserResponse(user=user_pb2.User(id=request.request_id))


@contextmanager
def flaky_server() -> Iterator[tuple[GrpcServer, FlakyCreates]]:
    service = FlakyCreates()
    with running_server(service) as server:
        yield server, service


def settings_for(port: int) -> ClientSettings:
    return ClientSettings(
        target=f"127.0.0.1:{port}", initial_backoff_seconds=0.01, max_backoff_seconds=0.05
    )


def create_request(**fields: Any) -> user_service_pb2.CreateUserRequest:
    return user_service_pb2.CreateUserRequest(
        email="ada@example.com", display_name="Ada", password="correct horse battery", **fields
    )


def test_an_empty_request_id_is_filled_on_a_copy_and_a_given_one_is_kept() -> None:
    request = create_request()
    given = create_request(request_id=str(uuid.uuid4()))
    other = user_service_pb2.GetUserRequest(id="u-1")

    filled = with_request_id(request)

    assert request.request_id == ""
    assert uuid.UUID(filled.request_id).version == 4
    assert filled.email == request.email
    assert with_request_id(given) is given
    assert with_request_id(other) is other


def test_a_create_retried_after_unavailable_carries_one_request_id_for_every_attempt() -> None:
    with flaky_server() as (server, service):
        managed = open_channel(settings_for(server.port), service_name=SERVICE)
        stub = user_service_pb2_grpc.UserServiceStub(managed.channel)
        try:
            reply = stub.CreateUser(create_request(), timeout=10)
        finally:
            managed.close()

    first, second = service.attempts
    assert first == second != ""
    assert reply.user.id == first


def test_the_asyncio_face_gives_every_attempt_the_same_request_id_too() -> None:
    async def create(port: int) -> Any:
        managed = open_aio_channel(settings_for(port), service_names=[SERVICE])
        call = managed.unary_unary(
            "/acme.user.v1.UserService/CreateUser",
            user_service_pb2.CreateUserRequest.SerializeToString,
            user_service_pb2.CreateUserResponse.FromString,
        )
        try:
            return await call(create_request(), timeout=10)
        finally:
            await managed.close()

    with flaky_server() as (server, service):
        reply = asyncio.run(create(server.port))

    first, second = service.attempts
    assert first == second != ""
    assert reply.user.id == first
