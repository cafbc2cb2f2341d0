"""Tracing: a server span per call, continuing the caller's trace, exported when configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from servicekit.grpc.interceptors.tracing import TracingInterceptor
from servicekit.tracing import TracingSettings, configure_tracing
from tests.unit.servicekit._observed_server import GET_USER, get_user, serving

CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"


def traceparent(sampled: bool = True) -> tuple[str, str]:
    return ("traceparent", f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-{'01' if sampled else '00'}")


@contextmanager
def recorded(
    settings: TracingSettings | None = None,
) -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    provider = configure_tracing(settings or TracingSettings(), service="user")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield provider, exporter
    finally:
        provider.shutdown()


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    [span] = exporter.get_finished_spans()
    return span


def test_each_call_records_a_server_span_named_after_the_method() -> None:
    with recorded() as (provider, exporter), serving([TracingInterceptor(provider)]) as served:
        get_user(served)

    span = only_span(exporter)
    assert span.name == GET_USER
    assert span.kind == SpanKind.SERVER
    assert span.attributes is not None
    assert span.attributes["rpc.service"] == "acme.user.v1.UserService"
    assert span.attributes["rpc.method"] == "GetUser"
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.OK.value[0]
    assert span.resource.attributes["service.name"] == "user"
    assert span.parent is None


def test_an_incoming_traceparent_continues_the_callers_trace() -> None:
    with recorded() as (provider, exporter), serving([TracingInterceptor(provider)]) as served:
        get_user(served, metadata=[traceparent()])

    span = only_span(exporter)
    assert format(span.context.trace_id, "032x") == CALLER_TRACE_ID
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == CALLER_SPAN_ID
    assert span.parent.is_remote


def test_a_client_error_is_recorded_without_marking_the_span_as_failed() -> None:
    with recorded() as (provider, exporter), serving([TracingInterceptor(provider)]) as served:
        get_user(served, "missing")

    span = only_span(exporter)
    assert span.attributes is not None
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert span.status.status_code != StatusCode.ERROR


@pytest.mark.parametrize(
    ("user_id", "code"),
    [("boom", grpc.StatusCode.UNKNOWN), ("rich", grpc.StatusCode.INTERNAL)],
    ids=["unexpected-exception", "abort-with-status"],
)
def test_a_server_fault_marks_the_span_as_failed_with_its_code(
    user_id: str, code: grpc.StatusCode
) -> None:
    with recorded() as (provider, exporter), serving([TracingInterceptor(provider)]) as served:
        assert get_user(served, user_id)[0] == code

    span = only_span(exporter)
    assert span.attributes is not None
    assert span.attributes["rpc.grpc.status_code"] == code.value[0]
    assert span.status.status_code == StatusCode.ERROR


def test_a_zero_sample_ratio_drops_new_traces_but_follows_a_sampled_caller() -> None:
    settings = TracingSettings(sample_ratio=0.0)
    with (
        recorded(settings) as (provider, exporter),
        serving([TracingInterceptor(provider)]) as served,
    ):
        get_user(served)
        assert exporter.get_finished_spans() == ()
        get_user(served, metadata=[traceparent(sampled=True)])

    assert format(only_span(exporter).context.trace_id, "032x") == CALLER_TRACE_ID


def test_a_sample_ratio_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="sample_ratio must be between 0 and 1"):
        TracingSettings(sample_ratio=1.5)


class FakeCollector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP/gRPC trace collector that keeps what it receives."""

    def __init__(self) -> None:
        self.span_names: list[str] = []
        self.received = threading.Event()

    def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 - the service's name
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                self.span_names.extend(span.name for span in scope_spans.spans)
        self.received.set()
        return trace_service_pb2.ExportTraceServiceResponse()


@contextmanager
def collector() -> Iterator[tuple[str, FakeCollector]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    fake = FakeCollector()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(fake, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", fake
    finally:
        server.stop(grace=None).wait()


def test_with_an_endpoint_spans_are_exported_over_otlp_and_flushed_on_shutdown() -> None:
    with collector() as (endpoint, fake):
        provider = configure_tracing(TracingSettings(otlp_endpoint=endpoint), service="user")
        with serving([TracingInterceptor(provider)]) as served:
            get_user(served)
        provider.shutdown()

        assert fake.received.wait(timeout=5)
    assert fake.span_names == [GET_USER]


def test_without_an_endpoint_nothing_is_exported_even_where_otlp_variables_point(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with collector() as (endpoint, fake):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint)
        provider = configure_tracing(TracingSettings(), service="user")
        with serving([TracingInterceptor(provider)]) as served:
            code, _ = get_user(served, metadata=[traceparent()])
        provider.shutdown()

        assert not fake.received.wait(timeout=0.2)
    assert code == grpc.StatusCode.OK
    assert [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")] == []


@contextmanager
def unexported(settings: TracingSettings | None = None) -> Iterator[TracerProvider]:
    provider = configure_tracing(settings or TracingSettings(), service="user")
    try:
        yield provider
    finally:
        provider.shutdown()


def test_without_an_exporter_the_handler_runs_in_a_non_recording_span_of_the_callers_trace() -> (
    None
):
    with unexported() as provider, serving([TracingInterceptor(provider)]) as served:
        get_user(served, metadata=[traceparent()])
        get_user(served, metadata=[traceparent()])

    first, second = (span.get_span_context() for span in served.servicer.seen_spans)
    for span, span_context in zip(served.servicer.seen_spans, (first, second), strict=True):
        assert not span.is_recording()
        assert format(span_context.trace_id, "032x") == CALLER_TRACE_ID
        assert format(span_context.span_id, "016x") != CALLER_SPAN_ID
        assert span_context.trace_flags.sampled
        assert not span_context.is_remote
    assert first.span_id != second.span_id


def test_without_an_exporter_a_call_with_no_caller_trace_starts_a_trace_sampled_as_configured() -> (
    None
):
    for ratio, sampled in ((1.0, True), (0.0, False)):
        settings = TracingSettings(sample_ratio=ratio)
        with unexported(settings) as provider, serving([TracingInterceptor(provider)]) as served:
            get_user(served)
            get_user(served)

        first, second = (span.get_span_context() for span in served.servicer.seen_spans)
        assert first.is_valid
        assert first.trace_id != second.trace_id
        assert first.trace_flags.sampled is sampled


def test_without_an_exporter_an_unsampled_caller_is_followed() -> None:
    with unexported() as provider, serving([TracingInterceptor(provider)]) as served:
        get_user(served, metadata=[traceparent(sampled=False)])

    [span] = served.servicer.seen_spans
    assert format(span.get_span_context().trace_id, "032x") == CALLER_TRACE_ID
    assert not span.get_span_context().trace_flags.sampled


def test_spans_are_recorded_from_the_moment_an_exporter_is_added() -> None:
    exporter = InMemorySpanExporter()
    with unexported() as provider, serving([TracingInterceptor(provider)]) as served:
        get_user(served)
        assert exporter.get_finished_spans() == ()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        get_user(served)

    exported = only_span(exporter)
    assert exported.name == GET_USER
    assert exported.context.span_id == served.servicer.seen_spans[1].get_span_context().span_id


def test_without_an_exporter_a_streamed_call_runs_and_ends() -> None:
    with unexported() as provider, serving([TracingInterceptor(provider)]) as served:
        stream = served.health.Watch(
            health_pb2.HealthCheckRequest(service="acme.user.v1.UserService"),
            metadata=[traceparent()],
        )
        first = next(stream)
        stream.cancel()

    assert first.status == health_pb2.HealthCheckResponse.SERVING
