"""Counts and times every call into the go-grpc-prometheus series of ``GrpcServerMetrics``.

It sits outside the error mapping interceptor, so ``grpc_code`` is the code the client
receives (see ``_outcome`` for how it is read). Like go-grpc-prometheus: ``started`` when
the call begins; one ``msg_received`` per request message; one ``msg_sent`` per response
message actually produced (a unary call that fails sends none); ``handled`` and the
``handling_seconds`` histogram when the call ends, for a stream when its last message is
gone.

``grpc_type`` (unary, client_stream, server_stream, bidi_stream) is read once per method
from the protobuf descriptor pool, where every generated module (ours, health,
reflection) registers its services.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import grpc
from google.protobuf import descriptor_pool
from grpc_interceptor import ServerInterceptor

from servicekit.grpc.interceptors._outcome import final_code, is_stream, watch_stream
from servicekit.metrics import GrpcServerMetrics

__all__ = ["MetricsInterceptor", "call_labels"]

_T = TypeVar("_T")

_GRPC_TYPES = {
    (False, False): "unary",
    (True, False): "client_stream",
    (False, True): "server_stream",
    (True, True): "bidi_stream",
}


class MetricsInterceptor(ServerInterceptor):
    """Records each call in ``metrics``."""

    def __init__(self, metrics: GrpcServerMetrics) -> None:
        self._metrics = metrics

    def intercept(
        self,
        method: Callable[[Any, grpc.ServicerContext], Any],
        request_or_iterator: Any,
        context: grpc.ServicerContext,
        method_name: str,
    ) -> Any:
        labels = call_labels(method_name)
        self._metrics.started.labels(*labels).inc()
        received = self._metrics.msg_received.labels(*labels)
        if labels[0] in {"client_stream", "bidi_stream"}:
            request_or_iterator = _counted(request_or_iterator, received.inc)
        else:
            received.inc()
        started = time.perf_counter()
        try:
            response = method(request_or_iterator, context)
        except BaseException as error:
            self._handled(labels, final_code(context, error), started)
            raise
        sent = self._metrics.msg_sent.labels(*labels)
        if is_stream(response):
            return watch_stream(
                _counted(response, sent.inc),
                context,
                lambda code: self._handled(labels, code, started),
            )
        code = final_code(context, None)
        if code == grpc.StatusCode.OK:
            sent.inc()
        self._handled(labels, code, started)
        return response

    def _handled(self, labels: tuple[str, str, str], code: grpc.StatusCode, started: float) -> None:
        self._metrics.handled.labels(*labels, code.name).inc()
        self._metrics.handling_seconds.labels(*labels).observe(time.perf_counter() - started)


@functools.lru_cache(maxsize=1024)
def call_labels(method_name: str) -> tuple[str, str, str]:
    """``(grpc_type, grpc_service, grpc_method)`` for "/pkg.Service/Method".

    Only methods registered on the server reach interceptors, so the cache stays small.
    A method missing from the descriptor pool is taken to be unary.
    """
    service, _, method = method_name.lstrip("/").partition("/")
    try:
        descriptor = descriptor_pool.Default().FindMethodByName(f"{service}.{method}")
    except KeyError:
        return "unary", service, method
    streaming = (descriptor.client_streaming, descriptor.server_streaming)
    return _GRPC_TYPES[streaming], service, method


def _counted(messages: Iterable[_T], count: Callable[[], None]) -> Iterator[_T]:
    """Yield ``messages``, counting each; closing this closes them (a client that left)."""
    iterator = iter(messages)
    try:
        for message in iterator:
            count()
            yield message
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
