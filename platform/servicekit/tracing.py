"""OpenTelemetry tracing: a tracer provider per service, exporting over OTLP when told to.

``configure_tracing`` builds a ``TracerProvider`` that the wiring hands to whatever makes
spans (the gRPC server and client interceptors). It is deliberately *not* installed as the
global provider: the global can be set only once per process, which tests and embedders
cannot live with, and an explicit collaborator is easier to follow.

With no endpoint nothing is exported and nothing complains, and nothing need be recorded:
``ServiceTracerProvider.exports`` says so, and the server interceptor then only continues
the caller's trace (or starts one) with non-recording spans, so trace ids still reach the
logs and are propagated to the services this one calls. With an endpoint, spans are
recorded and finished ones are batched to an OTLP/gRPC collector:
``http://collector:4317`` for plain text, ``https://...`` for TLS; the standard
``OTEL_EXPORTER_OTLP_*`` variables (headers, certificates, timeout) still apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

__all__ = ["ServiceTracerProvider", "TracingSettings", "configure_tracing"]


@dataclass(frozen=True, kw_only=True, slots=True)
class TracingSettings:
    """Where spans go and how many of the traces started here are kept.

    ``sample_ratio`` applies to traces that begin in this service; a caller's decision
    (the sampled flag of an incoming ``traceparent``) is always followed, so a trace is
    either whole or absent.
    """

    otlp_endpoint: str = ""
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
        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider
