"""OpenTelemetry tracing: a tracer provider per service, exporting where it is told to.

``configure_tracing`` builds a ``TracerProvider`` that the wiring hands to whatever makes
spans (the gRPC server and client interceptors, the gateway's edge). It is deliberately
*not* installed as the global provider: the global can be set only once per process, which
tests and embedders cannot live with, and an explicit collaborator is easier to follow.

With nowhere to export, nothing is exported and nothing complains, and nothing need be
recorded: ``ServiceTracerProvider.exports`` says so, and what makes spans then only
continues the caller's trace (or starts one) with non-recording spans
(``local_span_context``), so trace ids still reach the logs and are propagated to the
services this one calls. Spans are recorded, and finished ones batched, when either is set:

- ``otlp_endpoint``: an OTLP/gRPC collector, ``http://collector:4317`` for plain text,
  ``https://...`` for TLS; the standard ``OTEL_EXPORTER_OTLP_*`` variables (headers,
  certificates, timeout) still apply. A collector that does not answer is one warning
  line (and one more once it answers again), not the exporter's line per retry.
- ``local_dir``: a folder of JSON lines, one file per service (``servicekit.traces``), the
  trace store of a stack without a cluster: ``make up TRACES=1`` sets it, and
  ``make traces REQUEST=<request or trace id>`` prints the span tree of a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, TraceIdRatioBased

from servicekit.traces import JsonLinesSpanExporter

__all__ = [
    "REQUEST_ID_ATTRIBUTE",
    "ServiceTracerProvider",
    "TracingSettings",
    "configure_tracing",
    "local_span_context",
]

REQUEST_ID_ATTRIBUTE = "request_id"
"""The span attribute holding the request id: the same name as on every log line."""

_OTLP_LOGGER = "opentelemetry.exporter.otlp.proto.grpc.exporter"
_EXPORT_FAILURES = ("Transient error", "Failed to export")
"""How the OTLP exporter's lines about a failed export begin (one per retry)."""
_LOCAL_DELAY_MILLIS = 200
"""How soon a finished span reaches the local store: `make traces` right after a request."""

_log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class TracingSettings:
    """Where spans go and how many of the traces started here are kept.

    ``sample_ratio`` applies to traces that begin in this service; a caller's decision
    (the sampled flag of an incoming ``traceparent``) is always followed, so a trace is
    either whole or absent. ``local_dir`` is a folder for the local trace store (empty:
    none).
    """

    otlp_endpoint: str = ""
    local_dir: str = ""
    sample_ratio: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample_ratio <= 1.0:
            raise ValueError(f"sample_ratio must be between 0 and 1, got {self.sample_ratio}")


class ServiceTracerProvider(TracerProvider):
    """The SDK's provider, knowing whether anything receives its spans.

    Spans go nowhere until a span processor (an exporter's) is added: ``exports`` is False
    until then, and what makes spans may skip recording them.
    """

    _exports = False

    @property
    def exports(self) -> bool:
        """True once a span processor has been added: finished spans go somewhere."""
        return self._exports

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        super().add_span_processor(span_processor)
        self._exports = True


def configure_tracing(settings: TracingSettings, *, service: str) -> ServiceTracerProvider:
    """A provider for ``service``; call its ``shutdown()`` on stop to flush pending spans."""
    provider = ServiceTracerProvider(
        resource=Resource.create({SERVICE_NAME: service}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    if settings.otlp_endpoint:
        failures = _install_export_failure_filter()
        collector = OneWarningExporter(
            OTLPSpanExporter(endpoint=settings.otlp_endpoint),
            where=settings.otlp_endpoint,
            reason=lambda: failures.last,
        )
        provider.add_span_processor(BatchSpanProcessor(collector))
    if settings.local_dir:
        store = JsonLinesSpanExporter(Path(settings.local_dir), service=service)
        local = OneWarningExporter(store, where=str(store.path), reason=lambda: store.last_error)
        provider.add_span_processor(
            BatchSpanProcessor(local, schedule_delay_millis=_LOCAL_DELAY_MILLIS)
        )
    return provider


def local_span_context(
    provider: TracerProvider,
    parent: otel_context.Context,
    name: str,
    kind: trace.SpanKind = trace.SpanKind.SERVER,
) -> trace.SpanContext:
    """What the SDK's tracer would give a span that nobody records: the parent's trace id
    or a new one, a new span id, and the sampler's decision (which follows a caller's
    sampled flag) as its sampled flag."""
    parent_context = trace.get_current_span(parent).get_span_context()
    ids = provider.id_generator
    trace_id = parent_context.trace_id if parent_context.is_valid else ids.generate_trace_id()
    sampling = provider.sampler.should_sample(parent, trace_id, name, kind)
    sampled = sampling.decision is Decision.RECORD_AND_SAMPLE
    return trace.SpanContext(
        trace_id,
        ids.generate_span_id(),
        is_remote=False,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED if sampled else 0),
        trace_state=sampling.trace_state,
    )


class OneWarningExporter(SpanExporter):
    """An exporter that says once, in its own words, that its spans cannot be delivered.

    The OTLP exporter writes a line for every retry of every batch (several a minute with
    no collector); ``configure_tracing`` drops those (a filter on its logger, which keeps
    the last one as the ``reason``). This wrapper writes one warning when an export first
    fails, then nothing until one succeeds again (one line says so), whatever the number
    of batches in between.
    """

    def __init__(
        self, exporter: SpanExporter, *, where: str, reason: Callable[[], str] = str
    ) -> None:
        self._exporter = exporter
        self._where = where
        self._reason = reason
        self._failing = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self._exporter.export(spans)
        if result is SpanExportResult.SUCCESS:
            if self._failing:
                self._failing = False
                _log.info("traces: spans are exported again", to=self._where)
        elif not self._failing:
            self._failing = True
            _log.warning(
                "traces: spans cannot be exported; they are dropped until they can (said once)",
                to=self._where,
                reason=self._reason(),
            )
        return result

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


class _ExportFailureFilter(logging.Filter):
    """Drops the OTLP exporter's lines about failed exports; remembers the last one."""

    def __init__(self) -> None:
        super().__init__()
        self.last = ""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(_EXPORT_FAILURES):
            self.last = record.getMessage()
            return False
        return True


def _install_export_failure_filter() -> _ExportFailureFilter:
    """The filter on the OTLP exporter's logger, added the first time only."""
    logger = logging.getLogger(_OTLP_LOGGER)
    for existing in logger.filters:
        if isinstance(existing, _ExportFailureFilter):
            return existing
    added = _ExportFailureFilter()
    logger.addFilter(added)
    return added
