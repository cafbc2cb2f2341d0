"""Expiry, key rotation, the user service going away and coming back, and mutual TLS."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import jwt
import pytest

from acme.user.v1 import user_service_pb2 as user_pb
from acme.user.v1 import user_service_pb2_grpc
from servicekit.devcerts import issue_dev_certificates
from services.auth.app import rotate_keys
from tests.e2e.auth._stack import PASSWORD, Stack, running_stack


def test_an_expired_access_token_is_refused(tmp_path: Path) -> None:
    with running_stack("sqlite", tmp_path, {"AUTH_TOKENS__ACCESS_TOKEN_TTL_SECONDS": "1"}) as stack:
        stack.stop_user()
        stack.start_user(USER_AUTH__LEEWAY_SECONDS="0")
        user_id, email = stack.register()
        token = stack.login(email).access_token

        time.sleep(2.2)  # the token's whole life is one second
        with pytest.raises(grpc.RpcError) as call:
            stack.read_self(user_id, token)

    assert call.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert call.value.details() == "token expired"


def test_after_a_key_rotation_old_and_new_tokens_both_verify(tmp_path: Path) -> None:
    with running_stack("sqlite", tmp_path, {"AUTH_TOKENS__KEY_CACHE_SECONDS": "0"}) as stack:
        user_id, email = stack.register()
        before = stack.login(email).access_token

        new_kid = rotate_keys(stack.auth_settings())
        after = stack.login(email).access_token

        assert jwt.get_unverified_header(after)["kid"] == new_kid
        assert jwt.get_unverified_header(before)["kid"] != new_kid
        assert stack.read_self(user_id, before).user.id == user_id
        assert stack.read_self(user_id, after).user.id == user_id


def _login_code(stack: Stack, email: str) -> tuple[grpc.StatusCode, str]:
    try:
        stack.login(email)
    except grpc.RpcError as error:
        return error.code(), error.details()
    return grpc.StatusCode.OK, ""


def test_with_the_user_service_down_login_fails_fast_then_recovers_by_itself(
    own_stack: Stack,
) -> None:
    _, email = own_stack.register()
    own_stack.stop_user()

    outcomes = [_login_code(own_stack, email) for _ in range(7)]
    own_stack.start_user()
    time.sleep(1.2)  # the breaker's reset time in this stack is one second
    recovered = _login_code(own_stack, email)

    assert {code for code, _ in outcomes} == {grpc.StatusCode.UNAVAILABLE}
    assert "circuit open" not in outcomes[0][1]
    assert "circuit open" in outcomes[-1][1]
    assert recovered == (grpc.StatusCode.OK, "")


def test_with_mutual_tls_only_clients_with_a_certificate_get_in(tmp_path: Path) -> None:
    certs = tmp_path / "tls"
    issue_dev_certificates(certs, ["user", "auth"])
    tls_auth = {
        "AUTH_USER_CLIENT__TLS__ENABLED": "true",
        "AUTH_USER_CLIENT__TLS__CA_FILE": str(certs / "ca.pem"),
        "AUTH_USER_CLIENT__TLS__CERT_FILE": str(certs / "auth.pem"),
        "AUTH_USER_CLIENT__TLS__KEY_FILE": str(certs / "auth-key.pem"),
        "AUTH_USER_CLIENT__TARGET": "localhost:0",  # replaced below, once the port is known
    }
    with running_stack("sqlite", tmp_path, tls_auth) as stack:
        stack.stop_user()
        server = stack.start_user(
            USER_GRPC__TLS__ENABLED="true",
            USER_GRPC__TLS__CERT_FILE=str(certs / "user.pem"),
            USER_GRPC__TLS__KEY_FILE=str(certs / "user-key.pem"),
            USER_GRPC__TLS__CLIENT_CA_FILE=str(certs / "ca.pem"),
            USER_GRPC__TLS__REQUIRE_CLIENT_CERT="true",
        )
        assert stack.auth_server is not None
        stack.auth_server.stop(0)
        stack.start_auth(AUTH_USER_CLIENT__TARGET=f"localhost:{server.port}")
        ca = (certs / "ca.pem").read_bytes()
        anonymous = grpc.secure_channel(
            f"localhost:{server.port}", grpc.ssl_channel_credentials(root_certificates=ca)
        )
        with pytest.raises(grpc.RpcError) as refused:
            user_service_pb2_grpc.UserServiceStub(anonymous).CreateUser(
                user_pb.CreateUserRequest(
                    email="x@example.com", display_name="X", password=PASSWORD
                ),
                timeout=5,
            )
        anonymous.close()
        client = grpc.secure_channel(
            f"localhost:{server.port}",
            grpc.ssl_channel_credentials(
                root_certificates=ca,
                private_key=(certs / "auth-key.pem").read_bytes(),
                certificate_chain=(certs / "auth.pem").read_bytes(),
            ),
        )
        created = user_service_pb2_grpc.UserServiceStub(client).CreateUser(
            user_pb.CreateUserRequest(email="tls@example.com", display_name="T", password=PASSWORD),
            timeout=5,
        )
        client.close()
        tokens = stack.login("tls@example.com")

    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert created.user.email == "tls@example.com"
    assert tokens.access_token
