"""Calling another service: generated stubs over a channel that keeps the client promises.

Deadlines, retries with exponential backoff and jitter (gRPC's own, on UNAVAILABLE only),
a circuit breaker, propagation of the request id and trace context, the calling service's
own identity, client metrics and TLS, all from one ``ClientSettings``. Wiring, once per
dependency, in the service's ``create_server``::

    user = open_channel(
        settings.user_client,
        service_name=user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name,
        credentials=RefreshingToken(mint_own_token, lifetime_seconds=300),
        tracer_provider=tracer_provider,
        registry=registry,
    )
    server.add_on_stop(user.close)
    users = user_service_pb2_grpc.UserServiceStub(user.channel)

and in the adapter, the dependency's status in domain terms::

    try:
        return users.VerifyCredentials(request)
    except grpc.RpcError as error:
        raise user.translate(error) from error

While the circuit is open, calls raise ``CircuitOpenError`` at once: a
``servicekit.errors.Unavailable`` that is also a ``grpc.RpcError`` with status UNAVAILABLE.

A caller on an event loop opens the asyncio face instead, ``open_aio_channel``
(``servicekit.clients.aio_channel``): the same settings and promises through grpc.aio
client interceptors, one circuit breaker per method, and ``AioCircuitOpenError`` (an
``AioRpcError``) for a refused call. Both faces judge a finished call by one rule,
``servicekit.clients.outcomes``.
"""

from servicekit.clients.aio_channel import ManagedAioChannel, open_aio_channel
from servicekit.clients.breaker import BreakerState, CircuitBreaker, MethodBreakers, Permit
from servicekit.clients.channel import (
    ManagedChannel,
    client_channel_options,
    open_channel,
    service_config,
)
from servicekit.clients.credentials import CallCredentialsProvider, RefreshingToken, StaticToken
from servicekit.clients.errors import (
    AioCircuitOpenError,
    CircuitOpenError,
    DependencyError,
    translate_rpc_error,
)
from servicekit.clients.metrics import GrpcClientMetrics, client_metrics
from servicekit.clients.settings import ClientSettings

__all__ = [
    "AioCircuitOpenError",
    "BreakerState",
    "CallCredentialsProvider",
    "CircuitBreaker",
    "CircuitOpenError",
    "ClientSettings",
    "DependencyError",
    "GrpcClientMetrics",
    "ManagedAioChannel",
    "ManagedChannel",
    "MethodBreakers",
    "Permit",
    "RefreshingToken",
    "StaticToken",
    "client_channel_options",
    "client_metrics",
    "open_aio_channel",
    "open_channel",
    "service_config",
    "translate_rpc_error",
]
