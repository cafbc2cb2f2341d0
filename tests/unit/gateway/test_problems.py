"""services.gateway.problems: every error as problem details, its HTTP status from the one
table the document is generated with, the backend's internals never shown."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import (  # type: ignore[import-untyped, unused-ignore]  # ships no py.typed
    error_details_pb2,
    status_pb2,
)

from acme.user.v1 import user_service_pb2
from contractkit.httpstatus import HTTP_STATUS_OF_CODE, PROBLEM_JSON
from services.gateway.problems import (
    Problem,
    Violation,
    code_of_http_status,
    from_rpc_error,
    http_status_of,
    summary,
)

UPDATE_REQUEST = user_service_pb2.UpdateUserRequest.DESCRIPTOR


@dataclass
class FakeRpcError(grpc.RpcError):  # type: ignore[misc]  # grpcio has no stubs
    status: grpc.StatusCode
    text: str = "user 42 at 10.0.0.7 said: SELECT * FROM users failed"
    trailers: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    def code(self) -> grpc.StatusCode:
        return self.status

    def details(self) -> str:
        return self.text

    def trailing_metadata(self) -> tuple[tuple[str, Any], ...]:
        return self.trailers


def rich(code: grpc.StatusCode, *details: Any) -> FakeRpcError:
    """An error whose trailers carry a ``google.rpc.Status`` with ``details``."""
    status = status_pb2.Status(code=code.value[0], message="rejected")
    for detail in details:
        status.details.add().Pack(detail)
    trailers = (("grpc-status-details-bin", status.SerializeToString()),)
    return FakeRpcError(code, "invalid request", trailers)


def test_field_violations_of_the_backend_come_back_in_json_names() -> None:
    bad = error_details_pb2.BadRequest()
    bad.field_violations.add(
        field="user.display_name", reason="string.min_len", description="too short"
    )
    bad.field_violations.add(field="update_mask", reason="field_mask.in", description="no")

    problem = from_rpc_error(
        rich(grpc.StatusCode.INVALID_ARGUMENT, bad), service="UserService", request=UPDATE_REQUEST
    )

    assert (problem.status, problem.code, problem.detail) == (
        400,
        "INVALID_ARGUMENT",
        "invalid request",
    )
    assert problem.violations == (
        Violation(field="user.displayName", rule="string.min_len", message="too short"),
        Violation(field="updateMask", rule="field_mask.in", message="no"),
    )


def test_the_fields_the_backends_message_names_are_renamed_in_json_names() -> None:
    bad = error_details_pb2.BadRequest()
    bad.field_violations.add(field="user.display_name", reason="required", description="empty")
    error = rich(grpc.StatusCode.INVALID_ARGUMENT, bad)
    error.text = "user.display_name: empty; see display_name: elsewhere"

    problem = from_rpc_error(error, service="UserService", request=UPDATE_REQUEST)

    assert problem.detail == "user.displayName: empty; see display_name: elsewhere"


def test_the_backends_retry_delay_becomes_a_retry_after_rounded_up() -> None:
    retry = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2, nanos=1))

    problem = from_rpc_error(
        rich(grpc.StatusCode.RESOURCE_EXHAUSTED, retry),
        service="AuthService",
        request=UPDATE_REQUEST,
    )

    assert problem.status == 429
    assert problem.response_headers() == {"Retry-After": "3"}


def test_a_garbled_details_trailer_is_no_detail() -> None:
    error = FakeRpcError(
        grpc.StatusCode.INVALID_ARGUMENT, "bad", (("grpc-status-details-bin", b"\xff\xff"),)
    )

    problem = from_rpc_error(error, service="UserService", request=UPDATE_REQUEST)

    assert (problem.detail, problem.violations) == ("bad", ())


@pytest.mark.parametrize(
    ("code", "status", "detail"),
    [
        (grpc.StatusCode.UNAVAILABLE, 503, "UserService is unavailable; retry later"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504, "UserService did not answer in time"),
        (grpc.StatusCode.CANCELLED, 500, "the call to UserService was cancelled"),
        (grpc.StatusCode.INTERNAL, 500, "UserService failed the call (INTERNAL)"),
        (grpc.StatusCode.UNIMPLEMENTED, 501, "UserService does not implement this operation"),
    ],
)
def test_codes_about_the_backend_are_told_in_the_gateways_words(
    code: grpc.StatusCode, status: int, detail: str
) -> None:
    problem = from_rpc_error(FakeRpcError(code), service="UserService", request=UPDATE_REQUEST)

    assert (problem.status, problem.code, problem.detail) == (status, code.name, detail)


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.ABORTED]
)
def test_codes_about_the_callers_request_keep_the_backends_message(code: grpc.StatusCode) -> None:
    error = FakeRpcError(code, "user not found")

    problem = from_rpc_error(error, service="UserService", request=UPDATE_REQUEST)

    assert problem.detail == "user not found"
    assert problem.status == HTTP_STATUS_OF_CODE[code.name]


def test_an_error_without_a_status_is_unknown() -> None:
    problem = from_rpc_error(grpc.RpcError(), service="UserService", request=UPDATE_REQUEST)

    assert (problem.status, problem.code) == (500, "UNKNOWN")


def test_the_document_has_every_field_and_only_the_ones_it_has() -> None:
    violation = Violation(field="email", rule="string.email", message="must be an email")
    problem = Problem.of_code("INVALID_ARGUMENT", summary([violation]), violations=(violation,))

    body = json.loads(problem.body(instance="/v1/users", request_id="req-1"))
    bare = json.loads(
        Problem(status=599, code="INTERNAL", detail="x").body(instance="/", request_id=None)
    )

    assert body == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "invalid request: email: must be an email",
        "instance": "/v1/users",
        "code": "INVALID_ARGUMENT",
        "requestId": "req-1",
        "violations": [{"field": "email", "rule": "string.email", "message": "must be an email"}],
    }
    assert bare == {
        "type": "about:blank",
        "title": "Error",
        "status": 599,
        "detail": "x",
        "instance": "/",
        "code": "INTERNAL",
    }


def test_the_response_says_problem_json_and_carries_its_headers() -> None:
    problem = Problem.of_code("UNAVAILABLE", "down", retry_after=0.2, headers={"X-A": "b"})

    response = problem.response(instance="/v1/users", request_id="req-1")

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_JSON
    assert (response.headers["retry-after"], response.headers["x-a"]) == ("1", "b")


def test_a_violation_without_a_field_is_summarised_by_its_message() -> None:
    violations = [Violation("", "required", "a JSON body is required"), Violation("a", "r", "m")]

    assert summary(violations) == "invalid request: a JSON body is required; a: m"


def test_the_table_reads_both_ways() -> None:
    assert http_status_of("NOT_FOUND") == 404
    assert http_status_of("DATA_LOSS") == 500
    assert code_of_http_status(400) == "INVALID_ARGUMENT"  # the first code of the table
    assert code_of_http_status(409) == "ALREADY_EXISTS"
    assert code_of_http_status(405) == "UNIMPLEMENTED"
    assert code_of_http_status(501) == "UNIMPLEMENTED"
    assert code_of_http_status(415) == "INVALID_ARGUMENT"
    assert code_of_http_status(502) == "INTERNAL"


def test_every_status_the_gateway_answers_for_a_code_is_the_one_the_document_gives_it(
    document: dict[str, Any],
) -> None:
    """The gateway and the generated document read the same table."""
    shared = document["components"]["responses"]
    documented: dict[str, str] = {}
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                name = response.get("$ref", "").rsplit("/", 1)[-1]
                if name in shared:
                    documented[status] = shared[name]["description"]

    for code, status in HTTP_STATUS_OF_CODE.items():
        where = str(status) if str(status) in documented else "default"
        assert code in documented[where], f"{code} is not documented under {where}"


@pytest.mark.parametrize(
    "text",
    [
        "received metadata size exceeds hard limit (value length 20000 vs. 16384)",
        "received metadata size exceeds soft limit (9000 vs. 8192), rejecting requests with"
        " some random probability",
    ],
)
def test_grpc_refusing_the_headers_as_too_large_is_431_in_the_gateways_words(text: str) -> None:
    problem = from_rpc_error(
        FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, text),
        service="UserService",
        request=UPDATE_REQUEST,
    )

    assert (problem.status, problem.code) == (431, "RESOURCE_EXHAUSTED")
    assert problem.detail == "the request's headers are too large for UserService"
    assert problem.response_headers() == {}


def test_a_services_own_quota_that_mentions_metadata_stays_a_429() -> None:
    retry = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=1))
    error = rich(grpc.StatusCode.RESOURCE_EXHAUSTED, retry)
    error.text = "metadata size exceeds the tenant's quota"

    problem = from_rpc_error(error, service="UserService", request=UPDATE_REQUEST)

    assert (problem.status, problem.response_headers()) == (429, {"Retry-After": "1"})
