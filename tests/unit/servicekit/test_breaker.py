"""CircuitBreaker: closed -> open -> half-open -> closed or open again, on a fake clock."""

from __future__ import annotations

import threading

import pytest
from structlog.testing import capture_logs

from servicekit.clients import BreakerState, CircuitBreaker, Permit
from servicekit.errors import Unavailable


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(3, 5.0, clock, name="UserService")


def state(breaker: CircuitBreaker) -> BreakerState:
    """Read afresh each time (a function, so type checkers do not pin the value)."""
    return breaker.state


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.record_failure(breaker.acquire())


def open_breaker(breaker: CircuitBreaker) -> None:
    fail(breaker, 3)
    assert state(breaker) is BreakerState.OPEN


def test_a_new_breaker_is_closed_and_admits_calls(breaker: CircuitBreaker) -> None:
    permits = [breaker.acquire() for _ in range(10)]

    assert state(breaker) is BreakerState.CLOSED
    assert not any(permit.trial for permit in permits)


def test_it_opens_after_the_threshold_of_consecutive_failures_not_before(
    breaker: CircuitBreaker,
) -> None:
    fail(breaker, 2)
    assert state(breaker) is BreakerState.CLOSED

    fail(breaker, 1)
    assert state(breaker) is BreakerState.OPEN


def test_a_success_resets_the_count_of_consecutive_failures(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.record_success(breaker.acquire())
    fail(breaker, 2)

    assert state(breaker) is BreakerState.CLOSED


def test_an_open_breaker_fails_fast_naming_the_dependency(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    open_breaker(breaker)
    clock.advance(4.9)

    with pytest.raises(Unavailable, match=r"^UserService unavailable \(circuit open\)$"):
        breaker.acquire()
    assert state(breaker) is BreakerState.OPEN


def test_after_the_reset_time_it_is_half_open_and_lets_one_trial_through(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    open_breaker(breaker)
    clock.advance(5.0)

    assert state(breaker) is BreakerState.HALF_OPEN
    trial = breaker.acquire()
    assert trial.trial
    with pytest.raises(Unavailable):
        breaker.acquire()  # the trial is still in flight


def test_a_successful_trial_closes_the_circuit(breaker: CircuitBreaker, clock: FakeClock) -> None:
    open_breaker(breaker)
    clock.advance(5.0)

    breaker.record_success(breaker.acquire())

    assert state(breaker) is BreakerState.CLOSED
    fail(breaker, 2)  # and the failure count starts again from zero
    assert state(breaker) is BreakerState.CLOSED


def test_a_failed_trial_opens_it_again_for_a_whole_reset_period(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    open_breaker(breaker)
    clock.advance(5.0)

    breaker.record_failure(breaker.acquire())

    assert state(breaker) is BreakerState.OPEN
    clock.advance(4.9)
    with pytest.raises(Unavailable):
        breaker.acquire()
    clock.advance(0.1)
    assert breaker.acquire().trial


def test_a_released_trial_hands_its_slot_to_the_next_call(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    open_breaker(breaker)
    clock.advance(5.0)

    breaker.release(breaker.acquire())  # cancelled by its caller: says nothing

    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.acquire().trial


def test_a_late_report_from_before_the_circuit_opened_changes_nothing(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    slow: Permit = breaker.acquire()  # admitted while closed, ends much later
    open_breaker(breaker)
    clock.advance(5.0)
    trial = breaker.acquire()

    breaker.record_success(slow)
    assert state(breaker) is BreakerState.HALF_OPEN
    breaker.record_failure(slow)
    assert state(breaker) is BreakerState.HALF_OPEN

    breaker.record_success(trial)
    assert state(breaker) is BreakerState.CLOSED


def test_concurrent_callers_of_a_half_open_breaker_get_exactly_one_trial(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    open_breaker(breaker)
    clock.advance(5.0)
    admitted: list[Permit] = []
    refused: list[Unavailable] = []
    start = threading.Barrier(16)

    def call() -> None:
        start.wait()
        try:
            admitted.append(breaker.acquire())
        except Unavailable as exc:
            refused.append(exc)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)

    assert len(admitted) == 1
    assert admitted[0].trial
    assert len(refused) == 15


def test_each_state_change_is_logged_once(breaker: CircuitBreaker, clock: FakeClock) -> None:
    with capture_logs() as logs:
        open_breaker(breaker)
        breaker.state  # noqa: B018 - reading the state must not log again
        clock.advance(5.0)
        breaker.record_success(breaker.acquire())

    assert [(log["event"], log["log_level"], log["dependency"]) for log in logs] == [
        ("circuit opened", "warning", "UserService"),
        ("circuit half-open", "info", "UserService"),
        ("circuit closed", "info", "UserService"),
    ]


@pytest.mark.parametrize(("threshold", "reset"), [(0, 5.0), (3, 0.0), (3, -1.0)])
def test_a_breaker_that_could_never_work_is_refused(threshold: int, reset: float) -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(threshold, reset)
