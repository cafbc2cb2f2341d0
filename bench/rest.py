"""The REST face under load: the gateway's REST tax (R2) and REST / gRPC.

    .venv/bin/python bench/rest.py [--duration S --repeat N --connections C]

Side by side in one run, every server a pinned subprocess, the load generator (wrk, a
Lua script checking the status of every reply) pinned to core 1:

- R2 REST tax: GET /v1/users/{id} through the real gateway (`python -m services.gateway
  serve`, uvicorn) whose user backend is the CONSTANT gRPC servicer (bench/benchserver.py
  `constant --chain none`) / a bare connexion app (bench/restserver.py `bare`: uvicorn, a
  one-operation spec, a handler returning a constant JSON user). The gateway alone is
  on core 0; the constant backend shares core 1 with the client, so that core 0's work
  is the gateway's alone and the gateway's CPU per request compares with the bare app's.
- REST / gRPC: GetUser over REST through the gateway / GetUser over gRPC directly
  (bench/grpcload, the C client of bench/services.py), the same `python -m services.user
  serve` on a throw-away PostgreSQL database (migrated, 20 users seeded through
  CreateUser, a token of the user read minted by servicekit.testing.tokens.TestIssuer).
  Gateway and user service both on core 0 (the REST path's whole server cost on the
  one core), the client on core 1, PostgreSQL unpinned; the same calls in flight.

Per contender a warm-up, then the fastest of `--repeat` windows, the contenders taking
turns. Server CPU is utime + stime from /proc/<pid>/stat across each window: the gateway
process alone ("gateway us"), and the other server of the row ("backend us": the user
service, or the constant backend on core 1). Exits 1 when any reply was not a 200 (or
not gRPC OK), a socket error occurred, or a server failed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dbpath import SEEDED_USERS
from grpcload import LoadSpec, encode_request, run_load
from harness import (
    ENTRY,
    ROOT,
    BenchError,
    ServerProcess,
    cpu_seconds,
    free_port,
    tree_cpu_seconds,
    wait_for_log,
    wait_ready,
)

from servicekit.testing.databases import temporary_database
from servicekit.testing.tokens import TestIssuer

REST_ENTRY = Path(__file__).resolve().parent / "restserver.py"
SERVER_CPUS = {0}
CLIENT_CPUS = {1}
GET_USER = "/acme.user.v1.UserService/GetUser"
FIXED_USER_ID = "7d2b4a3e-1c5f-4d6a-9e8b-2f1a3c4d5e6f"
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) good = 0; bad = 0 end
function response(status, headers, body)
  if status == 200 then good = good + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do g = g + t:get("good"); b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "good": %d, ' ..
    '"bad": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, g, b, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""

R2_GATEWAY = "gateway -> constant gRPC backend"
R2_BARE = "bare connexion app"
REST = "REST: gateway -> services.user"
GRPC = "gRPC: services.user directly"


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
class Contender:
    """How to load one server set-up, and whose CPU to read around a window."""

    label: str
    load: Callable[[float], tuple[int, float, float, float]]  # -> requests, s, p50, p99
    gateway: int | None  # pid
    backend: int | None  # pid (its process tree is read)
    core0: tuple[int, ...]  # pids of the servers on core 0


class RestProcess(ServerProcess):
    """`restserver.py <argv>` pinned to `cpus` (harness's ServerProcess otherwise)."""

    def __init__(self, argv: Sequence[str], *, cpus: set[int], env: dict[str, str]) -> None:
        super().__init__(argv, cpus=cpus, env=env)
        cores = ",".join(map(str, sorted(cpus)))
        self._command = [sys.executable, str(REST_ENTRY), "--cpus", cores, *argv]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pin_client() -> None:
    os.sched_setaffinity(0, CLIENT_CPUS)


def wrk_load(url: str, token: str, connections: int, script: Path) -> Callable[..., tuple]:
    """A closed-loop wrk run (one thread, `connections` requests in flight)."""

    def run(seconds: float) -> tuple[int, float, float, float]:
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, math.ceil(seconds))}s"]
        command += ["--timeout", "10s", "-s", str(script)]
        command += ["-H", f"Authorization: Bearer {token}", url]
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, preexec_fn=_pin_client
        )
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), "")
        if done.returncode != 0 or not line:
            raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        figures = json.loads(line.removeprefix("RESULT "))
        errors = {k: figures[k] for k in ("bad", "connect", "read", "write", "timeout")}
        if any(errors.values()) or figures["good"] == 0:
            raise BenchError(f"{url}: non-200 replies or socket errors: {errors}")
        elapsed = figures["duration_us"] / 1e6
        return figures["requests"], elapsed, figures["p50_us"], figures["p99_us"]

    return run


