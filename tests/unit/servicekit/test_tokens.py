"""servicekit.auth.tokens: access tokens are verified against the JWKS, or refused clearly."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from servicekit.auth import AuthSettings, JwksSource, Principal, TokenVerifier
from servicekit.errors import Unauthenticated
from servicekit.grpc.context import current_principal
from servicekit.grpc.interceptors.auth import AuthenticationInterceptor, bearer_token
from servicekit.testing.tokens import TestIssuer

USER_ID = "6f1c0a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f"


@pytest.fixture
def issuer(tmp_path: Path) -> TestIssuer:
    return TestIssuer(tmp_path)


@pytest.fixture
def verifier(issuer: TestIssuer) -> TokenVerifier:
    return TokenVerifier(
        JwksSource.from_file(issuer.jwks_file, min_refresh_interval=0),
        issuer="acme-auth",
        audience="acme",
        leeway=30,
    )


def rejection(verifier: TokenVerifier, token: str) -> str:
    """The message a rejected token gets; it must never repeat the token."""
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    assert token not in caught.value.message
    return caught.value.message


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def test_a_valid_user_token_gives_its_subject_lowercase_roles_and_token_id(
    issuer: TestIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.mint(USER_ID, roles=("Admin", "auditor"))

    principal = verifier.verify(token)

    assert principal.subject == USER_ID
    assert principal.roles == frozenset({"admin", "auditor"})
    assert principal.service is None
    assert not principal.is_service
    assert principal.token_id == jwt.decode(token, options={"verify_signature": False})["jti"]


def test_a_service_token_names_the_calling_service(
    issuer: TestIssuer, verifier: TokenVerifier
) -> None:
    principal = verifier.verify(issuer.mint("auth", service="auth"))

    assert principal == Principal(subject="auth", service="auth", token_id=principal.token_id)
    assert principal.is_service


def test_a_service_claim_that_differs_from_the_subject_is_refused(
    issuer: TestIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.mint(USER_ID, service="auth")

    assert rejection(verifier, token) == "token svc claim does not match its subject"


@pytest.mark.parametrize(
    ("mint", "message"),
    [
        (lambda i: i.mint(USER_ID, expires_in=-120), "token expired"),
        (lambda i: i.mint(USER_ID, audience="someone-else"), "token audience is wrong"),
        (lambda i: i.mint(USER_ID, issuer="evil-auth"), "token issuer is wrong"),
        (lambda i: i.mint(USER_ID, key=i.unpublished_key()), "unknown signing key"),
        (
            lambda i: i.mint(USER_ID, kid=i.current_key.kid, key=i.unpublished_key()),
            "token signature is invalid",
        ),
        (lambda i: i.mint(USER_ID, extra_claims={"exp": None}), "token has no exp claim"),
        (lambda i: i.mint(USER_ID, extra_claims={"aud": None}), "token has no aud claim"),
        (lambda i: i.mint(USER_ID, extra_claims={"iat": None}), "token has no iat claim"),
        (lambda i: i.mint(USER_ID, extra_claims={"sub": None}), "token has no sub claim"),
        (
            lambda i: i.mint(USER_ID, extra_claims={"roles": "admin"}),
            "token roles claim must be a list of strings",
        ),
        (
            lambda i: i.mint(USER_ID, extra_claims={"roles": ["admin", 7]}),
            "token roles claim must be a list of strings",
        ),
        (lambda i: i.mint(USER_ID, extra_claims={"jti": 42}), "token jti claim is invalid"),
        (lambda i: "not-a-jwt", "token is malformed"),
    ],
    ids=[
        "expired",
        "wrong audience",
        "wrong issuer",
        "unknown kid",
        "signed by another key",
        "no exp",
        "no aud",
        "no iat",
        "no sub",
        "roles not a list",
        "roles not strings",
        "jti not a string",
        "garbage",
    ],
)
def test_an_invalid_token_is_refused_with_a_message_saying_what_is_wrong(
    issuer: TestIssuer,
    verifier: TokenVerifier,
    mint: Callable[[TestIssuer], str],
    message: str,
) -> None:
    assert rejection(verifier, mint(issuer)) == message


def test_a_tampered_payload_breaks_the_signature(
    issuer: TestIssuer, verifier: TokenVerifier
) -> None:
    header, _, signature = issuer.mint(USER_ID).split(".")
    claims = jwt.decode(issuer.mint(USER_ID), options={"verify_signature": False})
    forged = f"{header}.{b64(json.dumps({**claims, 'roles': ['admin']}).encode())}.{signature}"

    assert rejection(verifier, forged) == "token signature is invalid"


def test_a_token_expired_within_the_leeway_is_still_accepted(
    issuer: TestIssuer, verifier: TokenVerifier
) -> None:
    assert verifier.verify(issuer.mint(USER_ID, expires_in=-5)).subject == USER_ID


def test_an_unsigned_none_algorithm_token_is_refused(
    issuer: TestIssuer, verifier: TokenVerifier
) -> None:
    claims = jwt.decode(issuer.mint(USER_ID), options={"verify_signature": False})
    token = unsigned({"alg": "none", "typ": "JWT", "kid": issuer.current_key.kid}, claims) + "."

    assert rejection(verifier, token) == "token algorithm is not allowed"


def test_an_hmac_token_keyed_with_the_published_public_key_is_refused(
    issuer: TestIssuer, verifier: TokenVerifier
) -> None:
    # The classic algorithm confusion: HS256 "signed" with the public key anyone can read.
    public_pem = issuer.current_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(issuer.mint(USER_ID), options={"verify_signature": False})
    signing_input = unsigned({"alg": "HS256", "kid": issuer.current_key.kid}, claims)
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()

    assert rejection(verifier, f"{signing_input}.{b64(mac)}") == "token algorithm is not allowed"


def test_a_token_whose_algorithm_differs_from_its_keys_is_refused(
    issuer: TestIssuer, verifier: TokenVerifier
) -> None:
    # RS256 is allowed, but the kid names an EC key: the key decides the algorithm.
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(issuer.mint(USER_ID), options={"verify_signature": False})
    token = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": issuer.current_key.kid})

    assert rejection(verifier, token) == "token algorithm is not allowed"


def test_a_token_without_a_kid_is_refused(issuer: TestIssuer, verifier: TokenVerifier) -> None:
    claims = jwt.decode(issuer.mint(USER_ID), options={"verify_signature": False})
    token = jwt.encode(claims, issuer.current_key.private_key, algorithm="ES256")

    assert rejection(verifier, token) == "token has no kid"


@pytest.mark.parametrize("algorithms", [("none",), ("HS256",), ("ES256", "hs512"), ()])
def test_a_verifier_refuses_algorithm_lists_that_would_accept_forged_tokens(
    issuer: TestIssuer, algorithms: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="algorithm"):
        TokenVerifier(
            JwksSource.from_file(issuer.jwks_file),
            issuer="acme-auth",
            audience="acme",
            algorithms=algorithms,
        )


def test_settings_must_name_exactly_one_jwks_location(issuer: TestIssuer) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        TokenVerifier.from_settings(AuthSettings())
    with pytest.raises(ValueError, match="exactly one"):
        TokenVerifier.from_settings(
            AuthSettings(jwks_file=str(issuer.jwks_file), jwks_url="http://127.0.0.1:1/jwks")
        )

    verifier = TokenVerifier.from_settings(AuthSettings(jwks_file=str(issuer.jwks_file)))

    assert verifier.verify(issuer.mint(USER_ID)).subject == USER_ID


@pytest.mark.parametrize(
    ("metadata", "token"),
    [
        ((), None),
        ((("x-request-id", "r1"),), None),
        ((("authorization", "Bearer abc.def.ghi"),), "abc.def.ghi"),
        ((("authorization", "bearer   abc.def.ghi "),), "abc.def.ghi"),
    ],
)
def test_the_bearer_token_is_read_from_the_authorization_metadata(
    metadata: tuple[tuple[str, str], ...], token: str | None
) -> None:
    assert bearer_token(metadata) == token


@pytest.mark.parametrize(
    "metadata",
    [
        (("authorization", "Basic dXNlcjpwYXNz"),),
        (("authorization", "Bearer"),),
        (("authorization", "Bearer a b"),),
        (("authorization", "Bearer a"), ("authorization", "Bearer b")),
    ],
)
def test_authorization_metadata_that_is_not_one_bearer_token_is_refused(
    metadata: tuple[tuple[str, str], ...],
) -> None:
    with pytest.raises(Unauthenticated):
        bearer_token(metadata)


class FakeContext:
    """The part of grpc.ServicerContext the authentication interceptor reads."""

    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata


def test_the_caller_is_bound_for_the_handler_and_its_log_lines_then_unbound(
    issuer: TestIssuer, verifier: TokenVerifier
) -> None:
    seen: dict[str, Any] = {}

    def handler(request: object, context: object) -> str:
        seen["principal"] = current_principal()
        seen["log_context"] = structlog.contextvars.get_contextvars()
        return "response"

    context = FakeContext((("authorization", f"Bearer {issuer.mint(USER_ID)}"),))
    result = AuthenticationInterceptor(verifier).intercept(handler, None, context, "/x.S/M")

    assert result == "response"
    assert seen["principal"].subject == USER_ID
    assert seen["log_context"]["principal"] == USER_ID
    assert current_principal() is None
    assert "principal" not in structlog.contextvars.get_contextvars()


def test_a_call_without_credentials_reaches_the_handler_as_anonymous(
    verifier: TokenVerifier,
) -> None:
    seen: list[Principal | None] = []

    def handler(request: object, context: object) -> None:
        seen.append(current_principal())

    AuthenticationInterceptor(verifier).intercept(handler, None, FakeContext(()), "/x.S/M")

    assert seen == [None]


def test_a_call_with_a_bad_token_never_reaches_the_handler(
    issuer: TestIssuer, verifier: TokenVerifier
) -> None:
    calls: list[object] = []
    context = FakeContext((("authorization", f"Bearer {issuer.mint(USER_ID, expires_in=-99)}"),))

    with pytest.raises(Unauthenticated, match="token expired"):
        AuthenticationInterceptor(verifier).intercept(
            lambda request, ctx: calls.append(request), "request", context, "/x.S/M"
        )
    assert calls == []
