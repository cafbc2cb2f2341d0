"""The gRPC handlers translate: proto in, one use case, proto out; errors stay exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from acme.user.v1 import user_pb2, user_service_pb2
from servicekit.auth.principal import Principal
from servicekit.grpc.context import bind_principal, reset_principal
from services.user.contract import contract_page_limits, contract_update_mask
from services.user.domain import InvalidCredentials, Role, RoleChangeForbidden, UserNotFound
from services.user.handlers import UserServiceHandlers, actor_from
from services.user.pagination import PageLimits
from services.user.service import UserService

PASSWORD = "correct horse battery staple"


@pytest.fixture
def handlers(service: UserService) -> UserServiceHandlers:
    return UserServiceHandlers(service)


@pytest.fixture
def as_caller() -> Iterator[object]:
    tokens = []

    def bind(principal: Principal | None) -> None:
        tokens.append(bind_principal(principal))

    yield bind
    for token in reversed(tokens):
        reset_principal(token)


def create(handlers: UserServiceHandlers, email: str = "ada@example.org") -> user_pb2.User:
    request = user_service_pb2.CreateUserRequest(email=email, display_name="Ada", password=PASSWORD)
    return handlers.CreateUser(request, None).user


def test_create_user_answers_the_user_without_any_password(handlers: UserServiceHandlers) -> None:
    user = create(handlers)

    assert (user.email, user.display_name, list(user.roles)) == ("ada@example.org", "Ada", [])
    assert user.id
    assert user.etag
    assert user.create_time == user.update_time
    assert user.create_time.seconds > 0
    assert b"argon2" not in user.SerializeToString()
    assert PASSWORD.encode() not in user.SerializeToString()


def test_get_user_answers_what_create_user_did(handlers: UserServiceHandlers) -> None:
    created = create(handlers)

    got = handlers.GetUser(user_service_pb2.GetUserRequest(id=created.id), None).user

    assert got == created


def test_errors_leave_the_handler_as_domain_exceptions(handlers: UserServiceHandlers) -> None:
    with pytest.raises(UserNotFound):
        handlers.GetUser(
            user_service_pb2.GetUserRequest(id="00000000-0000-4000-8000-000000000000"), None
        )


def test_a_user_cannot_grant_themselves_a_role(handlers: UserServiceHandlers, as_caller) -> None:
    user = create(handlers)
    as_caller(Principal(subject=user.id))
    request = user_service_pb2.UpdateUserRequest(
        user=user_pb2.User(id=user.id, roles=[user_pb2.ROLE_ADMIN], etag=user.etag),
        update_mask=FieldMask(paths=["roles"]),
    )

    with pytest.raises(RoleChangeForbidden):
        handlers.UpdateUser(request, None)


def test_an_anonymous_caller_cannot_change_roles(handlers: UserServiceHandlers) -> None:
    user = create(handlers)
    request = user_service_pb2.UpdateUserRequest(
        user=user_pb2.User(id=user.id, roles=[user_pb2.ROLE_ADMIN]),
        update_mask=FieldMask(paths=["roles"]),
    )

    with pytest.raises(RoleChangeForbidden):
        handlers.UpdateUser(request, None)


def test_an_admin_grants_a_role_through_update_user(
    handlers: UserServiceHandlers, as_caller
) -> None:
    user = create(handlers)
    as_caller(Principal(subject="some-admin", roles=frozenset({"admin"})))
    request = user_service_pb2.UpdateUserRequest(
        user=user_pb2.User(id=user.id, roles=[user_pb2.ROLE_AUDITOR], display_name="ignored"),
        update_mask=FieldMask(paths=["roles"]),
    )

    updated = handlers.UpdateUser(request, None).user

    assert list(updated.roles) == [user_pb2.ROLE_AUDITOR]
    assert updated.display_name == "Ada"
    assert updated.etag != user.etag


def test_list_users_pages_with_tokens_and_filters_by_role(
    handlers: UserServiceHandlers, as_caller
) -> None:
    emails = [create(handlers, f"u{n}@example.org").email for n in range(4)]

    first = handlers.ListUsers(user_service_pb2.ListUsersRequest(page_size=3), None)
    rest = handlers.ListUsers(
        user_service_pb2.ListUsersRequest(page_size=3, page_token=first.next_page_token), None
    )
    admins = handlers.ListUsers(user_service_pb2.ListUsersRequest(role=user_pb2.ROLE_ADMIN), None)

    assert [u.email for u in first.users] + [u.email for u in rest.users] == emails
    assert rest.next_page_token == ""
    assert list(admins.users) == []


def test_delete_user_without_etag_deletes(handlers: UserServiceHandlers) -> None:
    user = create(handlers)

    handlers.DeleteUser(user_service_pb2.DeleteUserRequest(id=user.id), None)

    with pytest.raises(UserNotFound):
        handlers.GetUser(user_service_pb2.GetUserRequest(id=user.id), None)


def test_verify_credentials_answers_the_user_or_one_error(handlers: UserServiceHandlers) -> None:
    user = create(handlers)

    verified = handlers.VerifyCredentials(
        user_service_pb2.VerifyCredentialsRequest(email="ADA@example.org", password=PASSWORD), None
    )

    assert verified.user == user
    assert verified.password_set_time == user.create_time  # set when the user was created
    with pytest.raises(InvalidCredentials):
        handlers.VerifyCredentials(
            user_service_pb2.VerifyCredentialsRequest(email="ada@example.org", password="nope"),
            None,
        )


def test_get_sign_in_state_answers_the_user_as_it_is_now_until_it_is_deleted(
    handlers: UserServiceHandlers, as_caller: Any
) -> None:
    user = create(handlers)
    as_caller(Principal(subject="root", roles=frozenset({"admin"})))
    handlers.UpdateUser(
        user_service_pb2.UpdateUserRequest(
            user=user_pb2.User(id=user.id, roles=[user_pb2.ROLE_AUDITOR]),
            update_mask=FieldMask(paths=["roles"]),
        ),
        None,
    )
    request = user_service_pb2.GetSignInStateRequest(id=user.id)

    state = handlers.GetSignInState(request, None)
    handlers.DeleteUser(user_service_pb2.DeleteUserRequest(id=user.id), None)

    assert (state.user.id, list(state.user.roles)) == (user.id, [user_pb2.ROLE_AUDITOR])
    assert state.password_set_time == user.create_time
    with pytest.raises(UserNotFound):
        handlers.GetSignInState(request, None)


def test_page_limits_come_from_the_contract() -> None:
    assert contract_page_limits() == PageLimits(default=20, maximum=100)


def test_the_update_mask_rules_come_from_the_contract() -> None:
    mask = contract_update_mask()

    assert mask.paths == {"display_name", "email", "roles"}
    assert mask.fields - mask.paths == {"id", "create_time", "update_time", "etag"}
    assert mask.required


def test_the_actor_carries_only_roles_this_service_knows() -> None:
    principal = Principal(subject="auth", roles=frozenset({"admin", "root"}), service="auth")

    actor = actor_from(principal)

    assert (actor.subject, actor.roles, actor.is_service) == ("auth", frozenset({Role.ADMIN}), True)
    assert actor_from(None).roles == frozenset()
