"""Server processes for the service benchmark: start pinned, wait ready, account CPU, stop.

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grpcload import LoadResult, LoadSpec, run_load

__all__ = [
    "BenchError",
    "Load",
    "Measurement",
    "ServerProcess",
    "cpu_seconds",
    "free_port",
    "measure",
    "process_tree",
    "tree_cpu_seconds",
    "wait_for_log",
    "wait_ready",
]

ROOT = Path(__file__).resolve().parents[1]
ENTRY = Path(__file__).resolve().parent / "benchserver.py"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
_TICK = os.sysconf("SC_CLK_TCK")


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


@dataclass(frozen=True, kw_only=True, slots=True)
class Measurement:
    """One measured window: the load client's figures and the CPU both sides spent."""

    result: LoadResult
    server_cpu_s: float
    server_cores: int
    client_cpu_s: float
    per_process_cpu_s: tuple[float, ...]
    extra_cpu_s: float = 0.0

    @property
    def cpu_us_per_call(self) -> float:
        return self.server_cpu_s / max(self.result.completed, 1) * 1e6

    @property
    def client_us_per_call(self) -> float:
        return self.client_cpu_s / max(self.result.completed, 1) * 1e6

    @property
    def busy(self) -> float:
        """Share of its cores the server used: near 1.0 means the server was the limit."""
        return self.server_cpu_s / max(self.result.elapsed_s, 1e-9) / self.server_cores


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _checked(result: LoadResult) -> LoadResult:
    if result.unexpected:
        failures = ", ".join(f"{name} {count}" for name, count in result.failures.items())
        raise BenchError(f"{result.unexpected} unexpected replies: {failures}")
    return result


@contextlib.contextmanager
def _cpu_window(server: ServerProcess) -> Iterator[dict[str, dict[int, float]]]:
    window: dict[str, dict[int, float]] = {"before": tree_cpu_seconds(server.pid)}
    yield window
    window["after"] = tree_cpu_seconds(server.pid)


@dataclass(frozen=True, kw_only=True, slots=True)
class Load:
    """A started server and how to load it; `also` is another CPU counter (seconds) to
    read across each run, such as the database server's backends."""

    server: ServerProcess
    spec: LoadSpec
    client_cpus: set[int]
    server_cores: int
    also: Callable[[], float] | None = None


def _one_run(load: Load) -> Measurement:
    client_before = _children_cpu()
    extra_before = load.also() if load.also else 0.0
    with _cpu_window(load.server) as cpu:
        result = _checked(run_load(load.spec, cpus=load.client_cpus))
    extra = (load.also() - extra_before) if load.also else 0.0
    spent = {pid: after - cpu["before"].get(pid, 0.0) for pid, after in cpu["after"].items()}
    return Measurement(
        result=result,
        server_cpu_s=sum(spent.values()),
        server_cores=load.server_cores,
        client_cpu_s=_children_cpu() - client_before,
        per_process_cpu_s=tuple(sorted(spent.values(), reverse=True)),
        extra_cpu_s=extra,
    )


def _warm(load: Load, seconds: float) -> list[Measurement] | BenchError:
    try:
        _checked(run_load(replace(load.spec, duration=seconds, requests=0), cpus=load.client_cpus))
    except BenchError as exc:
        return exc
    return []


def _fastest(runs: list[Measurement] | BenchError) -> Measurement | BenchError:
    if isinstance(runs, BenchError):
        return runs
    return max(runs, key=lambda run: run.result.rps)


def measure(loads: Sequence[Load], *, warmup: float, rounds: int) -> list[Measurement | BenchError]:
    """Per server, the fastest of `rounds` runs; the runs of all servers take turns.

    The machine is shared: another tenant can only slow a run down, so the fastest run is
    the closest to what a server can do, and taking turns spreads a slow spell over every
    server instead of one. A server whose replies have a wrong status gets its BenchError.
    """
    runs = [_warm(load, warmup) for load in loads]
    for _ in range(max(rounds, 1)):
        for index, load in enumerate(loads):
            done = runs[index]
            if isinstance(done, BenchError):
                continue
            try:
                done.append(_one_run(load))
            except BenchError as exc:
                runs[index] = exc
    return [_fastest(done) for done in runs]
