"""What every service wires the same way: the runtime its server stands on (database,
tracing, metrics), its interceptor chain and its ``serve`` command.

A service's ``app.py`` builds what is its own (use cases, handlers, verifier) and hands the
rest to these, so the chain, the shutdown order and the process model are written once::

    runtime = ServiceRuntime.start("user", settings, worker_index=worker_index)
    interceptors = runtime.interceptors(verifier=verifier, services=[descriptor])
    server = build_server(..., interceptors=interceptors, health=runtime.health())
    runtime.close_with(server)

``serve_service`` runs that ``create_server`` in one or more processes: the ``serve``
command of ``servicekit.cli`` calls it for every service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import grpc
import structlog
from google.protobuf.descriptor import ServiceDescriptor
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from servicekit import heap
from servicekit.auth import AccessPolicies, TokenVerifier
from servicekit.binding import BindError
from servicekit.db import Database, DatabaseSettings
from servicekit.grpc.chain import default_interceptors
from servicekit.grpc.forwarding import ClientAddresses
from servicekit.grpc.health import HealthReporter
from servicekit.grpc.interceptors.auth import AccessPolicyInterceptor, AuthenticationInterceptor
from servicekit.grpc.interceptors.errors import ErrorMappingInterceptor
from servicekit.grpc.interceptors.metrics import MetricsInterceptor
from servicekit.grpc.interceptors.request_context import RequestContextInterceptor
from servicekit.grpc.interceptors.tracing import TracingInterceptor
from servicekit.grpc.interceptors.validation import ValidationInterceptor
from servicekit.grpc.lifecycle import Stoppable, run_until_signalled
from servicekit.grpc.server import GrpcServer, GrpcSettings
from servicekit.grpc.workers import run_workers
from servicekit.logging import LoggingSettings, configure_logging
from servicekit.metrics import (
    GrpcServerMetrics,
    MetricsSettings,
    metrics_url,
    new_registry,
    start_metrics_server,
)
from servicekit.tracing import ServiceTracerProvider, TracingSettings, configure_tracing

__all__ = [
    "RuntimeSettings",
    "ServerFactory",
    "ServiceRuntime",
    "serve_service",
    "standard_interceptors",
]

_S = TypeVar("_S")
_S_contra = TypeVar("_S_contra", contravariant=True)


class ServerFactory(Protocol[_S_contra]):
    """A service's ``create_server``: a module-level function, so worker processes can
    be handed it (they are spawned, not forked)."""

    def __call__(
        self, settings: _S_contra, *, worker_index: int, reuse_port: bool
    ) -> Stoppable: ...


def standard_interceptors(
    *,
    tracer_provider: TracerProvider,
    registry: CollectorRegistry,
    verifier: TokenVerifier,
    services: Sequence[ServiceDescriptor],
    clients: ClientAddresses | None = None,
) -> list[grpc.ServerInterceptor]:
    """The full chain of ``default_interceptors``, each step built as services use it:
    metrics on ``registry``, tokens checked by ``verifier``, the access policies of
    ``services`` (their descriptors' ``acme.options.v1.access`` options), the end client
    of each call by ``clients`` (default: trust only a ``gateway`` over mutual TLS)."""
    return default_interceptors(
        request_context=RequestContextInterceptor(clients=clients),
        tracing=TracingInterceptor(tracer_provider),
        metrics=MetricsInterceptor(GrpcServerMetrics(registry)),
        error_mapping=ErrorMappingInterceptor(),
        authentication=AuthenticationInterceptor(verifier),
        access_policy=AccessPolicyInterceptor(AccessPolicies.from_services(*services)),
        validation=ValidationInterceptor(),
    )


class RuntimeSettings(Protocol):
    """The sections of a gRPC service's settings its runtime is built from."""

    @property
    def database(self) -> DatabaseSettings: ...

    @property
    def grpc(self) -> GrpcSettings: ...

    @property
    def tracing(self) -> TracingSettings: ...

    @property
    def metrics(self) -> MetricsSettings: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceRuntime:
    """What a service's server stands on: its database, its tracer provider, its metrics
    (a registry served on its own port) and whose forwarded client address it believes
    (``clients``, from ``grpc.forwarding``). ``close_with(server)`` closes them all when the
    server stops, after the drain."""

    database: Database
    tracer_provider: ServiceTracerProvider
    registry: CollectorRegistry
    metrics_url: str | None
    stop_metrics: Callable[[], None]
    clients: ClientAddresses

    @classmethod
    def start(
        cls, service: str, settings: RuntimeSettings, *, worker_index: int = 0
    ) -> ServiceRuntime:
        """Build the database pool (one connection per gRPC worker thread) and the tracer,
        and serve the metrics (``BindError`` when their port is taken); worker ``i`` serves
        its metrics on ``metrics.port + i``."""
        database = Database(settings.database, pool_size=settings.grpc.max_workers)
        tracer_provider = configure_tracing(settings.tracing, service=service)
        registry = new_registry()
        port, stop_metrics = start_metrics_server(
            settings.metrics, registry, worker_index=worker_index
        )
        return cls(
            database=database,
            tracer_provider=tracer_provider,
            registry=registry,
            metrics_url=metrics_url(settings.metrics, port),
            stop_metrics=stop_metrics,
            clients=ClientAddresses(settings.grpc.forwarding),
        )

    def interceptors(
        self, *, verifier: TokenVerifier, services: Sequence[ServiceDescriptor]
    ) -> list[grpc.ServerInterceptor]:
        """``standard_interceptors`` on this runtime's tracer provider and registry."""
        return standard_interceptors(
            tracer_provider=self.tracer_provider,
            registry=self.registry,
            verifier=verifier,
            services=services,
            clients=self.clients,
        )

    def health(self) -> HealthReporter:
        """Readiness that follows the database."""
        return HealthReporter({"database": self.database.ping})

    def close_with(self, server: GrpcServer) -> None:
        """When ``server`` stops, after the drain: the pools, then metrics, then spans
        (on-stop callbacks run in reverse order; add one later to run it before these)."""
        server.add_on_stop(self.tracer_provider.shutdown)
        server.add_on_stop(self.stop_metrics)
        server.add_on_stop(self.database.dispose)


def serve_service(
    create_server: ServerFactory[_S],
    settings: _S,
    *,
    service: str,
    grpc: GrpcSettings,
    logging: LoggingSettings,
    workers: int | None = None,
) -> int:
    """Serve until SIGTERM or SIGINT, in ``workers`` processes sharing the port (default:
    ``grpc.workers``); exit code 0 after a clean drain."""
    configure_logging(logging, service=service)
    count = grpc.workers if workers is None else workers
    worker = _Worker(
        create_server=create_server,
        settings=settings,
        service=service,
        grace=grpc.grace_seconds,
        logging=logging,
        count=count,
    )
    return run_workers(count, worker)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Worker(Generic[_S]):
    """One worker process's life; a dataclass so that spawned workers can be handed it."""

    create_server: ServerFactory[_S]
    settings: _S
    service: str
    grace: float
    logging: LoggingSettings
    count: int

    def __call__(self, worker_index: int) -> int:
        configure_logging(self.logging, service=self.service)  # a spawned worker starts bare
        try:
            server = self.create_server(
                self.settings, worker_index=worker_index, reuse_port=self.count > 1
            )
        except BindError as exc:  # a setting to change, not a bug: no traceback
            structlog.get_logger(self.service).error(str(exc), worker=worker_index)
            return 1
        heap.settle()  # start-up is done: its objects are out of the collector's way
        return run_until_signalled(server, self.grace, exiting=True)
