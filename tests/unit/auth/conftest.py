"""Use cases of the Auth Service on the in-memory fakes, with a clock the tests move.

The clock starts at the real time: access tokens are checked by the real
``servicekit.auth.TokenVerifier``, which compares ``exp`` with the real time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from servicekit.auth import JwksSource, Principal, TokenVerifier
from services.auth.attempts import LoginThrottle
from services.auth.domain import SessionLifetimes
from services.auth.key_management import stored_signing_keys
from services.auth.keys import KeyEncryption, KeyRotation, SigningKeys
from services.auth.service import AuthService
from services.auth.tokens import TokenIssuer
from tests.unit.auth._support import (
    ADA,
    ADA_ID,
    AUDIENCE,
    ISSUER,
    PASSWORD,
    SECRET,
    Clock,
    Sleeps,
    Verify,
)
from tests.unit.auth.fakes import FakeAuthUnitOfWork, FakeUserDirectory


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def uow() -> FakeAuthUnitOfWork:
    return FakeAuthUnitOfWork()


@pytest.fixture
def users() -> FakeUserDirectory:
    directory = FakeUserDirectory()
    directory.add(ADA, PASSWORD, roles=("Admin",), user_id=ADA_ID)
    return directory


@pytest.fixture
def keys(uow: FakeAuthUnitOfWork, clock: Clock) -> SigningKeys:
    """No caching: every use reads the store, so tests see each change at once."""
    return SigningKeys(
        stored_signing_keys(lambda: uow),
        encryption=KeyEncryption(SECRET),
        cache_for=timedelta(0),
        clock=clock,
    )


@pytest.fixture
def issuer(keys: SigningKeys, clock: Clock) -> TokenIssuer:
    return TokenIssuer(
        keys, issuer=ISSUER, audience=AUDIENCE, ttl=timedelta(minutes=15), clock=clock
    )


@pytest.fixture
def build_service(
    uow: FakeAuthUnitOfWork,
    users: FakeUserDirectory,
    *,
    keys: SigningKeys,
    issuer: TokenIssuer,
    clock: Clock,
    sleeps: Sleeps,
) -> Callable[[LoginThrottle], AuthService]:
    """The use cases over the fixtures, with the sign-in throttle a test chooses."""

    def build(throttle: LoginThrottle) -> AuthService:
        built = AuthService(
            unit_of_work=lambda: uow,
            users=users,
            keys=keys,
            tokens=issuer,
            throttle=throttle,
            lifetimes=SessionLifetimes(
                refresh_token_ttl=timedelta(days=1), session_ttl=timedelta(days=3)
            ),
            rotation=KeyRotation(overlap=timedelta(minutes=20)),
            clock=clock,
            sleep=sleeps,
        )
        built.ensure_signing_key()
        return built

    return build


@pytest.fixture
def service(build_service: Callable[[LoginThrottle], AuthService]) -> AuthService:
    return build_service(LoginThrottle())


@pytest.fixture
def verify(service: AuthService) -> Verify:
    """Checks a token as every other service does: TokenVerifier over the JWKS that
    GetJwks publishes at the time of the call."""

    def check(token: str) -> Principal:
        source = JwksSource(
            lambda: json.dumps({"keys": service.jwks()}),
            description="auth service under test",
            min_refresh_interval=0,
        )
        return TokenVerifier(source, issuer=ISSUER, audience=AUDIENCE).verify(token)

    return check
