"""The local trace store: spans as JSON lines in a folder, and the span tree of a request.

With ``tracing.local_dir`` set (``make up TRACES=1`` sets it to ``.run/traces`` for every
service), each service appends its finished spans to ``<local_dir>/<service>.jsonl``
(``JsonLinesSpanExporter``, behind the SDK's batch processor). No server runs: the file is
the store, and this module is its viewer::

    python -m servicekit.traces show <request id or trace id> [--dir .run/traces]
    python -m servicekit.traces list [--last 20]

``show`` prints the tree of every trace of that request (the request id is an attribute of
the services' server spans, ``request_id``, and is on every log line; the trace id is on
every log line too), one span a line: service, name, outcome, duration and start after the
root. ``list`` names the latest traces with their request ids.

Why an exporter of our own rather than the SDK's ``ConsoleSpanExporter`` pointed at a file:
that one writes ``span.to_json()``, an indented document of several lines per span with
``0x``-prefixed ids; here each span is one line whose ids are the W3C hex strings the log
lines carry, so ``grep <trace id> .run/traces/*.jsonl`` finds it as well as this viewer
does, and a line half-written when a process stops spoils only itself. A file larger than
``max_bytes`` is moved to ``<service>.jsonl.1`` (one older file kept).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode, format_span_id, format_trace_id

__all__ = ["DEFAULT_DIR", "JsonLinesSpanExporter", "SpanRecord", "main", "read_spans", "render"]

DEFAULT_DIR = ".run/traces"
_MAX_BYTES = 32 * 1024 * 1024
_CODES: dict[int, str] = {code.value[0]: code.name for code in grpc.StatusCode}
_REQUEST_ID = "request_id"


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span of ``service`` to ``<directory>/<service>.jsonl``.

    The folder is made when missing (``make reset`` may empty ``.run`` under a running
    stack). A failed write is a ``FAILURE`` whose reason is ``last_error``; saying so is
    the caller's (``servicekit.tracing.OneWarningExporter``).
    """

    def __init__(self, directory: Path, *, service: str, max_bytes: int = _MAX_BYTES) -> None:
        self._directory = directory
        self._path = directory / f"{service}.jsonl"
        self._max_bytes = max_bytes
        self.last_error = ""

    @property
    def path(self) -> Path:
        return self._path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        records = (_record(span) for span in spans if span.context is not None)
        lines = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records)
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            if self._path.exists() and self._path.stat().st_size > self._max_bytes:
                os.replace(self._path, self._path.with_name(self._path.name + ".1"))
            # One append per batch: lines of several processes never interleave.
            with self._path.open("a", encoding="utf-8") as store:
                store.write(lines)
        except OSError as exc:
            self.last_error = f"{self._path}: {exc.strerror or exc}"
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing stays open between batches."""


def _record(span: ReadableSpan) -> dict[str, Any]:
    context, parent = span.context, span.parent
    return {
        "trace_id": format_trace_id(context.trace_id) if context else "",
        "span_id": format_span_id(context.span_id) if context else "",
        "parent_id": format_span_id(parent.span_id) if parent is not None else None,
        "service": span.resource.attributes.get("service.name", "unknown"),
        "name": span.name,
        "kind": span.kind.name,
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "events": [
            {"name": event.name, "attributes": dict(event.attributes or {})}
            for event in span.events
        ],
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class SpanRecord:
    """One stored span, as read back."""

    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def request_id(self) -> str | None:
        value = self.attributes.get(_REQUEST_ID)
        return value if isinstance(value, str) else None

    @property
    def milliseconds(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6

    def outcome(self) -> str:
        """The HTTP status, the gRPC code, or the span's status."""
        http = self.attributes.get("http.response.status_code")
        if http is not None:
            return str(http)
        code = self.attributes.get("rpc.grpc.status_code")
        if isinstance(code, int):
            return _CODES.get(code, str(code))
        return "ERROR" if self.status == StatusCode.ERROR.name else ""


