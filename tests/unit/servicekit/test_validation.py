"""Request validation from the contract's buf.validate rules, and limits read from it."""

from __future__ import annotations

from typing import Any, cast

import protovalidate
import pytest
from buf.validate import validate_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, duration_pb2, field_mask_pb2
from google.protobuf.message import Message

from acme.user.v1 import user_pb2, user_service_pb2
from servicekit.contract import field_default, field_mask_paths, int_bounds, is_required
from servicekit.errors import FieldViolation, InvalidArgument
from servicekit.grpc.interceptors.validation import ValidationInterceptor

USER_ID = "6f1c0a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f"
# proto3 enums are open: a client can send a number the contract does not define.
UNDEFINED_ROLE = cast("user_pb2.Role.ValueType", 7)


@pytest.fixture(scope="module")
def interceptor() -> ValidationInterceptor:
    return ValidationInterceptor()


def handler(request: Any, context: Any) -> str:
    return "handled"


def violations_of(interceptor: ValidationInterceptor, request: Message) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        interceptor.intercept(handler, request, None, "/acme.user.v1.UserService/Any")
    return caught.value


def broken(error: InvalidArgument) -> set[tuple[str, str]]:
    return {(violation.field, violation.rule) for violation in error.violations}


def test_a_valid_request_reaches_the_handler(interceptor: ValidationInterceptor) -> None:
    request = user_service_pb2.CreateUserRequest(
        email="ada@example.com", display_name="Ada", password="correct horse battery"
    )

    assert interceptor.intercept(handler, request, None, "/m") == "handled"


def test_every_broken_rule_of_a_new_user_is_reported_with_its_field_and_rule(
    interceptor: ValidationInterceptor,
) -> None:
    request = user_service_pb2.CreateUserRequest(email="not-an-email", password="short")

    error = violations_of(interceptor, request)

    assert error.violations == (
        FieldViolation(field="email", rule="string.email", message="must be a valid email address"),
        FieldViolation(field="display_name", rule="required", message="value is required"),
        FieldViolation(
            field="password", rule="string.min_len", message="must be at least 12 characters"
        ),
    )
    assert error.message.startswith("invalid request: email: must be a valid email address; ")
    assert "short" not in error.message  # the password itself is never echoed


def test_an_update_mask_path_outside_the_allowed_list_is_refused(
    interceptor: ValidationInterceptor,
) -> None:
    request = user_service_pb2.UpdateUserRequest(
        user=user_pb2.User(id=USER_ID, etag="v1"),
        update_mask=field_mask_pb2.FieldMask(paths=["etag"]),
    )

    assert broken(violations_of(interceptor, request)) == {("update_mask", "field_mask.in")}


def test_duplicate_and_undefined_roles_are_named_down_to_the_list_item(
    interceptor: ValidationInterceptor,
) -> None:
    admin = user_pb2.Role.ROLE_ADMIN
    request = user_service_pb2.UpdateUserRequest(
        user=user_pb2.User(id=USER_ID, roles=[admin, admin, UNDEFINED_ROLE]),
        update_mask=field_mask_pb2.FieldMask(paths=["roles"]),
    )

    assert broken(violations_of(interceptor, request)) == {
        ("user.roles", "repeated.unique"),
        ("user.roles[2]", "enum.defined_only"),
    }


def test_nested_fields_are_named_by_their_dotted_path(interceptor: ValidationInterceptor) -> None:
    request = user_service_pb2.UpdateUserRequest(
        user=user_pb2.User(id="not-a-uuid", email="nope"),
        update_mask=field_mask_pb2.FieldMask(paths=["email"]),
    )

    assert broken(violations_of(interceptor, request)) == {
        ("user.id", "string.uuid"),
        ("user.email", "string.email"),
    }


def test_missing_required_messages_are_reported(interceptor: ValidationInterceptor) -> None:
    error = violations_of(interceptor, user_service_pb2.UpdateUserRequest())

    assert broken(error) == {("user", "required"), ("update_mask", "required")}


def test_a_page_size_above_the_contract_limit_is_refused(
    interceptor: ValidationInterceptor,
) -> None:
    error = violations_of(interceptor, user_service_pb2.ListUsersRequest(page_size=101))

    assert broken(error) == {("page_size", "int32.gte_lte")}


