"""What the User Service counts: the events of its use cases worth a series.

The use cases tell an injected ``UserEvents`` (Prometheus counters in the service,
``services.user.metrics``; ``NoEvents`` by default, as in commands and unit tests) once
the event has happened, committed, as they take a clock and an id generator.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["NoEvents", "UserEvents"]


class UserEvents(Protocol):
    """The events of the User Service worth counting, told as they happen."""

    def user_registered(self) -> None:
        """A new user signed up (not a create answered again for the same request)."""
        ...


class NoEvents:
    """``UserEvents`` that counts nothing."""

    def user_registered(self) -> None:
        """Not counted."""
