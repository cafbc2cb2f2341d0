"""Readiness, told to load balancers and Kubernetes through the standard health service.

The library's ``HealthServicer`` answers ``grpc.health.v1.Health``; this module decides what
it says. Readiness checks (``database.ping`` and the like) run once at start, so the first
probe is already right, then every ``interval`` seconds in a daemon thread. The overall
status ``""`` and every registered service are SERVING only while every check passes: a
server that cannot reach its database should get no traffic, but it stays alive (liveness
is the process answering at all).

Liveness is its own service name, ``liveness``: SERVING from construction until
``shutdown()``, whatever the checks say. A Kubernetes liveness or startup probe asks for it
(``grpc: {port: 50051, service: liveness}``), so a database outage takes a pod out of the
load balancer (readiness) without getting it restarted over and over (liveness).

``shutdown()`` is one-way: everything turns NOT_SERVING for good, so a draining server never
flips back to SERVING because a check happened to pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from grpc_health.v1 import health, health_pb2
from structlog.typing import FilteringBoundLogger

__all__ = ["HEALTH_SERVICE_NAME", "LIVENESS_SERVICE", "HealthReporter", "ReadinessCheck"]

HEALTH_SERVICE_NAME: str = health.SERVICE_NAME
"""``grpc.health.v1.Health``: the name reflection lists for the health service."""

LIVENESS_SERVICE = "liveness"
"""The health service name that answers SERVING while the process runs at all."""

ReadinessCheck = Callable[[], bool]
"""True when a dependency works; should return within a few seconds and may raise."""

_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthReporter:
    """Drives a ``HealthServicer`` from readiness checks polled in the background."""

    def __init__(
        self,
        checks: Mapping[str, ReadinessCheck] | None = None,
        *,
        interval: float = 1.0,
        logger: FilteringBoundLogger | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self._servicer = health.HealthServicer()
        self._checks: dict[str, ReadinessCheck] = dict(checks or {})
        self._services: set[str] = {health.OVERALL_HEALTH}
        self._interval = interval
        self._logger: FilteringBoundLogger = logger or structlog.get_logger(__name__)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = False
        self._servicer.set(health.OVERALL_HEALTH, _NOT_SERVING)  # unknown until checked
        self._servicer.set(LIVENESS_SERVICE, _SERVING)  # never polled: up while the process is

    @property
    def servicer(self) -> Any:
        """The ``grpc_health`` servicer to add to the server."""
        return self._servicer

    @property
    def ready(self) -> bool:
        """The outcome of the latest round of checks (False before the first one)."""
        return self._ready

    def register(self, service_name: str) -> None:
        """Report ``service_name`` (``acme.user.v1.UserService``) with the overall status."""
        with self._lock:
            self._services.add(service_name)
            self._servicer.set(service_name, _SERVING if self._ready else _NOT_SERVING)

    def add_check(self, name: str, check: ReadinessCheck) -> None:
        """Add a readiness check; it counts from the next round."""
        with self._lock:
            self._checks[name] = check

    def start(self) -> None:
        """Run the checks now, then keep polling them in a daemon thread."""
        if self._thread is not None:
            return
        self.poll()
        self._thread = threading.Thread(
            target=self._poll_until_stopped, name="servicekit-health", daemon=True
        )
        self._thread.start()

    def poll(self) -> bool:
        """Run every check once and publish the result; True when all passed."""
        with self._lock:
            checks = dict(self._checks)
        failing = sorted(name for name, check in checks.items() if not self._passes(name, check))
        ready = not failing
        with self._lock:
            if ready != self._ready:
                self._logger.info("readiness changed", ready=ready, failing_checks=failing)
            self._ready = ready
            for service in self._services:
                self._servicer.set(service, _SERVING if ready else _NOT_SERVING)
        return ready

    def shutdown(self) -> None:
        """NOT_SERVING everywhere, for good, and stop polling.

        Returns at once: a round of checks still running ends by itself, and whatever it
        publishes is ignored by the servicer once it is shutting down.
        """
        self._stopping.set()
        self._servicer.enter_graceful_shutdown()

    def _poll_until_stopped(self) -> None:
        while not self._stopping.wait(self._interval):
            self.poll()

    def _passes(self, name: str, check: ReadinessCheck) -> bool:
        try:
            return bool(check())
        except Exception as exc:  # a broken check means not ready, never a dead poller
            self._logger.warning("readiness check failed", check=name, exc_info=exc)
            return False
