"""The one log line and the one metrics observation of every request, once it is answered.

The line::

    event="http" method="GET" route="/v1/users/{id}" status=200 duration_ms=3.1
    request_id="9f0c..." trace_id="4bf9..."

at DEBUG for a probe of ``/healthz`` or ``/readyz`` whatever its answer (readiness logs
its own changes, one line each: ``services.gateway.backends.Readiness``; a poll every
second during an outage is no error), at ERROR for any other 5xx, else at INFO; the
observation goes to ``http_server_requests_total`` and
``http_server_request_duration_seconds``. ``method`` is ``_OTHER`` for a method outside
the standard ones, so that neither the series nor the spans grow with what callers send.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

from services.gateway.metrics import HttpServerMetrics

__all__ = ["AccessLog", "method_label"]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_QUIET_ROUTES = frozenset({"/healthz", "/readyz"})


def method_label(method: str) -> str:
    """The request's method as the log line, the series and the span name it."""
    return method if method in _METHODS else "_OTHER"


class AccessLog:
    """Records each answered request in ``metrics`` (when given) and on ``logger``."""

    def __init__(self, *, metrics: HttpServerMetrics | None = None, logger: Any = None) -> None:
        self._metrics = metrics
        self._log = logger if logger is not None else structlog.get_logger("services.gateway")

    def record(
        self,
        *,
        label: str,
        route: str,
        status: int,
        seconds: float,
        request_id: str,
        trace_id: str | None = None,
    ) -> None:
        """One request: its method label, document route, status and duration, and the
        ids to find it by (``trace_id``: the request's trace, exported or not)."""
        if self._metrics is not None:
            self._metrics.observe(label, route, status, seconds)
        ids = {"request_id": request_id}
        if trace_id is not None:
            ids["trace_id"] = trace_id
        self._log.log(
            _level(route, status),
            "http",
            method=label,
            route=route,
            status=status,
            duration_ms=round(seconds * 1000.0, 3),
            **ids,
        )


def _level(route: str, status: int) -> int:
    if route in _QUIET_ROUTES:
        return logging.DEBUG
    if status >= 500:
        return logging.ERROR
    return logging.INFO
