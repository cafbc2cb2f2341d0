"""servicekit.auth.policy: the contract's access policies, enforced; deny by default.

The policies come from the real generated user-service descriptors. The last tests run
the authentication, access-policy and validation interceptors in a real gRPC server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]

from acme.options.v1 import access_pb2
from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.auth import AccessPolicies, JwksSource, MethodPolicy, Principal, TokenVerifier
from servicekit.errors import PermissionDenied, Unauthenticated
from servicekit.grpc.context import current_principal
from servicekit.grpc.interceptors.auth import AccessPolicyInterceptor, AuthenticationInterceptor
from servicekit.grpc.interceptors.errors import ErrorMappingInterceptor
from servicekit.grpc.interceptors.validation import ValidationInterceptor
from servicekit.testing.tokens import TestIssuer

SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"]
PREFIX = "/acme.user.v1.UserService/"
ADA = "6f1c0a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f"
BOB = "0b6c2d9e-3f4a-4b5c-8d7e-1f2a3b4c5d6e"

ANONYMOUS = None
ADA_USER = Principal(subject=ADA)
BOB_USER = Principal(subject=BOB)
AUDITOR = Principal(subject=BOB, roles=frozenset({"auditor"}))
ADMIN = Principal(subject=BOB, roles=frozenset({"admin"}))
AUTH_SERVICE = Principal(subject="auth", service="auth")
GATEWAY_SERVICE = Principal(subject="gateway", service="gateway")
# A service named like a user id must still not own that user's resources.
SERVICE_NAMED_ADA = Principal(subject=ADA, service=ADA)


@pytest.fixture(scope="module")
def policies() -> AccessPolicies:
    return AccessPolicies.from_services(SERVICE)


def get_ada() -> user_service_pb2.GetUserRequest:
    return user_service_pb2.GetUserRequest(id=ADA)


def update_ada() -> user_service_pb2.UpdateUserRequest:
    return user_service_pb2.UpdateUserRequest(user=user_pb2.User(id=ADA, display_name="Ada"))


def test_every_rpc_of_the_contract_has_its_policy(policies: AccessPolicies) -> None:
    assert policies.method_names == {PREFIX + method.name for method in SERVICE.methods}
    assert policies.policy_for(PREFIX + "GetUser") == MethodPolicy(
        owner_field="id", roles=frozenset({"admin", "auditor"})
    )
    assert policies.policy_for(PREFIX + "VerifyCredentials") == MethodPolicy(
        services=frozenset({"auth"})
    )
    assert policies.policy_for("/acme.user.v1.UserService/Unknown") is None


@pytest.mark.parametrize(
    ("method", "principal", "request_message"),
    [
        ("CreateUser", ANONYMOUS, user_service_pb2.CreateUserRequest()),
        ("CreateUser", ADA_USER, user_service_pb2.CreateUserRequest()),
        ("GetUser", ADA_USER, get_ada()),
        ("GetUser", AUDITOR, get_ada()),
        ("GetUser", ADMIN, get_ada()),
        ("ListUsers", AUDITOR, user_service_pb2.ListUsersRequest()),
        ("UpdateUser", ADA_USER, update_ada()),
        ("UpdateUser", ADMIN, update_ada()),
        ("DeleteUser", ADA_USER, user_service_pb2.DeleteUserRequest(id=ADA)),
        ("VerifyCredentials", AUTH_SERVICE, user_service_pb2.VerifyCredentialsRequest()),
    ],
    ids=[
        "anonymous registers",
        "user registers",
        "owner reads",
        "auditor reads",
        "admin reads",
        "auditor lists",
        "owner updates",
        "admin updates",
        "owner deletes",
        "auth service verifies credentials",
    ],
)
def test_callers_the_contract_grants_are_admitted(
    policies: AccessPolicies, method: str, principal: Principal | None, request_message: Any
) -> None:
    policies.check(PREFIX + method, principal, request_message)


@pytest.mark.parametrize(
    ("method", "principal", "request_message"),
    [
        ("GetUser", BOB_USER, get_ada()),
        ("GetUser", SERVICE_NAMED_ADA, get_ada()),
        ("GetUser", ADA_USER, None),
        ("ListUsers", ADA_USER, user_service_pb2.ListUsersRequest()),
        ("UpdateUser", AUDITOR, update_ada()),
        ("UpdateUser", ADA_USER, user_service_pb2.UpdateUserRequest()),
        ("DeleteUser", AUDITOR, user_service_pb2.DeleteUserRequest(id=ADA)),
        ("VerifyCredentials", ADMIN, user_service_pb2.VerifyCredentialsRequest()),
        ("VerifyCredentials", GATEWAY_SERVICE, user_service_pb2.VerifyCredentialsRequest()),
    ],
    ids=[
        "other user reads",
        "service named like the owner",
        "owner check without a request",
        "user lists",
        "auditor updates",
        "update without a user",
        "auditor deletes",
        "admin verifies credentials",
        "other service verifies credentials",
    ],
)
def test_callers_the_contract_does_not_grant_are_denied_without_details(
    policies: AccessPolicies, method: str, principal: Principal, request_message: Any
) -> None:
    with pytest.raises(PermissionDenied) as caught:
        policies.check(PREFIX + method, principal, request_message)

    assert caught.value.message == f"calling {PREFIX}{method} is not allowed"


def test_an_anonymous_caller_must_authenticate_for_any_non_public_rpc(
    policies: AccessPolicies,
) -> None:
    for method in ("GetUser", "ListUsers", "UpdateUser", "DeleteUser", "VerifyCredentials"):
        with pytest.raises(Unauthenticated, match="authentication required"):
            policies.check(PREFIX + method, ANONYMOUS, None)


def test_a_method_without_a_policy_is_denied_even_to_an_admin(policies: AccessPolicies) -> None:
    with pytest.raises(PermissionDenied):
        policies.check("/acme.user.v1.UserService/DropAllUsers", ADMIN, None)
    with pytest.raises(PermissionDenied):
        policies.check("/acme.auth.v1.AuthService/Login", ANONYMOUS, None)


@pytest.mark.parametrize(
    "method",
    [
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    ],
)
def test_health_and_reflection_are_open_to_anonymous_callers(
    policies: AccessPolicies, method: str
) -> None:
    policies.check(method, ANONYMOUS, None)


@pytest.fixture(scope="module")
def broken_file() -> FileDescriptor:
    """Services whose owner_field the contract lint would reject, declared on the fly."""
    file = descriptor_pb2.FileDescriptorProto(
        name="servicekit_test/policy/v1/broken.proto",
        package="servicekit_test.policy.v1",
        syntax="proto3",
        dependency=["acme/options/v1/access.proto"],
    )
    request = file.message_type.add(name="Request")
    request.field.add(name="count", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_INT64)
    for service_name, owner_field in (("ByCount", "count"), ("ByMissing", "owner.id")):
        method = file.service.add(name=service_name).method.add(
            name="Get",
            input_type=".servicekit_test.policy.v1.Request",
            output_type=".servicekit_test.policy.v1.Request",
        )
        method.options.Extensions[access_pb2.access].owner_field = owner_field
    return descriptor_pool.Default().AddSerializedFile(file.SerializeToString())


@pytest.mark.parametrize(
    ("service", "problem"),
    [
        ("ByCount", "owner_field 'count' is not a string field"),
        ("ByMissing", "owner_field 'owner.id' does not name a request field"),
    ],
)
def test_a_policy_whose_owner_field_is_not_a_request_string_is_refused_at_start(
    broken_file: FileDescriptor, service: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        AccessPolicies.from_services(broken_file.services_by_name[service])


class TinyUserService(user_service_pb2_grpc.UserServiceServicer):
    """Answers with the caller it was handed, to show what reached the handler."""

    def GetUser(self, request: Any, context: Any) -> user_service_pb2.GetUserResponse:  # noqa: N802
        principal = current_principal()
        caller = principal.subject if principal else "nobody"
        return user_service_pb2.GetUserResponse(user=user_pb2.User(id=request.id, etag=caller))

    def CreateUser(self, request: Any, context: Any) -> user_service_pb2.CreateUserResponse:  # noqa: N802
        return user_service_pb2.CreateUserResponse(user=user_pb2.User(email=request.email))


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TestIssuer:
    return TestIssuer(Path(tmp_path_factory.mktemp("issuer")))


@pytest.fixture(scope="module")
def channel(issuer: TestIssuer, policies: AccessPolicies) -> Iterator[grpc.Channel]:
    verifier = TokenVerifier(
        JwksSource.from_file(issuer.jwks_file), issuer="acme-auth", audience="acme"
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        interceptors=[
            ErrorMappingInterceptor(),
            AuthenticationInterceptor(verifier),
            AccessPolicyInterceptor(policies),
            ValidationInterceptor(),
        ],
    )
    # The other RPCs keep the generated UNIMPLEMENTED answers.
    tiny = TinyUserService()  # type: ignore[abstract]
    user_service_pb2_grpc.add_UserServiceServicer_to_server(tiny, server)
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        server.stop(grace=None)


def call_get_user(
    channel: grpc.Channel, user_id: str, authorization: str | None
) -> user_service_pb2.GetUserResponse:
    metadata = () if authorization is None else (("authorization", authorization),)
    stub = user_service_pb2_grpc.UserServiceStub(channel)
    response: user_service_pb2.GetUserResponse = stub.GetUser(
        user_service_pb2.GetUserRequest(id=user_id), metadata=metadata, timeout=5
    )
    return response


def status_of(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code(), caught.value.details()


def test_over_grpc_the_owner_is_served_and_the_handler_sees_who_called(
    channel: grpc.Channel, issuer: TestIssuer
) -> None:
    response = call_get_user(channel, ADA, f"Bearer {issuer.mint(ADA)}")

    assert response.user.etag == ADA


UNAUTHENTICATED, PERMISSION_DENIED = (
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
)


@pytest.mark.parametrize(
    ("user_id", "token", "expected"),
    [
        (ADA, None, (UNAUTHENTICATED, "authentication required")),
        ("not-a-uuid", None, (UNAUTHENTICATED, "authentication required")),
        (ADA, "mint-bob", (PERMISSION_DENIED, f"calling {PREFIX}GetUser is not allowed")),
        (ADA, "mint-expired", (UNAUTHENTICATED, "token expired")),
        (
            ADA,
            "Basic YWRhOnMzY3JldA==",
            (UNAUTHENTICATED, "authorization must be 'Bearer <token>'"),
        ),
        (ADA, "mint-unknown-key", (UNAUTHENTICATED, "unknown signing key")),
    ],
    ids=[
        "anonymous",
        "anonymous with a bad id: not validated before authentication",
        "another user",
        "expired",
        "basic auth",
        "unknown key",
    ],
)
def test_over_grpc_callers_without_a_grant_get_the_status_the_contract_implies(
    channel: grpc.Channel,
    issuer: TestIssuer,
    user_id: str,
    token: str | None,
    expected: tuple[grpc.StatusCode, str],
) -> None:
    authorization = {
        "mint-bob": f"Bearer {issuer.mint(BOB)}",
        "mint-expired": f"Bearer {issuer.mint(ADA, expires_in=-300)}",
        "mint-unknown-key": f"Bearer {issuer.mint(ADA, key=issuer.unpublished_key())}",
    }.get(token or "", token)

    assert status_of(lambda: call_get_user(channel, user_id, authorization)) == expected


def test_over_grpc_an_invalid_request_is_refused_with_field_violations(
    channel: grpc.Channel,
) -> None:
    stub = user_service_pb2_grpc.UserServiceStub(channel)
    request = user_service_pb2.CreateUserRequest(
        email="not-an-email", display_name="Ada", password="short"
    )

    with pytest.raises(grpc.RpcError) as caught:
        stub.CreateUser(request, timeout=5)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(caught.value)
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [
        ("email", "string.email"),
        ("password", "string.min_len"),
    ]


def test_over_grpc_health_checks_need_no_credentials(channel: grpc.Channel) -> None:
    response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)

    assert response.status == health_pb2.HealthCheckResponse.SERVING
