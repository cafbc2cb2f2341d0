"""Several server processes on one port (SO_REUSEPORT): one Python process uses one core.

``run_workers(count, target)`` starts ``count`` processes that each call
``target(worker_index)``; the target builds its own server with ``reuse_port=True`` on the
shared port and returns ``run_until_signalled(server)``. The kernel spreads connections
over the processes.

Children are *spawned*, not forked: gRPC refuses a fork once its core is initialised, and
the parent may well have touched gRPC (an OTLP exporter, a client) before. So ``target``
must be a module-level function (it is pickled by name), and everything it needs is built
inside the child.

The parent is a supervisor only. It forwards SIGTERM and SIGINT to every child and exits 0
when all of them exit 0. A child that dies before a stop was asked for is reported, the
others are stopped, and the parent exits non-zero: a service never runs at half capacity
without anyone noticing. Children run in their own process group, so a terminal's Ctrl+C
reaches them once (forwarded), not twice (a second signal would cut the drain short); and
each child stops itself gracefully if the parent dies.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

import structlog

from servicekit.grpc.lifecycle import STOP_SIGNALS

__all__ = ["run_workers"]

_logger = structlog.get_logger(__name__)

WorkerTarget = Callable[[int], int]

# 0, or killed by a stop signal before it had installed any handler: it served nothing yet.
_CLEAN_EXITS = frozenset({0, -signal.SIGTERM, -signal.SIGINT})


def run_workers(count: int, target: WorkerTarget) -> int:
    """Run ``target(i)`` for i in ``range(count)``, in processes; the combined exit code.

    ``count == 1`` calls ``target(0)`` in this process: no supervisor to pay for.
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if count == 1:
        return target(0)
    context = multiprocessing.get_context("spawn")
    children: list[BaseProcess] = []
    stopping = threading.Event()

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        _signal_all(children, signum)

    previous = {signum: signal.signal(signum, forward) for signum in STOP_SIGNALS}
    try:
        for index in range(count):
            child = context.Process(
                target=_child_main, args=(target, index), name=f"worker-{index}", daemon=False
            )
            child.start()
            children.append(child)
            if stopping.is_set():  # a signal arrived while starting: it missed this child
                _signal_all([child], signal.SIGTERM)
        _logger.info("workers started", pids=[child.pid for child in children])
        return _supervise(children, stopping)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _supervise(children: list[BaseProcess], stopping: threading.Event) -> int:
    """Wait for every child; stop all of them as soon as one leaves uninvited."""
    healthy = True
    running = list(children)
    while running:
        ready = wait([child.sentinel for child in running])
        for child in [c for c in running if c.sentinel in ready]:
            child.join()
            running.remove(child)
            if not stopping.is_set():
                _logger.error(
                    "worker exited unexpectedly; stopping the others",
                    worker=child.name,
                    pid=child.pid,
                    exit_code=child.exitcode,
                )
                healthy = False
                stopping.set()
                _signal_all(running, signal.SIGTERM)
            elif child.exitcode not in _CLEAN_EXITS:
                _logger.error(
                    "worker failed to stop cleanly", worker=child.name, exit_code=child.exitcode
                )
                healthy = False
    return 0 if healthy else 1


def _signal_all(children: list[BaseProcess], signum: int) -> None:
    for child in children:
        if child.pid is not None and child.exitcode is None:
            with contextlib.suppress(ProcessLookupError):  # exited since the check
                os.kill(child.pid, signum)


def _child_main(target: WorkerTarget, index: int) -> None:
    """Entry point of a spawned worker: own process group, parent watch, then ``target``."""
    os.setpgrp()
    # Until the target installs its handlers, a stop request simply ends this child:
    # it serves nothing yet, so there is nothing to drain.
    for signum in STOP_SIGNALS:
        signal.signal(signum, _exit_cleanly)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_stop_when_parent_dies, args=(parent.sentinel,), daemon=True
        ).start()
    sys.exit(target(index))


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    sys.exit(0)


def _stop_when_parent_dies(sentinel: int) -> None:
    wait([sentinel])
    os.kill(os.getpid(), signal.SIGTERM)
