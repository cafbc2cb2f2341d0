"""THE interceptor chain: one function owns the order, so no service invents its own.

Outermost first::

    request context  binds the request id and log context; every later line carries them
    tracing          the span covers everything below, errors included
    metrics          counts the final status code that error mapping produced
    error mapping    turns what the inner steps raise into a status
    authentication   reads the bearer token, binds the principal (or raises Unauthenticated)
    access policy    the method's access option against that principal
    validation       protovalidate rules of the request message
    handler

Why this order: the observers (context, tracing, metrics) sit outside error mapping so they
see the status the caller gets; authentication comes before access policy (which needs a
principal) and both before validation, so an anonymous caller learns nothing about the
shape of a valid request.

``grpc.server`` takes plain ``grpc.ServerInterceptor`` and ``grpc_interceptor`` ones alike.
"""

from __future__ import annotations

import grpc

__all__ = ["default_interceptors"]


def default_interceptors(
    *,
    request_context: grpc.ServerInterceptor | None,
    tracing: grpc.ServerInterceptor | None,
    metrics: grpc.ServerInterceptor | None,
    error_mapping: grpc.ServerInterceptor | None,
    authentication: grpc.ServerInterceptor | None,
    access_policy: grpc.ServerInterceptor | None,
    validation: grpc.ServerInterceptor | None,
) -> list[grpc.ServerInterceptor]:
    """The interceptors in chain order, leaving out the ones switched off (``None``).

    Every slot is a required keyword, so a service states what it leaves out (tracing off,
    say) instead of forgetting a step. Each value is a ``grpc.ServerInterceptor``.
    """
    ordered = (
        request_context,
        tracing,
        metrics,
        error_mapping,
        authentication,
        access_policy,
        validation,
    )
    return [interceptor for interceptor in ordered if interceptor is not None]
