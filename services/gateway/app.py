"""The one wiring function of the API Gateway: settings in, an ASGI application out.

Nothing is built at import time. ``create_app`` imports every generated contract
(``contracts``), reads the OpenAPI document, works out every operation's plan, maps each
contract service with routes to the backend of the settings that serves it, and
assembles connexion behind the edge; the channels, the metrics endpoint and the client
series come to life in the application's lifespan (on uvicorn's event loop) and go away
with it. A contract service that no backend serves is one warning line at start; its
routes answer 503 and everything else is served. ``serve`` runs uvicorn until SIGTERM or
SIGINT, then lets in-flight requests finish within the grace period; a document that
disagrees with the contracts, or a backend naming a service no contract declares, is
one error line and exit code 1.

``serve`` with ``http.workers`` (or ``--workers``) N > 1 runs N processes on the one port
(SO_REUSEPORT, ``servicekit.grpc.workers.run_workers``: the kernel spreads connections),
as the gRPC services do: one Python process uses one core. Each worker has its own
channels, its own bound of concurrent requests, its own rate-limit counters (as each
replica of a deployment has) and its metrics on ``metrics.port + i``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import signal
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import structlog
import uvicorn
from connexion import ConnexionMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from starlette.types import Receive, Scope, Send

from contractkit.yamlio import safe_load
from servicekit import heap
from servicekit.binding import BindError
from servicekit.config import ConfigError
from servicekit.grpc.lifecycle import STOP_SIGNALS
from servicekit.grpc.workers import run_workers
from servicekit.logging import configure_logging
from servicekit.metrics import metrics_url, new_registry, start_metrics_server
from servicekit.probe import http_ready, metrics_address, reachable_host, report
from servicekit.tracing import configure_tracing
from services.gateway.admission import RequestBound
from services.gateway.backends import Backend, Readiness
from services.gateway.connexion_app import DecoratedOnceApp, docs_only_swagger_ui
from services.gateway.contracts import (
    Routing,
    RoutingError,
    contract_services,
    import_contracts,
    routing,
)
from services.gateway.edge import Edge
from services.gateway.endpoints import JwksCache, own_endpoints
from services.gateway.errors import HANDLED, problem_handler
from services.gateway.httpproto import HttpProtocol
from services.gateway.metrics import HttpServerMetrics
from services.gateway.plans import OperationPlan, PlanError, build_plans
from services.gateway.ratelimits import RateLimits
from services.gateway.settings import GatewaySettings, load
from services.gateway.transcoder import Transcoder, TranscodingResolver
from services.gateway.validation import validator_map

__all__ = ["DOCS_PATH", "JWKS_OPERATION", "SERVICE_NAME", "Gateway", "create_app", "serve"]

SERVICE_NAME = "gateway"
DOCS_PATH = "/docs"
JWKS_OPERATION = "acme.auth.v1.AuthService.GetJwks"
"""The operation behind ``/.well-known/jwks.json`` (served only when the document has it)."""
# Authentication and access policy are the backends' (the contract's): connexion's
# security middleware would only guess at them, and costs time on every request. Responses
# are not validated (``validate_responses=False``, they are the contract's own messages):
# that middleware's layer would only look each request's operation up again to pass it on.
# Swagger UI's layer is asked for the docs' own paths only.
_LEFT_OUT = (SecurityMiddleware, ResponseValidationMiddleware)
_MIDDLEWARES = [
    docs_only_swagger_ui(DOCS_PATH) if m is SwaggerUIMiddleware else m
    for m in ConnexionMiddleware.default_middlewares
    if m not in _LEFT_OUT
]

_log = structlog.get_logger("services.gateway")


class Gateway:
    """The ASGI application: the edge around connexion, and the lifespan of the backends.

    ``metrics_port`` is the bound port of ``/metrics`` once the application has started
    (None when metrics are off or before the start); worker ``i`` of a multi-process
    gateway serves its metrics on ``metrics.port + i``.
    """

    def __init__(self, settings: GatewaySettings, *, worker_index: int = 0) -> None:
        self.settings = settings
        self.worker_index = worker_index
        self.metrics_port: int | None = None
        known = contract_services(import_contracts())
        document = safe_load(settings.http.spec_path.read_text(encoding="utf-8"))
        plans = build_plans(document)
        served = {name: b.services for name, b in settings.backends.items() if b.services}
        self.routing: Routing = routing(
            (plan.service for plan in plans.values()), served, known=known
        )
        self._registry: CollectorRegistry = new_registry()
        self._backends = {
            name: Backend(name, settings=settings.backends[name], registry=self._registry)
            for name in served
        }
        self._tracer_provider: TracerProvider = configure_tracing(
            settings.tracing, service=SERVICE_NAME
        )
        self._transcoder = Transcoder(
            plans,
            {s: self._backends[name] for s, name in self.routing.backend_of.items()},
            rate_limits=RateLimits.of(settings.rate_limits, plans),
        )
        readiness = Readiness(
            self._backends,
            unrouted=self.routing.unrouted,
            cache_seconds=settings.http.readiness_cache_seconds,
        )
        jwks = None
        if JWKS_OPERATION in plans:
            jwks = JwksCache(
                self._transcoder, JWKS_OPERATION, cache_seconds=settings.http.jwks_cache_seconds
            )
        self._edge = Edge(
            self._connexion(settings, document, plans),
            plans=plans,
            local=own_endpoints(document=document, readiness=readiness, jwks=jwks),
            docs_path=DOCS_PATH,
            max_body_bytes=settings.http.max_body_bytes,
            metrics=HttpServerMetrics(self._registry),
            tracer_provider=self._tracer_provider,
            bound=_request_bound(settings),
            retry_after_seconds=settings.http.retry_after_seconds,
        )
        self._plans = plans
        self._stop_metrics: Callable[[], None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._edge(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        """Open the channels on the running loop; close everything when serving ends."""
        for backend in self._backends.values():
            backend.open()
        self._transcoder.bind()
        self.start_metrics()
        for service in self.routing.unrouted:
            _log.warning(_unrouted_line(service, self._plans))
        _log.info(
            "gateway started",
            backends={b.name: b.settings.target for b in self._backends.values()},
            metrics=metrics_url(self.settings.metrics, self.metrics_port),
        )
        try:
            yield
        finally:
            for backend in self._backends.values():
                await backend.close(grace=1.0)
            if self._stop_metrics is not None:
                self._stop_metrics()
            self._tracer_provider.shutdown()
            _log.info("gateway stopped")

    def start_metrics(self) -> None:
        """Serve ``/metrics`` unless it is served already; ``BindError`` if its port is taken.

        ``serve`` calls it before uvicorn starts, to report a taken port in one line; the
        lifespan calls it for an application run any other way.
        """
        if self._stop_metrics is None:
            self.metrics_port, self._stop_metrics = start_metrics_server(
                self.settings.metrics, self._registry, worker_index=self.worker_index
            )

    def _connexion(
        self,
        settings: GatewaySettings,
        document: dict[str, Any],
        plans: Mapping[str, OperationPlan],
    ) -> DecoratedOnceApp:
        app = DecoratedOnceApp(
            __name__,
            lifespan=self.lifespan,
            middlewares=list(_MIDDLEWARES),
            resolver=TranscodingResolver(self._transcoder),
            strict_validation=True,
            validate_responses=False,
            validator_map=validator_map(),
            swagger_ui_options=SwaggerUIOptions(
                serve_spec=False,  # the edge serves the document as generated
                swagger_ui=settings.http.docs,
                swagger_ui_path=DOCS_PATH,
            ),
        )
        app.add_api(document)
        handler = problem_handler(plans)
        for exception in HANDLED:
            app.add_error_handler(exception, handler)
        return app


def _request_bound(settings: GatewaySettings) -> RequestBound | None:
    http = settings.http
    if not http.max_concurrent_requests:
        return None
    return RequestBound(http.max_concurrent_requests, retry_after_seconds=http.retry_after_seconds)


def _unrouted_line(service: str, plans: Mapping[str, OperationPlan]) -> str:
    routes = sum(1 for plan in plans.values() if plan.service == service)
    return (
        f"no backend serves {service}: its {routes} routes answer 503 until a backend "
        f"lists it ([backends.<name>] services, or GATEWAY_BACKENDS__<NAME>__SERVICES "
        f"with GATEWAY_BACKENDS__<NAME>__TARGET)"
    )


def create_app(settings: GatewaySettings, *, worker_index: int = 0) -> Gateway:
    """The gateway as an ASGI application (lifespan "on": it opens its channels then).

    ``PlanError`` when the document and the contracts disagree, ``RoutingError`` when a
    backend names a service that no contract declares.
    """
    return Gateway(settings, worker_index=worker_index)


def serve(
    settings: GatewaySettings, *, workers: int | None = None, env_file: Path | None = None
) -> int:
    """Serve until SIGTERM or SIGINT, in ``workers`` processes sharing the port (default:
    ``http.workers``); exit code 0 after a clean drain. Each worker loads the settings
    again, from the environment and ``env_file`` (settings do not cross processes)."""
    configure_logging(settings.logging, service=SERVICE_NAME)
    count = settings.http.workers if workers is None else workers
    if count < 1:
        _log.error(f"workers must be >= 1, got {count}")
        return 2
    if count > 1 and not settings.http.port:
        _log.error("several workers share one port: http.port must not be 0")
        return 2
    if count == 1:
        return _serve_worker(settings, worker_index=0, shared_port=False)
    return run_workers(count, _Worker(env_file=env_file))


@dataclass(frozen=True, slots=True)
class _Worker:
    """One worker process of a multi-process gateway (spawned: it is pickled by name)."""

    env_file: Path | None

    def __call__(self, worker_index: int) -> int:
        try:
            settings = load(env_file=self.env_file)
        except ConfigError as exc:  # valid in the parent a moment ago: an edited env file
            print(f"gateway worker {worker_index}: {exc}", file=sys.stderr, flush=True)
            return 2
        configure_logging(settings.logging, service=SERVICE_NAME)  # a spawned worker starts bare
        return _serve_worker(settings, worker_index=worker_index, shared_port=True)


def _serve_worker(settings: GatewaySettings, *, worker_index: int, shared_port: bool) -> int:
    try:
        app = create_app(settings, worker_index=worker_index)
    except (PlanError, RoutingError) as exc:  # the contracts or a setting to fix: no traceback
        _log.error(f"cannot start: {exc}")
        return 1
    try:
        app.start_metrics()
    except BindError as exc:  # a setting to change, not a bug: no traceback
        _log.error(str(exc))
        return 1
    server = _Server(uvicorn_config(app, settings))
    heap.settle()  # start-up is done: its objects are out of the collector's way
    if not shared_port:
        server.run()
        return 0 if server.started else 1
    try:
        sock = _shared_socket(settings.http.host, settings.http.port)
    except OSError as exc:
        _log.error(f"cannot serve on {settings.http.host}:{settings.http.port}: {exc.strerror}")
        return 1
    with sock:
        server.run(sockets=[sock])
    return 0 if server.started else 1


def _shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` that the other workers bind too (SO_REUSEPORT).

    uvicorn binds without SO_REUSEPORT, so the workers bind it themselves and hand it over.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def probe(settings: GatewaySettings, *, wait: float) -> int:
    """``probe``: ready once ``/readyz`` answers 200; prints the addresses a user opens."""
    http = settings.http
    base = f"http://{reachable_host(http.host)}:{http.port}"
    addresses = [base, f"OpenAPI {base}/openapi.json"]
    if http.docs:
        addresses.insert(1, f"Swagger UI {base}{DOCS_PATH}")
    addresses += metrics_address(settings.metrics)
    check = functools.partial(http_ready, http.host, http.port, "/readyz")
    return report(SERVICE_NAME, check, wait=wait, addresses=addresses)


class _Server(uvicorn.Server):
    """uvicorn's server with the platform's stop rules (``servicekit.grpc.lifecycle``).

    The first SIGTERM or SIGINT stops accepting and drains within the grace period; a
    second one stops at once. uvicorn would raise the signal again once drained, killing
    the process with it: here the process exits 0 instead, and ignores further signals
    while it does (a process manager repeating SIGTERM cannot cut its exit short).
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.handle_exit)
        try:
            yield
        finally:
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.SIG_IGN)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            self.force_exit = True
            _log.warning("stopping without waiting for in-flight requests")
            return
        _log.info("stop signal received", signal=signal.Signals(sig).name)
        self.should_exit = True


def uvicorn_config(app: Gateway, settings: GatewaySettings) -> uvicorn.Config:
    """uvicorn's configuration: our logging (``log_config=None``), no access log (the
    edge writes one line per request), lifespan on, httptools with requests that offer an
    upgrade served (``httpproto``), the grace period of the settings,
    ``X-Forwarded-For`` believed from ``http.trusted_proxies`` only."""
    http = settings.http
    return uvicorn.Config(
        app,
        host=http.host,
        port=http.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        # httptools, serving requests that offer an upgrade it refuses (Java's h2c offer).
        http=HttpProtocol,
        server_header=False,
        timeout_graceful_shutdown=math.ceil(http.grace_seconds),
        # X-Forwarded-For names the client only when it comes from a trusted proxy of the
        # settings (uvicorn's own default would trust any local peer).
        proxy_headers=bool(http.trusted_proxies),
        forwarded_allow_ips=list(http.trusted_proxies),
    )