def test_a_streaming_request_passes_through_unchecked(interceptor: ValidationInterceptor) -> None:
    stream = iter([user_service_pb2.CreateUserRequest()])

    assert interceptor.intercept(handler, stream, None, "/m") == "handled"


def test_protovalidate_reports_list_indexes_in_its_field_path() -> None:
    # The shape the interceptor depends on: protovalidate 2.x gives the path as elements,
    # the list index as a `subscript` oneof of the element.
    request = user_service_pb2.UpdateUserRequest(
        user=user_pb2.User(roles=[UNDEFINED_ROLE]),
        update_mask=field_mask_pb2.FieldMask(paths=["roles"]),
    )

    (violation,) = protovalidate.Validator().collect_violations(request)

    assert violation.proto.rule_id == "enum.defined_only"
    assert violation.proto.field is not None
    elements = violation.proto.field.elements
    assert [element.field_name for element in elements] == ["user", "roles"]
    assert elements[1].subscript is not None
    assert (elements[1].subscript.field, elements[1].subscript.value) == ("index", 0)


def test_the_page_size_default_and_bounds_come_from_the_contract() -> None:
    request = user_service_pb2.ListUsersRequest.DESCRIPTOR

    assert field_default(request, "page_size") == 20
    assert int_bounds(request, "page_size") == (0, 100)


def test_exclusive_bounds_are_turned_into_inclusive_ones() -> None:
    # No contract field uses gt/lt yet: declare one in a throw-away file.
    file = descriptor_pb2.FileDescriptorProto(
        name="servicekit_test/contract/v1/bounds.proto",
        package="servicekit_test.contract.v1",
        syntax="proto3",
        dependency=["buf/validate/validate.proto"],
    )
    field = file.message_type.add(name="Window").field.add(
        name="size", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_UINT32
    )
    field.options.Extensions[validate_pb2.field].uint32.gt = 0
    field.options.Extensions[validate_pb2.field].uint32.lt = 10
    window = descriptor_pool.Default().AddSerializedFile(file.SerializeToString())

    assert int_bounds(window.message_types_by_name["Window"], "size") == (1, 9)


def test_fields_without_a_declared_default_or_bound_give_none() -> None:
    request = user_service_pb2.ListUsersRequest.DESCRIPTOR

    assert field_default(request, "page_token") is None
    assert int_bounds(duration_pb2.Duration.DESCRIPTOR, "seconds") == (None, None)


def test_asking_for_bounds_of_a_non_integer_or_unknown_field_is_an_error() -> None:
    request = user_service_pb2.ListUsersRequest.DESCRIPTOR

    with pytest.raises(ValueError, match="not an integer field"):
        int_bounds(request, "page_token")
    with pytest.raises(ValueError, match="not an integer field"):
        int_bounds(request, "role")
    with pytest.raises(KeyError, match="page_limit"):
        field_default(request, "page_limit")


def test_the_update_mask_paths_and_their_requirement_come_from_the_contract() -> None:
    request = user_service_pb2.UpdateUserRequest.DESCRIPTOR

    assert field_mask_paths(request, "update_mask") == {"display_name", "email", "roles"}
    assert is_required(request, "update_mask")
    assert not is_required(user_service_pb2.DeleteUserRequest.DESCRIPTOR, "etag")


def test_a_field_mask_without_a_list_of_paths_allows_none_and_other_fields_are_refused() -> None:
    file = descriptor_pb2.FileDescriptorProto(
        name="servicekit_test/contract/v1/masks.proto",
        package="servicekit_test.contract.v1",
        syntax="proto3",
        dependency=["google/protobuf/field_mask.proto"],
    )
    file.message_type.add(name="Patch").field.add(
        name="mask",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
        type_name=".google.protobuf.FieldMask",
    )
    patch = descriptor_pool.Default().AddSerializedFile(file.SerializeToString())

    assert field_mask_paths(patch.message_types_by_name["Patch"], "mask") == frozenset()
    with pytest.raises(ValueError, match="not a field mask"):
        field_mask_paths(user_service_pb2.UpdateUserRequest.DESCRIPTOR, "user")
