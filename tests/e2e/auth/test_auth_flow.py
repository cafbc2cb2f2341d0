"""Sign in, use the token, refresh, log out: the two services together, over real ports."""

from __future__ import annotations

import uuid

import grpc
import jwt
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from acme.auth.v1 import auth_service_pb2 as auth_pb
from acme.user.v1 import user_pb2, user_service_pb2_grpc
from acme.user.v1 import user_service_pb2 as user_pb
from servicekit.testing.tokens import TestIssuer
from services.user import app as user_app
from services.user import settings as user_settings
from tests.e2e.auth._stack import PASSWORD, Stack


def test_a_user_signs_in_and_reads_themselves_with_the_access_token(stack: Stack) -> None:
    user_id, email = stack.register()

    tokens = stack.login(email.upper())
    me = stack.read_self(user_id, tokens.access_token)

    assert me.user.email == email
    assert tokens.token_type == "Bearer"
    assert tokens.refresh_token
    assert tokens.access_token_expire_time.seconds < tokens.refresh_token_expire_time.seconds


def test_the_access_token_names_its_key_its_user_and_its_audience(stack: Stack) -> None:
    user_id, email = stack.register()

    token = stack.login(email).access_token
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    published = stack.auth.GetJwks(auth_pb.GetJwksRequest(), timeout=5).keys

    assert header["alg"] == "ES256"
    assert header["kid"] in {key.kid for key in published}
    assert (claims["sub"], claims["iss"], claims["aud"]) == (user_id, "acme-auth", "acme")
    assert claims["roles"] == []
    assert {"exp", "iat", "jti"} <= claims.keys()


def test_a_wrong_password_and_an_unknown_email_are_refused_alike(stack: Stack) -> None:
    _, email = stack.register()
    outcomes = []
    for who, password in ((email, "not the password!"), (f"{uuid.uuid4()}@example.com", PASSWORD)):
        with pytest.raises(grpc.RpcError) as call:
            stack.login(who, password)
        outcomes.append((call.value.code(), call.value.details()))

    assert outcomes[0] == outcomes[1] == (grpc.StatusCode.UNAUTHENTICATED, "invalid credentials")


def test_a_refresh_rotates_the_refresh_token_and_gives_a_working_access_token(
    stack: Stack,
) -> None:
    user_id, email = stack.register()
    first = stack.login(email)

    second = stack.auth.RefreshToken(
        auth_pb.RefreshTokenRequest(refresh_token=first.refresh_token), timeout=10
    ).tokens

    assert second.refresh_token != first.refresh_token
    assert stack.read_self(user_id, second.access_token).user.id == user_id


def test_reusing_a_refresh_token_revokes_the_whole_session(stack: Stack) -> None:
    _, email = stack.register()
    first = stack.login(email)
    refresh = auth_pb.RefreshTokenRequest
    second = stack.auth.RefreshToken(refresh(refresh_token=first.refresh_token)).tokens

    with pytest.raises(grpc.RpcError) as reuse:
        stack.auth.RefreshToken(refresh(refresh_token=first.refresh_token), timeout=10)
    with pytest.raises(grpc.RpcError) as after:
        stack.auth.RefreshToken(refresh(refresh_token=second.refresh_token), timeout=10)

    assert reuse.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert after.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_logout_ends_the_session(stack: Stack) -> None:
    _, email = stack.register()
    tokens = stack.login(email)

    stack.auth.Logout(auth_pb.LogoutRequest(refresh_token=tokens.refresh_token), timeout=10)
    with pytest.raises(grpc.RpcError) as call:
        stack.auth.RefreshToken(
            auth_pb.RefreshTokenRequest(refresh_token=tokens.refresh_token), timeout=10
        )

    assert call.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_tampered_access_token_is_refused(stack: Stack) -> None:
    _, email = stack.register()
    other_id, _ = stack.register()
    header, _, signature = stack.login(email).access_token.split(".")
    claims = jwt.utils.base64url_encode(
        f'{{"sub": "{other_id}", "iss": "acme-auth", "aud": "acme"}}'.encode()
    ).decode()

    with pytest.raises(grpc.RpcError) as call:
        stack.read_self(other_id, f"{header}.{claims}.{signature}")

    assert call.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "signature" in call.value.details()


