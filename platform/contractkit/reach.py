"""Which messages and enums a caller writes, and which it reads.

A request message reaches every message of its fields, their fields' messages and so on;
what a caller writes is everything its RPCs' requests reach, what it reads everything their
responses reach. Only the contracts' own declarations are followed (never the well-known
types or third-party protos).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from google.protobuf import descriptor

__all__ = ["reachable_enums", "reachable_messages"]


def reachable_messages(
    roots: Iterable[descriptor.Descriptor], own: Callable[[str], bool]
) -> list[descriptor.Descriptor]:
    """`roots` and every message reachable from them through fields (map entries included),
    each once, in breadth-first order; `own(file name)` says which files to follow into."""
    seen: dict[str, descriptor.Descriptor] = {}
    queue = [root for root in roots if own(root.file.name)]
    while queue:
        message = queue.pop(0)
        if message.full_name in seen:
            continue
        seen[message.full_name] = message
        queue += [
            field.message_type
            for field in message.fields
            if field.message_type is not None and own(field.message_type.file.name)
        ]
    return list(seen.values())


def reachable_enums(
    messages: Iterable[descriptor.Descriptor], own: Callable[[str], bool]
) -> list[descriptor.EnumDescriptor]:
    """The enums of the fields of `messages` that `own` files declare, each once."""
    found: dict[str, descriptor.EnumDescriptor] = {}
    for message in messages:
        for field in message.fields:
            if field.enum_type is not None and own(field.enum_type.file.name):
                found.setdefault(field.enum_type.full_name, field.enum_type)
    return list(found.values())
