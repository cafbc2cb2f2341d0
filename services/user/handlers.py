"""The gRPC face of the User Service: proto in, one use case, proto out.

No rule lives here and no status is set: use cases raise ``servicekit.errors`` classes
and the error-mapping interceptor turns them into statuses. The method names are gRPC's
(``CreateUser``), hence the ``N802`` exemptions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.auth.principal import Principal
from servicekit.errors import InvalidArgument
from servicekit.grpc.context import current_principal
from services.user.domain import Actor, Role, User, UserChanges
from services.user.service import UserService

__all__ = [
    "UserServiceHandlers",
    "actor_from",
    "roles_from_proto",
    "user_to_proto",
]

_ROLE_TO_PROTO = {Role.ADMIN: user_pb2.ROLE_ADMIN, Role.AUDITOR: user_pb2.ROLE_AUDITOR}
_ROLE_FROM_PROTO = {number: role for role, number in _ROLE_TO_PROTO.items()}


class UserServiceHandlers(user_service_pb2_grpc.UserServiceServicer):
    """``acme.user.v1.UserService`` over a :class:`UserService`."""

    def __init__(self, service: UserService) -> None:
        self._service = service

    def CreateUser(  # noqa: N802
        self, request: user_service_pb2.CreateUserRequest, context: Any
    ) -> user_service_pb2.CreateUserResponse:
        user = self._service.create_user(
            email=request.email,
            display_name=request.display_name,
            password=request.password,
            request_id=request.request_id,
        )
        return user_service_pb2.CreateUserResponse(user=user_to_proto(user))

    def GetUser(  # noqa: N802
        self, request: user_service_pb2.GetUserRequest, context: Any
    ) -> user_service_pb2.GetUserResponse:
        user = self._service.get_user(request.id)
        return user_service_pb2.GetUserResponse(user=user_to_proto(user))

    def ListUsers(  # noqa: N802
        self, request: user_service_pb2.ListUsersRequest, context: Any
    ) -> user_service_pb2.ListUsersResponse:
        role = None if request.role == user_pb2.ROLE_UNSPECIFIED else request.role
        page = self._service.list_users(
            page_size=request.page_size,
            page_token=request.page_token,
            email=request.email or None,
            role=None if role is None else _role("role", role),
        )
        return user_service_pb2.ListUsersResponse(
            users=[user_to_proto(user) for user in page.users],
            next_page_token=page.next_page_token,
        )

    def UpdateUser(  # noqa: N802
        self, request: user_service_pb2.UpdateUserRequest, context: Any
    ) -> user_service_pb2.UpdateUserResponse:
        given = request.user
        changes = UserChanges(
            email=given.email,
            display_name=given.display_name,
            roles=roles_from_proto(given.roles),
        )
        user = self._service.update_user(
            given.id,
            changes=changes,
            paths=list(request.update_mask.paths),
            etag=given.etag,
            actor=actor_from(current_principal()),
        )
        return user_service_pb2.UpdateUserResponse(user=user_to_proto(user))

    def DeleteUser(  # noqa: N802
        self, request: user_service_pb2.DeleteUserRequest, context: Any
    ) -> user_service_pb2.DeleteUserResponse:
        self._service.delete_user(request.id, etag=request.etag or None)
        return user_service_pb2.DeleteUserResponse()

    def VerifyCredentials(  # noqa: N802
        self, request: user_service_pb2.VerifyCredentialsRequest, context: Any
    ) -> user_service_pb2.VerifyCredentialsResponse:
        user = self._service.verify_credentials(email=request.email, password=request.password)
        reply = user_service_pb2.VerifyCredentialsResponse(user=user_to_proto(user))
        reply.password_set_time.FromDatetime(user.password_set_time)
        return reply

    def GetSignInState(  # noqa: N802
        self, request: user_service_pb2.GetSignInStateRequest, context: Any
    ) -> user_service_pb2.GetSignInStateResponse:
        user = self._service.sign_in_state(request.id)
        reply = user_service_pb2.GetSignInStateResponse(user=user_to_proto(user))
        reply.password_set_time.FromDatetime(user.password_set_time)
        return reply


def actor_from(principal: Principal | None) -> Actor:
    """The use cases' view of the caller; an anonymous call is an actor with no roles."""
    if principal is None:
        return Actor()
    return Actor(
        subject=principal.subject,
        roles=Role.parse_known(principal.roles),
        is_service=principal.is_service,
    )


def user_to_proto(user: User) -> user_pb2.User:
    """The resource as callers see it: never the password hash, never a deleted flag."""
    message = user_pb2.User(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=sorted(_ROLE_TO_PROTO[role] for role in user.roles),
        etag=user.etag,
    )
    message.create_time.FromDatetime(user.create_time)
    message.update_time.FromDatetime(user.update_time)
    return message


def roles_from_proto(numbers: Iterable[user_pb2.Role.ValueType]) -> frozenset[Role]:
    return frozenset(_role("user.roles", number) for number in numbers)


def _role(field: str, number: user_pb2.Role.ValueType) -> Role:
    role = _ROLE_FROM_PROTO.get(number)
    if role is None:
        raise InvalidArgument.for_field(field, "enum.defined_only", f"unknown role {number}")
    return role
