"""A TCP proxy that a test puts between a service and its database, to break the line.

The PostgreSQL server is shared by the tests of a run: a test never stops it. To see what a
service does in an outage, it connects through a ``TcpProxy`` and calls:

- ``cut()``: every open connection is reset and new ones are refused until ``restore()``;
- ``freeze()``: connections stay up (new ones are even accepted) but nothing is forwarded
  either way until ``thaw()``, which forwards what waited: a database that stopped
  answering (a stopped process, a host gone silent, a network holding packets);
- ``slow(seconds)``: every chunk of bytes waits that long before it is forwarded
  (``slow(0)`` ends it): a slow database or network.

Written here, with threads and sockets, because none of the reachable packages does this
in-process (toxiproxy and the like are separate servers not installable from PyPI).
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

__all__ = ["TcpProxy"]

_CHUNK = 65536
_ACCEPT_POLL_SECONDS = 0.05
_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST instead of FIN


def _abort(sock: socket.socket) -> None:
    """End ``sock`` at once: a thread blocked on it wakes up, the peer sees a reset."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or never connected: nothing left to end


class _Flow:
    """Whether bytes flow (``freeze``/``thaw``) and how late (``slow``): shared by links."""

    def __init__(self) -> None:
        self.flowing = threading.Event()
        self.flowing.set()
        self.delay = 0.0


class _Link:
    """One client connection and its upstream connection, pumped by one thread."""

    def __init__(self, client: socket.socket, upstream: socket.socket, flow: _Flow) -> None:
        self.client = client
        self.upstream = upstream
        self._flow = flow
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True
        _abort(self.client)
        _abort(self.upstream)

    def pump(self) -> None:
        """Copy bytes both ways until either side ends (or ``abort`` is called)."""
        peers = {self.client: self.upstream, self.upstream: self.client}
        flow = self._flow
        try:
            while not self.aborted:
                flow.flowing.wait()  # frozen: nothing is read, so nothing goes through
                readable, _, _ = select.select(list(peers), [], [], _ACCEPT_POLL_SECONDS)
                for sock in readable:
                    if not flow.flowing.is_set():
                        break
                    data = sock.recv(_CHUNK)
                    if not data:
                        return
                    if flow.delay:
                        time.sleep(flow.delay)
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            self.client.close()
            self.upstream.close()


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target_host:target_port`` until cut or stopped.

    ``start()`` binds a free port and returns it; as a context manager the proxy is
    started on entry and stopped on exit.
    """

    def __init__(self, target_host: str, target_port: int, *, connect_timeout: float = 2.0):
        self._target = (target_host, target_port)
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._threads: list[threading.Thread] = []
        self._cut = False
        self._flow = _Flow()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._port = 0

    @classmethod
    def to_database(cls, url: str) -> TcpProxy:
        """A proxy to the server of a database URL (``postgresql+psycopg://u@host:port/db``)."""
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError("the database URL names no TCP host and port (value hidden)")
        return cls(parts.hostname, parts.port)

    @property
    def port(self) -> int:
        """The local port clients connect to (0 before ``start``)."""
        return self._port

    def start(self) -> int:
        """Listen on a free port of 127.0.0.1 and return it."""
        if self._listener is not None:
            raise RuntimeError("the proxy is started already")
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(_ACCEPT_POLL_SECONDS)  # so that stop() is noticed
        self._listener = listener
        self._port = listener.getsockname()[1]
        self._spawn(self._accept_loop, listener)
        return self._port

    def cut(self) -> None:
        """Reset every open connection and refuse new ones until ``restore()``."""
        with self._lock:
            self._cut = True
            links = list(self._links)
        for link in links:
            link.abort()

    def restore(self) -> None:
        """Accept and forward connections again."""
        with self._lock:
            self._cut = False

    def freeze(self) -> None:
        """Forward nothing, either way, on any connection (old or new) until ``thaw()``."""
        self._flow.flowing.clear()

    def thaw(self) -> None:
        """Forward again, starting with what waited during the freeze."""
        self._flow.flowing.set()

    def slow(self, seconds: float) -> None:
        """Hold every chunk of bytes ``seconds`` before forwarding it (0: at once)."""
        if seconds < 0:
            raise ValueError(f"a delay cannot be negative, got {seconds}")
        self._flow.delay = seconds

    def stop(self) -> None:
        """Close the port and every connection; wait for the proxy's threads."""
        self._stopping.set()
        self.cut()
        self.thaw()  # a frozen link wakes up, finds itself aborted and ends
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> Self:
        if self._listener is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            if self._cut:
                _abort(client)
                client.close()
                continue
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self._target, timeout=self._connect_timeout)
        except OSError:
            _abort(client)
            client.close()
            return
        upstream.settimeout(None)
        link = _Link(client, upstream, self._flow)
        with self._lock:
            self._links.add(link)
            cut = self._cut
        if cut:
            link.abort()
        try:
            link.pump()
        finally:
            with self._lock:
                self._links.discard(link)
