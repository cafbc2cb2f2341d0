"""The gRPC handlers translate: proto in, one use case, proto out; errors stay exceptions."""

from __future__ import annotations

import jwt
import pytest

from acme.auth.v1 import auth_service_pb2 as pb
from services.auth.attempts import TooManyAttempts
from services.auth.domain import InvalidCredentials, InvalidRefreshToken
from services.auth.handlers import AuthServiceHandlers
from services.auth.service import AuthService
from tests.unit.auth._support import ADA, PASSWORD, Verify


@pytest.fixture
def handlers(service: AuthService) -> AuthServiceHandlers:
    return AuthServiceHandlers(service)


def login(handlers: AuthServiceHandlers, password: str = PASSWORD) -> pb.TokenPair:
    return handlers.Login(pb.LoginRequest(email=ADA, password=password), None).tokens


def test_login_answers_a_bearer_pair_with_its_expiry_times(
    handlers: AuthServiceHandlers, verify: Verify
) -> None:
    tokens = login(handlers)

    exp = jwt.decode(tokens.access_token, options={"verify_signature": False})["exp"]
    assert tokens.token_type == "Bearer"
    assert verify(tokens.access_token).subject
    assert tokens.refresh_token
    assert tokens.access_token_expire_time.ToSeconds() == exp
    lifetime = tokens.refresh_token_expire_time.seconds - tokens.access_token_expire_time.seconds
    assert lifetime == 24 * 3600 - 15 * 60


def test_refresh_token_answers_a_new_pair(handlers: AuthServiceHandlers) -> None:
    first = login(handlers)

    renewed = handlers.RefreshToken(
        pb.RefreshTokenRequest(refresh_token=first.refresh_token), None
    ).tokens

    assert renewed.token_type == "Bearer"
    assert renewed.refresh_token not in ("", first.refresh_token)


def test_logout_answers_empty_and_ends_the_session(handlers: AuthServiceHandlers) -> None:
    tokens = login(handlers)

    answer = handlers.Logout(pb.LogoutRequest(refresh_token=tokens.refresh_token), None)

    assert answer == pb.LogoutResponse()
    with pytest.raises(InvalidRefreshToken):
        handlers.RefreshToken(pb.RefreshTokenRequest(refresh_token=tokens.refresh_token), None)


def test_get_jwks_answers_every_published_key_field_for_field(
    handlers: AuthServiceHandlers, service: AuthService
) -> None:
    service.rotate_keys()

    keys = handlers.GetJwks(pb.GetJwksRequest(), None).keys

    assert [
        {"kty": k.kty, "kid": k.kid, "use": k.use, "alg": k.alg, "crv": k.crv, "x": k.x, "y": k.y}
        for k in keys
    ] == service.jwks()
    assert all(k.n == k.e == "" for k in keys)


def test_errors_leave_the_handlers_as_domain_errors(handlers: AuthServiceHandlers) -> None:
    with pytest.raises(InvalidCredentials):
        login(handlers, password="wrong")
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            login(handlers, password="wrong")

    with pytest.raises(TooManyAttempts) as refused:
        login(handlers)
    assert refused.value.retry_after == 15 * 60
