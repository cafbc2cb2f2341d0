"""The contract's validation rules, read from the generated descriptors, and the server's
reports of broken ones.

``contract_rules`` walks every request message of a service, recursing into message
fields (``UpdateUserRequest.user`` -> ``User.email``), and names each ``buf.validate``
rule as protovalidate reports it: the field path (``[]`` for any item of a list) and the
rule id (``string.email``, ``int32.gte_lte``, ``enum.not_in``). The bad-input tests compare
it with their table, so a rule added to the contract without a test fails the suite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from buf.validate import validate_pb2
from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.descriptor import Descriptor, ServiceDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]

__all__ = ["ContractRule", "any_item", "contract_rules", "reported_violations"]

# Fields of a type's rules that are no rule of their own: examples, a modifier (`strict`)
# and the rules of list items, map keys and values (walked separately).
_NOT_RULES = frozenset({"example", "items", "keys", "values", "strict"})
_LOWER_BOUNDS = ("gt", "gte")
_UPPER_BOUNDS = ("lt", "lte")
_INDEX = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True, order=True, slots=True)
class ContractRule:
    """One rule on one field of one RPC's request, as a violation of it is reported."""

    rpc: str
    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.rpc}: {self.field} {self.rule}"


def any_item(field: str) -> str:
    """``user.roles[1]`` -> ``user.roles[]``: the path of a rule on every item of a list."""
    return _INDEX.sub("[]", field)


def contract_rules(service: ServiceDescriptor) -> frozenset[ContractRule]:
    """Every validation rule on the requests of ``service``'s methods."""
    return frozenset(
        ContractRule(rpc=method.name, field=field, rule=rule)
        for method in service.methods
        for field, rule in _message_rules(method.input_type, "", frozenset())
    )


def reported_violations(error: grpc.RpcError) -> set[tuple[str, str]]:
    """The ``(field, rule id)`` pairs of the call's ``google.rpc.BadRequest`` detail."""
    assert isinstance(error, grpc.Call)
    status = rpc_status.from_call(error)
    assert status is not None, "the error carries no google.rpc.Status"
    reported: set[tuple[str, str]] = set()
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            reported |= {(v.field, v.reason) for v in bad_request.field_violations}
    return reported


def _message_rules(
    message: Descriptor, prefix: str, seen: frozenset[str]
) -> Iterator[tuple[str, str]]:
    if message.full_name in seen:  # a recursive message: its rules are listed once
        return
    seen = seen | {message.full_name}
    options = message.GetOptions()
    if options.HasExtension(validate_pb2.message):
        yield from _message_level_rules(prefix, options.Extensions[validate_pb2.message])
    for oneof in message.oneofs:
        oneof_options = oneof.GetOptions()
        if (
            oneof_options.HasExtension(validate_pb2.oneof)
            and oneof_options.Extensions[validate_pb2.oneof].required
        ):
            yield f"{prefix}{oneof.name}", "required"
    for field in message.fields:
        path = f"{prefix}{field.name}"
        field_options = field.GetOptions()
        if field_options.HasExtension(validate_pb2.field):
            yield from _field_rules(path, field_options.Extensions[validate_pb2.field])
        if field.message_type is not None:
            many = field.is_repeated
            yield from _message_rules(field.message_type, f"{path}{'[]' if many else ''}.", seen)


def _message_level_rules(
    prefix: str, rules: validate_pb2.MessageRules
) -> Iterator[tuple[str, str]]:
    path = prefix.removesuffix(".")
    for rule in rules.cel:
        yield path, rule.id
    for expression in rules.cel_expression:
        yield path, expression
    for _ in rules.oneof:
        yield path, "message.oneof"


def _field_rules(path: str, rules: validate_pb2.FieldRules) -> Iterator[tuple[str, str]]:
    if rules.required:
        yield path, "required"
    for rule in rules.cel:
        yield path, rule.id
    for expression in rules.cel_expression:
        yield path, expression
    kind = rules.WhichOneof("type")
    if kind is None:
        return
    typed: Message = getattr(rules, kind)
    yield from ((path, rule) for rule in _typed_rule_ids(kind, typed))
    for nested in ("items", "keys", "values"):
        if nested in typed.DESCRIPTOR.fields_by_name and typed.HasField(nested):
            yield from _field_rules(f"{path}[]", getattr(typed, nested))


def _typed_rule_ids(kind: str, typed: Message) -> Iterator[str]:
    """``string.email``, ``repeated.unique``...; a lower and an upper bound are one rule
    (``int32.gte_lte``), as protovalidate checks and reports them together."""
    present = {
        field.name: value
        for field, value in typed.ListFields()
        if field.name not in _NOT_RULES and value is not False
    }
    lower = next((name for name in _LOWER_BOUNDS if name in present), None)
    upper = next((name for name in _UPPER_BOUNDS if name in present), None)
    if lower is not None and upper is not None:
        exclusive = _magnitude(present[lower]) > _magnitude(present[upper])
        yield f"{kind}.{lower}_{upper}{'_exclusive' if exclusive else ''}"
        del present[lower], present[upper]
    yield from (f"{kind}.{name}" for name in present)


def _magnitude(bound: Any) -> float:
    """A bound as a number: durations and timestamps in nanoseconds."""
    if isinstance(bound, duration_pb2.Duration | timestamp_pb2.Timestamp):
        return float(bound.ToNanoseconds())
    return float(bound)
