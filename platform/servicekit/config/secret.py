"""Values that must not leak: a masked string and the marker for development-only defaults."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal, final

__all__ = ["Environment", "InsecureDefault", "Secret", "insecure_default"]

Environment = Literal["development", "test", "staging", "production"]
"""Where a service runs; only ``development`` accepts insecure defaults."""

_MASK = "Secret('********')"


@final
class Secret:
    """A string that prints masked everywhere; ``reveal()`` is the only way to the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret wraps a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The secret itself: hand it to the library that needs it, never to a logger."""
        return self._value

    def __repr__(self) -> str:
        return _MASK

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class InsecureDefault:
    """Values acceptable in development only; see :func:`insecure_default`."""

    values: tuple[object, ...]

    def matches(self, value: object) -> bool:
        """Whether ``value`` (a ``Secret`` is compared by its content) is one of the values."""
        raw = value.reveal() if isinstance(value, Secret) else value
        return any(type(raw) is type(known) and raw == known for known in self.values)


def insecure_default(*values: object) -> InsecureDefault:
    """Mark a field whose development value must be replaced everywhere else.

    ``jwt_signing_key: Annotated[Secret, insecure_default("dev-signing-key")]``: loading
    fails when ``environment`` is not ``development`` and the key still has that value.
    """
    if not values:
        raise ValueError("insecure_default() needs at least one value")
    return InsecureDefault(values=values)
