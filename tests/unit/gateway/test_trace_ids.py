"""Every request through the gateway belongs to a trace, and its access line names it, with
an exporter or without one; the backends continue that trace."""

from __future__ import annotations

import asyncio
from typing import Any

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.types import Message, Receive, Scope, Send

from servicekit.tracing import ServiceTracerProvider, TracingSettings, configure_tracing
from services.gateway import scope as request_scope
from services.gateway.edge import Edge

CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CALLER_TRACE_ID}-00f067aa0ba902b7-01"


class Lines:
    """A logger that keeps each line's event and fields."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def log(self, level: int, event: str, **fields: Any) -> None:
        self.lines.append({"event": event, **fields})


class Backend:
    """Stands in for connexion: remembers the metadata the backends would get, answers 200."""

    def __init__(self) -> None:
        self.metadata: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        current = request_scope.current()
        assert current is not None
        self.metadata = dict(current.metadata)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def serve_one(
    provider: ServiceTracerProvider, headers: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """One GET through the edge: its access line, and the metadata passed to the backend."""
    backend, log = Backend(), Lines()
    edge = Edge(
        backend,
        plans={},
        local={},
        docs_path="/docs",
        max_body_bytes=1024,
        tracer_provider=provider,
        logger=log,
    )
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/users/x",
        "raw_path": b"/v1/users/x",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(edge(scope, receive, send))
    assert sent[0]["status"] == 200
    [line] = log.lines
    return line, backend.metadata


def test_without_an_exporter_a_request_starts_a_trace_named_on_its_line_and_continued() -> None:
    provider = configure_tracing(TracingSettings(), service="gateway")

    line, metadata = serve_one(provider, {"x-request-id": "req-1"})

    assert not provider.exports
    trace_id = line["trace_id"]
    assert len(trace_id) == 32
    assert trace_id != "0" * 32
    assert line["request_id"] == "req-1"
    assert metadata["traceparent"].split("-")[1] == trace_id


def test_without_an_exporter_the_callers_trace_goes_on_as_it_came_and_names_the_line() -> None:
    provider = configure_tracing(TracingSettings(), service="gateway")

    line, metadata = serve_one(provider, {"traceparent": TRACEPARENT})

    assert line["trace_id"] == CALLER_TRACE_ID
    assert metadata["traceparent"] == TRACEPARENT


def test_each_request_gets_a_trace_of_its_own() -> None:
    provider = configure_tracing(TracingSettings(), service="gateway")

    first, _ = serve_one(provider, {})
    second, _ = serve_one(provider, {})

    assert first["trace_id"] != second["trace_id"]


def test_an_exported_span_carries_the_request_id_and_is_the_one_the_line_names() -> None:
    provider = configure_tracing(TracingSettings(), service="gateway")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    line, metadata = serve_one(provider, {"x-request-id": "req-2", "traceparent": TRACEPARENT})

    [span] = exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["request_id"] == "req-2"
    assert format(span.context.trace_id, "032x") == line["trace_id"] == CALLER_TRACE_ID
    # The backends' parent is the gateway's span, not the caller's.
    assert metadata["traceparent"].split("-")[2] == format(span.context.span_id, "016x")
