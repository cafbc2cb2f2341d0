"""The gRPC messages of one call: the request from connexion's arguments, the reply's body.

``request_message`` builds the request message of one call from connexion's arguments,
as the operation's plan lays them out: the body first, then path parameters (they win,
as in grpc-gateway), then query parameters, parsed with the proto3 JSON mapping; an
unknown field is an error, not ignored. A request that does not fit is a ``RequestError``
that names the field at fault. ``reply_body`` is the part of the reply that the response
carries (the rule's ``response_body``, else all of it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from services.gateway.plans import BODY_ARGUMENT, OperationPlan

__all__ = ["RequestError", "reply_body", "reply_body_type", "request_message"]

_PARSE_STEP = re.compile(r"Failed to parse (\w+) field")
_UNKNOWN_FIELD = re.compile(r'Message type "([^"]+)" has no field named "([^"]+)"')
# What json_format says of a value that does not fit its field, in words without the value
# (it may be a secret): the first pattern found in its message wins.
_REASONS = (
    (
        re.compile(r"Invalid enum value .* for enum type (\S+?)(?: at |\.?$)"),
        "is not a value of {}",
    ),
    (
        re.compile(r"invalid literal for int|Couldn't parse integer|Value out of range"),
        "is not an integer in the range of the field's type",
    ),
    (re.compile(r"Couldn't parse (float|double)"), "is not a number"),
    (re.compile(r"Failed to parse timestamp"), "is not an RFC 3339 timestamp"),
    (re.compile(r"[Dd]uration"), "is not a duration in seconds (`1.5s`)"),
    (re.compile(r"FieldMask"), "is not a field mask (paths separated by commas)"),
    (re.compile(r"base64|Incorrect padding"), "is not base64"),
)
_WRONG_TYPE = "has a value of the wrong JSON type"


class RequestError(ValueError):
    """A request cannot become its gRPC message (wrong JSON types, unknown fields).

    ``field`` is the JSON path of the field at fault when it is known (``user.foo``),
    ``rule`` what is wrong with it: ``unknown_field`` or ``json_type``.
    """

    def __init__(self, message: str, *, field: str = "", rule: str = "json_type") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule

    @classmethod
    def from_parse_error(cls, exc: Exception) -> RequestError:
        """What json_format says, with the field path it names in its own words."""
        text = _first_line(exc)
        steps = _PARSE_STEP.findall(text)
        unknown = _UNKNOWN_FIELD.search(text)
        if unknown:
            steps.append(unknown.group(2))
            message, rule = f"is not a field of {unknown.group(1)}", "unknown_field"
        else:
            message, rule = _reason(text), "json_type"
        return cls(message, field=".".join(steps), rule=rule)


def request_message(plan: OperationPlan, arguments: Mapping[str, Any]) -> Message:
    """The request message of the call; ``RequestError`` when the JSON does not fit."""
    fields = _fields(plan, arguments)
    try:
        return json_format.ParseDict(fields, plan.request_class(), ignore_unknown_fields=False)
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise RequestError.from_parse_error(exc) from exc


def reply_body(plan: OperationPlan, reply: Message) -> Message:
    """The part of the reply that is the response body (``response_body``)."""
    if plan.response_field is None:
        return reply
    part: Message = getattr(reply, plan.response_field)
    return part


def reply_body_type(plan: OperationPlan) -> Descriptor:
    """The message type of the response body: the reply's, or its ``response_body``
    field's."""
    reply_type = plan.method.output_type
    if plan.response_field is None:
        return reply_type
    body_type = reply_type.fields_by_name[plan.response_field].message_type
    if body_type is None:  # plans admits only message fields as the response body
        raise ValueError(f"{plan.response_field} of {reply_type.full_name} is not a message")
    return body_type


def _fields(plan: OperationPlan, arguments: Mapping[str, Any]) -> dict[str, Any]:
    body = arguments.get(BODY_ARGUMENT)
    if plan.body_path is None or body is None:
        fields: dict[str, Any] = {}
    elif not plan.body_path:
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object", rule="json_type")
        fields = dict(body)
    else:
        fields = {}
        _put(fields, plan.body_path, body)
    for parameter in plan.parameters:
        value = arguments.get(parameter.argument)
        if value is not None:
            _put(fields, parameter.path, value)
    return fields


def _put(fields: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = fields
    for depth, step in enumerate(path[:-1], start=1):
        child = node.setdefault(step, {})
        if not isinstance(child, dict):
            where = ".".join(path[:depth])
            raise RequestError(f"{where} must be a JSON object", field=where)
        node = child
    node[path[-1]] = value


def _reason(text: str) -> str:
    """Why a value does not fit its field, never quoting the value."""
    for pattern, words in _REASONS:
        found = pattern.search(text)
        if found:
            return words.format(*found.groups())
    return _WRONG_TYPE


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
