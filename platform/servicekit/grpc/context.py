"""The request scope: who is calling, from where, and under which request id.

grpcio's synchronous server runs a call's interceptors and its handler in one thread, so
context variables bound by an interceptor are visible to the handler and to every log
line written on the way. Interceptors bind and reset; handlers only read.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servicekit.auth.principal import Principal

__all__ = [
    "bind_client",
    "bind_principal",
    "bind_request_id",
    "current_client",
    "current_principal",
    "current_request_id",
    "reset_client",
    "reset_principal",
    "reset_request_id",
]

_request_id: ContextVar[str | None] = ContextVar("servicekit_request_id", default=None)
_principal: ContextVar[Principal | None] = ContextVar("servicekit_principal", default=None)
_client: ContextVar[str | None] = ContextVar("servicekit_client", default=None)


def current_request_id() -> str | None:
    """The id of the call being served, or None outside a call."""
    return _request_id.get()


def current_principal() -> Principal | None:
    """The authenticated caller of the current call, or None (anonymous or outside a call)."""
    return _principal.get()


def current_client() -> str | None:
    """The address of the end client of the current call (``servicekit.grpc.forwarding``:
    the caller's own, or the one a trusted edge forwarded), or None outside a call."""
    return _client.get()


def bind_request_id(request_id: str) -> Token[str | None]:
    return _request_id.set(request_id)


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


def bind_principal(principal: Principal | None) -> Token[Principal | None]:
    return _principal.set(principal)


def reset_principal(token: Token[Principal | None]) -> None:
    _principal.reset(token)


def bind_client(client: str | None) -> Token[str | None]:
    return _client.set(client)


def reset_client(token: Token[str | None]) -> None:
    _client.reset(token)
