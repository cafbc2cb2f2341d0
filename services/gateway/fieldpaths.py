"""Names of fields, as the contract and the REST face spell them.

``json_field_path``: a field path in proto names (``user.display_name``, as protovalidate
and the backends' violations give it) in JSON names (``user.displayName``, as the REST
face names fields). ``field_named`` finds a field by either spelling.
"""

from __future__ import annotations

import functools
import re

from google.protobuf.descriptor import Descriptor, FieldDescriptor

__all__ = ["TEMPLATE_VARIABLE", "field_named", "json_field_path"]

TEMPLATE_VARIABLE = re.compile(r"\{([^}=]+)(?:=[^}]*)?\}")
"""A variable of a path template: ``{id}``, ``{user.id}``, ``{name=users/*}``."""

_FIELD_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]]*\])*)")


def json_field_path(descriptor: Descriptor, proto_path: str) -> str:
    """``user.displayName`` for ``user.display_name``: a field path in JSON names.

    Subscripts (``roles[1]``, ``labels["a"]``) are kept; an unknown name is kept as it is.
    """
    return _json_field_path(descriptor, proto_path)


@functools.lru_cache(maxsize=1024)
def _json_field_path(descriptor: Descriptor | None, proto_path: str) -> str:
    parts: list[str] = []
    for match in _FIELD_STEP.finditer(proto_path):
        name, subscripts = match.group(1), match.group(2)
        field = field_named(descriptor, name)
        parts.append((field.json_name if field else name) + subscripts)
        descriptor = _next_message(field, subscripts=bool(subscripts))
    return ".".join(parts)


def field_named(descriptor: Descriptor | None, name: str) -> FieldDescriptor | None:
    """The field of ``descriptor`` called ``name``, in proto or JSON spelling; else None."""
    if descriptor is None:
        return None
    field = descriptor.fields_by_name.get(name)
    if field is None:
        field = next((f for f in descriptor.fields if f.json_name == name), None)
    return field


def _next_message(field: FieldDescriptor | None, *, subscripts: bool) -> Descriptor | None:
    message = None if field is None else field.message_type
    if subscripts and message is not None and message.GetOptions().map_entry:
        value = message.fields_by_name.get("value")
        return None if value is None else value.message_type
    return message
