"""bench/benchserver.py `collector`: a fake OTLP/gRPC trace collector.

It counts the spans it receives and keeps none, so that R1's "tracing exporting" row pays
for recording, batching and sending every span without a real collector's cost on the
server's core. On SIGTERM it stops and logs how many spans it received.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

import grpc

__all__ = ["run_collector"]


def run_collector(args: argparse.Namespace) -> int:
    """A fake OTLP/gRPC trace collector: counts the spans it receives, keeps none."""
    # Imported here: only this mode needs the collector's generated stubs.
    from concurrent import futures  # noqa: PLC0415

    from opentelemetry.proto.collector.trace.v1 import (  # noqa: PLC0415
        trace_service_pb2,
        trace_service_pb2_grpc,
    )

    received = [0]

    class Collector(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 - generated name
            received[0] += sum(
                len(scope.spans) for spans in request.resource_spans for scope in spans.scope_spans
            )
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Collector(), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(grace=None))
    print(f"collector serving on port {port}", file=sys.stderr, flush=True)
    server.wait_for_termination()
    print(f"collector received {received[0]} spans", file=sys.stderr, flush=True)
    return 0
