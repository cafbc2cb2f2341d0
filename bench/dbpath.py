"""R3's database path: the user service's GetUser on PostgreSQL, then one read alone.

A throw-away database (servicekit.testing.databases) is migrated with the service's own
`migrate` command and seeded through its public CreateUser RPC. Two servers then serve
GetUser of one seeded user on that database, in turns, both on core 0:

- R3's numerator: the user service's handlers, use cases, unit of work and repository on
  the bare `build_server` (benchserver.py `userdb`), so that it differs from the bare
  constant servicer by the database path alone;
- for reference, the service itself (`python -m services.user serve`) behind its full
  interceptor chain (the chain's cost is R1's subject);
- for reference, the bare constant servicer that first makes the point read with psycopg
  (benchserver.py `readconstant`): what waiting on PostgreSQL in a worker thread costs
  this server at the least, whatever the code around the read.

The read alone is psycopg 3 `SELECT * FROM users WHERE id = %s` in a loop on the server's
core. All report the CPU the PostgreSQL backends spent too, read from /proc like the
server's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from harness import (
    ENTRY,
    ROOT,
    BenchError,
    ServerProcess,
    admission,
    cpu_seconds,
    free_port,
    wait_ready,
)
from report import Row
from turns import Load, Measurement

from servicekit.testing.databases import temporary_database

if TYPE_CHECKING:
    from scenarios import Bench

__all__ = ["SEEDED_USERS", "database_rows", "user_env"]

SEEDED_USERS = 20
SERVICE = "services.user GetUser, no interceptors"
REFERENCE = "services.user GetUser, full chain (ref.)"
FLOOR = "bare + psycopg read in handler (floor)"
READ = "psycopg point read alone"


def _plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def backend_cpu(url: str) -> Callable[[], float]:
    """A counter of the CPU seconds of the PostgreSQL backends serving `url`'s database."""

    def read() -> float:
        with psycopg.connect(_plain_url(url), autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return sum(cpu_seconds(int(pid)) for (pid,) in rows)

    return read


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command[1:3])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def user_env(url: str, jwks_file: Path, port: int, *, in_flight: int) -> dict[str, str]:
    """`services.user`'s settings: on `url`'s database, serving gRPC on `port`, admitting
    more calls at once than the load's `in_flight`."""
    # The service's default bound (14 calls at once, 16 threads) is below the benches' 64
    # calls in flight: the calls beyond it would be refused with RESOURCE_EXHAUSTED.
    max_workers, max_concurrent_rpcs = admission(in_flight)
    return {
        "USER_DATABASE__URL": url,
        "USER_GRPC__HOST": "127.0.0.1",
        "USER_GRPC__PORT": str(port),
        "USER_GRPC__MAX_WORKERS": str(max_workers),
        "USER_GRPC__MAX_CONCURRENT_RPCS": str(max_concurrent_rpcs),
        "USER_AUTH__JWKS_FILE": str(jwks_file),
        "USER_METRICS__PORT": "0",
        "USER_LOGGING__FORMAT": "json",
    }


def _measured_row(label: str, result: Measurement | BenchError) -> Row:
    if isinstance(result, BenchError):
        return Row.broken(label, str(result))
    db_us = result.extra_cpu_s / max(result.result.completed, 1) * 1e6
    note = f"PostgreSQL backends: {db_us:.1f} us CPU per call"
    return Row(label=label, measurement=result, note=note)


def _service_rows(bench: Bench, url: str, env: dict[str, str]) -> tuple[list[Row], str]:
    """The database path alone, the full service and the floor, measured in turns; the
    user read."""
    target = f"127.0.0.1:{env['USER_GRPC__PORT']}"
    bare_port, floor_port = free_port(), free_port()
    bare_target, floor_target = f"127.0.0.1:{bare_port}", f"127.0.0.1:{floor_port}"
    in_flight = ["--in-flight", str(bench.options.concurrency)]
    floor_argv = ["readconstant", "--port", str(floor_port), "--url", url, *in_flight]
    bare_argv = ["userdb", "--port", str(bare_port), *in_flight]
    with (
        ServerProcess(["user", "serve"], cpus={0}, env=env) as server,
        ServerProcess(bare_argv, cpus={0}, env=env) as bare,
        ServerProcess(floor_argv, cpus={0}) as floor,
    ):
        wait_ready(server, target)
        wait_ready(bare, bare_target)
        wait_ready(floor, floor_target)
        seed = [sys.executable, str(ENTRY), "seed", "--target", target]
        user_id = json.loads(_run([*seed, "--count", str(SEEDED_USERS)]))[SEEDED_USERS // 2]
        loads = [
            Load(
                server=process,
                spec=bench.spec(address, user_id),
                client_cpus={1},
                server_cores=1,
                also=backend_cpu(url),
            )
            for process, address in ((bare, bare_target), (server, target), (floor, floor_target))
        ]
        path, full, least = bench.measure(loads)
    path_row = _measured_row(SERVICE, path)
    if path_row.measurement is not None:
        path_row = replace(path_row, note=f"{path_row.note} ({SEEDED_USERS} users seeded)")
    rows = [path_row, _measured_row(REFERENCE, full), _measured_row(FLOOR, least)]
    return rows, user_id


def _read_row(url: str, user_id: str, seconds: float, rounds: int) -> Row:
    """The read on core 0 with nothing else of ours running; the cheapest of `rounds`."""
    command = [sys.executable, str(ENTRY), "--cpus", "0", "pointread", "--url", url]
    command += ["--id", user_id, "--seconds", str(seconds), "--rounds", str(rounds)]
    figures = json.loads(_run(command))
    note = (
        f"{figures['reads']} reads, {figures['wall_us_per_read']:.0f} us each; "
        f"PostgreSQL backend {figures['backend_cpu_us_per_read']:.1f} us CPU per read"
    )
    return Row(label=READ, cpu_us=figures["cpu_us_per_read"], note=note)


def database_rows(bench: Bench, workdir: Path) -> list[Row]:
    """The database path, the full service (reference), the read alone and the floor
    (reference); BenchError when set-up fails."""
    with temporary_database("postgresql", workdir) as url:
        env = user_env(url, bench.jwks_file, free_port(), in_flight=bench.options.concurrency)
        _run([sys.executable, "-m", "services.user", "migrate"], env)
        (path, full, least), user_id = _service_rows(bench, url, env)
        read = _read_row(url, user_id, bench.options.duration, bench.options.repeat)
        return [path, full, read, least]