def read_spans(directory: Path) -> list[SpanRecord]:
    """Every span stored in ``directory`` (current and moved-aside files); lines that are
    not a whole span (one being written) are skipped."""
    spans = []
    for path in sorted(directory.glob("*.jsonl*")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    spans.append(SpanRecord(**json.loads(line)))
                except (ValueError, TypeError):
                    continue
    return spans


def trace_ids(spans: Iterable[SpanRecord], ident: str) -> list[str]:
    """The traces ``ident`` names (a trace id, or the request id of some of their spans),
    oldest first."""
    first: dict[str, int] = {}
    for span in spans:
        if ident in (span.trace_id, span.request_id):
            first[span.trace_id] = min(first.get(span.trace_id, span.start_ns), span.start_ns)
    return sorted(first, key=first.__getitem__)


def render(spans: Iterable[SpanRecord], trace_id: str) -> list[str]:
    """The lines of one trace's tree: a heading, then a span a line, children indented
    under their parent in the order they started."""
    members = sorted((s for s in spans if s.trace_id == trace_id), key=lambda s: s.start_ns)
    if not members:
        return []
    ids = {span.span_id for span in members}
    children: dict[str | None, list[SpanRecord]] = {}
    for span in members:
        parent = span.parent_id if span.parent_id in ids else None
        children.setdefault(parent, []).append(span)
    origin = members[0].start_ns
    request = next((s.request_id for s in members if s.request_id), None)
    services = sorted({s.service for s in members})
    heading = f"trace {trace_id}" + (f"  request {request}" if request else "")
    heading += f"  {_when(origin)}  {len(members)} spans ({', '.join(services)})"
    lines = [heading]
    for prefix, inner, span in _walk(children, None, ""):
        line = f"{prefix}{span.service}  {span.name}"
        if span.kind == "CLIENT":
            line += " (client)"
        outcome = span.outcome()
        line += f"  {outcome}" if outcome else ""
        line += f"  {span.milliseconds:.1f} ms  at +{(span.start_ns - origin) / 1e6:.1f} ms"
        lines.append(line)
        lines.extend(f"{inner}! {text}" for text in _exceptions(span))
    return lines


def _walk(
    children: dict[str | None, list[SpanRecord]], parent: str | None, indent: str
) -> Iterator[tuple[str, str, SpanRecord]]:
    """(the span's prefix, the indent of what hangs under it, the span), depth first."""
    kids = children.get(parent, [])
    for index, span in enumerate(kids):
        last = index == len(kids) - 1
        branch = "" if parent is None else ("└─ " if last else "├─ ")
        deeper = indent if parent is None else indent + ("   " if last else "│  ")
        yield indent + branch, deeper, span
        yield from _walk(children, span.span_id, deeper)


def _exceptions(span: SpanRecord) -> Iterator[str]:
    for event in span.events:
        if event.get("name") == "exception":
            attributes = event.get("attributes", {})
            kind = attributes.get("exception.type", "exception")
            yield f"{kind}: {attributes.get('exception.message', '')}".rstrip(": ")


def _when(nanoseconds: int) -> str:
    moment = datetime.fromtimestamp(nanoseconds / 1e9, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _summaries(spans: Sequence[SpanRecord], last: int) -> list[str]:
    """One line for each of the ``last`` traces to start: when, ids, root, services."""
    by_trace: dict[str, list[SpanRecord]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    roots = []
    for trace_id, members in by_trace.items():
        ids = {s.span_id for s in members}
        root = min((s for s in members if s.parent_id not in ids), key=lambda s: s.start_ns)
        roots.append((root, members, trace_id))
    roots.sort(key=lambda item: item[0].start_ns)
    lines = []
    for root, members, trace_id in roots[-last:]:
        request = next((s.request_id for s in members if s.request_id), "-")
        services = ",".join(sorted({s.service for s in members}))
        lines.append(
            f"{_when(root.start_ns)}  {trace_id}  request {request}  {root.service}  "
            f"{root.name}  {root.outcome()}  {root.milliseconds:.1f} ms  [{services}]"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m servicekit.traces``: 0 when something was printed, 1 when not found."""
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.traces",
        description="The span trees of the local trace store (make up TRACES=1).",
    )
    parser.add_argument("--dir", default=DEFAULT_DIR, help=f"the store (default {DEFAULT_DIR})")
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="the span tree of a request id or a trace id")
    show.add_argument("id", help="a request id (x-request-id, request_id=) or a trace id")
    listing = commands.add_parser("list", help="the latest traces, with their request ids")
    listing.add_argument("--last", type=int, default=20, help="how many (default 20)")
    args = parser.parse_args(argv)
    directory = Path(args.dir)
    spans = read_spans(directory) if directory.is_dir() else []
    if not spans:
        print(
            f"traces: no spans in {directory}: run the stack with `make up TRACES=1` "
            f"(or set <NAME>_TRACING__LOCAL_DIR={directory}), then make a request",
            file=sys.stderr,
        )
        return 1
    if args.command == "list":
        print("\n".join(_summaries(spans, max(args.last, 1))))
        return 0
    found = trace_ids(spans, args.id)
    if not found:
        services = ", ".join(sorted({s.service for s in spans}))
        print(
            f"traces: no span of request or trace {args.id} in {directory} "
            f"({len(spans)} spans of {services}; `make traces` lists the latest)",
            file=sys.stderr,
        )
        return 1
    print("\n\n".join("\n".join(render(spans, trace_id)) for trace_id in found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
