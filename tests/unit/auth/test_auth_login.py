"""Login: tokens for the right credentials, one answer for every wrong pair, and brute-force
protection that slows, then refuses, whether or not the email belongs to anyone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from acme.auth.v1 import auth_service_pb2 as pb
from servicekit.errors import Unavailable
from servicekit.grpc.context import bind_client, reset_client
from services.auth.attempts import AttemptKeys, LoginThrottle, TooManyAttempts
from services.auth.domain import InvalidCredentials
from services.auth.handlers import AuthServiceHandlers
from services.auth.service import AuthService
from services.auth.throttling import LoginAttemptCounter
from services.auth.tokens import refresh_token_hash
from tests.unit.auth._support import ADA, PASSWORD, Clock, Sleeps, Verify
from tests.unit.auth.fakes import FakeAuthUnitOfWork, FakeUserDirectory

WINDOW = LoginThrottle().window
LOCKOUT = LoginThrottle().lockout


def attempt(service: AuthService, email: str, password: str, client: str = "") -> str:
    """What a caller sees of one sign-in: its outcome as one word, or the error's message."""
    try:
        service.login(email=email, password=password, client=client)
    except InvalidCredentials as exc:
        return f"invalid: {exc.message}"
    except TooManyAttempts as exc:
        return f"refused for {exc.retry_after}s: {exc.message}"
    return "signed in"


def test_the_right_credentials_give_tokens_for_the_user_with_their_roles(
    service: AuthService, users: FakeUserDirectory, verify: Verify, clock: Clock
) -> None:
    pair = service.login(email="ADA@example.org", password=PASSWORD)

    principal = verify(pair.access_token)
    assert principal.subject == "00000000-0000-4000-8000-00000000000a"
    assert principal.roles == frozenset({"admin"})
    assert not principal.is_service
    assert principal.token_id
    assert pair.access_token_expires_at == clock.now + timedelta(minutes=15)
    assert pair.refresh_token_expires_at == clock.now + timedelta(days=1)


def test_only_the_hash_of_the_refresh_token_is_stored(
    service: AuthService, uow: FakeAuthUnitOfWork
) -> None:
    pair = service.login(email=ADA, password=PASSWORD)

    assert list(uow.refresh_tokens.rows) == [refresh_token_hash(pair.refresh_token)]
    assert pair.refresh_token not in repr(uow.refresh_tokens.rows)
    assert len(pair.refresh_token) >= 43  # 32 random bytes
    assert pair.refresh_token not in repr(pair)


def test_each_login_starts_its_own_session(service: AuthService, verify: Verify) -> None:
    first = service.login(email=ADA, password=PASSWORD)
    second = service.login(email=ADA, password=PASSWORD)

    assert first.session_id != second.session_id
    assert first.refresh_token != second.refresh_token
    assert verify(first.access_token).token_id != verify(second.access_token).token_id


def test_an_unknown_email_and_a_wrong_password_give_the_same_error(service: AuthService) -> None:
    assert attempt(service, "nobody@example.org", PASSWORD) == "invalid: invalid credentials"
    assert attempt(service, ADA, "wrong") == "invalid: invalid credentials"


def test_failures_are_slowed_from_the_third_then_refused_without_asking_the_users(
    service: AuthService, users: FakeUserDirectory, sleeps: Sleeps
) -> None:
    outcomes = [attempt(service, ADA, "wrong") for _ in range(5)]
    assert sleeps.delays == [1.0, 2.0, 4.0]  # the 3rd, 4th and 5th failures
    asked = users.calls

    refused = attempt(service, ADA, PASSWORD)  # even the right password, now

    assert outcomes == ["invalid: invalid credentials"] * 5
    assert refused == (
        f"refused for {LOCKOUT.total_seconds()}s: too many failed sign-in attempts; try again later"
    )
    assert users.calls == asked


def test_an_unknown_email_is_slowed_and_locked_exactly_like_a_known_one(
    service: AuthService, sleeps: Sleeps, clock: Clock
) -> None:
    def story(email: str) -> tuple[list[str], list[float]]:
        sleeps.delays.clear()
        outcomes = []
        for _ in range(7):
            outcomes.append(attempt(service, email, "wrong"))
            clock.advance(timedelta(seconds=10))
        return outcomes, list(sleeps.delays)

    assert story(ADA) == story("nobody@example.org")


