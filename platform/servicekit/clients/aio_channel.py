"""``open_aio_channel``: the asyncio face of ``open_channel``, for callers on an event loop.

The same ``ClientSettings`` give the same promises as the synchronous channel: gRPC's
retries on UNAVAILABLE with exponential backoff and jitter and the reconnection pacing
(the service config of ``client_channel_options``), keepalive, TLS, then the interceptors
of ``servicekit.clients.aio_interceptors`` in the order of the synchronous face. One
channel may serve several contract services of one dependency (a backend that implements
two services); the retry policy and the breakers cover the methods of all of them::

    managed = open_aio_channel(settings, service_names=["acme.user.v1.UserService"],
                               registry=registry)
    get_user = managed.unary_unary("/acme.user.v1.UserService/GetUser",
                                   GetUserRequest.SerializeToString, GetUserResponse.FromString)
    reply = await get_user(request, metadata=metadata)   # AioRpcError on failure
    ...
    await managed.close(grace=1.0)

Open it on the running loop that makes the calls (grpc.aio binds a channel to its loop).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import grpc
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from servicekit.clients.aio_interceptors import (
    AioCallerIdentityInterceptor,
    AioCircuitBreakerInterceptor,
    AioClientMetricsInterceptor,
    AioDeadlineInterceptor,
    AioPropagationInterceptor,
    AioUnaryClientInterceptor,
)
from servicekit.clients.breaker import MethodBreakers
from servicekit.clients.channel import client_channel_options
from servicekit.clients.credentials import CallCredentialsProvider
from servicekit.clients.idempotency import AioRequestIdInterceptor
from servicekit.clients.metrics import client_metrics
from servicekit.clients.settings import ClientSettings
from servicekit.tls import channel_credentials, channel_options

__all__ = ["ManagedAioChannel", "open_aio_channel"]


class ManagedAioChannel:
    """An intercepted grpc.aio channel to one dependency, its breakers, and ``close``."""

    def __init__(
        self,
        channel: Any,
        *,
        breakers: MethodBreakers,
        service_names: tuple[str, ...],
        target: str,
    ) -> None:
        self.channel = channel
        self.breakers = breakers
        self.service_names = service_names
        self.target = target

    def unary_unary(
        self,
        method: str,
        serializer: Callable[[Any], bytes],
        deserializer: Callable[[bytes], Any],
    ) -> Any:
        """A multi-callable for ``method`` (``/pkg.Service/Method``), as a generated stub
        makes one."""
        return self.channel.unary_unary(
            method,
            request_serializer=serializer,
            response_deserializer=deserializer,
            _registered_method=True,  # as the generated stubs do: the method is known up front
        )

    async def close(self, grace: float | None = None) -> None:
        """Close the connection; calls still in flight get ``grace`` seconds."""
        await self.channel.close(grace)


def open_aio_channel(
    settings: ClientSettings,
    *,
    service_names: Sequence[str],
    credentials: CallCredentialsProvider | None = None,
    tracer_provider: trace.TracerProvider | None = None,
    registry: CollectorRegistry | None = None,
) -> ManagedAioChannel:
    """A grpc.aio channel to ``settings.target`` for the services ``service_names``.

    ``credentials``, ``tracer_provider`` and ``registry`` as for ``open_channel``. The
    circuit breakers guard the methods of ``service_names`` only: health checks and
    reflection through the same channel always reach the dependency. Nothing connects
    until the first call.
    """
    names = tuple(service_names)
    if not names or any("." not in name for name in names):
        raise ValueError(f"service_names must be full proto names, got {names!r}")
    breakers = MethodBreakers(
        settings.breaker_failure_threshold, settings.breaker_reset_seconds, services=names
    )
    interceptors: list[AioUnaryClientInterceptor | None] = [
        AioRequestIdInterceptor(),
        AioDeadlineInterceptor(settings.deadline_seconds),
        AioPropagationInterceptor(tracer_provider),
        None if credentials is None else AioCallerIdentityInterceptor(credentials),
        None if registry is None else AioClientMetricsInterceptor(client_metrics(registry)),
        AioCircuitBreakerInterceptor(breakers),
    ]
    chain = [interceptor for interceptor in interceptors if interceptor is not None]
    options = [*client_channel_options(settings, names), *channel_options(settings.tls)]
    secure = channel_credentials(settings.tls)
    if secure is None:
        channel = grpc.aio.insecure_channel(settings.target, options=options, interceptors=chain)
    else:
        channel = grpc.aio.secure_channel(
            settings.target, secure, options=options, interceptors=chain
        )
    return ManagedAioChannel(
        channel, breakers=breakers, service_names=names, target=settings.target
    )
