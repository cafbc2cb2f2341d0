"""Where spans go: a collector that does not answer is one warning, not a line per retry;
the local store receives the server spans, each with its call's request id."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from structlog.testing import capture_logs

from servicekit.grpc.interceptors.request_context import RequestContextInterceptor
from servicekit.grpc.interceptors.tracing import TracingInterceptor
from servicekit.testing.ports import free_port
from servicekit.traces import read_spans
from servicekit.tracing import OneWarningExporter, TracingSettings, configure_tracing
from tests.unit.servicekit._observed_server import GET_USER, get_user, json_logs, serving


class Scripted(SpanExporter):
    """Answers each export with the next result of its script."""

    def __init__(self, *results: SpanExportResult) -> None:
        self.results = list(results)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.results.pop(0)


FAILURE, SUCCESS = SpanExportResult.FAILURE, SpanExportResult.SUCCESS


def test_failed_exports_are_one_warning_until_one_succeeds_again() -> None:
    exporter = OneWarningExporter(
        Scripted(FAILURE, FAILURE, FAILURE, SUCCESS, SUCCESS, FAILURE),
        where="http://collector:4317",
        reason=lambda: "UNAVAILABLE",
    )

    with capture_logs() as lines:
        results = [exporter.export([]) for _ in range(6)]

    assert results == [FAILURE, FAILURE, FAILURE, SUCCESS, SUCCESS, FAILURE]
    said = [(line["log_level"], line["event"]) for line in lines]
    assert said == [
        (
            "warning",
            "traces: spans cannot be exported; they are dropped until they can (said once)",
        ),
        ("info", "traces: spans are exported again"),
        (
            "warning",
            "traces: spans cannot be exported; they are dropped until they can (said once)",
        ),
    ]
    assert lines[0]["to"] == "http://collector:4317"
    assert lines[0]["reason"] == "UNAVAILABLE"


def test_an_unreachable_collector_is_one_warning_line_whatever_the_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each export gives up after 2 s (instead of 10): time for the exporter's retry lines.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2")
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with json_logs(level="debug") as logs:
        provider = configure_tracing(TracingSettings(otlp_endpoint=nobody), service="user")
        tracer = provider.get_tracer("tests")
        for batch in range(3):
            tracer.start_span(f"batch {batch}").end()
            provider.force_flush()
        provider.shutdown()

    lines = logs.lines()
    warnings = [line for line in lines if line["level"] in ("warning", "error")]
    assert [line["event"] for line in warnings] == [
        "traces: spans cannot be exported; they are dropped until they can (said once)"
    ]
    assert warnings[0]["to"] == nobody
    assert "UNAVAILABLE" in warnings[0]["reason"]  # what the exporter itself said, once
    assert not any("Transient error" in line["event"] for line in lines)


def test_with_a_local_dir_every_server_span_is_stored_with_its_request_id(tmp_path: Path) -> None:
    provider = configure_tracing(TracingSettings(local_dir=str(tmp_path)), service="user")
    interceptors = [RequestContextInterceptor(), TracingInterceptor(provider)]
    with serving(interceptors) as served:
        get_user(served, metadata=[("x-request-id", "req-7")])
        get_user(served)
    provider.shutdown()

    assert provider.exports
    first, second = sorted(read_spans(tmp_path), key=lambda span: span.start_ns)
    assert (first.service, first.name, first.kind) == ("user", GET_USER, "SERVER")
    assert first.request_id == "req-7"
    assert first.outcome() == "OK"
    assert second.request_id is not None  # the id the server made up for the call
    assert second.request_id != "req-7"
