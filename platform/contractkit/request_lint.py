"""The request-field validation rule: every field a caller writes has a `buf.validate` rule,
or says why it needs none.

On for every request field of the contracts: the top-level fields of each RPC's request and
the fields of the messages they carry (`UpdateUserRequest.user` -> `User.email`), except
output-only fields (the server ignores them on input) and singular fields of the contracts'
own messages (their own fields are checked instead). A field opts out with a reason::

    string page_token = 2 [(acme.options.v1.unvalidated) = "opaque: the server checks it"];
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from google.protobuf import descriptor, descriptor_pb2

from contractkit.descriptors import Options, iter_methods, locations_of
from contractkit.findings import Finding
from contractkit.reach import reachable_messages

__all__ = ["FIELD_RULES", "UNVALIDATED_OPTION", "check_request_validation", "has_rule"]

FIELD_RULES = "buf.validate.field"
UNVALIDATED_OPTION = "acme.options.v1.unvalidated"
FIELD_BEHAVIOR = "google.api.field_behavior"
_IGNORE_ALWAYS = 3  # buf.validate.Ignore.IGNORE_ALWAYS: the rules are switched off


def has_rule(rules: Any | None) -> bool:
    """Whether `buf.validate.field` rules validate anything (`ignore` alone does not)."""
    if rules is None or rules.ignore == _IGNORE_ALWAYS:
        return False
    return bool(
        rules.required or rules.WhichOneof("type") or len(rules.cel) or len(rules.cel_expression)
    )


def check_request_validation(
    files: list[descriptor_pb2.FileDescriptorProto], own_files: Iterable[str]
) -> list[Finding]:
    """One finding per request field of `own_files` without a rule or a reason for none."""
    own = set(own_files)
    options = Options(files)
    locations = locations_of(f for f in files if f.name in own)
    requests = [
        options.message(method.input_type)
        for _, _, method in iter_methods(f for f in files if f.name in own)
    ]
    output_only = _output_only_number(options)
    findings: list[Finding] = []
    for message in reachable_messages(requests, own.__contains__):
        if message.GetOptions().map_entry:
            continue  # a map's keys and values are ruled by the map field's `map` rules
        for field in message.fields:
            where = locations.get(field.full_name, message.file.name)
            findings += [
                Finding(where, field.full_name, rule, text)
                for rule, text in _field_problems(options, field, own, output_only)
            ]
    return findings


def _field_problems(
    options: Options, field: descriptor.FieldDescriptor, own: set[str], output_only: int | None
) -> Iterator[tuple[str, str]]:
    behaviors = options.get(field.GetOptions(), FIELD_BEHAVIOR) or []
    if output_only is not None and output_only in behaviors:
        return
    own_message = field.message_type is not None and field.message_type.file.name in own
    if own_message and not field.is_repeated:
        return
    reason = options.get(field.GetOptions(), UNVALIDATED_OPTION)
    ruled = has_rule(options.get(field.GetOptions(), FIELD_RULES))
    if reason is None and not ruled:
        yield (
            "REQUEST_FIELD_VALIDATION",
            "request field has no buf.validate rule: add one, or say why it needs none "
            f'with [({UNVALIDATED_OPTION}) = "reason"]',
        )
    elif reason is not None and not str(reason).strip():
        yield "REQUEST_FIELD_VALIDATION", f"({UNVALIDATED_OPTION}) needs a reason: it is empty"
    elif reason is not None and ruled:
        yield (
            "REQUEST_FIELD_VALIDATION",
            f"has a buf.validate rule and an ({UNVALIDATED_OPTION}) reason: drop the reason",
        )


def _output_only_number(options: Options) -> int | None:
    try:
        enum = options.pool.FindEnumTypeByName("google.api.FieldBehavior")
    except KeyError:
        return None
    value = enum.values_by_name.get("OUTPUT_ONLY")
    return None if value is None else int(value.number)
