"""Measured windows of load, the servers taking turns; the fastest window of each counts.

The machine is shared: another tenant can only slow a window down, so the fastest window
is the closest to what a server can do, and taking turns spreads a slow spell over every
server instead of one. `in_turns` is that loop for any kind of contender and window;
`measure` is it for a gRPC server loaded by bench/grpcload (or another generator with
its shape, such as bench/ghzload's), its CPU read from /proc.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from grpcload import LoadResult, LoadSpec, run_load
from harness import BenchError, ServerProcess, children_cpu, tree_cpu_seconds

__all__ = ["Load", "Measurement", "in_turns", "measure"]

C = TypeVar("C")
W = TypeVar("W")


class Runner(Protocol):
    """A load generator: one run of a LoadSpec, pinned to `cpus`; grpcload's `run_load`."""

    def __call__(self, spec: LoadSpec, *, cpus: set[int] | None = None) -> LoadResult: ...


def in_turns(
    contenders: Sequence[C],
    *,
    warm: Callable[[C], object],
    window: Callable[[C], W],
    rounds: int,
    speed: Callable[[W], float],
) -> list[W | BenchError]:
    """Per contender (after `warm`) the fastest of `rounds` windows; they take turns.

    A contender whose warm-up or window raises BenchError gets that error instead.
    """
    runs: list[list[W] | BenchError] = []
    for contender in contenders:
        try:
            warm(contender)
            runs.append([])
        except BenchError as exc:
            runs.append(exc)
    for _ in range(max(rounds, 1)):
        for index, contender in enumerate(contenders):
            done = runs[index]
            if isinstance(done, BenchError):
                continue
            try:
                done.append(window(contender))
            except BenchError as exc:
                runs[index] = exc
    return [done if isinstance(done, BenchError) else max(done, key=speed) for done in runs]


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


@dataclass(frozen=True, kw_only=True, slots=True)
class Load:
    """A started server and how to load it; `also` is another CPU counter (seconds) to
    read across each run, such as the database server's backends; `runner` the load
    generator (bench/grpcload unless said)."""

    server: ServerProcess
    spec: LoadSpec
    client_cpus: set[int]
    server_cores: int
    also: Callable[[], float] | None = None
    runner: Runner = run_load


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


def _one_run(load: Load) -> Measurement:
    client_before = children_cpu()
    extra_before = load.also() if load.also else 0.0
    with _cpu_window(load.server) as cpu:
        result = _checked(load.runner(load.spec, cpus=load.client_cpus))
    extra = (load.also() - extra_before) if load.also else 0.0
    spent = {pid: after - cpu["before"].get(pid, 0.0) for pid, after in cpu["after"].items()}
    return Measurement(
        result=result,
        server_cpu_s=sum(spent.values()),
        server_cores=load.server_cores,
        client_cpu_s=children_cpu() - client_before,
        per_process_cpu_s=tuple(sorted(spent.values(), reverse=True)),
        extra_cpu_s=extra,
    )


def measure(loads: Sequence[Load], *, warmup: float, rounds: int) -> list[Measurement | BenchError]:
    """Per server, the fastest of `rounds` runs; the runs of all servers take turns.

    A server whose replies have a wrong status gets its BenchError.
    """

    def warm(load: Load) -> LoadResult:
        spec = replace(load.spec, duration=warmup, requests=0)
        return _checked(load.runner(spec, cpus=load.client_cpus))

    return in_turns(
        loads, warm=warm, window=_one_run, rounds=rounds, speed=lambda run: run.result.rps
    )
