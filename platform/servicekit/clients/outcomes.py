"""What the end of a call says about the dependency: the one rule of both client faces.

The synchronous interceptors (``servicekit.clients.interceptors``) and the asyncio ones
(``servicekit.clients.aio_interceptors``) both hand a finished call's status code to
``report_outcome``, so a circuit breaker learns the same thing from the same call:

- ``UNAVAILABLE``, ``DEADLINE_EXCEEDED`` (``BREAKER_FAILURES``): the dependency is down or
  drowning. A failure.
- ``CANCELLED``: the caller gave up (its own caller went away, or it cancelled the call):
  the dependency was not asked to finish, so the call proves nothing either way. The
  permit is released; a half-open circuit's trial slot goes to the next call.
- every other code, ``OK`` and errors alike (``NOT_FOUND``, ``INVALID_ARGUMENT``, even
  ``INTERNAL``): the dependency answered. A success for the breaker.

A call that ends in a local exception before any status (the caller's task cancelled, a
serializer that fails) is released the same way as ``CANCELLED``.
"""

from __future__ import annotations

import grpc

from servicekit.clients.breaker import CircuitBreaker, Permit

__all__ = ["BREAKER_FAILURES", "NO_VERDICT", "report_outcome"]

BREAKER_FAILURES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
"""Codes that say the dependency is down or drowning; every other code is an answer."""

NO_VERDICT = frozenset({grpc.StatusCode.CANCELLED})
"""Codes that say nothing about the dependency: the caller ended the call."""


def report_outcome(breaker: CircuitBreaker, permit: Permit, code: grpc.StatusCode) -> None:
    """Tell ``breaker`` how the call admitted with ``permit`` ended (its status ``code``)."""
    if code in BREAKER_FAILURES:
        breaker.record_failure(permit)
    elif code in NO_VERDICT:
        breaker.release(permit)
    else:
        breaker.record_success(permit)
