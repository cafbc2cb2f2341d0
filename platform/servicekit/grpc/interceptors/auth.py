"""Who is calling, and may they: bearer-token authentication, then the access policy.

Two interceptors with one job each. ``AuthenticationInterceptor`` turns the
``authorization`` metadata into a ``Principal`` (or None for an anonymous call) and binds
it for the call (a call without a token that came over mutual TLS is the service its
verified client certificate names); ``AccessPolicyInterceptor`` admits or refuses the call
by the contract's policy. Both raise ``servicekit.errors``; the error-mapping interceptor
outside them turns those into UNAUTHENTICATED and PERMISSION_DENIED.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from google.protobuf.message import Message

from servicekit.auth.policy import AccessPolicies
from servicekit.auth.principal import Principal
from servicekit.auth.tokens import TokenVerifier
from servicekit.errors import Unauthenticated
from servicekit.grpc.context import bind_principal, current_principal, reset_principal
from servicekit.grpc.interceptors.base import ServerInterceptor
from servicekit.tls import peer_service

__all__ = ["AccessPolicyInterceptor", "AuthenticationInterceptor", "bearer_token"]

_AUTHORIZATION = "authorization"


def bearer_token(metadata: Any) -> str | None:
    """The token of the call's ``authorization: Bearer <token>`` metadata, or None when
    the call carries no credentials. Anything else in that header is ``Unauthenticated``."""
    values = [value for key, value in metadata or () if key.lower() == _AUTHORIZATION]
    if not values:
        return None
    if len(values) > 1:
        raise Unauthenticated("send one authorization header, not several")
    parts = values[0].split() if isinstance(values[0], str) else []
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise Unauthenticated("authorization must be 'Bearer <token>'")
    return str(parts[1])


class AuthenticationInterceptor(ServerInterceptor):
    """Verifies the bearer token of every call and binds the caller for the handler.

    A call without a token but over mutual TLS is the service named by its verified client
    certificate (``Principal(subject=name, service=name)``); a token, when sent, wins. A
    call with neither goes on as anonymous (principal None): the access policy decides
    whether that is enough. A call with credentials that do not verify stops here,
    even for a public method: a client sending a broken token must learn about it.
    """

    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier

    def intercept(
        self,
        method: Callable[[Any, Any], Any],
        request_or_iterator: Any,
        context: Any,
        method_name: str,
    ) -> Any:
        token = bearer_token(context.invocation_metadata())
        principal = _peer(context) if token is None else self._verifier.verify(token)
        principal_token = bind_principal(principal)
        log_tokens = structlog.contextvars.bind_contextvars(
            principal=principal.subject if principal is not None else None
        )
        try:
            # For a streaming response this returns the iterator; the handler then runs
            # after the reset, so streaming handlers cannot rely on the bound principal.
            return method(request_or_iterator, context)
        finally:
            structlog.contextvars.reset_contextvars(**log_tokens)
            reset_principal(principal_token)


def _peer(context: Any) -> Principal | None:
    """The mTLS caller as a service principal, or None (plaintext, or no client cert)."""
    service = peer_service(context)
    return None if service is None else Principal(subject=service, service=service)


class AccessPolicyInterceptor(ServerInterceptor):
    """Admits a call only when the contract's access policy of its method says so.

    Streaming calls carry no request message here; they are checked without one, so an
    ``owner_field`` grant never admits them, and an unknown method is denied as always.
    The health and reflection services are always admitted.
    """

    def __init__(self, policies: AccessPolicies) -> None:
        self._policies = policies

    def intercept(
        self,
        method: Callable[[Any, Any], Any],
        request_or_iterator: Any,
        context: Any,
        method_name: str,
    ) -> Any:
        request = request_or_iterator if isinstance(request_or_iterator, Message) else None
        self._policies.check(method_name, current_principal(), request)
        return method(request_or_iterator, context)
