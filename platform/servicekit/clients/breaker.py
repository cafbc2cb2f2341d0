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

What counts as a failure is the caller's business (``servicekit.clients.outcomes``
counts UNAVAILABLE and DEADLINE_EXCEEDED: the dependency is down or drowning; NOT_FOUND
is an answer). Each admitted call holds a ``Permit`` and reports how it ended with it;
a report from before the latest state change (a slow call admitted while closed that
ends after the circuit opened) is ignored, so only the trial decides a half-open state.

``MethodBreakers`` keeps one breaker per method of a dependency, so one method that keeps
failing (a slow sign-in) opens its own circuit and leaves the dependency's other methods
served.

Thread-safe: one lock guards the state; state changes are logged after it is released.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum

import structlog

from servicekit.errors import Unavailable

__all__ = ["BreakerState", "CircuitBreaker", "MethodBreakers", "Permit"]

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


class MethodBreakers:
    """One ``CircuitBreaker`` per method (``/pkg.Service/Method``), made on its first call.

    Each breaker is named ``Service.Method`` in its messages and log lines. ``services``
    (full names) limits the breakers to the methods of those services: ``for_method``
    answers None for any other (a health check or reflection call passes unguarded, so a
    probe always sees the truth). None guards every method.
    """

    def __init__(
        self,
        failure_threshold: int,
        reset_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        services: Collection[str] | None = None,
    ) -> None:
        CircuitBreaker(failure_threshold, reset_seconds)  # the same rules for the settings
        self._threshold = failure_threshold
        self._reset_seconds = reset_seconds
        self._clock = clock
        self._services = None if services is None else frozenset(services)
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker | None] = {}

    def for_method(self, method: str) -> CircuitBreaker | None:
        """The breaker of ``method``, or None when it is not one of the guarded services."""
        try:
            return self._breakers[method]
        except KeyError:
            pass
        service, _, name = method.lstrip("/").partition("/")
        breaker = None
        if self._services is None or service in self._services:
            short = f"{service.rsplit('.', 1)[-1]}.{name}"
            breaker = CircuitBreaker(self._threshold, self._reset_seconds, self._clock, name=short)
        with self._lock:
            return self._breakers.setdefault(method, breaker)

    def states(self) -> dict[str, BreakerState]:
        """The state of every breaker made so far, by method."""
        with self._lock:
            breakers = {m: b for m, b in self._breakers.items() if b is not None}
        return {method: breaker.state for method, breaker in breakers.items()}
