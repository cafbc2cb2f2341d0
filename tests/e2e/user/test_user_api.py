"""Every RPC of acme.user.v1.UserService through the generated client, allowed and denied."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2

from acme.user.v1 import user_pb2
from acme.user.v1 import user_service_pb2 as pb
from services.user.pagination import UserFilter
from tests.e2e.user._support import PASSWORD, UserApi, code_of, unique_email

SERVING = health_pb2.HealthCheckResponse.SERVING


def test_anyone_can_register_and_gets_a_user_without_roles(api: UserApi) -> None:
    email = unique_email("Grace")
    user = api.create(email, name="Grace Hopper")

    assert uuid.UUID(user.id)
    assert (user.email, user.display_name) == (email, "Grace Hopper")
    assert list(user.roles) == []
    assert user.etag
    assert user.create_time.seconds > 0
    assert user.update_time == user.create_time


def test_an_email_is_registered_once_whatever_its_case(api: UserApi) -> None:
    email = unique_email("dup")
    api.create(email)

    with pytest.raises(grpc.RpcError) as call:
        api.create(email.upper())

    assert code_of(call) == grpc.StatusCode.ALREADY_EXISTS


def test_a_user_reads_themselves_but_not_someone_else(api: UserApi) -> None:
    me, other = api.create(), api.create()

    mine = api.stub.GetUser(pb.GetUserRequest(id=me.id), metadata=api.as_user(me), timeout=5)
    with pytest.raises(grpc.RpcError) as call:
        api.stub.GetUser(pb.GetUserRequest(id=other.id), metadata=api.as_user(me), timeout=5)

    assert mine.user == me
    assert code_of(call) == grpc.StatusCode.PERMISSION_DENIED


def test_an_auditor_reads_anyone(api: UserApi) -> None:
    someone = api.create()
    auditor = api.as_user(str(uuid.uuid4()), "auditor")

    reply = api.stub.GetUser(pb.GetUserRequest(id=someone.id), metadata=auditor, timeout=5)

    assert reply.user.id == someone.id


def test_reading_without_a_token_is_unauthenticated(api: UserApi) -> None:
    someone = api.create()

    with pytest.raises(grpc.RpcError) as call:
        api.stub.GetUser(pb.GetUserRequest(id=someone.id), timeout=5)

    assert code_of(call) == grpc.StatusCode.UNAUTHENTICATED


def test_a_token_from_an_unknown_key_is_unauthenticated(api: UserApi) -> None:
    me = api.create()
    forged = api.issuer.mint(me.id, ("admin",), key=api.issuer.unpublished_key())

    with pytest.raises(grpc.RpcError) as call:
        api.stub.GetUser(
            pb.GetUserRequest(id=me.id), metadata=(("authorization", f"Bearer {forged}"),)
        )

    assert code_of(call) == grpc.StatusCode.UNAUTHENTICATED
    assert "unknown signing key" in call.value.details()


def test_an_unknown_user_is_not_found(api: UserApi) -> None:
    with pytest.raises(grpc.RpcError) as call:
        api.stub.GetUser(pb.GetUserRequest(id=str(uuid.uuid4())), metadata=api.as_admin())

    assert code_of(call) == grpc.StatusCode.NOT_FOUND


def test_an_owner_renames_themselves_and_the_etag_changes(api: UserApi) -> None:
    me = api.create(name="Old Name")
    request = pb.UpdateUserRequest(
        user=user_pb2.User(id=me.id, display_name="New Name", etag=me.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )

    updated = api.stub.UpdateUser(request, metadata=api.as_user(me), timeout=5).user

    assert updated.display_name == "New Name"
    assert updated.email == me.email
    assert updated.etag != me.etag
    assert updated.update_time.ToDatetime() > me.update_time.ToDatetime()


def test_a_stale_etag_is_aborted_and_changes_nothing(api: UserApi) -> None:
    me = api.create(name="Before")
    rename = pb.UpdateUserRequest(
        user=user_pb2.User(id=me.id, display_name="First", etag=me.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )
    api.stub.UpdateUser(rename, metadata=api.as_user(me), timeout=5)
    stale = pb.UpdateUserRequest(
        user=user_pb2.User(id=me.id, display_name="Second", etag=me.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )

    with pytest.raises(grpc.RpcError) as call:
        api.stub.UpdateUser(stale, metadata=api.as_user(me), timeout=5)

    assert code_of(call) == grpc.StatusCode.ABORTED
    now = api.stub.GetUser(pb.GetUserRequest(id=me.id), metadata=api.as_user(me)).user
    assert now.display_name == "First"


def test_a_user_cannot_grant_themselves_a_role(api: UserApi) -> None:
    me = api.create()
    escalate = pb.UpdateUserRequest(
        user=user_pb2.User(id=me.id, roles=[user_pb2.ROLE_ADMIN], etag=me.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["roles"]),
    )

    with pytest.raises(grpc.RpcError) as call:
        api.stub.UpdateUser(escalate, metadata=api.as_user(me), timeout=5)

    assert code_of(call) == grpc.StatusCode.PERMISSION_DENIED
    now = api.stub.GetUser(pb.GetUserRequest(id=me.id), metadata=api.as_user(me)).user
    assert list(now.roles) == []


def test_an_admin_grants_a_role(api: UserApi) -> None:
    someone = api.create()
    grant = pb.UpdateUserRequest(
        user=user_pb2.User(id=someone.id, roles=[user_pb2.ROLE_AUDITOR]),
        update_mask=field_mask_pb2.FieldMask(paths=["roles"]),
    )

    updated = api.stub.UpdateUser(grant, metadata=api.as_admin(), timeout=5).user

    assert list(updated.roles) == [user_pb2.ROLE_AUDITOR]


def test_an_id_in_the_update_mask_is_rejected_naming_the_mask(api: UserApi) -> None:
    me = api.create()
    request = pb.UpdateUserRequest(
        user=user_pb2.User(id=me.id, display_name="x"),
        update_mask=field_mask_pb2.FieldMask(paths=["id"]),
    )

    with pytest.raises(grpc.RpcError) as call:
        api.stub.UpdateUser(request, metadata=api.as_user(me), timeout=5)

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert "update_mask" in call.value.details()


def test_a_deleted_user_is_gone(api: UserApi) -> None:
    me = api.create()

    api.stub.DeleteUser(pb.DeleteUserRequest(id=me.id, etag=me.etag), metadata=api.as_user(me))
    with pytest.raises(grpc.RpcError) as call:
        api.stub.GetUser(pb.GetUserRequest(id=me.id), metadata=api.as_admin(), timeout=5)

    assert code_of(call) == grpc.StatusCode.NOT_FOUND


def test_deleting_with_a_stale_etag_is_aborted(api: UserApi) -> None:
    me = api.create()
    api.stub.UpdateUser(
        pb.UpdateUserRequest(
            user=user_pb2.User(id=me.id, display_name="Changed"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        ),
        metadata=api.as_user(me),
    )

    with pytest.raises(grpc.RpcError) as call:
        api.stub.DeleteUser(
            pb.DeleteUserRequest(id=me.id, etag=me.etag), metadata=api.as_user(me), timeout=5
        )

    assert code_of(call) == grpc.StatusCode.ABORTED


def test_an_admin_lists_users_page_by_page_and_filters_by_email(api: UserApi) -> None:
    created = {api.create().id for _ in range(5)}
    seen: list[str] = []
    token = ""
    while True:
        page = api.stub.ListUsers(
            pb.ListUsersRequest(page_size=2, page_token=token), metadata=api.as_admin()
        )
        assert len(page.users) <= 2
        seen += [user.id for user in page.users]
        token = page.next_page_token
        if not token:
            break
    one = api.create(unique_email("Filter"))
    filtered = api.stub.ListUsers(
        pb.ListUsersRequest(email=one.email.upper()), metadata=api.as_admin()
    )

    assert created <= set(seen)
    assert len(seen) == len(set(seen))
    assert [user.id for user in filtered.users] == [one.id]


def test_a_plain_user_may_not_list_users(api: UserApi) -> None:
    me = api.create()

    with pytest.raises(grpc.RpcError) as call:
        api.stub.ListUsers(pb.ListUsersRequest(), metadata=api.as_user(me), timeout=5)

    assert code_of(call) == grpc.StatusCode.PERMISSION_DENIED


def test_a_forged_page_token_is_an_invalid_argument(api: UserApi) -> None:
    with pytest.raises(grpc.RpcError) as call:
        api.stub.ListUsers(
            pb.ListUsersRequest(page_token="bm90LWEtdG9rZW4"), metadata=api.as_admin(), timeout=5
        )

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in call.value.details()


def test_a_page_token_forged_with_an_unkeyed_mac_is_an_invalid_argument(api: UserApi) -> None:
    api.create()
    api.create()
    fields = {"v": 1, "t": 0, "i": str(uuid.uuid4()), "f": UserFilter().fingerprint()}
    payload = json.dumps(fields, separators=(",", ":")).encode()
    mac = hashlib.blake2b(payload, digest_size=12).digest()  # what anyone can compute
    forged = base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    with pytest.raises(grpc.RpcError) as call:
        api.stub.ListUsers(
            pb.ListUsersRequest(page_token=forged), metadata=api.as_admin(), timeout=5
        )

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in call.value.details()


def test_the_auth_service_verifies_credentials(api: UserApi) -> None:
    me = api.create()

    reply = api.stub.VerifyCredentials(
        pb.VerifyCredentialsRequest(email=me.email.upper(), password=PASSWORD),
        metadata=api.as_service("auth"),
        timeout=10,
    )

    assert reply.user.id == me.id
    assert reply.password_set_time == me.create_time


def test_the_auth_service_reads_a_users_sign_in_state_until_it_is_deleted(api: UserApi) -> None:
    me = api.create()
    request = pb.GetSignInStateRequest(id=me.id)

    state = api.stub.GetSignInState(request, metadata=api.as_service("auth"), timeout=10)
    api.stub.DeleteUser(pb.DeleteUserRequest(id=me.id), metadata=api.as_admin(), timeout=10)
    with pytest.raises(grpc.RpcError) as gone:
        api.stub.GetSignInState(request, metadata=api.as_service("auth"), timeout=10)
    with pytest.raises(grpc.RpcError) as denied:
        api.stub.GetSignInState(request, metadata=api.as_admin(), timeout=10)

    assert (state.user.id, state.password_set_time) == (me.id, me.create_time)
    assert code_of(gone) == grpc.StatusCode.NOT_FOUND
    assert code_of(denied) == grpc.StatusCode.PERMISSION_DENIED


def test_a_wrong_password_and_an_unknown_email_look_the_same(api: UserApi) -> None:
    me = api.create()
    outcomes = []
    for email, password in ((me.email, "wrong password!!"), (unique_email(), PASSWORD)):
        with pytest.raises(grpc.RpcError) as call:
            api.stub.VerifyCredentials(
                pb.VerifyCredentialsRequest(email=email, password=password),
                metadata=api.as_service("auth"),
                timeout=10,
            )
        outcomes.append((code_of(call), call.value.details()))

    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("caller", ["admin", "other-service"])
def test_only_the_auth_service_may_verify_credentials(api: UserApi, caller: str) -> None:
    metadata = api.as_admin() if caller == "admin" else api.as_service("gateway")

    with pytest.raises(grpc.RpcError) as call:
        api.stub.VerifyCredentials(
            pb.VerifyCredentialsRequest(email=unique_email(), password=PASSWORD),
            metadata=metadata,
            timeout=10,
        )

    assert code_of(call) == grpc.StatusCode.PERMISSION_DENIED


def test_health_reports_serving_for_the_server_and_the_service(api: UserApi) -> None:
    assert api.health() == SERVING
    assert api.health("acme.user.v1.UserService") == SERVING


def test_every_reply_carries_a_request_id(api: UserApi) -> None:
    _, call = api.stub.CreateUser.with_call(
        pb.CreateUserRequest(email=unique_email(), display_name="Id", password=PASSWORD),
        metadata=(("x-request-id", "req-e2e-1"),),
    )

    assert ("x-request-id", "req-e2e-1") in call.initial_metadata()
