"""Bulkhead: a few calls at once, a short queue, and an immediate refusal for the rest."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from servicekit.concurrency import Bulkhead, Saturated
from servicekit.errors import ResourceExhausted


def hold(bulkhead: Bulkhead, release: threading.Event, entered: threading.Semaphore) -> str:
    """Take a slot, say so, and keep it until ``release``."""
    with bulkhead.slot():
        entered.release()
        release.wait(30)
    return "done"


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


def test_up_to_the_limit_run_at_once_and_the_next_is_refused_at_once_with_a_retry_delay(
    pool: ThreadPoolExecutor,
) -> None:
    bulkhead = Bulkhead("hashing", limit=2, queue=0, retry_after_seconds=1.5)
    release, entered = threading.Event(), threading.Semaphore(0)
    holders = [pool.submit(hold, bulkhead, release, entered) for _ in range(2)]
    for _ in holders:
        assert entered.acquire(timeout=10)

    with pytest.raises(Saturated) as refused, bulkhead.slot():
        pass  # pragma: no cover - never entered
    release.set()

    assert isinstance(refused.value, ResourceExhausted)
    assert refused.value.retry_after == 1.5
    assert "hashing" in refused.value.message
    assert [holder.result(timeout=10) for holder in holders] == ["done", "done"]
    assert bulkhead.admitted == 0


def test_a_queued_call_waits_for_a_slot_and_then_runs(pool: ThreadPoolExecutor) -> None:
    bulkhead = Bulkhead("hashing", limit=1, queue=1, max_wait_seconds=30)
    release, entered = threading.Event(), threading.Semaphore(0)
    first = pool.submit(hold, bulkhead, release, entered)
    assert entered.acquire(timeout=10)
    second = pool.submit(hold, bulkhead, release, entered)
    while bulkhead.admitted < 2:  # the second one waits in the queue
        threading.Event().wait(0.01)
    assert not entered.acquire(timeout=0.05)  # ... and has not started

    release.set()

    assert first.result(timeout=10) == second.result(timeout=10) == "done"
    assert entered.acquire(timeout=10)  # the queued call got the slot


def test_beyond_the_queue_the_call_is_refused_without_waiting(pool: ThreadPoolExecutor) -> None:
    bulkhead = Bulkhead("hashing", limit=1, queue=1, max_wait_seconds=30)
    release, entered = threading.Event(), threading.Semaphore(0)
    futures: list[Future[str]] = [pool.submit(hold, bulkhead, release, entered)]
    assert entered.acquire(timeout=10)
    futures.append(pool.submit(hold, bulkhead, release, entered))
    while bulkhead.admitted < 2:
        threading.Event().wait(0.01)

    with pytest.raises(Saturated), bulkhead.slot():  # a 30 s wait would hang the test
        pass  # pragma: no cover - never entered
    release.set()

    assert [future.result(timeout=10) for future in futures] == ["done", "done"]


def test_a_queued_call_gives_up_after_its_wait(pool: ThreadPoolExecutor) -> None:
    bulkhead = Bulkhead("hashing", limit=1, queue=3, max_wait_seconds=0.05)
    release, entered = threading.Event(), threading.Semaphore(0)
    holder = pool.submit(hold, bulkhead, release, entered)
    assert entered.acquire(timeout=10)

    with pytest.raises(Saturated), bulkhead.slot():
        pass  # pragma: no cover - never entered
    release.set()

    assert holder.result(timeout=10) == "done"
    assert bulkhead.admitted == 0


def test_a_slot_is_given_back_when_the_work_fails() -> None:
    bulkhead = Bulkhead("hashing", limit=1)

    with pytest.raises(RuntimeError), bulkhead.slot():
        raise RuntimeError("argon2 failed")
    with ExitStack() as stack:
        stack.enter_context(bulkhead.slot())  # free again
        assert bulkhead.admitted == 1


def test_inconsistent_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        Bulkhead("x", limit=0)
    with pytest.raises(ValueError, match="limit"):
        Bulkhead("x", limit=1, queue=-1)
    with pytest.raises(ValueError, match="max_wait_seconds"):
        Bulkhead("x", limit=1, max_wait_seconds=-1)
