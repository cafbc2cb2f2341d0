"""Counts and times every call into the go-grpc-prometheus series of ``GrpcServerMetrics``.

It sits outside the error mapping interceptor, so ``grpc_code`` is the code the client
receives (see ``_outcome`` for how it is read). Like go-grpc-prometheus: ``started`` when
the call begins; one ``msg_received`` per request message; one ``msg_sent`` per response
message actually produced (a unary call that fails sends none); ``handled`` and the
``handling_seconds`` histogram when the call ends, for a stream when its last message is
gone.

``grpc_type`` (unary, client_stream, server_stream, bidi_stream) is read once per method
from the protobuf descriptor pool, where every generated module (ours, health,
reflection) registers its services. The labelled series of a method are looked up once,
on its first call, and kept (``labels()`` takes a lock and builds tuples on every call);
nothing here removes series, so the kept children stay the registered ones.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import grpc
from google.protobuf import descriptor_pool
from prometheus_client import Counter, Histogram

from servicekit.grpc.interceptors._outcome import final_code, is_stream, watch_stream
from servicekit.grpc.interceptors.base import ServerInterceptor
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
        self._methods: dict[str, _MethodSeries] = {}

    def intercept(
        self,
        method: Callable[[Any, grpc.ServicerContext], Any],
        request_or_iterator: Any,
        context: grpc.ServicerContext,
        method_name: str,
    ) -> Any:
        series = self._methods.get(method_name) or self._first_call(method_name)
        series.started.inc()
        if series.client_streaming:
            request_or_iterator = _counted(request_or_iterator, series.received.inc)
        else:
            series.received.inc()
        started = time.perf_counter()
        try:
            response = method(request_or_iterator, context)
        except BaseException as error:
            series.handled(final_code(context, error), started)
            raise
        if is_stream(response):
            return watch_stream(
                _counted(response, series.sent.inc),
                context,
                lambda code: series.handled(code, started),
            )
        code = final_code(context, None)
        if code is grpc.StatusCode.OK:
            series.sent.inc()
        series.handled(code, started)
        return response

    def _first_call(self, method_name: str) -> _MethodSeries:
        series = _MethodSeries(self._metrics, call_labels(method_name))
        # Two first calls racing build equal series; the first one stored is kept.
        return self._methods.setdefault(method_name, series)


class _MethodSeries:
    """The labelled children of one method's series, looked up once."""

    __slots__ = (
        "_by_code",
        "_handled",
        "_seconds",
        "client_streaming",
        "received",
        "sent",
        "started",
    )

    def __init__(self, metrics: GrpcServerMetrics, labels: tuple[str, str, str]) -> None:
        self.client_streaming = labels[0] in {"client_stream", "bidi_stream"}
        self.started: Counter = metrics.started.labels(*labels)
        self.received: Counter = metrics.msg_received.labels(*labels)
        self.sent: Counter = metrics.msg_sent.labels(*labels)
        self._seconds: Histogram = metrics.handling_seconds.labels(*labels)
        self._handled = functools.partial(metrics.handled.labels, *labels)
        self._by_code: dict[grpc.StatusCode, Counter] = {}

    def handled(self, code: grpc.StatusCode, started: float) -> None:
        """Count the call as handled with ``code`` and time it from ``started``."""
        counter = self._by_code.get(code)
        if counter is None:
            counter = self._by_code.setdefault(code, self._handled(code.name))
        counter.inc()
        self._seconds.observe(time.perf_counter() - started)


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
