"""The request scope the edge binds and the transcoder reads: one context variable.

The edge (outermost ASGI layer) binds it before connexion runs; connexion calls the
handler in the same task, so the transcoder sees the request id, the request path, the
client's address and the metadata to send to the backend (``authorization``, the trace
context and ``x-forwarded-for``; the request id goes through servicekit's own context)
without connexion passing anything along.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["RequestScope", "bind", "current", "reset"]


@dataclass(frozen=True, slots=True)
class RequestScope:
    """One HTTP request as the backends should see it; ``client`` is the caller's address
    (uvicorn's view of it: X-Forwarded-For only from ``http.trusted_proxies``)."""

    request_id: str
    raw_path: str
    metadata: tuple[tuple[str, str], ...]
    client: str = "unknown"

    @property
    def instance(self) -> str:
        """The request's path as a URI reference (the ``instance`` of its problems)."""
        return quote(self.raw_path, safe="/%:@!$&'()*+,;=-._~")


_current: ContextVar[RequestScope | None] = ContextVar("gateway_request_scope", default=None)


def current() -> RequestScope | None:
    """The scope of the request being served, or None outside one."""
    return _current.get()


def bind(scope: RequestScope) -> Token[RequestScope | None]:
    return _current.set(scope)


def reset(token: Token[RequestScope | None]) -> None:
    _current.reset(token)
