"""uvicorn's httptools protocol, serving a request that offers an upgrade it does not take.

A client may offer to switch protocols in any HTTP/1.1 request (``Connection: Upgrade,
HTTP2-Settings``, ``Upgrade: h2c``: Java's ``java.net.http`` client does on every first
request of a cleartext connection, so every Java client openapi-generator writes does); a
server that does not take the offer answers the request as if it had not been made (RFC
9110, 7.8). uvicorn's httptools protocol does not: the parser stops at the end of the
headers, so the application gets the request with an empty body (400 "a JSON body is
required") and the connection's next request is never parsed (uvicorn #2722, unfixed).

``HttpProtocol`` keeps everything of uvicorn's protocol (its h11 one costs twice the CPU per
request here) and, when an upgrade other than WebSocket is refused, reads the request's body
by its framing (``Content-Length`` or chunked) into the request already handed to the
application, then goes on with a fresh parser for whatever follows on the connection.
"""

from __future__ import annotations

from typing import Any

import httptools
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["BodyFraming", "FramingError", "HttpProtocol"]

_INVALID = "Invalid HTTP request received."
_MAX_LINE = 4096


class FramingError(ValueError):
    """The body does not follow its framing."""


class BodyFraming:
    """Reads one request body by its framing: ``Content-Length`` bytes, or chunks.

    ``feed`` takes bytes as they come and returns the body bytes found in them;
    ``complete`` says whether the body has ended, and ``rest`` holds the bytes after it.
    """

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        values = {name.lower(): value.strip().lower() for name, value in headers}
        self._chunked = values.get(b"transfer-encoding", b"").endswith(b"chunked")
        length = values.get(b"content-length", b"0")
        if not self._chunked and not length.isdigit():
            raise FramingError("bad Content-Length")
        self._remaining = 0 if self._chunked else int(length)
        self._buffer = b""
        self._state = "size" if self._chunked else "data"
        self.complete = not self._chunked and self._remaining == 0
        self.rest = b""

    def feed(self, data: bytes) -> bytes:
        if self.complete:
            self.rest += data
            return b""
        self._buffer += data
        body = bytearray()
        while self._step(body):
            pass
        self._keep_rest()
        return bytes(body)

    def _keep_rest(self) -> None:
        """Once the body has ended, what is buffered belongs to what comes after it."""
        if self.complete:
            self.rest, self._buffer = self._buffer, b""

    def _step(self, body: bytearray) -> bool:
        """One step of the framing; False when the body has ended or needs more bytes."""
        if self.complete:
            return False
        if self._state == "data":
            return self._data(body)
        line, found, after = self._buffer.partition(b"\r\n")
        if not found:
            if len(self._buffer) > _MAX_LINE:
                raise FramingError("a chunk line is too long")
            return False
        self._buffer = after
        self._line(line)
        return True

    def _data(self, body: bytearray) -> bool:
        taken = self._buffer[: self._remaining]
        body += taken
        self._buffer = self._buffer[len(taken) :]
        self._remaining -= len(taken)
        if self._remaining:
            return False
        if self._chunked:
            self._state = "data-end"
        else:
            self.complete = True
        return True

    def _line(self, line: bytes) -> None:
        if self._state == "data-end":
            if line:
                raise FramingError("a chunk does not end with CRLF")
            self._state = "size"
        elif self._state == "size":
            try:
                self._remaining = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise FramingError("bad chunk size") from None
            self._state = "data" if self._remaining else "trailer"
        elif not line:  # the empty line after the trailers: the body has ended
            self.complete = True


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that serves requests offering an upgrade it refuses."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._framing: BodyFraming | None = None

    def data_received(self, data: bytes) -> None:
        if self._framing is not None:
            self._read_body(self._framing, data)
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.logger.warning(_INVALID)
            self.send_400_response(_INVALID)
        except httptools.HttpParserUpgrade as upgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
                return
            offset = upgrade.args[0] if upgrade.args else len(data)
            self._refuse_upgrade(data[offset:])

    def _refuse_upgrade(self, after_headers: bytes) -> None:
        """The request offered an upgrade this server does not take: read its body all
        the same (the parser handed it over as complete and empty), then parse on."""
        try:
            self._framing = BodyFraming(self.headers)
        except FramingError:
            self._framing = None
            self.send_400_response(_INVALID)
            return
        if self.cycle is not None and not self._framing.complete:
            self.cycle.more_body = True
        self._read_body(self._framing, after_headers)

    def _read_body(self, framing: BodyFraming, data: bytes) -> None:
        try:
            body = framing.feed(data)
        except FramingError:
            self._framing = None
            self.send_400_response(_INVALID)
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.body += body
            if len(cycle.body) > HIGH_WATER_LIMIT:
                self.flow.pause_reading()
            if framing.complete:
                cycle.more_body = False
            cycle.message_event.set()
        if framing.complete:
            self._framing = None
            self.parser = httptools.HttpRequestParser(self)
            self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
            if framing.rest:
                self.data_received(framing.rest)
