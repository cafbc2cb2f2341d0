"""The Auth Service's domain events, counted on a registry as its /metrics serves them:
sign-ins by outcome, refresh tokens reused, sessions revoked and why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from servicekit.errors import Unavailable
from services.auth.attempts import LoginThrottle, TooManyAttempts
from services.auth.domain import InvalidCredentials, InvalidRefreshToken, RefreshTokenReused
from services.auth.keys import KeyRotation, SigningKeys
from services.auth.metrics import AuthMetrics
from services.auth.service import AuthService
from services.auth.tokens import TokenIssuer
from tests.unit.auth._support import ADA, ADA_ID, PASSWORD, Clock, Sleeps
from tests.unit.auth.fakes import FakeAuthUnitOfWork, FakeUserDirectory


class Counts:
    """The domain series of a registry, by name and label value."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def logins(self, outcome: str) -> float | None:
        return self._registry.get_sample_value("acme_logins_total", {"outcome": outcome})

    def reused(self) -> float | None:
        return self._registry.get_sample_value("acme_refresh_token_reuse_detected_total")

    def revoked(self, reason: str) -> float | None:
        return self._registry.get_sample_value("acme_sessions_revoked_total", {"reason": reason})


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def counts(registry: CollectorRegistry) -> Counts:
    return Counts(registry)


@pytest.fixture
def counted(
    *,
    uow: FakeAuthUnitOfWork,
    users: FakeUserDirectory,
    keys: SigningKeys,
    issuer: TokenIssuer,
    clock: Clock,
    sleeps: Sleeps,
    registry: CollectorRegistry,
) -> AuthService:
    """The use cases, telling their events to the Prometheus counters on ``registry``."""
    service = AuthService(
        unit_of_work=lambda: uow,
        users=users,
        keys=keys,
        tokens=issuer,
        throttle=LoginThrottle(),
        rotation=KeyRotation(overlap=timedelta(minutes=20)),
        clock=clock,
        sleep=sleeps,
        events=AuthMetrics(registry),
    )
    service.ensure_signing_key()
    return service


def test_every_series_is_there_at_zero_before_any_event(
    counted: AuthService, counts: Counts
) -> None:
    assert [counts.logins(o) for o in ("succeeded", "failed", "locked")] == [0.0, 0.0, 0.0]
    assert counts.reused() == 0.0
    reasons = ("logout", "refresh_token_reused", "user_deleted", "password_changed")
    assert [counts.revoked(r) for r in reasons] == [0.0] * 4


def test_sign_ins_are_counted_by_outcome_and_a_locked_out_one_as_locked(
    counted: AuthService, counts: Counts
) -> None:
    counted.login(email=ADA, password=PASSWORD)
    for _ in range(5):  # the fifth failure locks this client out of the account
        with pytest.raises(InvalidCredentials):
            counted.login(email=ADA, password="wrong")
    with pytest.raises(TooManyAttempts):
        counted.login(email=ADA, password=PASSWORD)

    assert counts.logins("succeeded") == 1.0
    assert counts.logins("failed") == 5.0
    assert counts.logins("locked") == 1.0


def test_a_sign_in_the_user_service_could_not_judge_is_not_counted(
    counted: AuthService, counts: Counts, users: FakeUserDirectory
) -> None:
    users.available = False

    with pytest.raises(Unavailable):
        counted.login(email=ADA, password=PASSWORD)

    assert [counts.logins(o) for o in ("succeeded", "failed", "locked")] == [0.0, 0.0, 0.0]


def test_a_reused_refresh_token_is_counted_each_time_and_its_session_revoked_once(
    counted: AuthService, counts: Counts
) -> None:
    pair = counted.login(email=ADA, password=PASSWORD)
    counted.refresh(pair.refresh_token)

    for _ in range(2):
        with pytest.raises(RefreshTokenReused):
            counted.refresh(pair.refresh_token)

    assert counts.reused() == 2.0
    assert counts.revoked("refresh_token_reused") == 1.0


def test_a_logout_revokes_once_however_often_it_is_sent(
    counted: AuthService, counts: Counts
) -> None:
    pair = counted.login(email=ADA, password=PASSWORD)

    counted.logout(pair.refresh_token)
    counted.logout(pair.refresh_token)

    assert counts.revoked("logout") == 1.0


def test_sessions_ended_because_their_user_changed_are_counted_by_reason(
    counted: AuthService, counts: Counts, users: FakeUserDirectory, clock: Clock
) -> None:
    before_new_password = counted.login(email=ADA, password=PASSWORD)
    users.set_password(ADA_ID, "a brand new passphrase", at=clock.now)
    with pytest.raises(InvalidRefreshToken):
        counted.refresh(before_new_password.refresh_token)

    current = counted.login(email=ADA, password="a brand new passphrase")
    users.remove(ADA_ID)
    with pytest.raises(InvalidRefreshToken):
        counted.refresh(current.refresh_token)

    assert counts.revoked("password_changed") == 1.0
    assert counts.revoked("user_deleted") == 1.0
    assert counts.revoked("logout") == 0.0
