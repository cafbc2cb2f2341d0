"""The processes `bench/services.py` measures, each pinned to the cores it is given.

    benchserver.py --cpus 0 constant --port P [--chain all|none|a,b] [--workers N] [--jwks F]
                                      [--otlp URL]   # tracing exports spans to an OTLP URL
    benchserver.py --cpus 0 user serve [--workers N]        # services.user's own command line
    benchserver.py --cpus 0 userdb --port P                 # services.user's handlers, no chain
    benchserver.py --cpus 0 readconstant --port P --url URL  # constant + a psycopg read, no chain
    benchserver.py --cpus 0 pointread --url URL --id ID [--seconds S] [--rounds N]
    benchserver.py seed --target HOST:PORT --count N        # creates users, prints their ids
    benchserver.py --cpus 1 collector --port P              # a fake OTLP trace collector

`constant` serves acme.user.v1.UserService whose GetUser returns a fixed user, built with
servicekit's `build_server` behind the interceptors named (`all`: the chain of
`servicekit.grpc.chain.default_interceptors`). `userdb` serves the user service's own
handlers, use cases, unit of work and repository (wired by `services.user.app`, settings
from the same `USER_*` variables as `user serve`) on the same `build_server` with no
interceptors: R3's database path and nothing else. `readconstant` is the constant servicer
that first makes R3's point read with psycopg on a connection of its worker thread: the
least any GetUser that waits on PostgreSQL can cost on this server. `pointread` is the
database read alone:
psycopg 3, `SELECT ... WHERE id = %s` in a loop, printing its CPU per read as JSON.
Affinity is set before any server starts, so the worker processes it spawns inherit it.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import psycopg

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.auth import AccessPolicies, AuthSettings, TokenVerifier
from servicekit.grpc import (
    ErrorMappingInterceptor,
    GrpcSettings,
    Registration,
    build_server,
    default_interceptors,
    run_until_signalled,
    run_workers,
)
from servicekit.grpc.interceptors import auth, metrics, request_context, tracing, validation
from servicekit.logging import LoggingSettings, configure_logging
from servicekit.metrics import GrpcServerMetrics, new_registry
from servicekit.tracing import TracingSettings, configure_tracing

__all__ = ["INTERCEPTORS", "main"]

INTERCEPTORS = (
    "request_context",
    "tracing",
    "metrics",
    "error_mapping",
    "authentication",
    "access_policy",
    "validation",
)
USER_SERVICE = "acme.user.v1.UserService"
FIXED_USER_ID = "7d2b4a3e-1c5f-4d6a-9e8b-2f1a3c4d5e6f"
POINT_READ = "SELECT * FROM users WHERE id = %s"


@dataclass(frozen=True, kw_only=True, slots=True)
class ConstantServer:
    """What a `constant` server process serves; picklable, for spawned workers."""

    port: int
    chain: tuple[str, ...]
    jwks_file: str
    workers: int
    otlp_endpoint: str = ""


def _constant_servicer() -> Any:

    response = user_service_pb2.GetUserResponse(
        user=user_pb2.User(id=FIXED_USER_ID, email="ada@example.com", display_name="Ada")
    )

    class ConstantUserService(user_service_pb2_grpc.UserServiceServicer):  # type: ignore[misc]
        def GetUser(self, request: Any, context: Any) -> Any:  # noqa: N802 - generated name
            return response

    return ConstantUserService()


def _interceptor(name: str, jwks_file: str, otlp_endpoint: str = "") -> Any:
    """One servicekit interceptor built as a service would build it (no span exporter
    unless `otlp_endpoint` is given)."""

    service = user_service_pb2.DESCRIPTOR.services_by_name["UserService"]
    builders = {
        "request_context": request_context.RequestContextInterceptor,
        "tracing": lambda: tracing.TracingInterceptor(
            configure_tracing(TracingSettings(otlp_endpoint=otlp_endpoint), service="bench")
        ),
        "metrics": lambda: metrics.MetricsInterceptor(GrpcServerMetrics(new_registry())),
        "error_mapping": ErrorMappingInterceptor,
        "authentication": lambda: auth.AuthenticationInterceptor(
            TokenVerifier.from_settings(AuthSettings(jwks_file=jwks_file))
        ),
        "access_policy": lambda: auth.AccessPolicyInterceptor(
            AccessPolicies.from_services(service)
        ),
        "validation": validation.ValidationInterceptor,
    }
    return builders[name]()


def _chain(names: Sequence[str], jwks_file: str, otlp_endpoint: str = "") -> list[Any]:

    slots = {
        name: (_interceptor(name, jwks_file, otlp_endpoint) if name in names else None)
        for name in INTERCEPTORS
    }
    return default_interceptors(**slots)


def serve_constant(config: ConstantServer, index: int) -> int:
    """One server process (run once per worker by `run_workers`)."""

    configure_logging(LoggingSettings(format="json"), service="bench")
    registration = Registration(
        user_service_pb2_grpc.add_UserServiceServicer_to_server, _constant_servicer(), USER_SERVICE
    )
    server = build_server(
        GrpcSettings(port=config.port, workers=config.workers),
        registrations=[registration],
        interceptors=_chain(config.chain, config.jwks_file, config.otlp_endpoint),
        reuse_port=config.workers > 1,
    )
    print(f"worker {index} serving on port {server.port}", file=sys.stderr, flush=True)
    return run_until_signalled(server, grace=1.0)


def _run_constant(args: argparse.Namespace) -> int:

    names = _chain_names(args.chain)
    config = ConstantServer(
        port=args.port,
        chain=names,
        jwks_file=args.jwks,
        workers=args.workers,
        otlp_endpoint=args.otlp,
    )
    return run_workers(args.workers, functools.partial(serve_constant, config))


def _chain_names(spec: str) -> tuple[str, ...]:
    if spec == "all":
        return INTERCEPTORS
    names = tuple(name for name in spec.split(",") if name and name != "none")
    unknown = set(names) - set(INTERCEPTORS)
    if unknown:
        raise SystemExit(f"unknown interceptors: {', '.join(sorted(unknown))}")
    return names


def _run_user(args: argparse.Namespace) -> int:
    # Imported here: the other modes must work before the user service exists.
    from services.user.__main__ import main as user_main  # noqa: PLC0415

    return int(user_main(args.rest))


def _run_user_database_path(args: argparse.Namespace) -> int:
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
    grpc_settings = GrpcSettings(port=args.port)
    database = Database(settings.database, pool_size=grpc_settings.max_workers)
    registration = Registration(
        user_service_pb2_grpc.add_UserServiceServicer_to_server,
        UserServiceHandlers(_user_service(settings, database)),
        USER_SERVICE,
    )
    server = build_server(grpc_settings, registrations=[registration], interceptors=[])
    server.add_on_stop(database.dispose)
    print(f"worker 0 serving on port {server.port}", file=sys.stderr, flush=True)
    return run_until_signalled(server, grace=1.0)


def _run_read_constant(args: argparse.Namespace) -> int:
    """The bare constant servicer plus the point read alone, inside the gRPC server."""
    configure_logging(LoggingSettings(format="json"), service="bench")
    url = args.url.replace("postgresql+psycopg://", "postgresql://", 1)
    local = threading.local()
    response = user_service_pb2.GetUserResponse(
        user=user_pb2.User(id=FIXED_USER_ID, email="ada@example.com", display_name="Ada")
    )

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
    server = build_server(GrpcSettings(port=args.port), registrations=[registration])
    print(f"worker 0 serving on port {server.port}", file=sys.stderr, flush=True)
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


def _run_pointread(args: argparse.Namespace) -> int:
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


def _run_collector(args: argparse.Namespace) -> int:
    """A fake OTLP/gRPC trace collector: counts the spans it receives, keeps none."""
    # Imported here: only this mode needs the collector's generated stubs.
    from concurrent import futures  # noqa: PLC0415

    from opentelemetry.proto.collector.trace.v1 import (  # noqa: PLC0415
        trace_service_pb2,
        trace_service_pb2_grpc,
    )

    received = [0]

    class Collector(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 - generated name
            received[0] += sum(
                len(scope.spans) for spans in request.resource_spans for scope in spans.scope_spans
            )
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Collector(), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(grace=None))
    print(f"collector serving on port {port}", file=sys.stderr, flush=True)
    server.wait_for_termination()
    print(f"collector received {received[0]} spans", file=sys.stderr, flush=True)
    return 0


def _run_seed(args: argparse.Namespace) -> int:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpus", default="", help="comma-separated cores to run on")
    commands = parser.add_subparsers(dest="command", required=True)
    constant = commands.add_parser("constant")
    constant.add_argument("--port", type=int, required=True)
    constant.add_argument("--chain", default="none")
    constant.add_argument("--workers", type=int, default=1)
    constant.add_argument("--jwks", default="")
    constant.add_argument("--otlp", default="", help="export spans to this OTLP endpoint")
    user = commands.add_parser("user")
    user.add_argument("rest", nargs=argparse.REMAINDER)
    userdb = commands.add_parser("userdb")
    userdb.add_argument("--port", type=int, required=True)
    readconstant = commands.add_parser("readconstant")
    readconstant.add_argument("--port", type=int, required=True)
    readconstant.add_argument("--url", required=True)
    pointread = commands.add_parser("pointread")
    pointread.add_argument("--url", required=True)
    pointread.add_argument("--id", required=True)
    pointread.add_argument("--seconds", type=float, default=3.0, help="per round")
    pointread.add_argument("--rounds", type=int, default=3)
    collector = commands.add_parser("collector")
    collector.add_argument("--port", type=int, required=True)
    seed = commands.add_parser("seed")
    seed.add_argument("--target", required=True)
    seed.add_argument("--count", type=int, default=20)
    return parser


def _forget_bench_folder() -> None:
    """Drop bench/ from the import path: there `services` is bench/services.py, which would
    hide the services package (and spawned workers inherit the path)."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))


def main(argv: Sequence[str] | None = None) -> int:
    _forget_bench_folder()
    args = _parser().parse_args(argv)
    if args.cpus:
        os.sched_setaffinity(0, {int(core) for core in args.cpus.split(",")})
    runners = {
        "constant": _run_constant,
        "user": _run_user,
        "userdb": _run_user_database_path,
        "readconstant": _run_read_constant,
        "pointread": _run_pointread,
        "seed": _run_seed,
        "collector": _run_collector,
    }
    return runners[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
