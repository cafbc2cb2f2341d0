"""The gRPC services behind the gateway: one grpc.aio channel each, on the gateway's loop.

Each ``Backend`` keeps the client promises of ``servicekit.clients`` for an asyncio caller:
the deadline of its ``ClientSettings``, gRPC's own retries on UNAVAILABLE with exponential
backoff and jitter (the same service config), reconnection paced by the same bounds,
keepalive, TLS, and a circuit breaker that answers at once while the backend is down.

``Readiness`` asks every backend's ``grpc.health.v1.Health/Check`` for its service and
keeps the answer for a moment, so a burst of probes costs one round of checks.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from grpc_health.v1 import health_pb2

from servicekit.clients import CircuitBreaker, ClientSettings, client_channel_options
from servicekit.tls import channel_credentials, channel_options

__all__ = ["Backend", "Readiness"]

_HEALTH_CHECK = "/grpc.health.v1.Health/Check"
_SERVING = "SERVING"
_UNREACHABLE = "UNREACHABLE"


class Backend:
    """One gRPC service, its channel (opened on the running loop) and its breaker."""

    def __init__(self, name: str, *, service: str, settings: ClientSettings) -> None:
        self.name = name
        self.service = service
        self.display_name = service.rsplit(".", 1)[-1]
        self.settings = settings
        self.breaker = CircuitBreaker(
            settings.breaker_failure_threshold,
            settings.breaker_reset_seconds,
            name=self.display_name,
        )
        self._channel: grpc.aio.Channel | None = None
        self._health: Any = None

    @property
    def deadline_seconds(self) -> float:
        return self.settings.deadline_seconds

    def open(self) -> None:
        """Create the channel; call on the event loop that will make the calls."""
        settings = self.settings
        options = [*client_channel_options(settings, self.service), *channel_options(settings.tls)]
        secure = channel_credentials(settings.tls)
        if secure is None:
            self._channel = grpc.aio.insecure_channel(settings.target, options=options)
        else:
            self._channel = grpc.aio.secure_channel(settings.target, secure, options=options)
        self._health = self.unary_unary(
            _HEALTH_CHECK,
            health_pb2.HealthCheckRequest.SerializeToString,
            health_pb2.HealthCheckResponse.FromString,
        )

    async def close(self, grace: float | None = None) -> None:
        """Close the channel; calls still in flight get ``grace`` seconds."""
        if self._channel is not None:
            await self._channel.close(grace)
            self._channel = None

    def unary_unary(
        self,
        path: str,
        serializer: Callable[[Any], bytes],
        deserializer: Callable[[bytes], Any],
    ) -> Any:
        """A multi-callable for the method ``path`` (``/pkg.Service/Method``)."""
        if self._channel is None:
            raise RuntimeError(f"the channel to {self.display_name} is not open")
        return self._channel.unary_unary(
            path,
            request_serializer=serializer,
            response_deserializer=deserializer,
            _registered_method=True,  # as the generated stubs do: the method is known up front
        )

    async def health(self, timeout: float) -> str:
        """The health status of this backend's service, or ``UNREACHABLE``."""
        if self._health is None:
            return _UNREACHABLE
        request = health_pb2.HealthCheckRequest(service=self.service)
        try:
            reply = await self._health(request, timeout=timeout)
        except grpc.aio.AioRpcError:
            return _UNREACHABLE
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


class Readiness:
    """Whether every backend is SERVING, checked at most once per ``cache_seconds``."""

    def __init__(
        self,
        backends: Mapping[str, Backend],
        *,
        cache_seconds: float,
        timeout: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backends = backends
        self._cache_seconds = cache_seconds
        self._timeout = timeout
        self._clock = clock
        self._lock = asyncio.Lock()
        self._checked_at: float | None = None
        self._statuses: dict[str, str] = {}

    async def check(self) -> tuple[bool, dict[str, str]]:
        """``(ready, {backend: status})``; concurrent callers share one round of checks."""
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    await self._refresh()
        statuses = dict(self._statuses)
        return all(status == _SERVING for status in statuses.values()), statuses

    def document(self, ready: bool, statuses: Mapping[str, str]) -> bytes:
        """The ``/readyz`` body."""
        return json.dumps(
            {"status": "ready" if ready else "not ready", "backends": dict(statuses)}
        ).encode()

    def _fresh(self) -> bool:
        checked_at = self._checked_at
        return checked_at is not None and self._clock() - checked_at < self._cache_seconds

    async def _refresh(self) -> None:
        names = list(self._backends)
        results = await asyncio.gather(
            *(self._backends[name].health(self._timeout) for name in names)
        )
        self._statuses = dict(zip(names, results, strict=True))
        self._checked_at = self._clock()
