"""servicekit.testing.proxy.TcpProxy: forwards bytes, cuts the line, restores it."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from servicekit.testing.proxy import TcpProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A local echo server: what it receives, it sends back."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


_ENDED = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


def echo(port: int, message: bytes) -> bytes | None:
    """What the echo server sends back through ``port``; None if the connection is ended."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as client:
            client.sendall(message)
            return client.recv(4096) or None
    except _ENDED:
        return None


def ended(client: socket.socket) -> bool:
    """Whether the peer ended the connection (end of stream or reset) instead of answering."""
    try:
        return client.recv(4096) == b""
    except _ENDED:
        return True


def test_the_proxy_forwards_both_ways(echo_port: int) -> None:
    with TcpProxy("127.0.0.1", echo_port) as proxy:
        assert echo(proxy.port, b"ping") == b"ping"


def test_cut_ends_open_connections_and_refuses_new_ones_until_restored(echo_port: int) -> None:
    with TcpProxy("127.0.0.1", echo_port) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as open_connection:
            open_connection.sendall(b"before")
            assert open_connection.recv(4096) == b"before"

            proxy.cut()

            assert ended(open_connection)
        assert echo(proxy.port, b"while cut") is None

        proxy.restore()
        assert echo(proxy.port, b"restored") == b"restored"


def test_a_stopped_proxy_refuses_connections(echo_port: int) -> None:
    proxy = TcpProxy("127.0.0.1", echo_port)
    port = proxy.start()
    proxy.stop()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_an_unreachable_target_ends_the_client_connection() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    with TcpProxy("127.0.0.1", closed_port) as proxy:
        assert echo(proxy.port, b"anyone?") is None


def test_a_frozen_proxy_keeps_connections_up_answers_nothing_and_thaws_what_waited(
    echo_port: int,
) -> None:
    with TcpProxy("127.0.0.1", echo_port) as proxy:
        proxy.freeze()
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as client:
            client.sendall(b"held")
            client.settimeout(0.5)
            with pytest.raises(TimeoutError):
                client.recv(4096)  # up, but nothing comes back
            proxy.thaw()
            client.settimeout(5)
            assert client.recv(4096) == b"held"


def test_a_slow_proxy_delivers_everything_late(echo_port: int) -> None:
    with TcpProxy("127.0.0.1", echo_port) as proxy:
        proxy.slow(0.2)
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
            started = time.monotonic()
            client.sendall(b"late")
            reply = client.recv(4096)
            took = time.monotonic() - started
        proxy.slow(0)

        assert reply == b"late"
        assert took >= 0.4  # held once each way
        assert echo(proxy.port, b"on time") == b"on time"
