"""The use cases on real databases: sessions, rotation, reuse and keys survive storage."""

from __future__ import annotations

import json

import pytest

from servicekit.auth import JwksSource, TokenVerifier
from services.auth.attempts import TooManyAttempts
from services.auth.domain import InvalidRefreshToken, RefreshTokenReused
from services.auth.service import AuthService
from tests.integration.auth.conftest import PASSWORD

ADA = "ada@example.org"


def verifier(service: AuthService) -> TokenVerifier:
    source = JwksSource(
        lambda: json.dumps({"keys": service.jwks()}), description="test", min_refresh_interval=0
    )
    return TokenVerifier(source, issuer="acme-auth", audience="acme")


def test_a_login_refresh_and_logout_round_trip(auth_service: AuthService) -> None:
    pair = auth_service.login(email=ADA, password=PASSWORD)
    renewed = auth_service.refresh(pair.refresh_token)

    principal = verifier(auth_service).verify(renewed.access_token)
    auth_service.logout(renewed.refresh_token)

    assert principal.roles == frozenset({"admin", "auditor"})
    assert renewed.session_id == pair.session_id
    assert renewed.refresh_token_expires_at.tzinfo is not None
    with pytest.raises(InvalidRefreshToken):
        auth_service.refresh(renewed.refresh_token)


def test_reuse_revokes_the_family_in_the_database(auth_service: AuthService) -> None:
    pair = auth_service.login(email=ADA, password=PASSWORD)
    renewed = auth_service.refresh(pair.refresh_token)

    with pytest.raises(RefreshTokenReused):
        auth_service.refresh(pair.refresh_token)
    with pytest.raises(InvalidRefreshToken):
        auth_service.refresh(renewed.refresh_token)


def test_the_lockout_is_kept_in_the_database(auth_service: AuthService) -> None:
    for _ in range(5):
        with pytest.raises(Exception, match="invalid credentials"):
            auth_service.login(email="nobody@example.org", password="guess")

    with pytest.raises(TooManyAttempts):
        auth_service.login(email="NOBODY@example.org", password="guess")


def test_rotated_keys_are_stored_and_verify_tokens_of_both(auth_service: AuthService) -> None:
    old = auth_service.login(email=ADA, password=PASSWORD).access_token
    auth_service.rotate_keys()
    new = auth_service.login(email=ADA, password=PASSWORD).access_token

    check = verifier(auth_service)

    assert len(auth_service.jwks()) == 2
    assert check.verify(old).subject == check.verify(new).subject
