"""The gRPC runtime every service shares: server, health, lifecycle, workers, chain.

A service wires it in one function::

    server = build_server(
        settings.grpc,
        registrations=[Registration(add_UserServiceServicer_to_server, servicer, NAME)],
        interceptors=default_interceptors(...),
        health=HealthReporter({"database": database.ping}),
        reuse_port=settings.grpc.workers > 1,
    )
    server.add_on_stop(database.dispose)
    return run_until_signalled(server)

and ``run_workers(settings.grpc.workers, serve_one)`` runs that once per process.
"""

from servicekit.grpc.chain import default_interceptors
from servicekit.grpc.health import HEALTH_SERVICE_NAME, HealthReporter, ReadinessCheck
from servicekit.grpc.interceptors.errors import DEFAULT_ERROR_TABLE, ErrorMappingInterceptor
from servicekit.grpc.lifecycle import STOP_SIGNALS, Stoppable, run_until_signalled
from servicekit.grpc.server import (
    BindError,
    GrpcServer,
    GrpcSettings,
    Registration,
    build_server,
)
from servicekit.grpc.workers import run_workers

__all__ = [
    "DEFAULT_ERROR_TABLE",
    "HEALTH_SERVICE_NAME",
    "STOP_SIGNALS",
    "BindError",
    "ErrorMappingInterceptor",
    "GrpcServer",
    "GrpcSettings",
    "HealthReporter",
    "ReadinessCheck",
    "Registration",
    "Stoppable",
    "build_server",
    "default_interceptors",
    "run_until_signalled",
    "run_workers",
]
