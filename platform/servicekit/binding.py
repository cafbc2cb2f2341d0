"""The error of a server that cannot listen on its address, whatever it serves.

The gRPC server and the metrics server raise it; the ``serve`` command turns it into one
error line naming the address (and the exit code 1) instead of a traceback.
"""

from __future__ import annotations

__all__ = ["BindError"]


class BindError(RuntimeError):
    """A server could not listen on its address (port in use, unknown host)."""
