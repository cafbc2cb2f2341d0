"""How the service benchmark sets up and loads the servers it measures.

`Bench` starts servers (bench/benchserver.py) pinned to their cores, waits until they are
healthy, loads them in turns with bench/grpcload and returns table rows; the rows of each
scenario are chosen in bench/scenariorows.py. A piece of servicekit or of the user service
that does not exist (yet) gives a row "not available: <why>". With `--ghz`, bare and full
chain are also loaded by ghz (bench/ghzload.py), in turns with the others, as a
cross-check of grpcload's figures.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import ghzload
from gotools import Unavailable
from grpcload import LoadSpec, encode_request
from harness import ROOT, BenchError, ServerProcess, free_port, wait_for_log, wait_ready
from report import Row, machine_line
from turns import Load, Measurement, Runner, measure

from servicekit.testing.tokens import TestIssuer

__all__ = [
    "BARE",
    "BOTH_CPUS",
    "CHAIN_NAMES",
    "FULL",
    "Bench",
    "Constant",
    "Options",
    "cross_check_label",
    "describe_machine",
    "missing",
    "with_cost",
]

SERVER_CPUS = frozenset({0})
CLIENT_CPUS = frozenset({1})
BOTH_CPUS = frozenset({0, 1})
GET_USER = "/acme.user.v1.UserService/GetUser"
FIXED_USER_ID = "7d2b4a3e-1c5f-4d6a-9e8b-2f1a3c4d5e6f"
BARE, FULL = "bare", "full chain"
CHAIN_NAMES = (
    "servicekit.grpc:build_server",
    "servicekit.grpc:default_interceptors",
    "servicekit.grpc:run_workers",
    "servicekit.grpc.interceptors.request_context:RequestContextInterceptor",
    "servicekit.grpc.interceptors.tracing:TracingInterceptor",
    "servicekit.grpc.interceptors.metrics:MetricsInterceptor",
    "servicekit.grpc.interceptors.auth:AccessPolicyInterceptor",
    "servicekit.grpc.interceptors.validation:ValidationInterceptor",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Options:
    duration: float
    warmup: float
    concurrency: int
    connections: int
    repeat: int
    only: tuple[str, ...]
    ghz: bool = False  # also load bare and full chain with ghz (a cross-check)


@dataclass(frozen=True, kw_only=True, slots=True)
class Constant:
    """A constant GetUser server: behind `chain`, on `cpus`, in `workers` processes."""

    label: str
    chain: str
    cpus: frozenset[int] = SERVER_CPUS
    workers: int = 1
    wide: bool = False  # twice the connections and calls in flight (two-core servers)
    otlp: bool = False  # tracing exports its spans to a fake OTLP collector on core 1


def missing(names: Sequence[str]) -> str:
    """Why one of `module:attribute` cannot be used ("" when all can).

    Checked in a fresh interpreter at the repository root: in this process the name
    `services` is this script (bench/services.py), not the services package.
    """
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    module, _, attribute = name.partition(':')\n"
        "    try:\n"
        "        found = hasattr(importlib.import_module(module), attribute)\n"
        "    except ImportError as exc:\n"
        "        sys.exit(f'cannot import {module} ({exc})')\n"
        "    if not found:\n"
        "        sys.exit(f'{module}.{attribute} does not exist')\n"
    )
    command = [sys.executable, "-c", code, *names]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    return "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1]


def cross_check_label(label: str) -> str:
    """The row of `label`'s server loaded by ghz."""
    return f"{label}: ghz (cross-check)"


def _ghz_line(options: Options) -> str:
    if not options.ghz:
        return ""
    try:
        return f"\ncross-check: {ghzload.describe()}, same calls in flight and connections"
    except Unavailable as exc:
        return f"\ncross-check: ghz not available: {exc}"


def describe_machine(options: Options) -> str:
    """When, on what, under which load, and how the load is generated."""
    return (
        f"{machine_line()}\n"
        f"load: bench/grpcload (C, libnghttp2), {options.concurrency} calls in flight over "
        f"{options.connections} connections; per server {options.warmup:g} s warm-up, then "
        f"the fastest of {options.repeat} runs of {options.duration:g} s (servers take turns)"
        f"{_ghz_line(options)}"
    )


