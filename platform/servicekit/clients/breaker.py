"""A circuit breaker: stop calling a dependency that keeps failing, try again later.

Closed (normal)
    calls go through; ``failure_threshold`` failures in a row open the circuit. A
    success resets the count.
Open
    calls fail at once with ``Unavailable`` without touching the network, for
    ``reset_seconds``. The dependency gets room to recover, and callers get a fast
    answer instead of a deadline's worth of waiting each.
Half-open
    after ``reset_seconds``, ONE trial call goes through; the others keep failing fast
    meanwhile. The trial's success closes the circuit, its failure opens it again for
    another ``reset_seconds``.

What counts as a failure is the caller's business (``servicekit.clients.interceptors``
counts UNAVAILABLE and DEADLINE_EXCEEDED: the dependency is down or drowning; NOT_FOUND
is an answer). Each admitted call holds a ``Permit`` and reports how it ended with it;
a report from before the latest state change (a slow call admitted while closed that
ends after the circuit opened) is ignored, so only the trial decides a half-open state.

Thread-safe: one lock guards the state; state changes are logged after it is released.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import structlog

from servicekit.errors import Unavailable

__all__ = ["BreakerState", "CircuitBreaker", "Permit"]

_log = structlog.get_logger("servicekit.clients")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to make one call, from the breaker state numbered ``generation``."""

    generation: int
    trial: bool


class CircuitBreaker:
    """The state machine of the module docstring, for the dependency called ``name``."""

    def __init__(
        self,
        failure_threshold: int,
        reset_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        name: str = "dependency",
    ) -> None:
        if failure_threshold < 1 or reset_seconds <= 0:
            raise ValueError("failure_threshold must be >= 1 and reset_seconds > 0")
        self.name = name
        self._threshold = failure_threshold
        self._reset_seconds = reset_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._generation = 0
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        """The state now: an open circuit whose time is up reads as half-open."""
        with self._lock:
            changed = self._expire_open()
            state = self._state
        self._log_change(changed)
        return state

    def acquire(self) -> Permit:
        """A permit for one call; raises ``Unavailable`` while the circuit is open."""
        with self._lock:
            changed = self._expire_open()
            permit = self._admit()
        self._log_change(changed)
        if permit is None:
            raise Unavailable(f"{self.name} unavailable (circuit open)")
        return permit

    def record_success(self, permit: Permit) -> None:
        """The call got an answer: the dependency is up."""
        with self._lock:
            if permit.generation != self._generation:
                return
            self._failures = 0
            changed = self._move(BreakerState.CLOSED) if permit.trial else None
        self._log_change(changed)

    def record_failure(self, permit: Permit) -> None:
        """The call found the dependency down (or too slow)."""
        with self._lock:
            if permit.generation != self._generation:
                return
            self._failures += 1
            changed = None
            if permit.trial or self._failures >= self._threshold:
                self._opened_at = self._clock()
                changed = self._move(BreakerState.OPEN)
        self._log_change(changed)

    def release(self, permit: Permit) -> None:
        """The call ended saying nothing about the dependency (the caller cancelled it):
        a trial's slot goes to the next call."""
        with self._lock:
            if permit.trial and permit.generation == self._generation:
                self._trial_in_flight = False

    def _admit(self) -> Permit | None:
        if self._state is BreakerState.CLOSED:
            return Permit(self._generation, trial=False)
        if self._state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return Permit(self._generation, trial=True)
        return None

    def _expire_open(self) -> BreakerState | None:
        elapsed = self._clock() - self._opened_at
        if self._state is BreakerState.OPEN and elapsed >= self._reset_seconds:
            return self._move(BreakerState.HALF_OPEN)
        return None

    def _move(self, state: BreakerState) -> BreakerState:
        """Enter ``state``: a new generation, so reports of older permits are ignored."""
        self._state = state
        self._generation += 1
        self._trial_in_flight = False
        if state is not BreakerState.OPEN:
            self._failures = 0
        return state

    def _log_change(self, state: BreakerState | None) -> None:
        if state is BreakerState.OPEN:
            _log.warning("circuit opened", dependency=self.name, reset_seconds=self._reset_seconds)
        elif state is not None:
            _log.info(f"circuit {state.value.replace('_', '-')}", dependency=self.name)
