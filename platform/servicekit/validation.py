"""The contract's ``buf.validate`` rules, judged by protovalidate: one vocabulary, every face.

The gRPC servers check each request with ``validate_request`` (through
``servicekit.grpc.interceptors.validation``), and so does the gateway before it calls a
backend, on the request message it built from the REST call: the same bad input gets the
same rule id (``string.min_len``) and the same message (protovalidate's: "value is
required") on both faces. A violation names its field by protovalidate's field path in
proto names (``user.display_name``, ``user.roles[1]``); the REST face renames it in JSON
names (``user.displayName``).

Every broken rule is reported, not only the first, as an ``InvalidArgument`` whose
violations the error mapping sends as a ``google.rpc.BadRequest``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Protocol

import protovalidate
from google.protobuf.message import Message

from servicekit.errors import FieldViolation, InvalidArgument

__all__ = ["field_violations", "summary", "validate_request"]


def validate_request(validator: protovalidate.Validator, request: Message) -> None:
    """Raise ``InvalidArgument`` listing every violation of ``request``, if any."""
    found = validator.collect_violations(request)
    if not found:
        return  # the common case: nothing to convert
    violations = field_violations(found)
    if violations:
        raise InvalidArgument(summary(violations), violations)


class _Violation(Protocol):
    """What a summary reads of a violation (``FieldViolation``, or a face's own)."""

    @property
    def field(self) -> str: ...

    @property
    def message(self) -> str: ...


def summary(violations: Iterable[_Violation]) -> str:
    """``invalid request: email: value must be ...; password: ...``: the status message."""
    parts = [f"{v.field}: {v.message}" if v.field else v.message for v in violations]
    return "invalid request: " + "; ".join(parts)


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