def test_a_token_signed_by_a_key_the_auth_service_never_published_is_refused(
    stack: Stack,
) -> None:
    user_id, _ = stack.register()
    forger = TestIssuer(stack.folder / f"forger-{uuid.uuid4().hex[:6]}")

    with pytest.raises(grpc.RpcError) as call:
        stack.read_self(user_id, forger.mint(user_id, ("admin",)))

    assert call.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert call.value.details() == "unknown signing key"


def test_a_token_for_another_audience_is_refused(stack: Stack) -> None:
    user_id, email = stack.register()
    token = stack.login(email).access_token
    settings = user_settings.load(
        env={**stack.user_env, "USER_GRPC__PORT": "0", "USER_AUTH__AUDIENCE": "billing"}
    )

    with user_app.create_server(settings) as billing:
        channel = stack.channel(f"127.0.0.1:{billing.port}")
        stub = user_service_pb2_grpc.UserServiceStub(channel)
        with pytest.raises(grpc.RpcError) as call:
            stub.GetUser(
                user_pb.GetUserRequest(id=user_id),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=10,
            )

    assert call.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "audience" in call.value.details()


def test_repeated_failures_lock_an_account_known_or_not_with_a_retry_delay(stack: Stack) -> None:
    _, email = stack.register()
    unknown = f"{uuid.uuid4()}@example.com"
    answers = {}
    for who in (email, unknown):
        for _ in range(5):
            with pytest.raises(grpc.RpcError):
                stack.login(who, "not the password!")
        with pytest.raises(grpc.RpcError) as locked:
            stack.login(who, PASSWORD if who == email else "not the password!")
        status = rpc_status.from_call(locked.value)
        assert status is not None
        delays = []
        for detail in status.details:
            info = error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                delays.append(info.retry_delay.seconds)
        answers[who] = (locked.value.code(), bool(delays) and delays[0] > 0)

    assert answers[email] == answers[unknown] == (grpc.StatusCode.RESOURCE_EXHAUSTED, True)


def _admin(stack: Stack) -> tuple[str, str]:
    """A new admin (the user service's create-admin), its id and email."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    settings = user_settings.load(env=stack.user_env)
    assert user_app.create_admin(settings, email=email, display_name="Root", password=PASSWORD) == 0
    tokens = stack.login(email)
    return str(jwt.decode(tokens.access_token, options={"verify_signature": False})["sub"]), email


def _refresh(stack: Stack, refresh_token: str) -> auth_pb.TokenPair:
    request = auth_pb.RefreshTokenRequest(refresh_token=refresh_token)
    tokens: auth_pb.TokenPair = stack.auth.RefreshToken(request, timeout=10).tokens
    return tokens


def test_a_deleted_admin_can_no_longer_refresh_its_session(stack: Stack) -> None:
    admin_id, email = _admin(stack)
    tokens = stack.login(email)
    bearer = (("authorization", f"Bearer {tokens.access_token}"),)
    stack.users.DeleteUser(user_pb.DeleteUserRequest(id=admin_id), metadata=bearer, timeout=10)

    with pytest.raises(grpc.RpcError) as refused:
        _refresh(stack, tokens.refresh_token)

    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert refused.value.details() == "refresh token is invalid or expired"


def test_an_admin_whose_roles_were_taken_refreshes_into_a_token_without_them(
    stack: Stack,
) -> None:
    demoted_id, demoted_email = _admin(stack)
    _, other_email = _admin(stack)
    tokens = stack.login(demoted_email)
    other = (("authorization", f"Bearer {stack.login(other_email).access_token}"),)
    stack.users.UpdateUser(
        user_pb.UpdateUserRequest(
            user=user_pb2.User(id=demoted_id), update_mask=FieldMask(paths=["roles"])
        ),
        metadata=other,
        timeout=10,
    )

    renewed = _refresh(stack, tokens.refresh_token)
    claims = jwt.decode(renewed.access_token, options={"verify_signature": False})
    with pytest.raises(grpc.RpcError) as listing:
        stack.users.ListUsers(
            user_pb.ListUsersRequest(),
            metadata=(("authorization", f"Bearer {renewed.access_token}"),),
            timeout=10,
        )

    assert jwt.decode(tokens.access_token, options={"verify_signature": False})["roles"] == [
        "admin"
    ]
    assert claims["roles"] == []
    assert listing.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_only_the_auth_service_reads_a_users_sign_in_state(stack: Stack) -> None:
    user_id, email = stack.register()
    token = stack.login(email).access_token

    with pytest.raises(grpc.RpcError) as denied:
        stack.users.GetSignInState(
            user_pb.GetSignInStateRequest(id=user_id),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )

    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
