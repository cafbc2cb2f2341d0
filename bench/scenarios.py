"""The servers the service benchmark measures, and how each is set up and loaded.

`Bench` starts servers (bench/benchserver.py) pinned to their cores, waits until they are
healthy, loads them in turns with bench/grpcload and returns table rows. A piece of
servicekit or of the user service that does not exist (yet) gives a row
"not available: <why>".
"""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from dbpath import database_rows
from grpcload import LoadSpec, encode_request
from harness import (
    ROOT,
    BenchError,
    Load,
    Measurement,
    ServerProcess,
    free_port,
    measure,
    wait_for_log,
    wait_ready,
)
from report import Row

from servicekit.testing.tokens import TestIssuer

__all__ = ["EXPORTING", "Bench", "Options", "missing"]

SERVER_CPUS = frozenset({0})
CLIENT_CPUS = frozenset({1})
BOTH_CPUS = frozenset({0, 1})
GET_USER = "/acme.user.v1.UserService/GetUser"
FIXED_USER_ID = "7d2b4a3e-1c5f-4d6a-9e8b-2f1a3c4d5e6f"
BARE, FULL = "bare", "full chain"
EXPORTING = "full chain, tracing exporting (OTLP)"

# label, chain, label of the row its cost is measured against
SINGLES = (
    ("request context alone", "request_context", BARE),
    ("tracing alone", "tracing", BARE),
    ("metrics alone", "metrics", BARE),
    ("error mapping alone", "error_mapping", BARE),
    ("authentication alone", "authentication", BARE),
    (
        "access policy (after authentication)",
        "authentication,access_policy",
        "authentication alone",
    ),
    ("validation alone", "validation", BARE),
)
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
USER_NAMES = (
    "services.user.app:serve",
    "services.user.app:migrate",
    "services.user.app:_user_service",
    "services.user.handlers:UserServiceHandlers",
    "servicekit.testing.databases:temporary_database",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Options:
    duration: float
    warmup: float
    concurrency: int
    connections: int
    repeat: int
    only: tuple[str, ...]


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


def describe_machine(options: Options) -> str:
    """When, on what, under which load, and how the load is generated."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?"
    )
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"{now}: {os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
        f"load average {load}\n"
        f"load: bench/grpcload (C, libnghttp2), {options.concurrency} calls in flight over "
        f"{options.connections} connections; per server {options.warmup:g} s warm-up, then "
        f"the fastest of {options.repeat} runs of {options.duration:g} s (servers take turns)"
    )


class Bench:
    """Runs servers and loads; remembers bare and full chain, which R1 and R3 both need."""

    def __init__(self, options: Options, workdir: Path) -> None:
        self._options = options
        self._workdir = workdir
        self._issuer = TestIssuer(workdir)
        self._baselines: dict[str, Row] = {}

    def token(self, subject: str) -> str:
        return str(self._issuer.mint(subject, expires_in=3600))

    @property
    def options(self) -> Options:
        return self._options

    @property
    def jwks_file(self) -> Path:
        return Path(self._issuer.jwks_file)

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
        argv = ["constant", "--port", str(port), "--chain", config.chain]
        argv += ["--workers", str(config.workers), "--jwks", str(self.jwks_file)]
        if config.otlp:
            argv += ["--otlp", otlp]
        server = stack.enter_context(ServerProcess(argv, cpus=set(config.cpus)))
        target = f"127.0.0.1:{port}"
        wait_ready(server, target)
        wait_for_log(server, [f"worker {i} serving" for i in range(config.workers)])
        client = BOTH_CPUS if config.cpus == BOTH_CPUS else CLIENT_CPUS
        return Load(
            server=server,
            spec=self.spec(target, FIXED_USER_ID, wide=config.wide),
            client_cpus=set(client),
            server_cores=len(config.cpus),
        )

    def constants(self, configs: Sequence[Constant]) -> dict[str, Row]:
        """Start every server, measure them in turns, stop them; a row per label."""
        rows: dict[str, Row] = {}
        loads: dict[str, Load] = {}
        with contextlib.ExitStack() as stack:
            otlp = ""
            for config in configs:
                try:
                    if config.otlp and not otlp:
                        otlp = self._collector(stack)
                    loads[config.label] = self._start(stack, config, otlp)
                except BenchError as exc:
                    rows[config.label] = Row.broken(config.label, str(exc))
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
        rows = self.constants(configs)
        rows[FULL] = with_cost(rows[FULL], rows[BARE])
        self._baselines = {BARE: rows[BARE], FULL: rows[FULL]}
        return rows

    def middleware_rows(self) -> list[Row]:
        """Bare, the full chain, the full chain with tracing exporting its spans over OTLP,
        then each interceptor alone with its cost per call."""
        extra = [Constant(label=EXPORTING, chain="all", otlp=True)]
        extra += [Constant(label=label, chain=chain) for label, chain, _ in SINGLES]
        rows = self.baselines(extra)
        if rows[FULL].measurement is None:
            return [rows[BARE], rows[FULL]]
        singles = [with_cost(rows[label], rows[base]) for label, _, base in SINGLES]
        total = sum(row.cost_us or 0.0 for row in singles)
        return [
            rows[BARE],
            rows[FULL],
            with_cost(rows[EXPORTING], rows[BARE]),
            *singles,
            Row(label="sum of the costs alone", cost_us=total),
        ]

    def database_rows(self) -> list[Row]:
        """Bare, full chain, the user service's GetUser on PostgreSQL without interceptors
        (R3's numerator) and behind the full chain (reference), the read alone."""
        why = missing(USER_NAMES)
        base = self.baselines()
        if why:
            return [base[BARE], base[FULL], Row.unavailable("services.user GetUser", why)]
        return [base[BARE], base[FULL], *database_rows(self, self._workdir)]

    def scale_out_rows(self) -> list[Row]:
        """The full chain on both cores: one worker process, then two sharing the port;
        then, for reference, one worker held to a single core."""
        configs = [
            Constant(label="1 worker on 2 cores", chain="all", cpus=BOTH_CPUS, wide=True),
            Constant(
                label="2 workers on 2 cores", chain="all", cpus=BOTH_CPUS, workers=2, wide=True
            ),
            Constant(label="1 worker on core 0 (reference)", chain="all", wide=True),
        ]
        why = missing(CHAIN_NAMES)
        if why:
            return [Row.unavailable(config.label, why) for config in configs]
        rows = self.constants(configs)
        return [rows[configs[0].label], _with_split(rows[configs[1].label]), rows[configs[2].label]]


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


def _with_split(row: Row) -> Row:
    """Note how the kernel spread the connections: each worker's share of the CPU."""
    if row.measurement is None:
        return row
    split = row.measurement.per_process_cpu_s[:2]
    total = sum(split) or 1.0
    shares = " / ".join(f"{share / total:.0%}" for share in split)
    return replace(row, note=f"CPU split between the two workers: {shares}")
