"""Races the database decides: one refresh token, two refreshes; a burst of guesses; a
burst of correct sign-ins.

These tests commit for real (separate sessions on separate threads), so each one runs on a
fresh database of its own rather than in a rolled-back session.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import UTC, datetime

import pytest

from servicekit.config import Secret
from servicekit.db import Database, DatabaseSettings, upgrade
from servicekit.errors import ServiceError
from services.auth.attempts import AttemptKeys, AttemptsInProgress, LoginThrottle, TooManyAttempts
from services.auth.domain import InvalidCredentials, InvalidRefreshToken, RefreshTokenReused
from services.auth.models import MIGRATIONS_DIR
from services.auth.ports import VerifiedUser
from services.auth.service import AuthService, TokenPair
from services.auth.tokens import refresh_token_hash
from services.auth.unit_of_work import SqlAlchemyAuthUnitOfWork
from tests.integration.auth.conftest import PASSWORD, build_service
from tests.unit.auth.fakes import FakeUserDirectory


class CountingDirectory(FakeUserDirectory):
    """Counts, thread-safely, how many attempts reached the user service."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.asked = 0

    def verify(self, email: str, password: str) -> VerifiedUser:
        with self._lock:
            self.asked += 1
        return super().verify(email, password)


@pytest.fixture
def database(empty_database_url: str) -> Iterator[Database]:
    upgrade(empty_database_url, MIGRATIONS_DIR)
    settings = DatabaseSettings(url=Secret(empty_database_url), pool_timeout_seconds=10.0)
    opened = Database(settings, pool_size=10)
    yield opened
    opened.dispose()


@pytest.fixture
def directory() -> CountingDirectory:
    users = CountingDirectory()
    users.add("ada@example.org", PASSWORD)
    return users


@pytest.fixture
def service(database: Database, directory: CountingDirectory) -> AuthService:
    return build_service(lambda: SqlAlchemyAuthUnitOfWork(database), directory)


def outcome(call: object) -> str:
    return call.__class__.__name__


@pytest.mark.parametrize("round_", range(5))
def test_of_two_concurrent_refreshes_with_one_token_exactly_one_wins(
    service: AuthService, round_: int
) -> None:
    pair = service.login(email="ada@example.org", password=PASSWORD)
    start = threading.Barrier(2)

    def refresh() -> TokenPair | ServiceError:
        start.wait()
        try:
            return service.refresh(pair.refresh_token)
        except ServiceError as refused:
            return refused

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: refresh(), range(2)))

    assert sorted(outcome(result) for result in results) == ["RefreshTokenReused", "TokenPair"]
    (winner,) = [result for result in results if isinstance(result, TokenPair)]
    with pytest.raises(InvalidRefreshToken):  # the reuse ended the session, winner included
        service.refresh(winner.refresh_token)


def test_a_refresh_waiting_on_an_uncommitted_claim_of_its_token_is_reuse(
    service: AuthService, database: Database
) -> None:
    pair = service.login(email="ada@example.org", password=PASSWORD)
    presented = refresh_token_hash(pair.refresh_token)

    with ThreadPoolExecutor(max_workers=1) as pool, SqlAlchemyAuthUnitOfWork(database) as first:
        assert first.refresh_tokens.claim(presented, datetime.now(UTC), "f" * 64)
        second = pool.submit(service.refresh, pair.refresh_token)
        time.sleep(0.3)
        assert not second.done()  # it waits for the first claim's transaction
        first.commit()
        assert isinstance(second.exception(timeout=10), RefreshTokenReused)


def test_a_burst_of_parallel_guesses_reaches_the_user_service_only_max_failures_times(
    service: AuthService, directory: CountingDirectory
) -> None:
    start = threading.Barrier(12)

    def guess(n: int) -> str:
        start.wait()
        try:
            service.login(email="ada@example.org", password=f"guess {n}")
        except TooManyAttempts:  # locked out, or refused while the others were checked
            return "TooManyAttempts"
        except InvalidCredentials as refused:
            return outcome(refused)
        return "signed in"

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(guess, range(12)))

    assert directory.asked == 5
    assert sorted(results) == ["InvalidCredentials"] * 5 + ["TooManyAttempts"] * 7
    with pytest.raises(TooManyAttempts):
        service.login(email="ada@example.org", password=PASSWORD)
    assert not any(isinstance(result, RefreshTokenReused) for result in results)


class HoldingDirectory(CountingDirectory):
    """Holds every check of the right password until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = threading.Semaphore(0)
        self.release = threading.Event()

    def verify(self, email: str, password: str) -> VerifiedUser:
        if password == PASSWORD:
            self.inside.release()
            self.release.wait(10)
        return super().verify(email, password)


def test_parallel_correct_sign_ins_are_not_locked_out_and_count_no_failure(
    database: Database,
) -> None:
    directory = HoldingDirectory()
    directory.add("ada@example.org", PASSWORD)
    service = build_service(lambda: SqlAlchemyAuthUnitOfWork(database), directory)
    for _ in range(2):  # two typos first: three attempts in progress could still all fail
        with pytest.raises(InvalidCredentials):
            service.login(email="ada@example.org", password="typo", client="198.51.100.7")
    start = threading.Barrier(4)

    def sign_in(_: int) -> TokenPair | ServiceError:
        start.wait()
        try:
            return service.login(email="ada@example.org", password=PASSWORD, client="198.51.100.7")
        except ServiceError as refused:
            return refused

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(sign_in, n) for n in range(4)]
        for _ in range(3):  # three are being checked at once...
            assert directory.inside.acquire(timeout=10)
        done, _ = wait(futures, timeout=10, return_when=FIRST_COMPLETED)
        (first,) = [future.result() for future in done]  # ...while the fourth was answered
        directory.release.set()
        results = [future.result(timeout=10) for future in futures]

    # A moment to wait, not the 15-minute lockout; the others signed in.
    assert isinstance(first, AttemptsInProgress)
    assert first.retry_after == 1.0
    assert (
        sorted(outcome(result) for result in results) == ["AttemptsInProgress"] + ["TokenPair"] * 3
    )
    with SqlAlchemyAuthUnitOfWork(database) as uow:  # and the successes forgot the typos
        keys = AttemptKeys.of("ada@example.org", "198.51.100.7")
        fresh = LoginThrottle().fresh(keys.client, datetime.now(UTC))
        assert uow.login_attempts.lock(fresh).failures == 0
