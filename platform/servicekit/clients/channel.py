"""``open_channel``: a channel to one dependency with every client promise built in.

- Retries: a gRPC service config retry policy for ``service_name``'s methods, on
  UNAVAILABLE only (the server did not do the work: it refused the call, or gave it up
  before committing, or the request never reached it; any other code is an answer, and
  DEADLINE_EXCEEDED means the time is spent). A request with an AIP-155 ``request_id``
  gets one for all its attempts (``servicekit.clients.idempotency``), so an attempt sent
  again after a connection broke past the server's commit gets the first answer. gRPC
  waits before attempt n+1 for
  ``random(0, min(initial_backoff * multiplier**(n-1), max_backoff))`` seconds:
  exponential backoff with full jitter, so a fleet of clients does not retry in step
  (grpc-proto ``grpc/service_config/service_config.proto``, ``RetryPolicy``; gRFC A6).
- Reconnection to a peer that went away is paced by the same bounds, so a restarted
  dependency is found again within ``max_backoff_seconds`` (gRPC's default waits up
  to 120 s).
- Keepalive pings while calls are in flight; TLS or mTLS from ``settings.tls``.
- Interceptors, outermost first: request id, deadline, propagation, caller identity,
  metrics, circuit breaker (``servicekit.clients.interceptors`` says why in this order).

The service config is the channel's own: resolution of one from DNS is switched off.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import grpc
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from servicekit.clients.breaker import CircuitBreaker
from servicekit.clients.credentials import CallCredentialsProvider
from servicekit.clients.errors import translate_rpc_error
from servicekit.clients.idempotency import RequestIdInterceptor
from servicekit.clients.interceptors import (
    CallerIdentityInterceptor,
    CircuitBreakerInterceptor,
    DeadlineInterceptor,
    PropagationInterceptor,
    UnaryClientInterceptor,
)
from servicekit.clients.metrics import ClientMetricsInterceptor, client_metrics
from servicekit.clients.settings import ClientSettings
from servicekit.errors import ServiceError
from servicekit.tls import channel_credentials, channel_options

__all__ = ["ManagedChannel", "client_channel_options", "open_channel", "service_config"]


class ManagedChannel:
    """An intercepted channel to one dependency, its breaker, and ``close``.

    Build stubs on ``channel``: ``UserServiceStub(managed.channel)``. One per dependency
    and process, shared by every thread; close it when the service stops.
    """

    def __init__(
        self, channel: Any, *, raw: Any, breaker: CircuitBreaker, service_name: str, target: str
    ) -> None:
        self.channel = channel
        self.breaker = breaker
        self.service_name = service_name
        self.target = target
        self._raw = raw

    @property
    def display_name(self) -> str:
        """How messages name the dependency: ``UserService`` for ``acme.user.v1.UserService``."""
        return self.service_name.rsplit(".", 1)[-1]

    def translate(self, error: grpc.RpcError) -> ServiceError:
        """``translate_rpc_error`` with this dependency's name."""
        return translate_rpc_error(error, self.display_name)

    def close(self) -> None:
        """Close the connection; calls in flight are cancelled."""
        self._raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_channel(
    settings: ClientSettings,
    *,
    service_name: str,
    credentials: CallCredentialsProvider | None = None,
    tracer_provider: trace.TracerProvider | None = None,
    registry: CollectorRegistry | None = None,
) -> ManagedChannel:
    """A channel to ``settings.target`` for the service ``service_name`` (full proto name).

    ``credentials`` gives this service's own token for every call (None: send none, e.g.
    when mTLS names the caller). ``tracer_provider`` makes CLIENT spans (None: the trace
    context is still propagated). ``registry`` receives the client metrics (None: none).
    Nothing connects until the first call.
    """
    if not service_name or "." not in service_name:
        raise ValueError(f"service_name must be a full proto name, got {service_name!r}")
    breaker = CircuitBreaker(
        settings.breaker_failure_threshold,
        settings.breaker_reset_seconds,
        name=service_name.rsplit(".", 1)[-1],
    )
    options = [*client_channel_options(settings, service_name), *channel_options(settings.tls)]
    secure = channel_credentials(settings.tls)
    if secure is None:
        raw = grpc.insecure_channel(settings.target, options=options)
    else:
        raw = grpc.secure_channel(settings.target, secure, options=options)
    interceptors: list[UnaryClientInterceptor | None] = [
        RequestIdInterceptor(),
        DeadlineInterceptor(settings.deadline_seconds),
        PropagationInterceptor(tracer_provider),
        None if credentials is None else CallerIdentityInterceptor(credentials),
        None if registry is None else ClientMetricsInterceptor(client_metrics(registry)),
        CircuitBreakerInterceptor(breaker),
    ]
    channel = grpc.intercept_channel(raw, *[i for i in interceptors if i is not None])
    return ManagedChannel(
        channel, raw=raw, breaker=breaker, service_name=service_name, target=settings.target
    )


def service_config(settings: ClientSettings, service_name: str | Sequence[str]) -> dict[str, Any]:
    """The gRPC service config of a channel: the retry policy of ``service_name`` (one full
    name, or several for a dependency that serves more than one contract service)."""
    names = [service_name] if isinstance(service_name, str) else list(service_name)
    method_config: dict[str, Any] = {"name": [{"service": name} for name in names]}
    if settings.max_attempts > 1:
        method_config["retryPolicy"] = {
            "maxAttempts": settings.max_attempts,
            "initialBackoff": _duration(settings.initial_backoff_seconds),
            "maxBackoff": _duration(settings.max_backoff_seconds),
            "backoffMultiplier": settings.backoff_multiplier,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
    return {"methodConfig": [method_config]}


def client_channel_options(
    settings: ClientSettings, service_name: str | Sequence[str]
) -> list[tuple[str, Any]]:
    """Channel options of ``settings``: retries (the service config of ``service_name``),
    reconnection pacing and keepalive; for the grpc.aio face (``open_aio_channel``) too."""
    return [
        ("grpc.service_config", json.dumps(service_config(settings, service_name))),
        ("grpc.service_config_disable_resolution", 1),
        ("grpc.enable_retries", 1),
        ("grpc.initial_reconnect_backoff_ms", _ms(settings.initial_backoff_seconds)),
        ("grpc.max_reconnect_backoff_ms", _ms(settings.max_backoff_seconds)),
        ("grpc.keepalive_time_ms", _ms(settings.keepalive_seconds)),
        ("grpc.keepalive_timeout_ms", _ms(settings.keepalive_timeout_seconds)),
        ("grpc.keepalive_permit_without_calls", 0),
    ]


def _duration(seconds: float) -> str:
    """A protobuf JSON Duration: ``0.1s``."""
    return f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
