"""Prometheus series of the HTTP requests the gateway serves.

The names and labels follow the OpenTelemetry HTTP server conventions as Prometheus
exports them (``http_server_request_duration_seconds``) plus the request counter that
dashboards expect next to it: ``http_server_requests_total{method, route, status}``.
``route`` is the document's path template (``/v1/users/{id}``), never the raw path, so
the series stay few whatever ids are requested.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from servicekit.metrics import HANDLING_BUCKETS

__all__ = ["HttpServerMetrics"]

_LABELS = ("method", "route", "status")


class HttpServerMetrics:
    """The HTTP server series on ``registry``; ``observe`` records one request."""

    def __init__(
        self, registry: CollectorRegistry, *, buckets: tuple[float, ...] = HANDLING_BUCKETS
    ) -> None:
        self.requests = Counter(
            "http_server_requests_total",
            "Total number of HTTP requests served, by method, route and status.",
            _LABELS,
            registry=registry,
        )
        self.duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP requests served, from the first byte in to the last byte out.",
            _LABELS,
            registry=registry,
            buckets=buckets,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its duration."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = (self.requests.labels(*labels), self.duration.labels(*labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
