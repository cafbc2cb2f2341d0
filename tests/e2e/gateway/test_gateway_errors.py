"""Every class of error, as one problem+json shape, with the status the contract names."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from contractkit.httpstatus import HTTP_STATUS_OF_CODE
from tests.e2e.auth._stack import PASSWORD, Stack
from tests.e2e.gateway._gateway import (
    Rest,
    assert_problem,
    bearer,
    gateway_env,
    running_gateway,
)


def _fields(problem: dict[str, object]) -> dict[str, str]:
    violations = problem.get("violations")
    assert isinstance(violations, list)
    return {violation["field"]: violation["rule"] for violation in violations}


def test_a_body_that_breaks_the_schema_names_every_field_without_echoing_values(
    rest: Rest,
) -> None:
    secret = "short-pw"

    reply = rest.client.post("/v1/users", json={"email": "not-an-email", "password": secret})

    problem = assert_problem(reply, 400, "INVALID_ARGUMENT")
    assert _fields(problem) == {
        "email": "string.email",
        "displayName": "required",
        "password": "string.min_len",
    }
    assert secret not in reply.text
    assert "not-an-email" not in reply.text


def test_a_patch_body_violation_is_named_from_the_request_root(rest: Rest) -> None:
    user, headers = rest.signed_in()

    reply = rest.client.patch(
        f"/v1/users/{user['id']}",
        params={"updateMask": "displayName"},
        json={"displayName": ""},
        headers=headers,
    )

    problem = assert_problem(reply, 400, "INVALID_ARGUMENT")
    assert _fields(problem) == {"user.displayName": "required"}  # as over gRPC


def test_the_contract_rules_of_the_backend_come_back_as_json_field_names(rest: Rest) -> None:
    user, headers = rest.signed_in()

    reply = rest.client.patch(
        f"/v1/users/{user['id']}",
        params={"updateMask": "etag"},
        json={"displayName": "Ada"},
        headers=headers,
    )

    problem = assert_problem(reply, 400, "INVALID_ARGUMENT")
    assert _fields(problem) == {"updateMask": "field_mask.in"}


def test_a_malformed_id_is_rejected_by_the_contracts_uuid_rule(rest: Rest) -> None:
    reply = rest.client.get("/v1/users/not-a-uuid", headers=rest.admin())

    problem = assert_problem(reply, 400, "INVALID_ARGUMENT")
    assert _fields(problem) == {"id": "string.uuid"}


def test_an_unknown_body_field_is_refused_not_ignored(rest: Rest) -> None:
    reply = rest.client.post(
        "/v1/users",
        json={"email": "x@example.com", "displayName": "X", "password": PASSWORD, "admin": True},
    )

    problem = assert_problem(reply, 400, "INVALID_ARGUMENT")
    assert _fields(problem) == {"admin": "unknown_field"}


def test_unknown_and_mistyped_query_parameters_are_named(rest: Rest) -> None:
    reply = rest.client.get("/v1/users", params={"pageSize": "many", "sort": "name"})

    problem = assert_problem(reply, 400, "INVALID_ARGUMENT")
    assert _fields(problem) == {"sort": "unknown_parameter", "pageSize": "type"}


def test_malformed_json_is_a_bad_request(rest: Rest) -> None:
    reply = rest.client.post(
        "/v1/users", content=b'{"email": ', headers={"content-type": "application/json"}
    )

    assert_problem(reply, 400, "INVALID_ARGUMENT")


def test_a_body_of_another_media_type_is_refused(rest: Rest) -> None:
    reply = rest.client.post(
        "/v1/auth/login", content=b"email=a", headers={"content-type": "text/plain"}
    )

    assert_problem(reply, 415, "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    "authorization", [None, b"Bearer not-a-token", b"Basic YWRhOnB3", b"Bearer \xe9t\xe9"]
)
def test_a_missing_or_bad_token_is_unauthenticated(rest: Rest, authorization: bytes | None) -> None:
    user = rest.register()
    headers = {} if authorization is None else {b"Authorization": authorization}

    reply = rest.client.get(f"/v1/users/{user['id']}", headers=headers)

    assert_problem(reply, 401, "UNAUTHENTICATED")


def test_reading_someone_else_is_permission_denied(rest: Rest) -> None:
    other = rest.register()
    _, headers = rest.signed_in()

    reply = rest.client.get(f"/v1/users/{other['id']}", headers=headers)

    assert_problem(reply, 403, "PERMISSION_DENIED")


def test_listing_users_needs_a_role(rest: Rest) -> None:
    _, headers = rest.signed_in()

    reply = rest.client.get("/v1/users", headers=headers)

    assert_problem(reply, 403, "PERMISSION_DENIED")


def test_an_unknown_user_is_not_found(rest: Rest) -> None:
    reply = rest.client.get(f"/v1/users/{uuid.uuid4()}", headers=rest.admin())

    assert_problem(reply, 404, "NOT_FOUND")


def test_registering_a_taken_email_is_a_conflict(rest: Rest) -> None:
    user = rest.register()

    reply = rest.client.post(
        "/v1/users",
        json={"email": user["email"].upper(), "displayName": "Twin", "password": PASSWORD},
    )

    assert_problem(reply, 409, "ALREADY_EXISTS")


def test_a_stale_etag_changes_nothing(rest: Rest) -> None:
    user, headers = rest.signed_in()
    rest.client.patch(
        f"/v1/users/{user['id']}",
        params={"updateMask": "displayName"},
        json={"displayName": "First"},
        headers=headers,
    )

    update = rest.client.patch(
        f"/v1/users/{user['id']}",
        params={"updateMask": "displayName"},
        json={"displayName": "Second", "etag": user["etag"]},
        headers=headers,
    )
    delete = rest.client.delete(
        f"/v1/users/{user['id']}", params={"etag": user["etag"]}, headers=headers
    )

    assert_problem(update, HTTP_STATUS_OF_CODE["ABORTED"], "ABORTED")
    assert_problem(delete, HTTP_STATUS_OF_CODE["ABORTED"], "ABORTED")
    current = rest.client.get(f"/v1/users/{user['id']}", headers=headers).json()
    assert current["displayName"] == "First"


def test_repeated_failed_sign_ins_lock_the_account_with_a_retry_after(rest: Rest) -> None:
    user = rest.register()
    wrong = {"email": user["email"], "password": "not the password at all"}
    for _ in range(5):
        failed = rest.client.post("/v1/auth/login", json=wrong)
        assert_problem(failed, 401, "UNAUTHENTICATED")

    locked = rest.client.post("/v1/auth/login", json={"email": user["email"], "password": PASSWORD})

    problem = assert_problem(locked, 429, "RESOURCE_EXHAUSTED")
    assert 0 < int(locked.headers["retry-after"]) <= 900
    assert "try again later" in str(problem["detail"])


def test_unknown_paths_and_methods_are_problems_too(rest: Rest) -> None:
    missing = rest.client.get("/v1/nothing-here")
    wrong_method = rest.client.put("/v1/users", json={})

    assert_problem(missing, 404, "NOT_FOUND")
    assert_problem(wrong_method, 405, "UNIMPLEMENTED")


def test_a_method_the_path_has_not_is_405_naming_every_method_it_has(rest: Rest) -> None:
    """Starlette's 405 named the methods of the first route of the path only (`GET, HEAD`
    for /v1/users/{id}, which PATCH and DELETE share)."""
    on_user = rest.client.options(f"/v1/users/{uuid.uuid4()}")
    on_users = rest.client.put("/v1/users", json={})

    assert_problem(on_user, 405, "UNIMPLEMENTED")
    assert on_user.headers["allow"] == "DELETE, GET, HEAD, PATCH"
    assert on_users.headers["allow"] == "GET, HEAD, POST"


def test_an_operation_its_backend_does_not_implement_is_501_not_500(stack: Stack) -> None:
    assert stack.auth_server is not None
    elsewhere = {"GATEWAY_BACKENDS__USER__TARGET": f"127.0.0.1:{stack.auth_server.port}"}
    with (
        running_gateway({**gateway_env(stack), **elsewhere}) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=20) as client,
    ):
        reply = client.get(f"/v1/users/{uuid.uuid4()}")  # the auth service has no GetUser

    problem = assert_problem(reply, 501, "UNIMPLEMENTED")
    assert problem["detail"] == "UserService does not implement this operation"


def test_the_callers_request_id_comes_back_and_a_bad_one_is_replaced(rest: Rest) -> None:
    kept = rest.client.get(f"/v1/users/{uuid.uuid4()}", headers={"x-request-id": "trace-me-42"})
    replaced = rest.client.get("/healthz", headers={"x-request-id": "no spaces allowed"})

    assert kept.headers["x-request-id"] == "trace-me-42"
    assert kept.json()["requestId"] == "trace-me-42"
    assert replaced.headers["x-request-id"] != "no spaces allowed"
    assert len(replaced.headers["x-request-id"]) == 32


def test_a_stopped_backend_is_unavailable_and_readiness_follows_it(own_stack: Stack) -> None:
    with (
        running_gateway(gateway_env(own_stack)) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=20) as client,
    ):
        user = client.post(
            "/v1/users", json={"email": "ada@example.com", "displayName": "A", "password": PASSWORD}
        ).json()
        assert client.get("/readyz").status_code == 200

        own_stack.stop_user()
        down = client.get(f"/v1/users/{user['id']}")
        time.sleep(0.3)  # past the readiness cache
        not_ready = client.get("/readyz")

        problem = assert_problem(down, 503, "UNAVAILABLE")
        assert str(own_stack.user_address) not in str(problem["detail"])
        assert not_ready.status_code == 503
        assert not_ready.json()["backends"] == {"user": "UNREACHABLE", "auth": "SERVING"}
        assert client.get("/healthz").status_code == 200

        own_stack.start_user()
        assert _eventually_ready(client)
        login = client.post(
            "/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        me = client.get(f"/v1/users/{user['id']}", headers=bearer(login.json()["accessToken"]))
        assert me.status_code == 200


def _eventually_ready(client: httpx.Client, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            return True
        time.sleep(0.1)
    return False


def test_a_body_over_the_limit_is_refused_before_it_is_read(rest: Rest) -> None:
    big = b'{"email": "' + b"a" * (1024 * 1024) + b'"}'

    reply = rest.client.post("/v1/users", content=big, headers={"content-type": "application/json"})

    assert_problem(reply, 413, "INVALID_ARGUMENT")
