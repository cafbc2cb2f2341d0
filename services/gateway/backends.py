"""The gRPC servers behind the gateway: one grpc.aio channel each, on the gateway's loop.

Each ``Backend`` is one entry of the settings' ``[backends.<name>]`` map: a server and the
contract services it serves. Its channel is servicekit's asyncio face
(``servicekit.clients.open_aio_channel``), which keeps the client promises for every call
the transcoder makes: the deadline of its settings, gRPC's retries on UNAVAILABLE with
exponential backoff and jitter, the request id and trace context, the client metrics and
one circuit breaker per method (``MethodBreakers``), so a method that keeps failing is
refused at once while the backend's other methods are still served.

``Readiness`` asks every backend's ``grpc.health.v1.Health/Check`` for each of its
services and keeps the answer for a moment, so a burst of probes costs one round of
checks. Health checks pass the breakers untouched: readiness always sees the truth. It
logs one line when the gateway's readiness changes (WARNING when it stops being ready,
with each backend's status; INFO when it is ready again), not one per probe.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health_pb2
from prometheus_client import CollectorRegistry

from servicekit.clients import ManagedAioChannel, open_aio_channel
from services.gateway.settings import BackendSettings

__all__ = ["Backend", "Readiness"]

_HEALTH_CHECK = "/grpc.health.v1.Health/Check"
_SERVING = "SERVING"
_UNREACHABLE = "UNREACHABLE"


class Backend:
    """One backend of the settings: its channel (opened on the running loop) and breakers."""

    def __init__(
        self, name: str, *, settings: BackendSettings, registry: CollectorRegistry | None = None
    ) -> None:
        if not settings.services:
            raise ValueError(f"backend {name} serves no contract service")
        self.name = name
        self.settings = settings
        self._registry = registry
        self._managed: ManagedAioChannel | None = None
        self._health: Any = None

    @property
    def services(self) -> tuple[str, ...]:
        return self.settings.services

    def open(self) -> None:
        """Create the channel; call on the event loop that will make the calls."""
        self._managed = open_aio_channel(
            self.settings, service_names=self.settings.services, registry=self._registry
        )
        self._health = self._managed.unary_unary(
            _HEALTH_CHECK,
            health_pb2.HealthCheckRequest.SerializeToString,
            health_pb2.HealthCheckResponse.FromString,
        )

    async def close(self, grace: float | None = None) -> None:
        """Close the channel; calls still in flight get ``grace`` seconds."""
        if self._managed is not None:
            await self._managed.close(grace)
            self._managed = None
            self._health = None

    def unary_unary(
        self,
        path: str,
        serializer: Callable[[Any], bytes],
        deserializer: Callable[[bytes], Any],
    ) -> Any:
        """A multi-callable for the method ``path`` (``/pkg.Service/Method``)."""
        if self._managed is None:
            raise RuntimeError(f"the channel to backend {self.name} is not open")
        return self._managed.unary_unary(path, serializer, deserializer)

    async def health(self, timeout: float) -> str:
        """The worst health status of this backend's services, or ``UNREACHABLE``."""
        statuses = await asyncio.gather(*(self._check(s, timeout) for s in self.services))
        return _worst(statuses)

    async def _check(self, service: str, timeout: float) -> str:
        if self._health is None:
            return _UNREACHABLE
        request = health_pb2.HealthCheckRequest(service=service)
        try:
            reply = await self._health(request, timeout=timeout)
        except grpc.aio.AioRpcError:
            return _UNREACHABLE
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def _worst(statuses: Sequence[str]) -> str:
    """SERVING when every status is; else the first that is not."""
    return next((status for status in statuses if status != _SERVING), _SERVING)


class Readiness:
    """Whether every backend is SERVING, checked at most once per ``cache_seconds``.

    ``unrouted`` (contract services no backend serves) are listed in the document but do
    not make the gateway unready: the routes of every other service are served.
    """

    def __init__(
        self,
        backends: Mapping[str, Backend],
        *,
        unrouted: Sequence[str] = (),
        cache_seconds: float,
        timeout: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        logger: Any = None,
    ) -> None:
        self._backends = backends
        self._log = logger if logger is not None else structlog.get_logger("services.gateway")
        self._ready: bool | None = None
        self._unrouted = list(unrouted)
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
        document: dict[str, Any] = {
            "status": "ready" if ready else "not ready",
            "backends": dict(statuses),
        }
        if self._unrouted:
            document["unrouted"] = self._unrouted
        return json.dumps(document).encode()

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
        ready = all(status == _SERVING for status in self._statuses.values())
        if ready != self._ready:
            if ready:
                self._log.info("gateway ready", backends=self._statuses)
            else:
                self._log.warning("gateway not ready", backends=self._statuses)
            self._ready = ready
