"""Server processes for the benchmarks: start pinned, wait ready, account CPU, stop.

A server's CPU is read from `/proc/<pid>/stat` (utime + stime) of the process and every
descendant (worker processes), before and after the measured window; the load client's
CPU is the growth of this process's `RUSAGE_CHILDREN` while it runs. Every process started
here is stopped on the way out, failure or not: SIGTERM to the server, then SIGKILL to
whatever of its process tree is left.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from grpcload import LoadSpec, run_load

__all__ = [
    "ADMISSION_MARGIN",
    "ENTRY",
    "ROOT",
    "BenchError",
    "ServerProcess",
    "admission",
    "children_cpu",
    "cpu_seconds",
    "free_port",
    "process_tree",
    "tree_cpu_seconds",
    "wait_for_log",
    "wait_ready",
]

ROOT = Path(__file__).resolve().parents[1]
ENTRY = Path(__file__).resolve().parent / "benchserver.py"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
_TICK = os.sysconf("SC_CLK_TCK")
ADMISSION_MARGIN = 16
"""Calls a bench server admits beyond the load's calls in flight (see `admission`)."""


def admission(in_flight: int) -> tuple[int, int]:
    """`(max_workers, max_concurrent_rpcs)` for a gRPC server loaded with `in_flight` calls.

    servicekit's `build_server` refuses a unary call beyond `GrpcSettings.max_concurrent_rpcs`
    at once with RESOURCE_EXHAUSTED (by default `max_workers` less one in eight: 14 of 16
    threads), and the benches keep 64 calls in flight (R6: 128): every bench server is
    started admitting more than its load, so that no call of the load is refused, with
    one worker thread more than it admits (servicekit keeps a thread free to refuse on).
    The margin covers the calls of a finished run that the server is still answering
    when the next run starts. grpcio starts a worker thread only when no idle one is left,
    so threads (and the user service's pooled database connections, one per thread)
    follow the calls in flight, not this bound.
    """
    limit = in_flight + ADMISSION_MARGIN
    return limit + 1, limit


class BenchError(RuntimeError):
    """A run that cannot be measured (a server that died, a reply with a wrong status)."""


def free_port() -> int:
    """A port nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone since it was listed
        return None
    return text.rpartition(")")[2].split()


def process_tree(root: int) -> list[int]:
    """`root` and every live descendant of it, from the parent ids in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        fields = _stat_fields(int(entry.name)) if entry.name.isdigit() else None
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, ()))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 when it is gone)."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _TICK if fields else 0.0


def tree_cpu_seconds(root: int) -> dict[int, float]:
    """CPU so far of `root` and each of its descendants, by pid."""
    return {pid: cpu_seconds(pid) for pid in process_tree(root)}


def children_cpu() -> float:
    """User + system CPU so far of this process's waited-for children (the load clients)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class ServerProcess:
    """`benchserver.py <argv>` as a subprocess pinned to `cpus`, logging to a temp file."""

    def __init__(
        self, argv: Sequence[str], *, cpus: set[int], env: Mapping[str, str] | None = None
    ) -> None:
        cores = ",".join(map(str, sorted(cpus)))
        self._command = [sys.executable, str(ENTRY), "--cpus", cores, *argv]
        self._env = {**os.environ, **(env or {})}
        self._log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log")  # noqa: SIM115 - closed in stop()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise BenchError("server not started")
        return self._process.pid

    def start(self) -> None:
        self._process = subprocess.Popen(
            self._command, cwd=ROOT, env=self._env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log_name(self) -> str:
        return str(self._log.name)

    def log_tail(self, lines: int = 15) -> str:
        text = Path(self._log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """SIGTERM, a grace period, then SIGKILL for anything of the tree still running."""
        if self._process is None:
            return
        tree = process_tree(self._process.pid)
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=15)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._process.wait()
        self._log.close()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for_log(server: ServerProcess, needles: Sequence[str], timeout: float = 60.0) -> None:
    """Until every needle appears in the server's log (each worker announcing itself)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = Path(server.log_name).read_text(errors="replace")
        if all(needle in text for needle in needles):
            return
        if not server.alive():
            break
        time.sleep(0.2)
    raise BenchError(f"server did not log {list(needles)}:\n{server.log_tail()}")


def wait_ready(server: ServerProcess, target: str, timeout: float = 60.0) -> None:
    """Until the port accepts and the health service answers OK; BenchError if not."""
    host, _, port = target.rpartition(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(f"server exited at start:\n{server.log_tail()}")
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
        except OSError:
            time.sleep(0.2)
            continue
        probe = LoadSpec(target=target, method=HEALTH_CHECK, request=b"", connections=1)
        if run_load(replace(probe, concurrency=1, requests=1)).ok == 1:
            return
        time.sleep(0.2)
    raise BenchError(f"server not ready after {timeout:.0f} s:\n{server.log_tail()}")
