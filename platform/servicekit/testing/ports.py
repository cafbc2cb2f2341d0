"""A free TCP port of the loopback interface, for a server a test starts (or keeps away)."""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port() -> int:
    """A port nothing listens on right now: the kernel's pick, released at once.

    Another process may take it before the test binds it; on a test machine that race is
    rare enough, and it fails loudly (a bind error) rather than silently.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
