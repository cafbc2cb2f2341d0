"""ErrorMappingInterceptor: raised errors become the status a real client receives."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_interceptor import ServerInterceptor
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]
from structlog.testing import capture_logs

from acme.user.v1 import user_service_pb2, user_service_pb2_grpc
from servicekit import errors
from servicekit.grpc import ErrorMappingInterceptor
from servicekit.grpc.context import bind_request_id, current_request_id, reset_request_id
from tests.unit.servicekit._fake_user_service import FakeUserService, channel_to, running_server

Table = Mapping[type[BaseException], grpc.StatusCode]


class FixedRequestId(ServerInterceptor):
    """Stands in for the request-context interceptor: binds one known request id."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id

    def intercept(self, method, request_or_iterator, context, method_name):
        token = bind_request_id(self.request_id)
        try:
            return method(request_or_iterator, context)
        finally:
            reset_request_id(token)


class UserNotFound(errors.NotFound):
    """A domain error, as a service would declare it."""


def call_raising(
    exc: BaseException,
    *,
    table: Table | None = None,
    request_id: str | None = "req-123",
) -> grpc.RpcError:
    """The error a client gets when GetUser raises ``exc`` behind the interceptor."""
    interceptors: list[ServerInterceptor] = []
    if request_id is not None:
        interceptors.append(FixedRequestId(request_id))
    interceptors.append(ErrorMappingInterceptor(table))
    servicer = FakeUserService(raises={"boom": exc})
    with (
        running_server(servicer, interceptors=interceptors) as server,
        channel_to(server.port) as channel,
    ):
        stub = user_service_pb2_grpc.UserServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetUser(user_service_pb2.GetUserRequest(id="boom"), timeout=5)
    assert isinstance(caught.value, grpc.RpcError)
    return caught.value


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.InvalidArgument("bad request"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.NotFound("no such user"), grpc.StatusCode.NOT_FOUND),
        (errors.AlreadyExists("email taken"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.FailedPrecondition("user is deleted"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.Conflict("etag is stale"), grpc.StatusCode.ABORTED),
        (errors.Unauthenticated("token expired"), grpc.StatusCode.UNAUTHENTICATED),
        (errors.PermissionDenied("admins only"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.ResourceExhausted("slow down"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.Unavailable("database unreachable"), grpc.StatusCode.UNAVAILABLE),
        (errors.DeadlineExceeded("query took too long"), grpc.StatusCode.DEADLINE_EXCEEDED),
    ],
)
def test_each_service_error_reaches_the_client_as_its_status_code_and_message(
    exc: errors.ServiceError, code: grpc.StatusCode
) -> None:
    error = call_raising(exc)

    assert error.code() is code
    assert error.details() == exc.message


def test_invalid_argument_carries_bad_request_field_violations_with_rule_ids() -> None:
    exc = errors.InvalidArgument(
        "the request has 2 invalid fields",
        (
            errors.FieldViolation(field="email", rule="string.email", message="must be an email"),
            errors.FieldViolation(
                field="display_name", rule="string.min_len", message="must not be empty"
            ),
        ),
    )

    status = rpc_status.from_call(call_raising(exc))

    assert status.message == "the request has 2 invalid fields"
    (detail,) = status.details
    bad_request = error_details_pb2.BadRequest()
    assert detail.Unpack(bad_request)
    assert [(v.field, v.description, v.reason) for v in bad_request.field_violations] == [
        ("email", "must be an email", "string.email"),
        ("display_name", "must not be empty", "string.min_len"),
    ]


def test_resource_exhausted_tells_the_client_when_to_retry() -> None:
    status = rpc_status.from_call(call_raising(errors.ResourceExhausted("slow down", 1.5)))

    (detail,) = status.details
    retry_info = error_details_pb2.RetryInfo()
    assert detail.Unpack(retry_info)
    assert retry_info.retry_delay.ToMilliseconds() == 1500


def test_a_subclass_of_a_service_error_maps_like_its_base_class() -> None:
    error = call_raising(UserNotFound("user 42 not found"))

    assert error.code() is grpc.StatusCode.NOT_FOUND
    assert error.details() == "user 42 not found"


def test_entries_given_by_the_service_win_over_the_default_table() -> None:
    table: Table = {errors.Conflict: grpc.StatusCode.FAILED_PRECONDITION}

    error = call_raising(errors.Conflict("etag is stale"), table=table)

    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert error.details() == "etag is stale"


def test_a_mapped_foreign_exception_gets_its_code_but_never_its_text() -> None:
    table: Table = {LookupError: grpc.StatusCode.NOT_FOUND}

    with capture_logs() as logs:
        error = call_raising(KeyError("users_email_key secret"), table=table)

    assert error.code() is grpc.StatusCode.NOT_FOUND
    assert error.details() == "not found; request id req-123"
    assert [log["request_id"] for log in logs if log["event"] == "mapped foreign error"] == [
        "req-123"
    ]


def test_an_unknown_exception_becomes_internal_with_a_generic_message_and_the_request_id() -> None:
    exc = RuntimeError("password=hunter2 in SELECT * FROM users")

    with capture_logs() as logs:
        error = call_raising(exc)

    assert error.code() is grpc.StatusCode.INTERNAL
    assert error.details() == "internal error; request id req-123"
    assert "hunter2" not in str(error)
    (entry,) = [log for log in logs if log["event"] == "unhandled error"]
    assert entry["log_level"] == "error"
    assert entry["request_id"] == "req-123"
    assert entry["rpc_method"] == "/acme.user.v1.UserService/GetUser"
    assert entry["exc_info"] is exc
    assert exc.__traceback__ is not None


def test_without_a_bound_request_id_one_is_made_up_and_shared_by_message_and_log() -> None:
    with capture_logs() as logs:
        error = call_raising(ValueError("boom"), request_id=None)

    (entry,) = [log for log in logs if log["event"] == "unhandled error"]
    assert error.details() == f"internal error; request id {entry['request_id']}"
    assert current_request_id() is None


def test_the_bare_service_error_base_class_is_not_mapped_and_becomes_internal() -> None:
    error = call_raising(errors.ServiceError("which code is this?"))

    assert error.code() is grpc.StatusCode.INTERNAL
    assert error.details() == "internal error; request id req-123"


@pytest.fixture
def aborting_stub() -> Iterator[user_service_pb2_grpc.UserServiceStub]:
    with (
        running_server(interceptors=[ErrorMappingInterceptor()]) as server,
        channel_to(server.port) as channel,
    ):
        yield user_service_pb2_grpc.UserServiceStub(channel)


def test_a_call_aborted_by_inner_code_keeps_its_own_status(
    aborting_stub: user_service_pb2_grpc.UserServiceStub,
) -> None:
    with capture_logs() as logs, pytest.raises(grpc.RpcError) as caught:
        aborting_stub.GetUser(user_service_pb2.GetUserRequest(id="abort"), timeout=5)

    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.details() == "inner code said no"
    assert logs == []


def test_successful_calls_pass_through_unchanged(
    aborting_stub: user_service_pb2_grpc.UserServiceStub,
) -> None:
    response = aborting_stub.GetUser(user_service_pb2.GetUserRequest(id="u-1"), timeout=5)

    assert response.user.id == "u-1"
