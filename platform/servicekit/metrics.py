"""Prometheus metrics: the standard gRPC server series, served on a port of their own.

The names and labels are those of go-grpc-prometheus (``grpc_server_handled_total{grpc_type,
grpc_service, grpc_method, grpc_code}``...), so the stock Grafana dashboards and alerts
written for Go services work unchanged for ours.

Nothing registers in prometheus_client's global registry: the wiring creates a registry
(``new_registry()``), builds ``GrpcServerMetrics`` on it and serves it::

    registry = new_registry()
    server_metrics = GrpcServerMetrics(registry)
    port, stop_metrics = start_metrics_server(settings.metrics, registry, worker_index=index)

When a service runs N worker processes sharing one gRPC port, each process has its own
registry and serves it on ``port + worker_index``; Prometheus scrapes every one of them.

Domain events (users registered, sign-ins by outcome, ...) are ``DomainCounter`` series on
the same registry, named ``acme_<what>_total``. The use cases never see them: each service
declares the events it counts as a small port (``services.auth.ports.AuthEvents``) that
its wiring fills with counters, as it fills the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from servicekit.binding import BindError

__all__ = [
    "DOMAIN_PREFIX",
    "HANDLING_BUCKETS",
    "DomainCounter",
    "GrpcServerMetrics",
    "MetricsSettings",
    "metrics_url",
    "new_registry",
    "start_metrics_server",
]

HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds; Prometheus' default buckets, which go-grpc-prometheus uses too."""

_CALL_LABELS = ("grpc_type", "grpc_service", "grpc_method")

DOMAIN_PREFIX = "acme_"
"""What every domain series' name starts with, apart from the library's and gRPC's."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MetricsSettings:
    """Where ``/metrics`` is served. ``port`` 0 picks a free port (tests)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9464

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")


class GrpcServerMetrics:
    """The go-grpc-prometheus server series, registered on ``registry``."""

    def __init__(
        self, registry: CollectorRegistry, *, buckets: tuple[float, ...] = HANDLING_BUCKETS
    ) -> None:
        self.started = Counter(
            "grpc_server_started_total",
            "Total number of RPCs started on the server.",
            _CALL_LABELS,
            registry=registry,
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            (*_CALL_LABELS, "grpc_code"),
            registry=registry,
        )
        self.msg_received = Counter(
            "grpc_server_msg_received_total",
            "Total number of RPC stream messages received on the server.",
            _CALL_LABELS,
            registry=registry,
        )
        self.msg_sent = Counter(
            "grpc_server_msg_sent_total",
            "Total number of gRPC stream messages sent by the server.",
            _CALL_LABELS,
            registry=registry,
        )
        self.handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level "
            "handled by the server.",
            _CALL_LABELS,
            registry=registry,
            buckets=buckets,
        )


class DomainCounter:
    """A counter of one kind of domain event, ``acme_<name>_total``, on ``registry``.

    With a ``label``, its ``values`` are the only ones it takes (another is a
    ``ValueError``: a series per value, never per caller's input), and every one of them
    is exported from the start at 0, so that a ``rate()`` or ``increase()`` sees the first
    event of each as an increase rather than as the birth of a series.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        name: str,
        documentation: str,
        *,
        label: str | None = None,
        values: tuple[str, ...] = (),
    ) -> None:
        if bool(label) != bool(values):
            raise ValueError(f"{name}: a label needs its values, and values their label")
        self._values = frozenset(values)
        self._counter = Counter(
            f"{DOMAIN_PREFIX}{name}",
            documentation,
            (label,) if label else (),
            registry=registry,
        )
        for value in values:
            self._counter.labels(value)

    def inc(self, value: str | None = None) -> None:
        """Count one event (of the label value ``value``, for a labelled counter)."""
        if not self._values:
            self._counter.inc()
            return
        if value not in self._values:
            raise ValueError(f"{value!r} is not one of {sorted(self._values)}")
        self._counter.labels(value).inc()


def new_registry() -> CollectorRegistry:
    """A registry with the process, platform and GC collectors the global one would have."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def metrics_url(settings: MetricsSettings, port: int | None) -> str | None:
    """Where ``start_metrics_server`` serves, for the start-up log line (None: disabled)."""
    return None if port is None else f"http://{settings.host}:{port}/metrics"


def start_metrics_server(
    settings: MetricsSettings, registry: CollectorRegistry, *, worker_index: int = 0
) -> tuple[int | None, Callable[[], None]]:
    """Serve ``registry`` at ``/metrics``; the bound port (None when disabled) and a stop.

    Worker ``i`` of a multi-process server binds ``settings.port + i``, so that the
    workers' series stay apart; port 0 stays 0 (a free port for each).
    """
    if not settings.enabled:
        return None, _nothing_to_stop
    port = settings.port + worker_index if settings.port else 0
    try:
        server, thread = start_http_server(port, addr=settings.host, registry=registry)
    except OSError as exc:
        raise BindError(
            f"cannot serve metrics on {settings.host}:{port}: {exc.strerror or exc}"
        ) from exc

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5.0)

    return server.server_port, stop


def _nothing_to_stop() -> None:
    """The stop of a disabled metrics server."""
