"""run_until_signalled and run_workers: signals in, graceful stops and exit codes out."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from acme.user.v1 import user_service_pb2, user_service_pb2_grpc
from servicekit.grpc import run_until_signalled, run_workers
from servicekit.testing.ports import free_port
from tests.unit.servicekit._fake_user_service import channel_to, get_user

SCRIPT = Path(__file__).with_name("_serve_slow.py")
TIMEOUT = 30.0


@dataclass
class FakeServer:
    """Records the calls run_until_signalled makes; can send signals to this process."""

    signal_on_start: int | None = signal.SIGTERM
    signal_on_stop: int | None = None
    calls: list[tuple[str, float | None]] = field(default_factory=list)
    forced: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.calls.append(("start", None))
        if self.signal_on_start is not None:
            os.kill(os.getpid(), self.signal_on_start)

    def stop(self, grace: float | None = None) -> None:
        self.calls.append(("stop", grace))
        if grace == 0:
            self.forced.set()
        elif self.signal_on_stop is not None:
            os.kill(os.getpid(), self.signal_on_stop)
            assert self.forced.wait(TIMEOUT)  # drains until the forced stop arrives


def test_a_stop_signal_stops_the_server_with_the_grace_given_and_returns_zero() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    server = FakeServer(signal_on_start=signal.SIGINT)

    code = run_until_signalled(server, grace=7.5)

    assert code == 0
    assert server.calls == [("start", None), ("stop", 7.5)]
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_an_exiting_process_ignores_stop_signals_after_its_clean_stop() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        code = run_until_signalled(FakeServer(signal_on_start=signal.SIGTERM), exiting=True)
        # A process manager repeating SIGTERM now must not kill the process mid-exit.
        os.kill(os.getpid(), signal.SIGTERM)

        assert code == 0
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])


def test_a_second_signal_during_the_drain_forces_an_immediate_stop() -> None:
    server = FakeServer(signal_on_start=signal.SIGTERM, signal_on_stop=signal.SIGTERM)

    code = run_until_signalled(server, grace=60)

    assert code == 0
    assert ("stop", 60) in server.calls
    assert ("stop", 0) in server.calls


def test_a_single_worker_runs_in_this_process() -> None:
    seen: list[tuple[int, int]] = []

    def target(index: int) -> int:
        seen.append((index, os.getpid()))
        return 3

    assert run_workers(1, target) == 3
    assert seen == [(0, os.getpid())]


class Served:
    """A ``_serve_slow.py`` process and the lines it prints."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.worker_pids: list[int] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line.strip())

    def expect(self, prefix: str) -> list[str]:
        """The words of the next line that starts with ``prefix``."""
        while True:
            line = self.lines.get(timeout=TIMEOUT)
            if line.startswith(prefix + " "):
                return line.split()[1:]

    def ready(self) -> tuple[int, int]:
        port, pid = (int(word) for word in self.expect("ready"))
        self.worker_pids.append(pid)
        return port, pid

    def exit_code(self) -> int:
        return self.process.wait(timeout=TIMEOUT)


@contextmanager
def serving(*, workers: int, port: int = 0, slow_seconds: float = 1.0) -> Iterator[Served]:
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(port), str(workers), str(slow_seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(process)
    try:
        yield served
    finally:
        for pid in [process.pid, *served.worker_pids]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=TIMEOUT)


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_during_a_call_lets_the_call_finish_and_the_process_exit_zero() -> None:
    with serving(workers=1) as served:
        port, _pid = served.ready()
        with channel_to(port) as channel:
            stub = user_service_pb2_grpc.UserServiceStub(channel)
            call = stub.GetUser.future(user_service_pb2.GetUserRequest(id="slow"), timeout=30)
            served.expect("in-flight")
            served.process.send_signal(signal.SIGTERM)
            response = call.result(timeout=TIMEOUT)
        code = served.exit_code()

    assert response.user.id == "slow"
    assert code == 0, "".join(served.output)


def test_two_workers_share_one_port_and_sigterm_to_the_parent_stops_both_cleanly() -> None:
    port = free_port()
    with serving(workers=2, port=port) as served:
        ready = {served.ready(), served.ready()}
        answered = {int(get_user(port, "u-1").user.display_name) for _ in range(200)}
        served.process.send_signal(signal.SIGTERM)
        code = served.exit_code()

    assert {ready_port for ready_port, _ in ready} == {port}
    assert answered == {pid for _, pid in ready}
    assert code == 0, "".join(served.output)
    assert not any(is_running(pid) for pid in served.worker_pids)


def test_a_worker_that_dies_brings_the_others_down_and_the_parent_exits_non_zero() -> None:
    port = free_port()
    with serving(workers=2, port=port) as served:
        (_, victim), (_, survivor) = served.ready(), served.ready()
        os.kill(victim, signal.SIGKILL)
        code = served.exit_code()

    assert code != 0
    assert "worker exited unexpectedly" in "".join(served.output)
    assert not is_running(survivor)
