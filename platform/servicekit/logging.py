"""Structured logs: one shape for every line, whoever writes it.

``configure_logging`` is called once, in a service's wiring, before anything logs. It sets
up structlog *and* the standard library's root logger with the same processors, so a line
from grpc, SQLAlchemy, alembic or uvicorn looks exactly like one of ours::

    {"event": "rpc", "method": "/acme.user.v1.UserService/GetUser", "code": "OK",
     "request_id": "9f0c...", "trace_id": "4bf9...", "span_id": "00f0...",
     "service": "user", "level": "info", "logger": "servicekit.rpc",
     "timestamp": "2025-01-01T12:00:00.000000Z"}

Off a terminal every line is one JSON object (exceptions as structured tracebacks, so a
log store can index them); on a terminal it is structlog's readable console format.

structlog's own lines (the summary line of every call among them) take the short road:
structlog filters them by level and renders them itself, and ``servicekit.log_lines``
writes them to the root handler's stream, under its lock. The standard library's records
reach that handler as usual and are rendered by structlog's ``ProcessorFormatter`` with
the same processors. Either way the line is the same; the first costs a third as much.

Values bound with ``structlog.contextvars.bind_contextvars`` (the request id and method,
bound by the request context interceptor) appear on every line written during a call, and
so do the ids of the current OpenTelemetry span. Libraries log through ``logging`` as
usual; nothing here is a module global built at import.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TextIO

import structlog
from opentelemetry import trace
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, ExceptionRenderer, Processor, WrappedLogger

from servicekit.log_lines import JsonLines, LineWriterFactory, UtcTimestamper

__all__ = ["LEVELS", "LoggingSettings", "add_trace_context", "configure_logging"]

LEVELS = ("debug", "info", "warning", "error", "critical")
"""The level names ``LoggingSettings.level`` accepts (any case)."""

_ROUTED_LOGGERS = ("grpc", "sqlalchemy", "alembic", "uvicorn", "uvicorn.error", "uvicorn.access")
"""Libraries that may install handlers of their own: they must go through the root's."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LoggingSettings:
    """How much to log and how to render it.

    ``format`` "auto" picks JSON when the stream is not a terminal (containers, files,
    pipes) and the console renderer when a person is watching.
    """

    level: str = "info"
    format: Literal["auto", "json", "console"] = "auto"

    def __post_init__(self) -> None:
        if self.level.lower() not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {self.level!r}")


def configure_logging(
    settings: LoggingSettings, *, service: str, stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library to ``stream`` (default: standard error).

    Calling it again replaces the previous configuration instead of adding a second
    handler, so tests may configure it per test.
    """
    output = sys.stderr if stream is None else stream
    console = _wants_console(settings, output)
    shared = _shared_processors(service)
    handler = logging.StreamHandler(output)
    handler.set_name("servicekit")
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), drop_color_message],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *_renderers(console),
            ],
        )
    )
    structlog.configure(
        processors=[*shared, structlog.processors.StackInfoRenderer(), *_renderers(console)],
        logger_factory=LineWriterFactory(handler),
        wrapper_class=structlog.make_filtering_bound_logger(settings.level.lower()),
        # Not cached: a reconfiguration (a test, a second service in one process) must
        # reach loggers that modules created with structlog.get_logger() before it.
        cache_logger_on_first_use=False,
    )
    _install(handler, settings.level.upper())


def add_trace_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Add ``trace_id`` and ``span_id`` of the current OpenTelemetry span, when there is one.

    They are rendered as the W3C hex strings, the form tracing back ends search by.
    """
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = trace.format_trace_id(context.trace_id)
        event_dict["span_id"] = trace.format_span_id(context.span_id)
    return event_dict


def drop_color_message(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Drop uvicorn's ``color_message`` extra: its message again, with ANSI colour codes."""
    event_dict.pop("color_message", None)
    return event_dict


def _shared_processors(service: str) -> list[Processor]:
    """What every line gets, from structlog or from the standard library alike."""

    def add_service(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return [
        structlog.contextvars.merge_contextvars,
        add_trace_context,
        add_service,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        UtcTimestamper(),
    ]


def _renderers(console: bool) -> Sequence[Processor]:
    """The last steps of every line: the exception, then the text written."""
    if console:
        return [structlog.dev.ConsoleRenderer(exception_formatter=_console_tracebacks())]
    return [
        # Never the frames' local variables: they hold requests, passwords and tokens.
        structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
        structlog.processors.JSONRenderer(serializer=JsonLines()),
    ]


def _console_tracebacks() -> ExceptionRenderer:
    """Readable tracebacks on a terminal, without local variables (secrets live there)."""
    if importlib.util.find_spec("rich") is None:
        return structlog.dev.plain_traceback
    return structlog.dev.RichTracebackFormatter(show_locals=False)


def _wants_console(settings: LoggingSettings, stream: TextIO) -> bool:
    if settings.format != "auto":
        return settings.format == "console"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _install(handler: logging.Handler, level: str) -> None:
    """Make ``handler`` the root's only handler and let the libraries' records reach it."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _ROUTED_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    logging.captureWarnings(True)
