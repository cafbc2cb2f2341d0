"""Every operation of the REST face, over real HTTP, through the gateway to real services."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import jwt
import yaml

from services.gateway.settings import DEFAULT_SPEC_FILE
from tests.e2e.auth._stack import PASSWORD
from tests.e2e.gateway._gateway import Rest, RunningGateway, assert_problem, bearer


def test_registering_returns_the_user_without_its_password(rest: Rest) -> None:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"

    reply = rest.client.post(
        "/v1/users", json={"email": email, "displayName": "Ada", "password": PASSWORD}
    )

    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    user = reply.json()
    assert uuid.UUID(user["id"])
    assert (user["email"], user["displayName"]) == (email, "Ada")
    assert {"createTime", "updateTime", "etag"} <= user.keys()
    assert "password" not in user
    assert PASSWORD not in reply.text


def test_a_user_signs_in_and_reads_themselves(rest: Rest) -> None:
    user = rest.register()

    tokens = rest.login(user["email"])
    me = rest.client.get(f"/v1/users/{user['id']}", headers=bearer(tokens["accessToken"]))

    assert tokens["tokenType"] == "Bearer"
    assert tokens["refreshToken"]
    assert tokens["accessTokenExpireTime"] < tokens["refreshTokenExpireTime"]
    assert me.status_code == 200
    assert me.json() == user


def test_patch_changes_only_the_fields_in_the_update_mask(rest: Rest) -> None:
    user, headers = rest.signed_in()

    reply = rest.client.patch(
        f"/v1/users/{user['id']}",
        params={"updateMask": "displayName"},
        json={"displayName": "Ada Lovelace", "email": "ignored@example.com"},
        headers=headers,
    )

    assert reply.status_code == 200, reply.text
    changed = reply.json()
    assert changed["displayName"] == "Ada Lovelace"
    assert changed["email"] == user["email"]
    assert changed["etag"] != user["etag"]
    again = rest.client.get(f"/v1/users/{user['id']}", headers=headers).json()
    assert again == changed


def test_patch_with_the_current_etag_succeeds(rest: Rest) -> None:
    user, headers = rest.signed_in()

    reply = rest.client.patch(
        f"/v1/users/{user['id']}",
        params={"updateMask": "displayName"},
        json={"displayName": "Countess", "etag": user["etag"]},
        headers=headers,
    )

    assert reply.status_code == 200, reply.text
    assert reply.json()["displayName"] == "Countess"


def test_an_admin_lists_users_page_by_page(rest: Rest) -> None:
    created = {rest.register()["id"] for _ in range(3)}
    admin = rest.admin()

    seen: list[str] = []
    token = None
    for _ in range(1000):
        params: dict[str, str | int] = {"pageSize": 2}
        if token:
            params["pageToken"] = token
        reply = rest.client.get("/v1/users", params=params, headers=admin)
        assert reply.status_code == 200, reply.text
        page = reply.json()
        assert len(page.get("users", [])) <= 2
        seen += [user["id"] for user in page.get("users", [])]
        token = page.get("nextPageToken")
        if not token:
            break

    assert created <= set(seen)
    assert len(seen) == len(set(seen))


def test_the_list_filters_by_email_and_by_role(rest: Rest) -> None:
    user = rest.register()
    admin = rest.admin()

    by_email = rest.client.get("/v1/users", params={"email": user["email"]}, headers=admin)
    by_role = rest.client.get("/v1/users", params={"role": "ROLE_ADMIN"}, headers=admin)

    assert [found["id"] for found in by_email.json()["users"]] == [user["id"]]
    admins = by_role.json()["users"]
    assert admins
    assert all("ROLE_ADMIN" in found["roles"] for found in admins)


def test_a_deleted_user_is_gone_and_cannot_sign_in(rest: Rest) -> None:
    user, headers = rest.signed_in()

    deleted = rest.client.delete(f"/v1/users/{user['id']}", headers=headers)
    lookup = rest.client.get(f"/v1/users/{user['id']}", headers=rest.admin())
    login = rest.client.post("/v1/auth/login", json={"email": user["email"], "password": PASSWORD})

    assert deleted.status_code == 200
    assert deleted.json() == {}
    assert_problem(lookup, 404, "NOT_FOUND")
    assert_problem(login, 401, "UNAUTHENTICATED")


def test_a_refresh_rotates_the_refresh_token(rest: Rest) -> None:
    user = rest.register()
    first = rest.login(user["email"])

    second = rest.client.post("/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    reused = rest.client.post("/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})

    assert second.status_code == 200, second.text
    pair = second.json()
    assert pair["refreshToken"] != first["refreshToken"]
    me = rest.client.get(f"/v1/users/{user['id']}", headers=bearer(pair["accessToken"]))
    assert me.status_code == 200
    assert_problem(reused, 401, "UNAUTHENTICATED")


def test_after_logout_the_refresh_token_no_longer_works(rest: Rest) -> None:
    user = rest.register()
    tokens = rest.login(user["email"])

    logout = rest.client.post("/v1/auth/logout", json={"refreshToken": tokens["refreshToken"]})
    refresh = rest.client.post("/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]})

    assert logout.status_code == 200
    assert logout.json() == {}
    assert_problem(refresh, 401, "UNAUTHENTICATED")


def test_the_jwks_verifies_the_access_tokens(rest: Rest) -> None:
    user = rest.register()
    token = rest.login(user["email"])["accessToken"]

    operation = rest.client.get("/v1/auth/jwks")
    well_known = rest.client.get("/.well-known/jwks.json")

    assert operation.status_code == well_known.status_code == 200
    assert operation.json() == well_known.json()
    keys = jwt.PyJWKSet.from_dict(well_known.json())
    key = next(k for k in keys.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    claims = jwt.decode(token, key=key.key, algorithms=["ES256"], audience="acme")
    assert claims["sub"] == user["id"]
    assert "max-age" in well_known.headers["cache-control"]


def test_the_document_and_swagger_ui_are_served(rest: Rest) -> None:
    document = rest.client.get("/openapi.json")
    docs = rest.client.get("/docs/")

    assert document.status_code == 200
    assert document.json() == yaml.safe_load(Path(DEFAULT_SPEC_FILE).read_text())
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert "/openapi.json" in docs.text


def test_liveness_and_readiness_answer_while_the_backends_serve(
    rest: Rest, others: dict[str, str]
) -> None:
    live = rest.client.get("/healthz")
    ready = rest.client.get("/readyz")

    assert live.status_code == 200
    assert ready.status_code == 200
    serving = dict.fromkeys(["user", "auth", *others], "SERVING")
    assert ready.json() == {"status": "ready", "backends": serving}


def test_requests_are_counted_by_method_route_and_status(
    rest: Rest, gateway: RunningGateway
) -> None:
    user, headers = rest.signed_in()
    rest.client.get(f"/v1/users/{user['id']}", headers=headers)

    metrics = httpx.get(gateway.metrics_url, timeout=5).text

    assert 'http_server_requests_total{method="GET",route="/v1/users/{id}",status="200"}' in metrics
    assert 'http_server_request_duration_seconds_bucket{le="0.005",method="GET"' in metrics
    assert 'grpc_client_handled_total{grpc_code="OK",grpc_method="GetUser"' in metrics