def test_the_retry_after_counts_down_and_the_lock_ends_after_the_lockout(
    service: AuthService, clock: Clock
) -> None:
    for _ in range(5):
        attempt(service, ADA, "wrong")

    clock.advance(LOCKOUT - timedelta(minutes=1))
    with pytest.raises(TooManyAttempts) as refused:
        service.login(email=ADA, password=PASSWORD)
    clock.advance(timedelta(minutes=1))

    assert refused.value.retry_after == 60.0
    assert attempt(service, ADA, PASSWORD) == "signed in"


def test_after_the_lock_ends_the_count_starts_again(
    service: AuthService, clock: Clock, sleeps: Sleeps
) -> None:
    for _ in range(5):
        attempt(service, ADA, "wrong")
    clock.advance(LOCKOUT)
    sleeps.delays.clear()

    outcomes = [attempt(service, ADA, "wrong") for _ in range(2)]

    assert outcomes == ["invalid: invalid credentials"] * 2
    assert sleeps.delays == []


def test_a_success_resets_the_count(service: AuthService, sleeps: Sleeps) -> None:
    for _ in range(4):
        attempt(service, ADA, "wrong")
    assert attempt(service, ADA, PASSWORD) == "signed in"
    sleeps.delays.clear()

    outcomes = [attempt(service, ADA, "wrong") for _ in range(4)]

    assert outcomes == ["invalid: invalid credentials"] * 4
    assert sleeps.delays == [1.0, 2.0]


def test_failures_older_than_the_window_are_forgotten(
    service: AuthService, clock: Clock, sleeps: Sleeps
) -> None:
    for _ in range(4):
        attempt(service, ADA, "wrong")
    clock.advance(WINDOW)
    sleeps.delays.clear()

    outcomes = [attempt(service, ADA, "wrong") for _ in range(4)]

    assert "refused" not in " ".join(outcomes)
    assert sleeps.delays == [1.0, 2.0]


def test_every_spelling_of_an_email_counts_against_the_same_account(
    service: AuthService,
) -> None:
    for spelling in (
        "ada@example.org",
        "ADA@example.org",
        "Ada@Example.org",
        "\uff21da@example.org",
    ):
        attempt(service, spelling, "wrong")
    attempt(service, "ADA@EXAMPLE.ORG", "wrong")

    assert attempt(service, ADA, PASSWORD).startswith("refused")
    assert attempt(service, "eve@example.org", "wrong") == "invalid: invalid credentials"


def test_an_outage_of_the_user_service_is_not_counted_as_a_failure(
    service: AuthService, users: FakeUserDirectory, sleeps: Sleeps
) -> None:
    users.available = False
    for _ in range(6):
        with pytest.raises(Unavailable):
            service.login(email=ADA, password=PASSWORD)
    users.available = True

    assert attempt(service, ADA, PASSWORD) == "signed in"
    assert sleeps.delays == []


def test_a_failed_login_leaves_no_session(service: AuthService, uow: FakeAuthUnitOfWork) -> None:
    attempt(service, ADA, "wrong")

    assert uow.sessions.rows == {}
    assert uow.refresh_tokens.rows == {}


def test_the_throttle_refuses_inconsistent_rules() -> None:
    with pytest.raises(ValueError, match="slow_after"):
        LoginThrottle(max_failures=2, slow_after=3)
    with pytest.raises(ValueError, match="max_account_failures"):
        LoginThrottle(max_failures=5, max_account_failures=4)
    with pytest.raises(ValueError, match="positive"):
        LoginThrottle(lockout=timedelta(0))
    with pytest.raises(ValueError, match="slowdown"):
        LoginThrottle(slowdown=timedelta(seconds=5), max_slowdown=timedelta(seconds=1))


ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def test_a_client_locked_out_of_an_account_leaves_the_other_clients_signing_in(
    service: AuthService, users: FakeUserDirectory
) -> None:
    for _ in range(5):
        attempt(service, ADA, "wrong", client=ATTACKER)

    assert attempt(service, ADA, PASSWORD, client=ATTACKER).startswith("refused for 900.0s")
    assert attempt(service, ADA, PASSWORD, client=OWNER) == "signed in"
    assert attempt(service, ADA, PASSWORD, client=ATTACKER).startswith("refused for 900.0s")


