"""How structlog's lines are rendered and written, without the standard library's detour.

``servicekit.logging`` configures structlog natively: a line is rendered by structlog's
processors and written straight to the stream of the root logger's handler (the one the
standard library's records go through), under that handler's lock. Each line written
this way costs about a third of one routed through ``logging.Logger`` and structlog's
``ProcessorFormatter``, and is identical to it. The pieces here are the ones that run for
every line:

- ``LineWriterFactory``: structlog's ``logger_factory``; its writers carry the logger's
  name (``get_logger("name")``, else the calling module's, as the standard library's
  factory names them) for ``add_logger_name``;
- ``UtcTimestamper``: ``TimeStamper(fmt="iso", utc=True)``'s text, formatting the date and
  time of day once a second instead of once a line;
- ``JsonLines``: ``json.dumps`` with structlog's fallback for other types, through orjson
  when it is installed.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger

__all__ = ["JsonLines", "LineWriter", "LineWriterFactory", "UtcTimestamper"]


class LineWriter:
    """Writes each rendered line to the stream of ``handler``, under the handler's lock, so
    that structlog's lines and the libraries' never interleave."""

    __slots__ = ("_handler", "name")

    def __init__(self, handler: logging.StreamHandler[TextIO], name: str) -> None:
        self._handler = handler
        self.name = name  # read by add_logger_name

    def msg(self, line: str) -> None:
        handler = self._handler
        handler.acquire()
        try:
            stream = handler.stream
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stream must not fail the call that logs
        finally:
            handler.release()

    debug = info = warning = warn = error = critical = fatal = exception = log = msg


class LineWriterFactory:
    """structlog's ``logger_factory``: a ``LineWriter`` to ``handler``, named."""

    def __init__(self, handler: logging.StreamHandler[TextIO]) -> None:
        self._handler = handler
        # Names a logger got without a name after its caller's module, skipping this one.
        self._stdlib = structlog.stdlib.LoggerFactory(ignore_frame_names=[__name__])
        self._writers: dict[str, LineWriter] = {}  # one per name: they hold nothing else

    def __call__(self, *args: Any) -> LineWriter:
        name = args[0] if args and isinstance(args[0], str) else self._stdlib(*args).name
        writer = self._writers.get(name)
        if writer is None:
            writer = self._writers.setdefault(name, LineWriter(self._handler, name))
        return writer


class UtcTimestamper:
    """Adds ``timestamp``: ``2025-01-01T12:00:00.123456Z``, as structlog's ISO UTC stamper."""

    __slots__ = ("_second",)

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        now = time.time()
        second = int(now)
        cached = self._second  # one tuple, replaced whole: safe across threads
        if cached[0] != second:
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._second = cached
        event_dict["timestamp"] = f"{cached[1]}.{int((now - second) * 1e6):06d}Z"
        return event_dict


class JsonLines:
    """A ``serializer`` for structlog's ``JSONRenderer``: one JSON object on one line.

    With orjson installed (``fast``), lines are encoded by it, ten times faster than the
    standard library; a line orjson cannot encode as the standard library would (text
    beyond ASCII, which ``json`` escapes; an integer beyond 64 bits) is encoded by
    ``json``, so every line is what ``json.dumps`` would say, give or take whitespace.
    """

    def __init__(self, *, fast: bool = True) -> None:
        self._encoder = json.JSONEncoder(default=_json_fallback)
        self._orjson = _orjson() if fast else None

    def __call__(self, event_dict: EventDict, **_dumps_kw: Any) -> str:
        fast = self._orjson
        if fast is not None:
            try:
                line: str = fast.dumps(event_dict, default=_json_fallback).decode()
            except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
                pass
            else:
                if line.isascii():
                    return line
        return self._encoder.encode(event_dict)


def _orjson() -> Any:
    """The orjson module, or None when it is not installed."""
    try:
        import orjson  # type: ignore[import-not-found, unused-ignore]  # noqa: PLC0415
    except ImportError:
        return None
    return orjson


def _json_fallback(value: object) -> object:
    """What structlog's JSON renderer does with a value JSON has no type for."""
    structlog_form = getattr(value, "__structlog__", None)
    return structlog_form() if callable(structlog_form) else repr(value)
