"""The generated Python stubs work: a gRPC round trip over a real port, and the contract's
validation rules reach protovalidate through them."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import protovalidate
import pytest
from google.protobuf import timestamp_pb2

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc


class _OneUser(user_service_pb2_grpc.UserServiceServicer):
    """A servicer that knows one user and leaves the other RPCs to the generated base."""

    def GetUser(  # noqa: N802 - gRPC method name
        self, request: user_service_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> user_service_pb2.GetUserResponse:
        if request.id != "0b4f1a52-3b8e-4c56-9d0e-5a7d2f6e8c11":
            context.abort(grpc.StatusCode.NOT_FOUND, f"user {request.id} not found")
        return user_service_pb2.GetUserResponse(
            user=user_pb2.User(
                id=request.id,
                email="ada@example.com",
                display_name="Ada",
                roles=[user_pb2.ROLE_ADMIN],
                create_time=timestamp_pb2.Timestamp(seconds=1),
                etag="v1",
            )
        )


@pytest.fixture
def stub() -> Iterator[user_service_pb2_grpc.UserServiceStub]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    # The typed stubs mark every RPC abstract; the generated base answers UNIMPLEMENTED.
    servicer = _OneUser()  # type: ignore[abstract]
    user_service_pb2_grpc.add_UserServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield user_service_pb2_grpc.UserServiceStub(channel)
    finally:
        channel.close()
        server.stop(grace=None)


def test_a_get_user_call_round_trips_through_the_generated_stubs(stub) -> None:
    reply = stub.GetUser(
        user_service_pb2.GetUserRequest(id="0b4f1a52-3b8e-4c56-9d0e-5a7d2f6e8c11"), timeout=5
    )

    assert reply.user.email == "ada@example.com"
    assert list(reply.user.roles) == [user_pb2.ROLE_ADMIN]
    assert reply.user.create_time.seconds == 1


def test_an_unimplemented_rpc_answers_unimplemented(stub) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.ListUsers(user_service_pb2.ListUsersRequest(), timeout=5)

    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_the_contracts_validation_rules_reach_protovalidate() -> None:
    request = user_service_pb2.CreateUserRequest(
        email="not-an-email", display_name="", password="short"
    )

    with pytest.raises(protovalidate.ValidationError) as raised:
        protovalidate.validate(request)

    fields = {
        element.field_name
        for v in raised.value.violations
        if v.proto.field
        for element in v.proto.field.elements
    }
    assert fields == {"email", "display_name", "password"}


def test_a_valid_request_passes_validation() -> None:
    protovalidate.validate(
        user_service_pb2.CreateUserRequest(
            email="ada@example.com", display_name="Ada", password="correct horse battery"
        )
    )
