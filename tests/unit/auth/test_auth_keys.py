"""Signing keys: encrypted at rest, published as a JWKS, rotated with an overlap in which
tokens signed by the old key still verify everywhere."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from servicekit.errors import Unauthenticated, Unavailable
from services.auth.domain import NoSigningKey, SigningKey
from services.auth.key_management import stored_signing_keys
from services.auth.keys import KeyEncryption, KeyRing, KeyRotation, SigningKeys, public_jwk
from services.auth.service import AuthService
from services.auth.tokens import TokenIssuer
from tests.unit.auth._support import ADA, AUDIENCE, ISSUER, PASSWORD, SECRET, Clock, Verify
from tests.unit.auth.fakes import FakeAuthUnitOfWork, FakeUserDirectory

OVERLAP = timedelta(minutes=20)  # the service fixture's


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


def test_the_first_start_creates_one_key_and_later_starts_keep_it(
    service: AuthService, uow: FakeAuthUnitOfWork
) -> None:
    first = list(uow.signing_keys.rows)

    kid = service.ensure_signing_key()

    assert [kid] == first == list(uow.signing_keys.rows)


def test_the_published_key_is_an_es256_public_jwk_named_by_its_thumbprint(
    service: AuthService,
) -> None:
    (jwk,) = service.jwks()

    assert {name: jwk[name] for name in ("kty", "crv", "use", "alg")} == {
        "kty": "EC",
        "crv": "P-256",
        "use": "sig",
        "alg": "ES256",
    }
    assert len(base64.urlsafe_b64decode(jwk["x"] + "=")) == 32
    assert len(base64.urlsafe_b64decode(jwk["y"] + "=")) == 32
    assert "d" not in jwk  # never the private part
    assert len(jwk["kid"]) == 43  # base64url SHA-256 (RFC 7638)


def test_the_kid_is_the_rfc_7638_thumbprint_of_the_public_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwk = public_jwk(key)
    canonical = f'{{"crv":"P-256","kty":"EC","x":"{jwk["x"]}","y":"{jwk["y"]}"}}'

    digest = hashlib.sha256(canonical.encode()).digest()
    assert jwk["kid"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_private_keys_are_stored_encrypted(uow: FakeAuthUnitOfWork, service: AuthService) -> None:
    (stored,) = uow.signing_keys.rows.values()

    assert stored.private_key_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert "private_key_pem" not in repr(stored)
    assert KeyEncryption(SECRET).decrypt(stored.private_key_pem) is not None
    with pytest.raises(ValueError, match=r"password|decrypt"):
        KeyEncryption(b"another secret").decrypt(stored.private_key_pem)


def test_tokens_name_the_key_that_signed_them(service: AuthService, verify: Verify) -> None:
    pair = service.login(email=ADA, password=PASSWORD)

    assert kid_of(pair.access_token) == service.jwks()[0]["kid"]
    assert verify(pair.access_token).subject


def test_after_a_rotation_the_new_key_signs_and_both_are_published(
    service: AuthService,
) -> None:
    old = service.ensure_signing_key()

    new = service.rotate_keys()

    pair = service.login(email=ADA, password=PASSWORD)
    assert kid_of(pair.access_token) == new.kid
    assert [jwk["kid"] for jwk in service.jwks()] == [new.kid, old]


def test_a_token_of_the_old_key_verifies_during_the_overlap_and_not_after(
    service: AuthService, verify: Verify, clock: Clock
) -> None:
    old_token = service.login(email=ADA, password=PASSWORD).access_token
    service.rotate_keys()

    clock.advance(OVERLAP - timedelta(seconds=1))
    assert verify(old_token).subject  # still published
    clock.advance(timedelta(seconds=1))

    with pytest.raises(Unauthenticated, match="unknown signing key"):
        verify(old_token)
    assert len(service.jwks()) == 1


def test_a_second_rotation_drops_keys_retired_before_it(
    service: AuthService, uow: FakeAuthUnitOfWork, clock: Clock
) -> None:
    first = service.ensure_signing_key()
    second = service.rotate_keys()
    clock.advance(OVERLAP)

    third = service.rotate_keys()

    assert first not in uow.signing_keys.rows
    assert set(uow.signing_keys.rows) == {second.kid, third.kid}
    assert uow.signing_keys.rows[second.kid].retire_at == clock.now + OVERLAP


def test_a_new_key_can_be_published_before_it_signs(
    uow: FakeAuthUnitOfWork, keys: SigningKeys, issuer: TokenIssuer, clock: Clock
) -> None:
    delay = timedelta(minutes=2)
    service = AuthService(
        unit_of_work=lambda: uow,
        users=FakeUserDirectory(),
        keys=keys,
        tokens=issuer,
        rotation=KeyRotation(overlap=OVERLAP, activation_delay=delay),
        clock=clock,
    )
    old = service.ensure_signing_key()

    new = service.rotate_keys()

    assert [jwk["kid"] for jwk in service.jwks()] == [new.kid, old]
    assert keys.signing_kid(clock.now) == old
    clock.advance(delay)
    assert keys.signing_kid(clock.now) == new.kid
    assert uow.signing_keys.rows[old].retire_at == clock.now + OVERLAP


def test_an_overlap_shorter_than_a_token_can_outlive_its_key_is_refused(
    uow: FakeAuthUnitOfWork, keys: SigningKeys, issuer: TokenIssuer
) -> None:
    with pytest.raises(ValueError, match="overlap"):
        AuthService(
            unit_of_work=lambda: uow,
            users=FakeUserDirectory(),
            keys=keys,
            tokens=issuer,
            rotation=KeyRotation(overlap=timedelta(minutes=15)),  # the access token ttl
        )


def test_without_a_key_login_is_unavailable_and_counts_no_attempt(
    uow: FakeAuthUnitOfWork, keys: SigningKeys, issuer: TokenIssuer, users: FakeUserDirectory
) -> None:
    service = AuthService(unit_of_work=lambda: uow, users=users, keys=keys, tokens=issuer)

    with pytest.raises(NoSigningKey) as unavailable:
        service.login(email=ADA, password=PASSWORD)

    assert isinstance(unavailable.value, Unavailable)
    assert uow.login_attempts.rows == {}
    assert users.calls == 0
    assert service.jwks() == []


def test_a_key_stored_under_another_secret_cannot_sign(
    service: AuthService, uow: FakeAuthUnitOfWork, clock: Clock
) -> None:
    keys = SigningKeys(
        stored_signing_keys(lambda: uow), encryption=KeyEncryption(b"wrong secret"), clock=clock
    )
    issuer = TokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE)

    with pytest.raises(NoSigningKey):
        issuer.mint_service_token("auth")


def test_keys_are_read_again_only_after_the_cache_time(
    service: AuthService, uow: FakeAuthUnitOfWork, clock: Clock
) -> None:
    reads: list[datetime] = []

    def load() -> list[SigningKey]:
        reads.append(clock.now)
        return uow.signing_keys.list_all()

    keys = SigningKeys(
        load, encryption=KeyEncryption(SECRET), cache_for=timedelta(seconds=30), clock=clock
    )
    for _ in range(3):
        keys.signing_kid(clock.now)
    clock.advance(timedelta(seconds=30))
    keys.signing_kid(clock.now)
    keys.invalidate()
    keys.signing_kid(clock.now)

    assert len(reads) == 3


def test_the_key_ring_signs_with_the_newest_active_key_only(
    service: AuthService, uow: FakeAuthUnitOfWork, clock: Clock
) -> None:
    service.rotate_keys()
    ring = KeyRing(uow.signing_keys.list_all())

    assert ring.signing_key(clock.now).kid == ring.keys[0].kid
    assert ring.published(clock.now + OVERLAP) == [ring.keys[0]]
    with pytest.raises(NoSigningKey):
        KeyRing([]).signing_key(clock.now)


def test_known_keys_keep_serving_while_the_store_cannot_be_read(
    service: AuthService, uow: FakeAuthUnitOfWork, clock: Clock
) -> None:
    down = False

    def load() -> list[SigningKey]:
        if down:
            raise Unavailable("database unavailable")
        return uow.signing_keys.list_all()

    keys = SigningKeys(load, encryption=KeyEncryption(SECRET), cache_for=timedelta(0), clock=clock)
    kid = keys.signing_kid(clock.now)
    down = True

    assert keys.signing_kid(clock.now) == kid
    keys.invalidate()
    with pytest.raises(Unavailable):
        keys.signing_kid(clock.now)
