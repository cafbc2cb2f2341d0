"""Requests that offer an upgrade the gateway does not take are served as if they had not.

Java's ``java.net.http`` client (and so every Java client openapi-generator writes, and
``curl --http2``) offers ``Upgrade: h2c`` on the first request of a cleartext connection.
uvicorn's httptools protocol used to hand such a request to the application with an empty
body (400 "a JSON body is required") and parse nothing more on that connection. The
protocol's framing (chunked bodies, bodies in pieces, broken framing) is tested in
tests/unit/gateway/test_httpproto.py.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from servicekit.testing.databases import DatabaseKind
from tests.e2e.gateway._gateway import RunningGateway

OFFER = (
    b"Connection: Upgrade, HTTP2-Settings\r\n"
    b"Upgrade: h2c\r\n"
    b"HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n"
)
LOGIN = json.dumps({"email": "nobody@example.com", "password": "not the password"}).encode()


@pytest.fixture(scope="module")
def database_kind() -> DatabaseKind:
    """The HTTP layer is under test: one backend is enough."""
    return "sqlite"


@pytest.fixture
def connection(gateway: RunningGateway) -> Iterator[socket.socket]:
    address = urlsplit(gateway.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=20) as opened:
        yield opened


def head(method: str, path: str, *lines: bytes) -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: gateway\r\n".encode() + b"".join(lines)


def answer(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response read off ``connection``: status, headers, body (by Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += _received(connection)
    top, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = top.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        rest += _received(connection)
    return int(status_line.split()[1]), headers, rest[:length]


def _received(connection: socket.socket) -> bytes:
    chunk = connection.recv(65536)
    assert chunk, "the gateway closed the connection"
    return chunk


def test_a_body_sent_with_an_upgrade_offer_reaches_the_service(connection: socket.socket) -> None:
    request = head(
        "POST",
        "/v1/auth/login",
        OFFER,
        b"Content-Type: application/json\r\n",
        f"Content-Length: {len(LOGIN)}\r\n\r\n".encode(),
    )
    connection.sendall(request + LOGIN)

    status, headers, body = answer(connection)

    assert status == 401, body  # judged by the auth service: the body arrived
    assert json.loads(body)["code"] == "UNAUTHENTICATED"
    assert "upgrade" not in headers


def test_a_get_with_an_upgrade_offer_leaves_the_connection_usable(
    connection: socket.socket,
) -> None:
    connection.sendall(head("GET", "/healthz", OFFER, b"\r\n"))
    first, _, _ = answer(connection)
    connection.sendall(head("GET", "/readyz", b"\r\n"))
    second, _, _ = answer(connection)

    assert (first, second) == (200, 200)
