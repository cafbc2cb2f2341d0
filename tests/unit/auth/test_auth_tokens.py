"""Access tokens carry what every verifier checks; services get tokens of their own."""

from __future__ import annotations

import json
from datetime import timedelta

import jwt
import pytest

from servicekit.auth import JwksSource, TokenVerifier
from servicekit.clients import RefreshingToken
from servicekit.errors import Unauthenticated
from services.auth.keys import SigningKeys
from services.auth.service import AuthService
from services.auth.tokens import TokenIssuer
from tests.unit.auth._support import ADA, AUDIENCE, ISSUER, PASSWORD, Clock, Verify
from tests.unit.auth.fakes import FakeAuthUnitOfWork, FakeUserDirectory


def claims_of(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_a_users_token_has_every_claim_verifiers_require(
    service: AuthService, clock: Clock
) -> None:
    pair = service.login(email=ADA, password=PASSWORD)

    claims = claims_of(pair.access_token)

    assert claims == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "00000000-0000-4000-8000-00000000000a",
        "iat": int(clock.now.timestamp()),
        "exp": int(clock.now.timestamp()) + 15 * 60,
        "jti": claims["jti"],
        "roles": ["admin"],
        "sid": pair.session_id,
    }
    assert jwt.get_unverified_header(pair.access_token)["alg"] == "ES256"


def test_a_token_for_another_audience_is_refused(service: AuthService) -> None:
    token = service.login(email=ADA, password=PASSWORD).access_token
    source = JwksSource(lambda: json.dumps({"keys": service.jwks()}), description="test")

    with pytest.raises(Unauthenticated, match="audience"):
        TokenVerifier(source, issuer=ISSUER, audience="billing").verify(token)


def test_a_tampered_token_is_refused(service: AuthService, verify: Verify) -> None:
    header, payload, signature = service.login(email=ADA, password=PASSWORD).access_token.split(".")
    claims = claims_of(f"{header}.{payload}.{signature}")
    forged = jwt.utils.base64url_encode(json.dumps({**claims, "roles": ["root"]}).encode())

    with pytest.raises(Unauthenticated, match="signature"):
        verify(f"{header}.{forged.decode()}.{signature}")


def test_the_auth_service_calls_others_as_itself(issuer: TokenIssuer, verify: Verify) -> None:
    token = issuer.mint_service_token("auth")

    principal = verify(token.token)

    assert (principal.subject, principal.service, principal.roles) == ("auth", "auth", frozenset())
    assert principal.is_service
    assert "sid" not in claims_of(token.token)


def test_a_key_signs_in_the_very_second_it_was_made(
    uow: FakeAuthUnitOfWork, keys: SigningKeys, issuer: TokenIssuer, clock: Clock
) -> None:
    clock.advance(timedelta(microseconds=999_999))  # exp and iat are whole seconds, keys not
    AuthService(
        unit_of_work=lambda: uow, users=FakeUserDirectory(), keys=keys, tokens=issuer, clock=clock
    ).ensure_signing_key()

    token = issuer.mint_service_token("auth")

    assert claims_of(token.token)["iat"] == int(clock.now.timestamp())


@pytest.mark.usefixtures("service")  # which creates the signing key
def test_servicekit_refreshing_token_renews_the_service_token(issuer: TokenIssuer) -> None:
    minted: list[str] = []

    def mint() -> str:
        minted.append(issuer.mint_service_token("auth").token)
        return minted[-1]

    now = [0.0]
    tokens = RefreshingToken(
        mint, lifetime_seconds=issuer.ttl.total_seconds(), clock=lambda: now[0]
    )
    first = tokens.token()
    now[0] = 15 * 60 - 31
    assert tokens.token() == first
    now[0] = 15 * 60 - 30

    assert tokens.token() != first
    assert len(minted) == 2
