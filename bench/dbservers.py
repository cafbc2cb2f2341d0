"""bench/benchserver.py's user-service and PostgreSQL modes: R3's servers and tools.

- `user`: `python -m services.user` itself (its own command line);
- `userdb`: the user service's handlers, use cases, unit of work and repository (wired by
  `services.user.app`, settings from the same `USER_*` variables) on the bare
  `build_server` with no interceptors: R3's database path and nothing else;
- `readconstant`: the constant servicer that first makes R3's point read with psycopg on
  a connection of its worker thread: the least any GetUser that waits on PostgreSQL can
  cost on this server;
- `pointread`: the read alone, psycopg 3 `SELECT ... WHERE id = %s` in a loop, printing
  its CPU per read as JSON;
- `seed`: users created through the public CreateUser RPC, their ids printed as JSON.

`userdb` and `readconstant` admit more calls at once than the `--in-flight` calls of the
load (`harness.admission`): servicekit refuses calls beyond its bound with
RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
import psycopg
from constantserver import USER_SERVICE, constant_response
from harness import admission

from acme.user.v1 import user_service_pb2, user_service_pb2_grpc
from servicekit import heap
from servicekit.grpc import GrpcSettings, Registration, build_server, run_until_signalled
from servicekit.logging import LoggingSettings, configure_logging

__all__ = [
    "run_pointread",
    "run_read_constant",
    "run_seed",
    "run_user",
    "run_user_database_path",
]

POINT_READ = "SELECT * FROM users WHERE id = %s"


def run_user(args: argparse.Namespace) -> int:
    # Imported here: the other modes must work before the user service exists.
    from services.user.__main__ import main as user_main  # noqa: PLC0415

    return int(user_main(args.rest))


def _admitting(port: int, in_flight: int) -> GrpcSettings:
    """The bare server's settings, admitting more calls at once than the load's `in_flight`:
    beyond its bound servicekit refuses calls with RESOURCE_EXHAUSTED."""
    max_workers, max_concurrent_rpcs = admission(in_flight)
    return GrpcSettings(port=port, max_workers=max_workers, max_concurrent_rpcs=max_concurrent_rpcs)


def run_user_database_path(args: argparse.Namespace) -> int:
    """services.user's GetUser path without the interceptor chain: R3's numerator.

    The same servicer, use cases and database wiring as `services.user.app` builds, on the
    `build_server` the bare constant servicer uses, with no interceptors.
    """
    # Imported here: the other modes must work before the user service exists.
    from servicekit.db import Database  # noqa: PLC0415
    from services.user.app import _user_service  # noqa: PLC0415 - the app's own wiring
    from services.user.handlers import UserServiceHandlers  # noqa: PLC0415
    from services.user.settings import load  # noqa: PLC0415

    configure_logging(LoggingSettings(format="json"), service="bench")
    settings = load()
    grpc_settings = _admitting(args.port, args.in_flight)
    # One pooled connection per worker thread, as the service's own runtime sizes its pool
    # (servicekit.grpc.standard): opened on demand, so about one per call in flight.
    database = Database(settings.database, pool_size=grpc_settings.max_workers)
    registration = Registration(
        user_service_pb2_grpc.add_UserServiceServicer_to_server,
        UserServiceHandlers(_user_service(settings, database)),
        USER_SERVICE,
    )
    server = build_server(grpc_settings, registrations=[registration], interceptors=[])
    server.add_on_stop(database.dispose)
    print(f"worker 0 serving on port {server.port}", file=sys.stderr, flush=True)
    heap.settle()  # as servicekit's serve does once start-up is done
    return run_until_signalled(server, grace=1.0)


def run_read_constant(args: argparse.Namespace) -> int:
    """The bare constant servicer plus the point read alone, inside the gRPC server."""
    configure_logging(LoggingSettings(format="json"), service="bench")
    url = args.url.replace("postgresql+psycopg://", "postgresql://", 1)
    local = threading.local()
    response = constant_response()

    class ReadThenConstant(user_service_pb2_grpc.UserServiceServicer):  # type: ignore[misc]
        def GetUser(self, request: Any, context: Any) -> Any:  # noqa: N802 - generated name
            connection = getattr(local, "connection", None)
            if connection is None:
                connection = local.connection = psycopg.connect(url, autocommit=True)
            with connection.cursor() as cursor:
                cursor.execute(POINT_READ, (request.id,))
                cursor.fetchone()
            return response

    registration = Registration(
        user_service_pb2_grpc.add_UserServiceServicer_to_server, ReadThenConstant(), USER_SERVICE
    )
    server = build_server(_admitting(args.port, args.in_flight), registrations=[registration])
    print(f"worker 0 serving on port {server.port}", file=sys.stderr, flush=True)
    heap.settle()  # as servicekit's serve does once start-up is done
    return run_until_signalled(server, grace=1.0)


def _point_reads(cursor: Any, sql: str, user_id: str, seconds: float) -> int:
    count = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(100):
            cursor.execute(sql, (user_id,))
            cursor.fetchone()
        count += 100
    return count


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_window(cursor: Any, backend: int, user_id: str, seconds: float) -> dict[str, float]:
    cpu, db_cpu, wall = time.process_time(), _backend_cpu(backend), time.perf_counter()
    reads = _point_reads(cursor, POINT_READ, user_id, seconds)
    cpu, db_cpu = time.process_time() - cpu, _backend_cpu(backend) - db_cpu
    return {
        "reads": reads,
        "cpu_us_per_read": cpu / reads * 1e6,
        "backend_cpu_us_per_read": db_cpu / reads * 1e6,
        "wall_us_per_read": (time.perf_counter() - wall) / reads * 1e6,
    }


def run_pointread(args: argparse.Namespace) -> int:
    """CPU of one primary-key read through psycopg 3, this process's and PostgreSQL's.

    The cheapest of `--rounds` windows counts: on a shared machine, others only add.
    """
    url = args.url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as connection, connection.cursor() as cursor:
        backend = connection.info.backend_pid
        _point_reads(cursor, POINT_READ, args.id, 0.5)  # warm: prepared after 5 executions
        windows = [_read_window(cursor, backend, args.id, args.seconds) for _ in range(args.rounds)]
    print(json.dumps(min(windows, key=lambda window: window["cpu_us_per_read"])))
    return 0


def run_seed(args: argparse.Namespace) -> int:
    """Create users through the public CreateUser RPC; print their ids as JSON."""

    ids = []
    with grpc.insecure_channel(args.target) as channel:
        stub = user_service_pb2_grpc.UserServiceStub(channel)
        for number in range(args.count):
            request = user_service_pb2.CreateUserRequest(
                email=f"bench-{number}-{uuid.uuid4().hex[:8]}@example.com",
                display_name=f"Bench user {number}",
                password="correct horse battery staple",  # noqa: S106 - throw-away bench users
            )
            ids.append(stub.CreateUser(request, timeout=30).user.id)
    print(json.dumps(ids))
    return 0
