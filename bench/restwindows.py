"""The REST benchmark's measured windows: a load run and the CPU each side spent in it.

Server CPU is utime + stime from /proc/<pid>/stat across each window: the gateway's
process tree (one process, or a supervisor and its workers), the process tree of the row's
other server (the backend), and every server on core 0; the client's is the growth of this
process's RUSAGE_CHILDREN (wrk or grpcload).
Per contender a warm-up, then the fastest of `rounds` windows, the contenders taking turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness import BenchError, children_cpu, cpu_seconds, tree_cpu_seconds
from restload import LoadRun
from turns import in_turns

__all__ = ["Contender", "NotAvailable", "Window", "measure", "one_window"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    """One measured window of one contender."""

    requests: int
    elapsed_s: float
    p50_us: float
    p99_us: float
    gateway_s: float | None
    backend_s: float | None
    client_s: float
    core0_s: float

    @property
    def rps(self) -> float:
        return self.requests / max(self.elapsed_s, 1e-9)

    def per_request_us(self, seconds: float | None) -> float | None:
        return None if seconds is None else seconds / max(self.requests, 1) * 1e6


@dataclass(frozen=True, kw_only=True, slots=True)
class NotAvailable:
    """A contender that cannot run here (grpc-gateway without Go, say): why. Not a failure."""

    why: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Contender:
    """How to load one server set-up, and whose CPU to read around a window."""

    label: str
    load: LoadRun
    gateway: int | None  # pid
    backend: int | None  # pid (its process tree is read)
    core0: tuple[int, ...]  # pids of the servers on core 0


def _tree(pid: int | None) -> float | None:
    return None if pid is None else sum(tree_cpu_seconds(pid).values())


def _core0(pids: Sequence[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def one_window(contender: Contender, seconds: float) -> Window:
    gateway0 = _tree(contender.gateway)
    backend0, core0, client0 = _tree(contender.backend), _core0(contender.core0), children_cpu()
    requests, elapsed, p50, p99 = contender.load(seconds)
    gateway1 = _tree(contender.gateway)
    backend1 = _tree(contender.backend)
    return Window(
        requests=requests,
        elapsed_s=elapsed,
        p50_us=p50,
        p99_us=p99,
        gateway_s=None if gateway0 is None or gateway1 is None else gateway1 - gateway0,
        backend_s=None if backend0 is None or backend1 is None else backend1 - backend0,
        client_s=children_cpu() - client0,
        core0_s=_core0(contender.core0) - core0,
    )


def measure(
    contenders: Sequence[Contender], *, warmup: float, duration: float, rounds: int
) -> dict[str, Window | BenchError]:
    """Per contender the fastest window of `rounds`; the contenders take turns."""
    fastest = in_turns(
        contenders,
        warm=lambda contender: contender.load(warmup),
        window=lambda contender: one_window(contender, duration),
        rounds=rounds,
        speed=lambda window: window.rps,
    )
    return {contender.label: result for contender, result in zip(contenders, fastest, strict=True)}
