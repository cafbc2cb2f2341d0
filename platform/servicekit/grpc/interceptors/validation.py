"""Requests are checked against the contract's ``buf.validate`` rules before any handler.

Every broken rule is reported, not only the first, each as a ``FieldViolation`` naming
the field path (``user.email``, ``user.roles[1]``), the rule id (``string.email``) and
protovalidate's message (``servicekit.validation``: the gateway judges REST calls with
the same function, so both faces speak one vocabulary). The error-mapping interceptor
turns the ``InvalidArgument`` into INVALID_ARGUMENT with a ``google.rpc.BadRequest``
detail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import protovalidate
from google.protobuf.message import Message

from servicekit.grpc.interceptors.base import ServerInterceptor
from servicekit.validation import field_violations, validate_request

__all__ = ["ValidationInterceptor", "field_violations", "validate_request"]


class ValidationInterceptor(ServerInterceptor):
    """Validates every request message; streaming requests pass through unchecked."""

    def __init__(self) -> None:
        # One validator for the server's life: it compiles and caches each message's rules.
        self._validator = protovalidate.Validator()

    def intercept(
        self,
        method: Callable[[Any, Any], Any],
        request_or_iterator: Any,
        context: Any,
        method_name: str,
    ) -> Any:
        if isinstance(request_or_iterator, Message):
            validate_request(self._validator, request_or_iterator)
        return method(request_or_iterator, context)
