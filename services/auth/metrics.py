"""The Auth Service's domain events as Prometheus counters (``AuthEvents`` for the wiring).

On the service's ``/metrics``, beside the process and gRPC series::

    acme_logins_total{outcome="succeeded"|"failed"|"locked"}
    acme_refresh_token_reuse_detected_total
    acme_sessions_revoked_total{reason="logout"|"refresh_token_reused"|"user_deleted"|"password_changed"}

Every label value is there from the start, at 0. Grafana's "Acme domain events" dashboard
(``platform/deploy/components/observability/config/domain-dashboard.json``) shows them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from servicekit.metrics import DomainCounter
from services.auth.ports import (
    LOGIN_OUTCOMES,
    REVOCATION_REASONS,
    LoginOutcome,
    RevocationReason,
)

__all__ = ["AuthMetrics"]


class AuthMetrics:
    """``AuthEvents`` counted on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._logins = DomainCounter(
            registry,
            "logins",
            "Sign-ins judged, by outcome: succeeded, failed (wrong credentials), locked "
            "(refused by the sign-in throttle before the password was checked).",
            label="outcome",
            values=LOGIN_OUTCOMES,
        )
        self._reuse = DomainCounter(
            registry,
            "refresh_token_reuse_detected",
            "Refresh tokens presented again after their use (the session is revoked).",
        )
        self._revoked = DomainCounter(
            registry,
            "sessions_revoked",
            "Sessions ended before their time, by reason.",
            label="reason",
            values=REVOCATION_REASONS,
        )

    def login(self, outcome: LoginOutcome) -> None:
        self._logins.inc(outcome)

    def refresh_token_reused(self) -> None:
        self._reuse.inc()

    def session_revoked(self, reason: RevocationReason) -> None:
        self._revoked.inc(reason)
