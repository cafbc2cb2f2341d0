"""The User Service's domain events as Prometheus counters (``UserEvents`` for the wiring).

On the service's ``/metrics``, beside the process and gRPC series::

    acme_users_registered_total

Grafana's "Acme domain events" dashboard
(``platform/deploy/components/observability/config/domain-dashboard.json``) shows it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from servicekit.metrics import DomainCounter

__all__ = ["UserMetrics"]


class UserMetrics:
    """``UserEvents`` counted on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registered = DomainCounter(
            registry,
            "users_registered",
            "Users who signed up (CreateUser made a new user).",
        )

    def user_registered(self) -> None:
        self._registered.inc()
