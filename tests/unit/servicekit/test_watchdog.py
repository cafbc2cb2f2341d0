"""servicekit.db.watchdog.Watchdog: alarms fire at their deadline, cancelled ones never, and
a busy server's heap does not keep every call it ever guarded."""

from __future__ import annotations

import threading
import time

from servicekit.db.watchdog import Watchdog


def test_an_alarm_fires_at_its_deadline_and_a_cancelled_one_never() -> None:
    watchdog = Watchdog()
    fired = threading.Event()
    cancelled: list[str] = []
    try:
        keep = watchdog.arm(time.monotonic() + 0.05, fired.set)
        drop = watchdog.arm(time.monotonic() + 0.05, lambda: cancelled.append("fired"))
        drop.cancel()
        assert fired.wait(10)
        time.sleep(0.1)
    finally:
        watchdog.stop()

    assert not keep.armed
    assert cancelled == []


def test_an_alarm_fires_once_even_when_fired_by_hand_first() -> None:
    watchdog = Watchdog()
    fired: list[int] = []
    try:
        alarm = watchdog.arm(time.monotonic() + 0.05, lambda: fired.append(1))
        alarm.fire()
        time.sleep(0.2)
    finally:
        watchdog.stop()

    assert fired == [1]


def test_cancelled_alarms_do_not_pile_up_until_their_deadline() -> None:
    watchdog = Watchdog()
    try:
        for _ in range(10_000):  # calls of 30 s each, their connections checked in at once
            watchdog.arm(time.monotonic() + 30, lambda: None).cancel()
        pending = watchdog.pending
    finally:
        watchdog.stop()

    assert pending <= 2 * 1024 + 1
