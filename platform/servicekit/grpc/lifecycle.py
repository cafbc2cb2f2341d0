"""Serve until SIGTERM or SIGINT, then stop gracefully: the main loop of ``serve``.

Kubernetes sends SIGTERM and waits ``terminationGracePeriodSeconds``; a terminal sends
SIGINT. Either starts the one shutdown path (``GrpcServer.stop``: NOT_SERVING, drain,
close pools). The main thread blocks on an ``Event``, never in a sleep loop, and the signal
handler only sets that event: the stop itself runs outside the handler. A second signal
during the drain asks for an immediate stop (grace 0) for operators who will not wait.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

import structlog

__all__ = ["STOP_SIGNALS", "Stoppable", "run_until_signalled"]

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)

_logger = structlog.get_logger(__name__)

_Handler = Callable[[int, FrameType | None], object] | int | None


class Stoppable(Protocol):
    """What ``run_until_signalled`` drives: ``GrpcServer``, or a fake in tests."""

    def start(self) -> None: ...

    def stop(self, grace: float | None = None) -> None: ...


def run_until_signalled(
    server: Stoppable, grace: float | None = None, *, exiting: bool = False
) -> int:
    """Start ``server`` (if it is not yet), block until a stop signal, stop it; return 0.

    Must run in the main thread (Python delivers signals there). ``grace`` None means the
    server's own default. The previous signal handlers are restored on return, unless
    ``exiting``: a process that ends after this ignores further stop signals instead, so a
    process manager repeating SIGTERM (honcho does, when a sibling exits) cannot kill it
    while it exits cleanly.
    """
    stop_requested = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) == 1:
            stop_requested.set()
            return
        # Not from inside the handler: the main thread may be in the middle of stop().
        threading.Thread(target=server.stop, args=(0,), name="servicekit-force-stop").start()

    previous = _install(on_signal)
    try:
        server.start()
        stop_requested.wait()
        _logger.info("stop signal received", signal=signal.Signals(received[0]).name)
        server.stop(grace)
    finally:
        _restore(dict.fromkeys(previous, signal.SIG_IGN) if exiting else previous)
    if len(received) > 1:
        _logger.warning("stopped without waiting for the grace period", signals=len(received))
    return 0


def _install(handler: Callable[[int, FrameType | None], None]) -> dict[signal.Signals, _Handler]:
    return {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}


def _restore(previous: dict[signal.Signals, _Handler]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
