"""Requests are checked against the contract's ``buf.validate`` rules before any handler.

Every broken rule is reported, not only the first, each as a ``FieldViolation`` naming
the field path (``user.email``, ``user.roles[1]``), the rule id (``string.email``) and
protovalidate's message. The error-mapping interceptor turns the ``InvalidArgument`` into
INVALID_ARGUMENT with a ``google.rpc.BadRequest`` detail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import protovalidate
from google.protobuf.message import Message

from servicekit.errors import FieldViolation, InvalidArgument
from servicekit.grpc.interceptors.base import ServerInterceptor

__all__ = ["ValidationInterceptor", "field_violations", "validate_request"]


def validate_request(validator: protovalidate.Validator, request: Message) -> None:
    """Raise ``InvalidArgument`` listing every violation of ``request``, if any."""
    found = validator.collect_violations(request)
    if not found:
        return  # the common case: nothing to convert
    violations = field_violations(found)
    if violations:
        summary = "; ".join(
            f"{violation.field}: {violation.message}" if violation.field else violation.message
            for violation in violations
        )
        raise InvalidArgument(f"invalid request: {summary}", violations)


def field_violations(violations: Iterable[protovalidate.Violation]) -> tuple[FieldViolation, ...]:
    """protovalidate's violations as transport-free ``FieldViolation`` values."""
    return tuple(
        FieldViolation(
            field=_field_path(violation.proto.field),
            rule=violation.proto.rule_id,
            message=violation.proto.message,
        )
        for violation in violations
    )


def _field_path(path: protovalidate.FieldPathPb | None) -> str:
    """``user.roles[1]`` from protovalidate's field path (``""``: the message as a whole)."""
    parts: list[str] = []
    for element in path.elements if path is not None else ():
        part = element.field_name
        subscript = element.subscript
        if subscript is not None:
            part += _subscript(subscript.field, subscript.value)
        parts.append(part)
    return ".".join(parts)


def _subscript(kind: str, value: object) -> str:
    """A list index or map key as protovalidate's other runtimes print it."""
    if kind == "string_key":
        return f"[{json.dumps(value)}]"
    if kind == "bool_key":
        return f"[{str(value).lower()}]"
    return f"[{value}]"


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
