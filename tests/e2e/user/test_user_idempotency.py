"""CreateUser sent again with its request_id (AIP-155) creates the user at most once.

A client that got no answer (a timeout, a connection lost, UNAVAILABLE) cannot know
whether its user was made; sending the same request again must answer that user, never
ALREADY_EXISTS for its own email nor a second user. A request that reuses the id for
other fields is a client bug, refused naming the field.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from acme.user.v1 import user_service_pb2 as pb
from tests.e2e.user._support import PASSWORD, UserApi, code_of, unique_email


def create_request(request_id: str, email: str, **fields: str) -> pb.CreateUserRequest:
    values = {"display_name": "Ada Lovelace", "password": PASSWORD} | fields
    return pb.CreateUserRequest(email=email, request_id=request_id, **values)


def test_a_create_sent_again_with_its_request_id_answers_the_user_it_made(api: UserApi) -> None:
    request = create_request(str(uuid.uuid4()), unique_email("again"))

    first = api.stub.CreateUser(request, timeout=10).user
    again = api.stub.CreateUser(request, timeout=10).user

    assert again == first
    me = api.stub.GetUser(pb.GetUserRequest(id=first.id), metadata=api.as_user(first), timeout=10)
    assert me.user.id == first.id


def test_the_same_request_sent_twice_at_once_makes_one_user_and_both_get_it(
    api: UserApi,
) -> None:
    request = create_request(str(uuid.uuid4()), unique_email("twins"))
    start = threading.Barrier(2)

    def send(_: int) -> pb.CreateUserResponse:
        start.wait()
        reply: pb.CreateUserResponse = api.stub.CreateUser(request, timeout=20)
        return reply

    with ThreadPoolExecutor(max_workers=2) as pool:
        one, other = pool.map(send, range(2))

    assert one.user.id == other.user.id
    listed = api.stub.ListUsers(
        pb.ListUsersRequest(email=request.email), metadata=api.as_admin(), timeout=10
    )
    assert [user.id for user in listed.users] == [one.user.id]


@pytest.mark.parametrize(
    "changed",
    [{"display_name": "Someone Else"}, {"password": "another password, longer"}],
    ids=["other name", "other password"],
)
def test_a_request_id_reused_for_other_fields_is_refused_naming_it(
    api: UserApi, changed: dict[str, str]
) -> None:
    request_id, email = str(uuid.uuid4()), unique_email("reuse")
    api.stub.CreateUser(create_request(request_id, email), timeout=10)

    with pytest.raises(grpc.RpcError) as refused:
        api.stub.CreateUser(create_request(request_id, email, **changed), timeout=10)

    assert code_of(refused) == grpc.StatusCode.INVALID_ARGUMENT
    assert "request_id" in refused.value.details()


def test_without_a_request_id_a_second_create_of_the_same_email_is_already_exists(
    api: UserApi,
) -> None:
    email = unique_email("plain")
    api.stub.CreateUser(create_request("", email), timeout=10)

    with pytest.raises(grpc.RpcError) as refused:
        api.stub.CreateUser(create_request("", email), timeout=10)

    assert code_of(refused) == grpc.StatusCode.ALREADY_EXISTS


def test_a_new_request_id_for_a_taken_email_is_already_exists(api: UserApi) -> None:
    email = unique_email("taken")
    api.stub.CreateUser(create_request(str(uuid.uuid4()), email), timeout=10)

    with pytest.raises(grpc.RpcError) as refused:
        api.stub.CreateUser(create_request(str(uuid.uuid4()), email), timeout=10)

    assert code_of(refused) == grpc.StatusCode.ALREADY_EXISTS
