"""bench/benchserver.py `constant`: a GetUser that returns a fixed user, behind a chain.

Built with servicekit's `build_server` behind the interceptors named (`all`: the chain of
`servicekit.grpc.chain.default_interceptors`), each interceptor built as a service builds
it: tracing without exporter (unless `--otlp` names a collector), metrics on a fresh
registry, JSON logs. With `--workers N` it runs in N processes sharing the port. Each
process admits more calls at once than the `--in-flight` calls of the load (see
`harness.admission`): servicekit refuses calls beyond its bound with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness import admission

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit import heap
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

__all__ = [
    "INTERCEPTORS",
    "USER_SERVICE",
    "ConstantServer",
    "constant_response",
    "run_constant",
    "serve_constant",
]

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


@dataclass(frozen=True, kw_only=True, slots=True)
class ConstantServer:
    """What a `constant` server process serves; picklable, for spawned workers."""

    port: int
    chain: tuple[str, ...]
    jwks_file: str
    workers: int
    in_flight: int
    otlp_endpoint: str = ""


def constant_response() -> Any:
    """The GetUserResponse every constant servicer returns."""
    return user_service_pb2.GetUserResponse(
        user=user_pb2.User(id=FIXED_USER_ID, email="ada@example.com", display_name="Ada")
    )


def _constant_servicer() -> Any:

    response = constant_response()

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
    # Above the load's calls in flight, all of them on one process at worst (R6's workers
    # share the port): beyond its bound the server refuses with RESOURCE_EXHAUSTED.
    max_workers, max_concurrent_rpcs = admission(config.in_flight)
    server = build_server(
        GrpcSettings(
            port=config.port,
            workers=config.workers,
            max_workers=max_workers,
            max_concurrent_rpcs=max_concurrent_rpcs,
        ),
        registrations=[registration],
        interceptors=_chain(config.chain, config.jwks_file, config.otlp_endpoint),
        reuse_port=config.workers > 1,
    )
    print(f"worker {index} serving on port {server.port}", file=sys.stderr, flush=True)
    heap.settle()  # as servicekit's serve does once start-up is done
    return run_until_signalled(server, grace=1.0)


def run_constant(args: argparse.Namespace) -> int:

    names = _chain_names(args.chain)
    config = ConstantServer(
        port=args.port,
        chain=names,
        jwks_file=args.jwks,
        workers=args.workers,
        in_flight=args.in_flight,
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
