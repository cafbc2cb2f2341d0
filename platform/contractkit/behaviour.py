"""What the contracts promise beyond their shape, compared between the base and the head.

`buf breaking` judges the wire shape; the REST check judges the REST face. This module
judges what a contract change does to callers whose requests keep the same shape:

- `ACCESS_NARROWED`: an RPC's access policy refuses a caller the previous one admitted
  (:mod:`contractkit.access_diff`);
- `VALIDATION_TIGHTENED`, `UPDATE_MASK_PATH_REMOVED`: a request field's `buf.validate` rules
  refuse a value the previous ones accepted, for every RPC, REST-bound or not
  (:mod:`contractkit.proto_rules`), including a new field that refuses being left unset;
- `DEFAULT_CHANGED`: the value a request field takes when a caller leaves it unset (its
  `acme.options.v1.field_default`, else the zero value of its type) is another one;
- `ENUM_VALUE_ADDED` (a warning): an enum that responses carry gained a value, which strict
  clients (generated enums in Java, TypeScript unions, ...) may fail to read.

Only messages and enums that callers wrote (or read) in the base and still do in the head
are compared: a new RPC, message or response field has no previous callers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor, descriptor_pb2

from contractkit.access_diff import narrowed
from contractkit.descriptors import Options, iter_methods, locations_of
from contractkit.findings import Finding
from contractkit.proto_rules import TIGHTENED, Change, custom_rules, tightened
from contractkit.proto_unset import refuses_unset
from contractkit.reach import reachable_enums, reachable_messages
from contractkit.request_lint import FIELD_RULES

__all__ = ["WARNINGS", "Contract", "diff_behaviour"]

ACCESS = "acme.options.v1.access"
FIELD_DEFAULT = "acme.options.v1.field_default"
MESSAGE_RULES = "buf.validate.message"
ONEOF_RULES = "buf.validate.oneof"
WARNINGS = frozenset({"ENUM_VALUE_ADDED"})


@dataclass
class Contract:
    """One version of the contracts: every file of its image, and which are its own."""

    files: list[descriptor_pb2.FileDescriptorProto]
    own: frozenset[str]
    options: Options = field(init=False)
    locations: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.options = Options(self.files)
        self.locations = locations_of(f for f in self.files if f.name in self.own)

    def methods(self) -> dict[str, descriptor_pb2.MethodDescriptorProto]:
        return {
            f"{file.package}.{service.name}.{method.name}": method
            for file, service, method in iter_methods(f for f in self.files if f.name in self.own)
        }

    def reach(self, side: str) -> dict[str, descriptor.Descriptor]:
        """Messages callers write (`side` "input_type") or read ("output_type"), by name."""
        roots = [self.options.message(getattr(m, side)) for m in self.methods().values()]
        return {m.full_name: m for m in reachable_messages(roots, self.own.__contains__)}

    def where(self, full_name: str) -> str:
        return self.locations.get(full_name, "")


def diff_behaviour(base: Contract, head: Contract) -> list[Finding]:
    """Every behaviour change from `base` to `head`, in the order of the head contracts."""
    findings = list(_access(base, head))
    findings += _requests(base, head)
    findings += _response_enums(base, head)
    return findings


def _access(base: Contract, head: Contract) -> Iterator[Finding]:
    before = base.methods()
    for rpc, method in head.methods().items():
        if rpc not in before:
            continue
        previous = base.options.get(before[rpc].options, ACCESS)
        for text in narrowed(previous, head.options.get(method.options, ACCESS)):
            yield Finding(head.where(rpc), rpc, "ACCESS_NARROWED", text)


def _requests(base: Contract, head: Contract) -> Iterator[Finding]:
    written = base.reach("input_type")
    for name, message in head.reach("input_type").items():
        if name not in written or message.GetOptions().map_entry:
            continue
        for rule, text in _message_rules(base, written[name], head, message):
            yield Finding(head.where(name), name, rule, text)
        previous = written[name].fields_by_number
        for now in message.fields:
            then = previous.get(now.number)
            rules = head.options.get(now.GetOptions(), FIELD_RULES)
            if then is None:
                changes = refuses_unset(rules, now)
            else:
                changes = tightened(base.options.get(then.GetOptions(), FIELD_RULES), rules, now)
                changes += _default(base, then, head, now)
            for rule, text in changes:
                yield Finding(head.where(now.full_name), now.full_name, rule, text)


def _message_rules(
    base: Contract, then: descriptor.Descriptor, head: Contract, now: descriptor.Descriptor
) -> list[Change]:
    """Message-level rules: custom rules, `oneof` rules, required oneofs, added."""
    before = base.options.get(then.GetOptions(), MESSAGE_RULES)
    after = head.options.get(now.GetOptions(), MESSAGE_RULES)
    changes = list(custom_rules(before, after)) if after is not None else []
    known = {(tuple(r.fields), r.required) for r in before.oneof} if before is not None else set()
    for rule in after.oneof if after is not None else []:
        if (tuple(rule.fields), rule.required) not in known:
            fields = ", ".join(repr(name) for name in rule.fields)
            changes.append((TIGHTENED, f"'oneof' rule over ({fields}) added or changed"))
    for oneof in now.oneofs:
        was = then.oneofs_by_name.get(oneof.name)
        required = head.options.get(oneof.GetOptions(), ONEOF_RULES)
        if required is not None and required.required:
            previous = base.options.get(was.GetOptions(), ONEOF_RULES) if was else None
            if was is not None and not (previous is not None and previous.required):
                changes.append((TIGHTENED, f"oneof {oneof.name!r} became 'required'"))
    return changes


def _default(
    base: Contract,
    then: descriptor.FieldDescriptor,
    head: Contract,
    now: descriptor.FieldDescriptor,
) -> list[tuple[str, str]]:
    declared_then = _declared_default(base, then)
    declared_now = _declared_default(head, now)
    if declared_then is None and declared_now is None:
        return []  # both the zero value (of another type, if buf reports a type change)
    before = _zero(then) if declared_then is None else declared_then
    after = _zero(now) if declared_now is None else declared_now
    if before == after:
        return []
    if declared_now is None:
        text = f"'field_default' {before!r} removed: unset now means {after!r}"
    elif declared_then is None:
        text = f"'field_default' {after!r} declared: unset meant {before!r}"
    else:
        text = f"'field_default' changed from {before!r} to {after!r}"
    return [("DEFAULT_CHANGED", f"{text} (callers that leave the field unset get another result)")]


def _declared_default(contract: Contract, field_: descriptor.FieldDescriptor) -> Any | None:
    default = contract.options.get(field_.GetOptions(), FIELD_DEFAULT)
    kind = default.WhichOneof("value") if default is not None else None
    return getattr(default, kind) if kind else None


def _zero(field_: descriptor.FieldDescriptor) -> Any:
    if field_.type == field_.TYPE_STRING:
        return ""
    if field_.type == field_.TYPE_BOOL:
        return False
    return 0


def _response_enums(base: Contract, head: Contract) -> Iterator[Finding]:
    read = {e.full_name: e for e in _enums(base, base.reach("output_type").values())}
    for enum in _enums(head, head.reach("output_type").values()):
        if enum.full_name not in read:
            continue
        known = read[enum.full_name].values_by_number
        for value in enum.values:
            if value.number not in known:
                yield Finding(
                    head.where(f"{enum.full_name}.{value.name}"),
                    enum.full_name,
                    "ENUM_VALUE_ADDED",
                    f"value {value.name!r} ({value.number}) added to an enum that responses "
                    "carry: strict clients of the previous contract may fail to read it",
                )


def _enums(
    contract: Contract, messages: Iterable[descriptor.Descriptor]
) -> list[descriptor.EnumDescriptor]:
    return reachable_enums(messages, contract.own.__contains__)