class Bench:
    """Runs servers and loads; remembers bare and full chain, which R1 and R3 both need."""

    def __init__(self, options: Options, workdir: Path) -> None:
        self._options = options
        self._workdir = workdir
        self._issuer = TestIssuer(workdir)
        self._baselines: dict[str, Row] = {}
        self._cross_check: list[Row] = []

    def token(self, subject: str) -> str:
        return str(self._issuer.mint(subject, expires_in=3600))

    @property
    def options(self) -> Options:
        return self._options

    @property
    def jwks_file(self) -> Path:
        return Path(self._issuer.jwks_file)

    @property
    def workdir(self) -> Path:
        return self._workdir

    def spec(self, target: str, user_id: str, *, wide: bool = False) -> LoadSpec:
        """GetUser of `user_id` with a token of that user (the owner may read it)."""
        scale = 2 if wide else 1
        return LoadSpec(
            target=target,
            method=GET_USER,
            request=encode_request(GET_USER, f'id: "{user_id}"'),
            connections=self._options.connections * scale,
            concurrency=self._options.concurrency * scale,
            duration=self._options.duration,
            metadata=(("authorization", f"Bearer {self.token(user_id)}"),),
        )

    def measure(self, loads: Sequence[Load]) -> list[Measurement | BenchError]:
        o = self._options
        return measure(loads, warmup=o.warmup, rounds=o.repeat)

    def _collector(self, stack: contextlib.ExitStack) -> str:
        """A fake OTLP trace collector on the client's core, alive until `stack` closes."""
        port = free_port()
        argv = ["collector", "--port", str(port)]
        collector = stack.enter_context(ServerProcess(argv, cpus=set(CLIENT_CPUS)))
        wait_for_log(collector, [f"collector serving on port {port}"])
        return f"http://127.0.0.1:{port}"

    def _start(self, stack: contextlib.ExitStack, config: Constant, otlp: str = "") -> Load:
        port = free_port()
        target = f"127.0.0.1:{port}"
        spec = self.spec(target, FIXED_USER_ID, wide=config.wide)
        argv = ["constant", "--port", str(port), "--chain", config.chain]
        argv += ["--workers", str(config.workers), "--jwks", str(self.jwks_file)]
        # The server admits more calls at once than the load keeps in flight: beyond its
        # bound servicekit refuses calls with RESOURCE_EXHAUSTED (harness.admission).
        argv += ["--in-flight", str(spec.concurrency)]
        if config.otlp:
            argv += ["--otlp", otlp]
        server = stack.enter_context(ServerProcess(argv, cpus=set(config.cpus)))
        wait_ready(server, target)
        wait_for_log(server, [f"worker {i} serving" for i in range(config.workers)])
        client = BOTH_CPUS if config.cpus == BOTH_CPUS else CLIENT_CPUS
        return Load(
            server=server, spec=spec, client_cpus=set(client), server_cores=len(config.cpus)
        )

    def constants(
        self, configs: Sequence[Constant], cross_check: Sequence[str] = ()
    ) -> dict[str, Row]:
        """Start every server, measure them in turns, stop them; a row per label. The
        servers of the labels in `cross_check` are also loaded by ghz, in the same turns
        (rows `cross_check_label(label)`)."""
        rows: dict[str, Row] = {}
        loads: dict[str, Load] = {}
        ghz = _ghz_runner() if cross_check else None
        with contextlib.ExitStack() as stack:
            otlp = ""
            for config in configs:
                try:
                    if config.otlp and not otlp:
                        otlp = self._collector(stack)
                    loads[config.label] = self._start(stack, config, otlp)
                except BenchError as exc:
                    rows[config.label] = Row.broken(config.label, str(exc))
            for label in (label for label in cross_check if label in loads):
                if isinstance(ghz, str):
                    rows[cross_check_label(label)] = Row.unavailable(cross_check_label(label), ghz)
                elif ghz is not None:
                    loads[cross_check_label(label)] = replace(loads[label], runner=ghz)
            for label, result in zip(loads, self.measure(list(loads.values())), strict=True):
                rows[label] = _row(label, result)
        return rows

    def baselines(self, extra: Sequence[Constant] = ()) -> dict[str, Row]:
        """Bare and full chain (measured once per run, with `extra` if they are not yet)."""
        if self._baselines:
            return {**self._baselines, **self.constants(extra)}
        why = missing(CHAIN_NAMES)
        if why:
            self._baselines = {label: Row.unavailable(label, why) for label in (BARE, FULL)}
            return self._baselines
        configs = [Constant(label=BARE, chain="none"), Constant(label=FULL, chain="all"), *extra]
        cross_check = (BARE, FULL) if self._options.ghz else ()
        rows = self.constants(configs, cross_check)
        rows[FULL] = with_cost(rows[FULL], rows[BARE])
        self._baselines = {BARE: rows[BARE], FULL: rows[FULL]}
        self._cross_check = [
            _against(rows[cross_check_label(label)], rows[label])
            for label in cross_check
            if cross_check_label(label) in rows
        ]
        return rows

    def cross_check_rows(self) -> list[Row]:
        """Bare and full chain loaded by ghz (`--ghz`), measured with the baselines."""
        return list(self._cross_check)


def _ghz_runner() -> Runner | str:
    """ghz's runner, built now unless up to date, or why it is not available."""
    try:
        ghzload.build()
    except Unavailable as exc:
        return str(exc)
    return ghzload.run_ghz


def _against(ghz: Row, grpcload: Row) -> Row:
    """The ghz row, noting its req/s against grpcload's on the same server."""
    if ghz.measurement is None or grpcload.measurement is None:
        return ghz
    ours, theirs = grpcload.measurement.result.rps, ghz.measurement.result.rps
    ghz_rate, grpcload_rate = (f"{rate:,.0f}".replace(",", " ") for rate in (theirs, ours))
    note = (
        f"ghz / grpcload req/s on this server: {theirs / ours:.2f} "
        f"(ghz {ghz_rate}/s, grpcload {grpcload_rate}/s)"
    )
    return replace(ghz, note=note)


def _row(label: str, result: Measurement | BenchError) -> Row:
    if isinstance(result, BenchError):
        return Row.broken(label, str(result))
    return Row(label=label, measurement=result)


def with_cost(row: Row, baseline: Row) -> Row:
    """`row` with the CPU per call it adds over `baseline`."""
    if row.measurement is None or baseline.measurement is None:
        return row
    cost = row.measurement.cpu_us_per_call - baseline.measurement.cpu_us_per_call
    return replace(row, cost_us=cost)
