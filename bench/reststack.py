"""The REST benchmark's servers: started pinned, configured, answering, as contenders.

- R2: the gateway (`python -m services.gateway serve` through bench/restserver.py) alone
  on core 0 in front of the constant gRPC servicer (bench/benchserver.py `constant
  --chain none`) on core 1 with the client, and a bare connexion app on core 0.
- REST / gRPC: `python -m services.user serve` on a throw-away PostgreSQL database
  (migrated, seeded through CreateUser) on core 0, and a second gateway in front of it,
  also on core 0.
- R6 gateway: the gateway with 1 worker and with 2 (`serve --workers 2`), each free to run
  on both cores, in front of R2's constant backend (core 1, with the client).
- The anchor: grpc-gateway (bench/grpcgateway, built by bench/grpcgatewaystack.py) in
  front of the same user service, on core 0 like the second gateway; "not available" when
  Go or its build is not.

Every server admits more requests (calls) at once than the load keeps in flight: the
gateway answers 503 and the user service RESOURCE_EXHAUSTED beyond their bounds.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import grpcgatewaystack
from dbpath import SEEDED_USERS, user_env
from gotools import Unavailable
from harness import (
    ADMISSION_MARGIN,
    ENTRY,
    ROOT,
    BenchError,
    ServerProcess,
    free_port,
    wait_for_log,
    wait_ready,
)
from restload import CLIENT_CPUS, grpc_load, wrk_load
from restwindows import Contender, NotAvailable

from servicekit.testing.databases import temporary_database
from servicekit.testing.tokens import TestIssuer

__all__ = [
    "GRPC",
    "GRPC_GATEWAY",
    "LABELS",
    "R2_BARE",
    "R2_GATEWAY",
    "R6_ONE",
    "R6_TWO",
    "REST",
    "Options",
    "Skipped",
    "start_all",
]

REST_ENTRY = Path(__file__).resolve().parent / "restserver.py"
SERVER_CPUS = {0}
FIXED_USER_ID = "7d2b4a3e-1c5f-4d6a-9e8b-2f1a3c4d5e6f"

R2_GATEWAY = "gateway -> constant gRPC backend"
R2_BARE = "bare connexion app"
REST = "REST: gateway -> services.user"
GRPC = "gRPC: services.user directly"
GRPC_GATEWAY = "REST: grpc-gateway -> services.user"
R6_ONE = "R6 gateway, 1 worker (cores 0-1)"
R6_TWO = "R6 gateway, 2 workers (cores 0-1)"
BOTH_CPUS = {0, 1}
LABELS = (R2_GATEWAY, R2_BARE, R6_ONE, R6_TWO, REST, GRPC_GATEWAY, GRPC)
"""The contenders, in the order of the table."""

Skipped = dict[str, NotAvailable | BenchError]
"""Contenders that were not measured: not available here, or failed to start."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Options:
    duration: float
    warmup: float
    repeat: int
    connections: int
    grpc_connections: int
    grpc_gateway: bool = True
    r6: bool = True


class RestProcess(ServerProcess):
    """`restserver.py <argv>` pinned to `cpus` (harness's ServerProcess otherwise)."""

    def __init__(self, argv: Sequence[str], *, cpus: set[int], env: dict[str, str]) -> None:
        super().__init__(argv, cpus=cpus, env=env)
        cores = ",".join(map(str, sorted(cpus)))
        self._command = [sys.executable, str(REST_ENTRY), "--cpus", cores, *argv]


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


