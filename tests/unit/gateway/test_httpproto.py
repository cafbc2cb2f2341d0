"""services.gateway.httpproto: a request that offers an upgrade the server refuses is
served as if the offer had not been made, its body read by its framing, and the connection
goes on parsing the requests after it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from services.gateway.httpproto import BodyFraming, FramingError, HttpProtocol

OFFER = b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n"


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers each request with the body it read, and in how many messages."""
    if scope["type"] != "http":
        return
    body, messages = b"", 0
    while True:
        message = await receive()
        body, messages = body + message.get("body", b""), messages + 1
        if not message.get("more_body"):
            break
    out = b"%d:" % messages + body
    headers = [(b"content-length", str(len(out)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": out})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    config = uvicorn.Config(echo, host="127.0.0.1", port=0, http=HttpProtocol, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.01)
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(timeout=15)


def exchange(port: int, *pieces: bytes, answers: int = 1) -> bytes:
    """Sends ``pieces`` one by one on one connection; what came back once ``answers``
    responses have (each ends with its body, counted by the server's Content-Length)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
        for piece in pieces:
            connection.sendall(piece)
        received = b""
        while received.count(b"HTTP/1.1 ") < answers or not _complete(received):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def _complete(received: bytes) -> bool:
    head, _, body = received.rpartition(b"\r\n\r\n")
    length = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
    return bool(length) and len(body) >= int(length[-1].split(b":")[1])


def post(*lines: bytes) -> bytes:
    return b"POST / HTTP/1.1\r\nHost: x\r\n" + OFFER + b"".join(lines) + b"\r\n"


def test_a_content_length_body_after_an_upgrade_offer_reaches_the_application(port: int) -> None:
    received = exchange(port, post(b"Content-Length: 5\r\n") + b"hello")

    assert received.endswith(b"1:hello")


def test_a_chunked_body_in_pieces_arrives_whole_and_the_next_request_is_served(
    port: int,
) -> None:
    received = exchange(
        port,
        post(b"Transfer-Encoding: chunked\r\n"),
        b"3\r\nabc\r\n",
        b"2;ext=1\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n" + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        answers=2,
    )

    first, second = received.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200")
    assert first.endswith(b":abcde")
    assert second.startswith(b"200")
    assert second.endswith(b"1:")


def test_a_get_with_an_upgrade_offer_leaves_the_connection_usable(port: int) -> None:
    get = b"GET / HTTP/1.1\r\nHost: x\r\n"
    received = exchange(port, get + OFFER + b"\r\n", get + b"\r\n", answers=2)

    assert received.count(b"HTTP/1.1 200") == 2


def test_a_body_that_breaks_its_framing_is_refused_with_400(port: int) -> None:
    received = exchange(port, post(b"Transfer-Encoding: chunked\r\n") + b"zz\r\n")

    assert received.startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize(
    ("headers", "pieces", "body", "rest"),
    [
        ([(b"Content-Length", b"5")], [b"hel", b"loNEXT"], b"hello", b"NEXT"),
        ([(b"Content-Length", b"0")], [b"NEXT"], b"", b"NEXT"),
        ([], [b"NEXT"], b"", b"NEXT"),
        ([(b"Transfer-Encoding", b"chunked")], [b"1\r\na\r\n0\r\n", b"\r\nNEXT"], b"a", b"NEXT"),
    ],
)
def test_framing_reads_the_body_and_keeps_what_follows(
    headers: list[tuple[bytes, bytes]], pieces: list[bytes], body: bytes, rest: bytes
) -> None:
    framing = BodyFraming(headers)

    read = b"".join(framing.feed(piece) for piece in pieces)

    assert (read, framing.complete, framing.rest) == (body, True, rest)


@pytest.mark.parametrize(
    ("headers", "data"),
    [
        ([(b"Content-Length", b"five")], b""),
        ([(b"Transfer-Encoding", b"chunked")], b"x\r\n"),
        ([(b"Transfer-Encoding", b"chunked")], b"1\r\nab\r\n"),
        ([(b"Transfer-Encoding", b"chunked")], b"1" * 5000),
    ],
)
def test_broken_framing_is_an_error(headers: list[tuple[bytes, bytes]], data: bytes) -> None:
    with pytest.raises(FramingError):
        BodyFraming(headers).feed(data)