def test_failures_from_many_clients_together_lock_the_account_for_everyone(
    build_service: Callable[[LoginThrottle], AuthService], users: FakeUserDirectory
) -> None:
    service = build_service(LoginThrottle(max_failures=3, max_account_failures=6))
    for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        for _ in range(2):
            attempt(service, ADA, "wrong", client=client)
    asked = users.calls

    outcome = attempt(service, ADA, PASSWORD, client=OWNER)

    assert outcome == (
        f"refused for {LOCKOUT.total_seconds()}s: too many failed sign-in attempts; try again later"
    )
    assert users.calls == asked


def test_parallel_correct_sign_ins_are_never_locked_out_and_count_no_failure(
    build_service: Callable[[LoginThrottle], AuthService],
    users: FakeUserDirectory,
    sleeps: Sleeps,
) -> None:
    service = build_service(LoginThrottle())
    for _ in range(2):
        attempt(service, ADA, "typo", client=OWNER)  # two failures so far
    users.meanwhile = [lambda: attempt(service, ADA, PASSWORD, client=OWNER)] * 3

    first = attempt(service, ADA, PASSWORD, client=OWNER)  # and three more meanwhile

    # With two failures, three attempts in progress could still all fail: the fourth is
    # asked to wait a moment, not locked out for the lockout's 15 minutes.
    assert sorted([first, *users.outcomes]) == [
        "refused for 1.0s: too many sign-in attempts in progress; try again shortly",
        *["signed in"] * 3,
    ]
    sleeps.delays.clear()
    outcomes = [attempt(service, ADA, "wrong", client=OWNER) for _ in range(4)]
    assert outcomes == ["invalid: invalid credentials"] * 4  # the successes forgot the typos
    assert sleeps.delays == [1.0, 2.0]


def test_parallel_guesses_never_get_past_the_limit(
    build_service: Callable[[LoginThrottle], AuthService], users: FakeUserDirectory
) -> None:
    service = build_service(LoginThrottle())
    users.meanwhile = [lambda: attempt(service, ADA, "guess", client=ATTACKER)] * 7

    first = attempt(service, ADA, "guess", client=ATTACKER)

    outcomes = [first, *users.outcomes]
    assert outcomes.count("invalid: invalid credentials") == 5
    assert users.calls == 5
    assert attempt(service, ADA, PASSWORD, client=ATTACKER).startswith("refused for 900.0s")


def test_a_sign_in_that_never_reports_back_stops_counting_after_the_attempt_timeout(
    build_service: Callable[[LoginThrottle], AuthService],
    uow: FakeAuthUnitOfWork,
    clock: Clock,
) -> None:
    throttle = LoginThrottle(attempt_timeout=timedelta(seconds=30))
    service = build_service(throttle)
    counter = LoginAttemptCounter(unit_of_work=lambda: uow, throttle=throttle, clock=clock)
    for _ in range(5):  # five attempts admitted whose process died before the answer
        counter.admit(AttemptKeys.of(ADA, OWNER))
    assert attempt(service, ADA, PASSWORD, client=OWNER).startswith("refused for 1.0s")

    clock.advance(timedelta(seconds=30))

    assert attempt(service, ADA, PASSWORD, client=OWNER) == "signed in"
    assert uow.login_attempts.rows == {}


def test_the_client_of_a_call_reaches_the_throttle_through_the_handler(
    service: AuthService,
) -> None:
    handlers = AuthServiceHandlers(service)
    request = pb.LoginRequest(email=ADA, password="wrong")
    token = bind_client(ATTACKER)
    try:
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                handlers.Login(request, None)
        with pytest.raises(TooManyAttempts):
            handlers.Login(pb.LoginRequest(email=ADA, password=PASSWORD), None)
    finally:
        reset_client(token)
    token = bind_client(OWNER)
    try:
        assert handlers.Login(pb.LoginRequest(email=ADA, password=PASSWORD), None).tokens
    finally:
        reset_client(token)
