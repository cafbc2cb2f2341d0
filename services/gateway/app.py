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
"""

from __future__ import annotations

import contextlib
import functools
import math
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from types import FrameType
from typing import Any

import structlog
import uvicorn
import yaml
from connexion import AsyncApp, ConnexionMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.options import SwaggerUIOptions
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from starlette.types import Receive, Scope, Send

from servicekit.binding import BindError
from servicekit.grpc.lifecycle import STOP_SIGNALS
from servicekit.logging import configure_logging
from servicekit.metrics import metrics_url, new_registry, start_metrics_server
from servicekit.probe import http_ready, metrics_address, reachable_host, report
from servicekit.tracing import configure_tracing
from services.gateway.admission import RequestBound
from services.gateway.backends import Backend, Readiness
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
from services.gateway.settings import GatewaySettings
from services.gateway.transcoder import Transcoder, TranscodingResolver
from services.gateway.validation import validator_map

__all__ = ["DOCS_PATH", "JWKS_OPERATION", "SERVICE_NAME", "Gateway", "create_app", "serve"]

SERVICE_NAME = "gateway"
DOCS_PATH = "/docs"
JWKS_OPERATION = "acme.auth.v1.AuthService.GetJwks"
"""The operation behind ``/.well-known/jwks.json`` (served only when the document has it)."""
# Authentication and access policy are the backends' (the contract's): connexion's
# security middleware would only guess at them, and costs time on every request.
_MIDDLEWARES = [m for m in ConnexionMiddleware.default_middlewares if m is not SecurityMiddleware]

_log = structlog.get_logger("services.gateway")


class Gateway:
    """The ASGI application: the edge around connexion, and the lifespan of the backends.

    ``metrics_port`` is the bound port of ``/metrics`` once the application has started
    (None when metrics are off or before the start).
    """

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.metrics_port: int | None = None
        known = contract_services(import_contracts())
        document = yaml.safe_load(settings.http.spec_path.read_text(encoding="utf-8"))
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
                self.settings.metrics, self._registry
            )

    def _connexion(
        self,
        settings: GatewaySettings,
        document: dict[str, Any],
        plans: Mapping[str, OperationPlan],
    ) -> AsyncApp:
        app = AsyncApp(
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


def create_app(settings: GatewaySettings) -> Gateway:
    """The gateway as an ASGI application (lifespan "on": it opens its channels then).

    ``PlanError`` when the document and the contracts disagree, ``RoutingError`` when a
    backend names a service that no contract declares.
    """
    return Gateway(settings)


def serve(settings: GatewaySettings) -> int:
    """Serve until SIGTERM or SIGINT; exit code 0 after a clean drain."""
    configure_logging(settings.logging, service=SERVICE_NAME)
    try:
        app = create_app(settings)
    except (PlanError, RoutingError) as exc:  # the contracts or a setting to fix: no traceback
        _log.error(f"cannot start: {exc}")
        return 1
    try:
        app.start_metrics()
    except BindError as exc:  # a setting to change, not a bug: no traceback
        _log.error(str(exc))
        return 1
    server = _Server(uvicorn_config(app, settings))
    server.run()
    return 0 if server.started else 1


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