def grpc_load(target: str, user_id: str, token: str, concurrency: int, connections: int):
    """A closed-loop bench/grpcload run checking every grpc-status."""

    def run(seconds: float) -> tuple[int, float, float, float]:
        spec = LoadSpec(
            target=target,
            method=GET_USER,
            request=encode_request(GET_USER, f'id: "{user_id}"'),
            connections=connections,
            concurrency=concurrency,
            duration=seconds,
            metadata=(("authorization", f"Bearer {token}"),),
        )
        result = run_load(spec, cpus=CLIENT_CPUS)
        if result.unexpected or result.lost or result.ok == 0:
            raise BenchError(f"gRPC: unexpected replies {result.failures}, lost {result.lost}")
        return result.completed, result.elapsed_s, result.p50_us, result.p99_us

    return run


def _tree(pid: int | None) -> float | None:
    return None if pid is None else sum(tree_cpu_seconds(pid).values())


def _core0(pids: Sequence[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def one_window(contender: Contender, seconds: float) -> Window:
    gateway0 = None if contender.gateway is None else cpu_seconds(contender.gateway)
    backend0, core0, client0 = _tree(contender.backend), _core0(contender.core0), _children_cpu()
    requests, elapsed, p50, p99 = contender.load(seconds)
    gateway1 = None if contender.gateway is None else cpu_seconds(contender.gateway)
    backend1 = _tree(contender.backend)
    return Window(
        requests=requests,
        elapsed_s=elapsed,
        p50_us=p50,
        p99_us=p99,
        gateway_s=None if gateway0 is None or gateway1 is None else gateway1 - gateway0,
        backend_s=None if backend0 is None or backend1 is None else backend1 - backend0,
        client_s=_children_cpu() - client0,
        core0_s=_core0(contender.core0) - core0,
    )


def measure(
    contenders: Sequence[Contender], *, warmup: float, duration: float, rounds: int
) -> dict[str, Window | BenchError]:
    """Per contender the fastest window of `rounds`; the contenders take turns."""
    runs: dict[str, list[Window] | BenchError] = {}
    for contender in contenders:
        try:
            contender.load(warmup)
            runs[contender.label] = []
        except BenchError as exc:
            runs[contender.label] = exc
    for _ in range(max(rounds, 1)):
        for contender in contenders:
            done = runs[contender.label]
            if isinstance(done, BenchError):
                continue
            try:
                done.append(one_window(contender, duration))
            except BenchError as exc:
                runs[contender.label] = exc
    return {
        label: done if isinstance(done, BenchError) else max(done, key=lambda w: w.rps)
        for label, done in runs.items()
    }


def wait_http(server: ServerProcess, url: str, token: str, timeout: float = 60.0) -> None:
    """Until `url` answers 200 (through every backend behind it)."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    last = ""
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(f"server exited at start:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310 - local
                if reply.status == 200:
                    return
        except OSError as exc:
            last = str(exc)
        time.sleep(0.3)
    raise BenchError(f"{url} not 200 after {timeout:.0f} s ({last}):\n{server.log_tail()}")


def gateway_env(http_port: int, user_target: str) -> dict[str, str]:
    """The gateway's settings: default but for ports and the user backend's address."""
    return {
        "GATEWAY_HTTP__HOST": "127.0.0.1",
        "GATEWAY_HTTP__PORT": str(http_port),
        "GATEWAY_BACKENDS__USER__TARGET": user_target,
        "GATEWAY_BACKENDS__AUTH__TARGET": f"127.0.0.1:{free_port()}",  # not called here
        "GATEWAY_METRICS__PORT": "0",
        "GATEWAY_LOGGING__FORMAT": "json",
    }


def user_env(url: str, port: int, jwks_file: Path) -> dict[str, str]:
    return {
        "USER_DATABASE__URL": url,
        "USER_GRPC__HOST": "127.0.0.1",
        "USER_GRPC__PORT": str(port),
        "USER_AUTH__JWKS_FILE": str(jwks_file),
        "USER_METRICS__PORT": "0",
        "USER_LOGGING__FORMAT": "json",
    }


def _checked_run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command[1:4])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


@dataclass(frozen=True, kw_only=True, slots=True)
class Options:
    duration: float
    warmup: float
    repeat: int
    connections: int
    grpc_connections: int


def start_all(
    stack: contextlib.ExitStack, options: Options, workdir: Path, script: Path
) -> list[Contender]:
    """Every server of both comparisons, started and answering; their contenders."""
    issuer = TestIssuer(workdir)
    jwks = Path(issuer.jwks_file)
    conns = options.connections

    # R2: constant backend on core 1 (with the client), gateway alone on core 0, bare app.
    backend_port, gateway_port, bare_port = free_port(), free_port(), free_port()
    backend = stack.enter_context(
        ServerProcess(
            ["constant", "--port", str(backend_port), "--chain", "none"], cpus=CLIENT_CPUS
        )
    )
    wait_ready(backend, f"127.0.0.1:{backend_port}")
    wait_for_log(backend, ["worker 0 serving"])
    gateway = stack.enter_context(
        RestProcess(
            ["gateway"],
            cpus=SERVER_CPUS,
            env=gateway_env(gateway_port, f"127.0.0.1:{backend_port}"),
        )
    )
    bare = stack.enter_context(
        RestProcess(["bare", "--port", str(bare_port)], cpus=SERVER_CPUS, env={})
    )
    fixed_token = str(issuer.mint(FIXED_USER_ID, expires_in=3600))
    gateway_url = f"http://127.0.0.1:{gateway_port}/v1/users/{FIXED_USER_ID}"
    bare_url = f"http://127.0.0.1:{bare_port}/v1/users/{FIXED_USER_ID}"
    wait_http(gateway, gateway_url, fixed_token)
    wait_http(bare, bare_url, fixed_token)

    # REST / gRPC: services.user on PostgreSQL, and a second gateway in front of it.
    url = stack.enter_context(temporary_database("postgresql", workdir))
    user_port, rest_port = free_port(), free_port()
    env = user_env(url, user_port, jwks)
    _checked_run([sys.executable, "-m", "services.user", "migrate"], env)
    user = stack.enter_context(ServerProcess(["user", "serve"], cpus=SERVER_CPUS, env=env))
    user_target = f"127.0.0.1:{user_port}"
    wait_ready(user, user_target)
    seed = [sys.executable, str(ENTRY), "seed", "--target", user_target]
    user_id = json.loads(_checked_run([*seed, "--count", str(SEEDED_USERS)], {}))[SEEDED_USERS // 2]
    rest = stack.enter_context(
        RestProcess(["gateway"], cpus=SERVER_CPUS, env=gateway_env(rest_port, user_target))
    )
    token = str(issuer.mint(user_id, expires_in=3600))
    rest_url = f"http://127.0.0.1:{rest_port}/v1/users/{user_id}"
    wait_http(rest, rest_url, token)

    core0 = (gateway.pid, bare.pid, user.pid, rest.pid)
    contenders = [
        Contender(
            label=R2_GATEWAY,
            load=wrk_load(gateway_url, fixed_token, conns, script),
            gateway=gateway.pid,
            backend=backend.pid,
            core0=core0,
        ),
        Contender(
            label=R2_BARE,
            load=wrk_load(bare_url, fixed_token, conns, script),
            gateway=bare.pid,
            backend=None,
            core0=core0,
        ),
        Contender(
            label=REST,
            load=wrk_load(rest_url, token, conns, script),
            gateway=rest.pid,
            backend=user.pid,
            core0=core0,
        ),
        Contender(
            label=GRPC,
            load=grpc_load(user_target, user_id, token, conns, options.grpc_connections),
            gateway=None,
            backend=user.pid,
            core0=core0,
        ),
    ]
    return contenders


def _fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}".replace(",", " ")


def print_table(results: dict[str, Window | BenchError]) -> None:
    head = (
        f"{'':34} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'gateway us':>10} "
        f"{'backend us':>10} {'client us':>9} {'core 0':>6}"
    )
    print(head)
    for label, window in results.items():
        if isinstance(window, BenchError):
            print(f"{label:34} failed: {window}")
            continue
        server_us = window.per_request_us(window.gateway_s)
        busy = window.core0_s / max(window.elapsed_s, 1e-9)
        print(
            f"{label:34} {_fmt(window.rps):>8} {window.p50_us / 1000:>7.1f} "
            f"{window.p99_us / 1000:>7.1f} {_fmt(server_us):>10} "
            f"{_fmt(window.per_request_us(window.backend_s)):>10} "
            f"{_fmt(window.per_request_us(window.client_s)):>9} {busy:>6.0%}"
        )


def _ratio_line(name: str, value: float | None, target: float, note: str) -> str:
    if value is None:
        return f"{name:44} {'—':>6}  target >= {target:.2f}  NOT MEASURED  {note}"
    verdict = "PASS" if value >= target else "MISS"
    return f"{name:44} {value:>6.2f}  target >= {target:.2f}  {verdict}  {note}"


def print_ratios(results: dict[str, Window | BenchError]) -> None:
    gateway, bare = results.get(R2_GATEWAY), results.get(R2_BARE)
    rest, grpc = results.get(REST), results.get(GRPC)
    print()
    if isinstance(gateway, Window) and isinstance(bare, Window):
        gw_us = gateway.per_request_us(gateway.gateway_s) or 0.0
        bare_us = bare.per_request_us(bare.gateway_s) or 0.0
        cpu = bare_us / gw_us if gw_us else float("nan")
        note = f"(by CPU per request, bare / gateway: {cpu:.2f}; gateway +{gw_us - bare_us:.0f} us)"
        print(
            _ratio_line(
                "R2 REST tax, gateway / bare connexion, req/s", gateway.rps / bare.rps, 0.80, note
            )
        )
    else:
        print(_ratio_line("R2 REST tax, gateway / bare connexion, req/s", None, 0.80, ""))
    if isinstance(rest, Window) and isinstance(grpc, Window):
        rest_total = (rest.per_request_us(rest.gateway_s) or 0) + (
            rest.per_request_us(rest.backend_s) or 0
        )
        grpc_total = grpc.per_request_us(grpc.backend_s) or 0
        note = (
            f"(server CPU per GetUser on core 0, REST {rest_total:.0f} us = gateway + "
            f"user service, gRPC {grpc_total:.0f} us)"
        )
        print(
            _ratio_line("REST / gRPC GetUser on PostgreSQL, req/s", rest.rps / grpc.rps, 0.60, note)
        )
    else:
        print(_ratio_line("REST / gRPC GetUser on PostgreSQL, req/s", None, 0.60, ""))


def describe(options: Options) -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?"
    )
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    version = (wrk.stdout or wrk.stderr).split("[")[0].strip()
    return (
        f"{now}: {os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
        f"load average {load}\n"
        f"load: {version} (1 thread, Lua script counting non-200 replies), "
        f"{options.connections} connections = requests in flight; gRPC: bench/grpcload, "
        f"{options.connections} calls in flight over {options.grpc_connections} connections\n"
        f"servers on core 0 (the R2 constant backend on core 1 with the client); per "
        f"contender {options.warmup:g} s warm-up, then the fastest of {options.repeat} x "
        f"{options.duration:g} s (contenders take turns)\n"
        f"gateway us: CPU per request of the gateway process (bare row: the bare app's); "
        f"backend us: the row's gRPC server; core 0: CPU of the servers on core 0 / wall"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per window")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before")
    parser.add_argument("--repeat", type=int, default=3, help="windows; the fastest counts")
    parser.add_argument("--connections", type=int, default=64, help="requests in flight")
    parser.add_argument("--grpc-connections", type=int, default=16)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = Options(
        duration=args.duration,
        warmup=args.warmup,
        repeat=args.repeat,
        connections=args.connections,
        grpc_connections=args.grpc_connections,
    )
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 1
    print(describe(options), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        script = workdir / "status.lua"
        script.write_text(WRK_SCRIPT)
        try:
            contenders = start_all(stack, options, workdir, script)
        except BenchError as exc:
            print(f"failed to start: {exc}", file=sys.stderr)
            return 1
        results = measure(
            contenders, warmup=options.warmup, duration=options.duration, rounds=options.repeat
        )
    print()
    print_table(results)
    print_ratios(results)
    return 1 if any(isinstance(r, BenchError) for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