def gateway_env(http_port: int, user_target: str, *, in_flight: int) -> dict[str, str]:
    """The gateway's settings: default but for ports, the user backend's address and a
    bound on requests at once above the load's `in_flight`."""
    return {
        "GATEWAY_HTTP__HOST": "127.0.0.1",
        "GATEWAY_HTTP__PORT": str(http_port),
        # Beyond it the gateway answers 503 at once (its default, 128, is above the 64 in
        # flight already; said here so that a larger --connections is not refused).
        "GATEWAY_HTTP__MAX_CONCURRENT_REQUESTS": str(in_flight + ADMISSION_MARGIN),
        "GATEWAY_BACKENDS__USER__TARGET": user_target,
        "GATEWAY_BACKENDS__AUTH__TARGET": f"127.0.0.1:{free_port()}",  # not called here
        "GATEWAY_METRICS__PORT": "0",
        "GATEWAY_LOGGING__FORMAT": "json",
    }


def _checked_run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command[1:4])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


@dataclass(frozen=True, kw_only=True, slots=True)
class _Http:
    """A server answering GET `url` with 200 for `token`; `backend`: the gRPC server
    behind it, if any."""

    url: str
    token: str
    server: ServerProcess
    backend: ServerProcess | None
    backend_target: str = ""


def _start_r2(
    stack: contextlib.ExitStack, issuer: TestIssuer, in_flight: int
) -> tuple[_Http, _Http]:
    """R2: constant backend on core 1 (with the client), gateway alone on core 0, bare app."""
    backend_port, gateway_port, bare_port = free_port(), free_port(), free_port()
    # --in-flight: the constant backend admits more calls than the gateway sends at once.
    argv = ["constant", "--port", str(backend_port), "--chain", "none"]
    argv += ["--in-flight", str(in_flight)]
    backend = stack.enter_context(ServerProcess(argv, cpus=CLIENT_CPUS))
    wait_ready(backend, f"127.0.0.1:{backend_port}")
    wait_for_log(backend, ["worker 0 serving"])
    gateway = stack.enter_context(
        RestProcess(
            ["gateway"],
            cpus=SERVER_CPUS,
            env=gateway_env(gateway_port, f"127.0.0.1:{backend_port}", in_flight=in_flight),
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
    return (
        _Http(
            url=gateway_url,
            token=fixed_token,
            server=gateway,
            backend=backend,
            backend_target=f"127.0.0.1:{backend_port}",
        ),
        _Http(url=bare_url, token=fixed_token, server=bare, backend=None),
    )


def _start_r6(stack: contextlib.ExitStack, r2: _Http, in_flight: int) -> tuple[_Http, _Http]:
    """R6: the gateway with one worker and with two, on both cores, before R2's backend."""
    gateways = []
    for workers in (1, 2):
        port = free_port()
        env = gateway_env(port, r2.backend_target, in_flight=in_flight)
        argv = ["gateway", "--workers", str(workers)]
        server = stack.enter_context(RestProcess(argv, cpus=BOTH_CPUS, env=env))
        url = f"http://127.0.0.1:{port}/v1/users/{FIXED_USER_ID}"
        wait_http(server, url, r2.token)
        gateways.append(_Http(url=url, token=r2.token, server=server, backend=r2.backend))
    return gateways[0], gateways[1]


def _start_user(
    stack: contextlib.ExitStack, issuer: TestIssuer, workdir: Path, in_flight: int
) -> tuple[_Http, ServerProcess, str, str]:
    """services.user on PostgreSQL, and a second gateway in front of it; the gateway, the
    user service, its address and the id of the user read."""
    url = stack.enter_context(temporary_database("postgresql", workdir))
    user_port, rest_port = free_port(), free_port()
    # The user service admits more calls at once than the load's (user_env says why).
    env = user_env(url, Path(issuer.jwks_file), user_port, in_flight=in_flight)
    _checked_run([sys.executable, "-m", "services.user", "migrate"], env)
    user = stack.enter_context(ServerProcess(["user", "serve"], cpus=SERVER_CPUS, env=env))
    user_target = f"127.0.0.1:{user_port}"
    wait_ready(user, user_target)
    seed = [sys.executable, str(ENTRY), "seed", "--target", user_target]
    user_id = json.loads(_checked_run([*seed, "--count", str(SEEDED_USERS)], {}))[SEEDED_USERS // 2]
    rest_env = gateway_env(rest_port, user_target, in_flight=in_flight)
    rest = stack.enter_context(RestProcess(["gateway"], cpus=SERVER_CPUS, env=rest_env))
    token = str(issuer.mint(user_id, expires_in=3600))
    rest_url = f"http://127.0.0.1:{rest_port}/v1/users/{user_id}"
    wait_http(rest, rest_url, token)
    return _Http(url=rest_url, token=token, server=rest, backend=user), user, user_target, user_id


def _build_grpc_gateway(options: Options) -> Path | NotAvailable | None:
    """grpc-gateway's binary (built now unless up to date), why not, or None if not asked."""
    if not options.grpc_gateway:
        return None
    print("grpc-gateway: generating and building (bench/grpcgatewaystack.py) ...", flush=True)
    try:
        return grpcgatewaystack.build()
    except Unavailable as exc:
        return NotAvailable(why=str(exc))


def _start_grpc_gateway(
    stack: contextlib.ExitStack,
    binary: Path,
    user: tuple[ServerProcess, str],
    user_id: str,
    token: str,
) -> _Http:
    """grpc-gateway in front of the user service, on core 0 like the second gateway: GET
    /v1/users/{id} of the same user, with the same token."""
    port = free_port()
    backend, target = user
    argv = ["grpcgateway", str(binary), "--listen", f"127.0.0.1:{port}", "--backend", target]
    server = stack.enter_context(RestProcess(argv, cpus=SERVER_CPUS, env={}))
    url = f"http://127.0.0.1:{port}/v1/users/{user_id}"
    wait_http(server, url, token)
    return _Http(url=url, token=token, server=server, backend=backend)


def start_all(
    stack: contextlib.ExitStack, options: Options, workdir: Path, script: Path
) -> tuple[list[Contender], Skipped]:
    """Every server of both comparisons and the anchor, started and answering; their
    contenders, and the contenders that could not be (why)."""
    binary = _build_grpc_gateway(options)
    skipped: Skipped = {}
    if isinstance(binary, NotAvailable):
        skipped[GRPC_GATEWAY] = binary
    issuer = TestIssuer(workdir)
    in_flight = options.connections
    gateway, bare = _start_r2(stack, issuer, in_flight)
    r6 = _start_r6(stack, gateway, in_flight) if options.r6 else None
    rest, user, user_target, user_id = _start_user(stack, issuer, workdir, in_flight)
    anchor = None
    if isinstance(binary, Path):
        try:
            anchor = _start_grpc_gateway(stack, binary, (user, user_target), user_id, rest.token)
        except BenchError as exc:
            skipped[GRPC_GATEWAY] = exc
    core0: tuple[int, ...] = (gateway.server.pid, bare.server.pid, user.pid, rest.server.pid)
    core0 += () if r6 is None else (r6[0].server.pid, r6[1].server.pid)
    if anchor is not None:
        core0 += (anchor.server.pid,)

    def over_http(label: str, http: _Http) -> Contender:
        return Contender(
            label=label,
            load=wrk_load(http.url, http.token, options.connections, script),
            gateway=http.server.pid,
            backend=None if http.backend is None else http.backend.pid,
            core0=core0,
        )

    grpc = grpc_load(
        user_target, user_id, rest.token, options.connections, options.grpc_connections
    )
    contenders = [
        over_http(R2_GATEWAY, gateway),
        over_http(R2_BARE, bare),
        over_http(REST, rest),
        Contender(label=GRPC, load=grpc, gateway=None, backend=user.pid, core0=core0),
    ]
    if anchor is not None:
        contenders.insert(3, over_http(GRPC_GATEWAY, anchor))
    if r6 is not None:
        contenders[2:2] = [over_http(R6_ONE, r6[0]), over_http(R6_TWO, r6[1])]
    return contenders, skipped
