"""What every service wires the same way: its interceptor chain and its ``serve`` command.

A service's ``app.py`` builds what is its own (database, use cases, handlers, verifier) and
hands the rest to these two functions, so the chain and the process model are written once::

    interceptors = standard_interceptors(
        tracer_provider=provider, registry=registry, verifier=verifier, services=[descriptor]
    )
    ...
    def serve(settings, *, workers=None):
        return serve_service(create_server, settings, service="user", grpc=settings.grpc,
                             logging=settings.logging, workers=workers)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import grpc
import structlog
from google.protobuf.descriptor import ServiceDescriptor
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from servicekit.auth import AccessPolicies, TokenVerifier
from servicekit.binding import BindError
from servicekit.grpc.chain import default_interceptors
from servicekit.grpc.interceptors.auth import AccessPolicyInterceptor, AuthenticationInterceptor
from servicekit.grpc.interceptors.errors import ErrorMappingInterceptor
from servicekit.grpc.interceptors.metrics import MetricsInterceptor
from servicekit.grpc.interceptors.request_context import RequestContextInterceptor
from servicekit.grpc.interceptors.tracing import TracingInterceptor
from servicekit.grpc.interceptors.validation import ValidationInterceptor
from servicekit.grpc.lifecycle import Stoppable, run_until_signalled
from servicekit.grpc.server import GrpcSettings
from servicekit.grpc.workers import run_workers
from servicekit.logging import LoggingSettings, configure_logging
from servicekit.metrics import GrpcServerMetrics

__all__ = ["ServerFactory", "serve_service", "standard_interceptors"]

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
) -> list[grpc.ServerInterceptor]:
    """The full chain of ``default_interceptors``, each step built as services use it:
    metrics on ``registry``, tokens checked by ``verifier``, the access policies of
    ``services`` (their descriptors' ``acme.options.v1.access`` options)."""
    return default_interceptors(
        request_context=RequestContextInterceptor(),
        tracing=TracingInterceptor(tracer_provider),
        metrics=MetricsInterceptor(GrpcServerMetrics(registry)),
        error_mapping=ErrorMappingInterceptor(),
        authentication=AuthenticationInterceptor(verifier),
        access_policy=AccessPolicyInterceptor(AccessPolicies.from_services(*services)),
        validation=ValidationInterceptor(),
    )


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
        return run_until_signalled(server, self.grace, exiting=True)
