"""A verified token is remembered briefly: never past its exp, nor long after its key went."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from servicekit.auth import JwksSource, TokenVerifier
from servicekit.auth.jwks import write_jwks_file
from servicekit.auth.token_cache import VerifiedTokens
from servicekit.errors import Unauthenticated
from servicekit.testing.tokens import TestIssuer

USER_ID = "6f1c0a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f"
LEEWAY = 30


class Clock:
    """A wall clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def issuer(tmp_path: Path) -> TestIssuer:
    return TestIssuer(tmp_path)


@pytest.fixture
def source(issuer: TestIssuer) -> JwksSource:
    return JwksSource.from_file(issuer.jwks_file, min_refresh_interval=0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def verifier_for(
    source: JwksSource, clock: Clock, *, cache_size: int = 100, cache_max_age: float = 60.0
) -> TokenVerifier:
    return TokenVerifier(
        source,
        issuer="acme-auth",
        audience="acme",
        leeway=LEEWAY,
        cache_size=cache_size,
        cache_max_age=cache_max_age,
        clock=clock,
    )


def withdraw_every_key(issuer: TestIssuer, source: JwksSource) -> None:
    """The auth service publishes a key set without any of the keys signed with so far."""
    stranger = TestIssuer(issuer.jwks_file.parent / "other")
    write_jwks_file(issuer.jwks_file, stranger.jwks()["keys"])
    source.refresh()


def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    return caught.value.message


def test_a_token_verified_once_is_accepted_again_while_its_entry_is_young(
    issuer: TestIssuer, source: JwksSource, clock: Clock
) -> None:
    verifier = verifier_for(source, clock)
    token = issuer.mint(USER_ID, roles=("admin",))
    first = verifier.verify(token)
    withdraw_every_key(issuer, source)
    clock.advance(59)

    assert verifier.verify(token) == first
    assert refusal(verifier, issuer.mint(USER_ID)) == "unknown signing key"


def test_a_token_whose_key_was_withdrawn_is_refused_once_its_entry_is_older_than_max_age(
    issuer: TestIssuer, source: JwksSource, clock: Clock
) -> None:
    verifier = verifier_for(source, clock)
    token = issuer.mint(USER_ID)
    verifier.verify(token)
    withdraw_every_key(issuer, source)
    clock.advance(60)

    assert refusal(verifier, token) == "unknown signing key"


def test_a_remembered_token_is_refused_as_expired_once_its_exp_and_the_leeway_pass(
    issuer: TestIssuer, source: JwksSource, clock: Clock
) -> None:
    verifier = verifier_for(source, clock)
    token = issuer.mint(USER_ID, expires_in=10)
    verifier.verify(token)

    clock.advance(10 + LEEWAY - 1)
    assert verifier.verify(token).subject == USER_ID
    clock.advance(2)
    assert refusal(verifier, token) == "token expired"


def test_the_least_recently_used_token_is_forgotten_beyond_the_size_bound(
    issuer: TestIssuer, source: JwksSource, clock: Clock
) -> None:
    verifier = verifier_for(source, clock, cache_size=2)
    first, second, third = (issuer.mint(f"user-{n}") for n in range(3))
    verifier.verify(first)
    verifier.verify(second)
    verifier.verify(first)  # now the most recently used: second goes next
    verifier.verify(third)
    withdraw_every_key(issuer, source)

    assert verifier.verify(first).subject == "user-0"
    assert verifier.verify(third).subject == "user-2"
    assert refusal(verifier, second) == "unknown signing key"


def test_a_refused_token_is_not_remembered(
    issuer: TestIssuer, source: JwksSource, clock: Clock
) -> None:
    verifier = verifier_for(source, clock)
    unpublished = issuer.unpublished_key()
    token = issuer.mint(USER_ID, key=unpublished)
    assert refusal(verifier, token) == "unknown signing key"

    write_jwks_file(issuer.jwks_file, [*issuer.jwks()["keys"], unpublished.public_jwk()])
    source.refresh()

    assert verifier.verify(token).subject == USER_ID


def test_a_max_age_of_zero_verifies_every_call(
    issuer: TestIssuer, source: JwksSource, clock: Clock
) -> None:
    verifier = verifier_for(source, clock, cache_max_age=0)
    token = issuer.mint(USER_ID)
    verifier.verify(token)
    withdraw_every_key(issuer, source)

    assert refusal(verifier, token) == "unknown signing key"


def test_an_entry_from_the_future_of_a_clock_that_stepped_back_is_not_trusted(
    issuer: TestIssuer, source: JwksSource, clock: Clock
) -> None:
    verifier = verifier_for(source, clock)
    token = issuer.mint(USER_ID)
    verifier.verify(token)
    withdraw_every_key(issuer, source)
    clock.advance(-3600)

    assert refusal(verifier, token) == "unknown signing key"


def test_negative_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        VerifiedTokens(max_entries=-1)
