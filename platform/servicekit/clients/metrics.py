"""Prometheus series of outgoing calls, under go-grpc-prometheus's client names.

``grpc_client_started_total``, ``grpc_client_handled_total{grpc_code}``,
``grpc_client_msg_sent_total``, ``grpc_client_msg_received_total`` and the
``grpc_client_handling_seconds`` histogram, labelled ``grpc_type``, ``grpc_service``,
``grpc_method`` like the server series of ``servicekit.metrics``, so the stock client
dashboards work. ``grpc_code`` is what the caller got: a call the circuit breaker refused
counts as UNAVAILABLE, one that needed a retry as the code of its last attempt.

A registry can hold each series once, and a service may open several channels on one
registry: ``client_metrics(registry)`` returns the one ``GrpcClientMetrics`` of a
registry, making it on first use.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from servicekit.clients.interceptors import Continuation, UnaryClientInterceptor
from servicekit.metrics import HANDLING_BUCKETS

__all__ = ["ClientMetricsInterceptor", "GrpcClientMetrics", "client_metrics"]

_CALL_LABELS = ("grpc_type", "grpc_service", "grpc_method")
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, GrpcClientMetrics] = (
    weakref.WeakKeyDictionary()
)
_by_registry_lock = threading.Lock()


class GrpcClientMetrics:
    """The go-grpc-prometheus client series, registered on ``registry``."""

    def __init__(
        self, registry: CollectorRegistry, *, buckets: tuple[float, ...] = HANDLING_BUCKETS
    ) -> None:
        self.started = Counter(
            "grpc_client_started_total",
            "Total number of RPCs started on the client.",
            _CALL_LABELS,
            registry=registry,
        )
        self.handled = Counter(
            "grpc_client_handled_total",
            "Total number of RPCs completed by the client, regardless of success or failure.",
            (*_CALL_LABELS, "grpc_code"),
            registry=registry,
        )
        self.msg_received = Counter(
            "grpc_client_msg_received_total",
            "Total number of RPC stream messages received by the client.",
            _CALL_LABELS,
            registry=registry,
        )
        self.msg_sent = Counter(
            "grpc_client_msg_sent_total",
            "Total number of gRPC stream messages sent by the client.",
            _CALL_LABELS,
            registry=registry,
        )
        self.handling_seconds = Histogram(
            "grpc_client_handling_seconds",
            "Histogram of response latency (seconds) of the gRPC until it is finished by the "
            "application.",
            _CALL_LABELS,
            registry=registry,
            buckets=buckets,
        )


def client_metrics(registry: CollectorRegistry) -> GrpcClientMetrics:
    """The client series of ``registry``, registered on the first call."""
    with _by_registry_lock:
        metrics = _by_registry.get(registry)
        if metrics is None:
            metrics = _by_registry[registry] = GrpcClientMetrics(registry)
        return metrics


class ClientMetricsInterceptor(UnaryClientInterceptor):
    """Records each unary call in ``metrics`` when it ends (``.future()`` calls too)."""

    def __init__(self, metrics: GrpcClientMetrics) -> None:
        self._metrics = metrics

    def intercept_unary_unary(self, continuation: Continuation, details: Any, request: Any) -> Any:
        service, _, method = str(details.method).lstrip("/").partition("/")
        labels = ("unary", service, method)
        self._metrics.started.labels(*labels).inc()
        self._metrics.msg_sent.labels(*labels).inc()
        started = time.perf_counter()
        outcome = continuation(details, request)
        outcome.add_done_callback(lambda done: self._handled(labels, done.code().name, started))
        return outcome

    def _handled(self, labels: tuple[str, str, str], code: str, started: float) -> None:
        if code == "OK":
            self._metrics.msg_received.labels(*labels).inc()
        self._metrics.handled.labels(*labels, code).inc()
        self._metrics.handling_seconds.labels(*labels).observe(time.perf_counter() - started)
