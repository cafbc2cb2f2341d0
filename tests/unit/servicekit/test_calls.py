"""servicekit.calls.CallScope: when a call's work may still commit, and what its end cuts."""

from __future__ import annotations

import threading

import pytest

from servicekit.calls import CANCELLED, DEADLINE, STOPPING, CallScope, call_scope, current_call
from servicekit.errors import Cancelled, DeadlineExceeded, Unavailable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_live_call_with_time_left_commits() -> None:
    scope = CallScope(deadline=110.0, clock=Clock())

    with scope.committing():
        pass

    assert scope.committed
    assert scope.ended is None


@pytest.mark.parametrize(
    ("reason", "error"),
    [(DEADLINE, DeadlineExceeded), (CANCELLED, Cancelled), (STOPPING, Unavailable)],
)
def test_a_call_that_ended_commits_nothing_and_says_why(
    reason: str, error: type[Exception]
) -> None:
    scope = CallScope(deadline=None)
    scope.end(reason)

    with pytest.raises(error, match="nothing was written"), scope.committing():
        pytest.fail("the commit ran")

    assert not scope.committed


def test_a_call_past_its_deadline_or_left_by_its_caller_is_over() -> None:
    clock = Clock()
    late = CallScope(deadline=101.0, clock=clock)
    gone = CallScope(deadline=None, is_active=lambda: False)
    clock.now = 101.0

    assert late.ended == DEADLINE
    assert gone.ended == CANCELLED
    with pytest.raises(DeadlineExceeded):
        late.check()


def test_a_commit_needs_time_for_a_round_trip_and_the_answer() -> None:
    clock = Clock()
    scope = CallScope(deadline=100.5, clock=clock, commit_margin=0.05)
    scope.note_round_trip(0.3)  # the database takes 0.3 s a statement: 0.6 s to commit

    with pytest.raises(DeadlineExceeded, match="too little time"), scope.committing():
        pytest.fail("the commit ran")


def test_the_end_of_a_call_runs_its_callbacks_once_and_at_once_when_registered_late() -> None:
    scope = CallScope(deadline=None)
    cut: list[str] = []
    scope.on_end(lambda: cut.append("kept"))
    scope.on_end(lambda: cut.append("forgotten"))()  # forgotten at once

    scope.end(CANCELLED)
    scope.end(STOPPING)
    scope.on_end(lambda: cut.append("late"))

    assert cut == ["kept", "late"]
    assert scope.ended == CANCELLED


def test_the_end_waits_for_a_commit_under_way_and_leaves_its_connection_alone() -> None:
    scope = CallScope(deadline=None)
    committing, finish = threading.Event(), threading.Event()
    cut: list[str] = []
    scope.on_end(lambda: cut.append("cut"))

    def commit() -> None:
        with scope.committing():
            committing.set()
            finish.wait(10)

    worker = threading.Thread(target=commit)
    worker.start()
    assert committing.wait(10)
    assert not scope.end(CANCELLED)  # gRPC's poller: no wait, and no cut mid-commit
    assert cut == []
    finish.set()
    worker.join(10)

    assert scope.committed


def test_a_scope_outside_any_call_is_current_in_its_block_only() -> None:
    with call_scope(5.0) as scope:
        inside = current_call()
        left = scope.remaining()

    assert inside is scope
    assert current_call() is None
    assert left is not None
    assert 0 < left <= 5.0
