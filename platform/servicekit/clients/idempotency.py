"""Retries that cannot do a write twice: a request with an AIP-155 ``request_id`` gets one.

gRPC's retry policy (``servicekit.clients.channel``) sends a call again after UNAVAILABLE.
A server of this platform answers UNAVAILABLE only for work it did not do (a call it
refused, or one it gave up on before committing), but a connection can also break after
the server committed and before its answer arrived: the attempt sent again then finds its
own write, and a create would fail with ALREADY_EXISTS for a user it made itself. A
contract makes such a method safe to send again with a ``string request_id`` field
(AIP-155: the server answers the first result for a request id it has seen), and the
client must send one id for all the attempts of one call.

So every request message with a ``request_id`` field left empty gets a new UUID before the
first attempt (on a copy: the caller's message is not changed), and gRPC's retries send
the same bytes. A caller that retries by itself, after the channel gave up, sets the id
itself and sends the same id again. Messages without the field pass untouched.
"""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from servicekit.clients.aio_interceptors import AioContinuation, AioUnaryClientInterceptor
from servicekit.clients.interceptors import Continuation, UnaryClientInterceptor

__all__ = [
    "REQUEST_ID_FIELD",
    "AioRequestIdInterceptor",
    "RequestIdInterceptor",
    "with_request_id",
]

REQUEST_ID_FIELD = "request_id"

_HAS_FIELD: dict[Descriptor, bool] = {}


def _has_request_id(descriptor: Descriptor) -> bool:
    known = _HAS_FIELD.get(descriptor)
    if known is None:
        field = descriptor.fields_by_name.get(REQUEST_ID_FIELD)
        known = (
            field is not None
            and field.type == FieldDescriptor.TYPE_STRING
            and not field.message_type
            and not field.is_repeated
        )
        _HAS_FIELD[descriptor] = known
    return known


def with_request_id(request: Any) -> Any:
    """``request``, or a copy of it with a new ``request_id`` if it has the field empty."""
    descriptor = getattr(request, "DESCRIPTOR", None)
    if not isinstance(descriptor, Descriptor) or not _has_request_id(descriptor):
        return request
    if getattr(request, REQUEST_ID_FIELD):
        return request
    filled = type(request)()
    filled.CopyFrom(request)
    setattr(filled, REQUEST_ID_FIELD, str(uuid.uuid4()))
    return filled


class RequestIdInterceptor(UnaryClientInterceptor):
    """Fills an empty ``request_id`` once per call, before gRPC's attempts."""

    def intercept_unary_unary(self, continuation: Continuation, details: Any, request: Any) -> Any:
        return continuation(details, with_request_id(request))


class AioRequestIdInterceptor(AioUnaryClientInterceptor):
    """``RequestIdInterceptor`` for grpc.aio channels."""

    async def intercept_unary_unary(
        self, continuation: AioContinuation, details: Any, request: Any
    ) -> Any:
        return await continuation(details, with_request_id(request))
