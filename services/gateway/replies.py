"""A reply as the REST face's JSON: an encoder per message type, built once from its
descriptor.

``json_format.MessageToDict`` works out, for every field of every reply, what kind of field
it is and how the proto3 JSON mapping writes it. The answer depends on the message type
only, so ``ReplyEncoder`` works it out once per type: a table from each field's descriptor
to its JSON name and its conversion (int64 as a string, an enum as its name, bytes as
base64, NaN and the infinities as strings, a map's keys as strings, a message field
through its own type's table). Each reply then costs a walk over its set fields
(``ListFields``: unpopulated fields are left out, as by ``MessageToDict``) and one
``orjson.dumps``.

The output is ``MessageToDict``'s, field for field (``tests/unit/gateway/test_replies.py``
compares the two on every reply type of the contracts, and on the kinds of field the
contracts do not use yet). A message the table does not cover is ``MessageToDict``'s to
write: the well-known types other than ``Timestamp``, ``Duration``, ``FieldMask``,
``Empty`` and the wrappers (``Any``, ``Struct``, ``Value``, ``ListValue``, ``FloatValue``),
a message with a 32-bit float (written at its shortest) or an enum that is closed or
names its values in JSON its own way, and one carrying extensions. protobuf has no
compiled proto3 JSON printer for Python, and no library does this for protobuf's own
message classes: hence this module.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

__all__ = ["ReplyEncoder"]

Convert = Callable[[Any], Any]

_TO_JSON_STRING = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
)
_WRAPPERS_FILE = "google/protobuf/wrappers.proto"
_INT64 = frozenset({FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64})


class ReplyEncoder:
    """Encodes messages of one type as proto3 JSON (``encode``: UTF-8 bytes)."""

    def __init__(self, descriptor: Descriptor) -> None:
        self._to_dict = _message_converter(descriptor, {})

    def to_dict(self, message: Message) -> Any:
        """What ``json_format.MessageToDict(message)`` returns."""
        return self._to_dict(message)

    def encode(self, message: Message) -> bytes:
        """``message`` as a JSON document."""
        return orjson.dumps(self._to_dict(message))


def _message_converter(descriptor: Descriptor, built: dict[str, Convert]) -> Convert:
    """The conversion of a message of ``descriptor``'s type; ``built`` holds the types
    already on their way (a type may contain itself)."""
    name = descriptor.full_name
    known = built.get(name) or _not_tabled(descriptor, built)
    if known is not None:
        return known
    table: dict[FieldDescriptor, tuple[str, Convert]] = {}

    def convert(message: Message) -> dict[str, Any]:
        fields = {}
        for field, value in message.ListFields():
            entry = table.get(field)
            if entry is None:  # an extension: its own name and types
                return json_format.MessageToDict(message)
            key, to_json = entry
            fields[key] = to_json(value)
        return fields

    built[name] = convert
    for field in descriptor.fields:
        table[field] = (field.json_name, _field_converter(field, built))
    return convert


def _not_tabled(descriptor: Descriptor, built: dict[str, Convert]) -> Convert | None:
    """The conversion of a type written without a table of its own, or None."""
    name = descriptor.full_name
    if name in _TO_JSON_STRING:
        return _to_json_string
    if descriptor.file.name == _WRAPPERS_FILE:
        field = descriptor.fields_by_name["value"]
        if not _covered(field):  # FloatValue
            return json_format.MessageToDict
        inner = _value_converter(field, built)
        return lambda message: inner(message.value)
    if name.startswith("google.protobuf.") and name != "google.protobuf.Empty":
        return json_format.MessageToDict  # Any, Struct, Value, ListValue
    values = [_map_entry_field(field, "value") or field for field in descriptor.fields]
    if not all(map(_covered, values)):
        return json_format.MessageToDict
    return None


def _map_entry_field(field: FieldDescriptor, name: str) -> FieldDescriptor | None:
    """The ``key`` or ``value`` field of a map field's entries; None for any other field."""
    entry = field.message_type
    if entry is None or not entry.GetOptions().map_entry:
        return None
    found: FieldDescriptor = entry.fields_by_name[name]
    return found


def _field_converter(field: FieldDescriptor, built: dict[str, Convert]) -> Convert:
    map_key, map_value = _map_entry_field(field, "key"), _map_entry_field(field, "value")
    if map_key is not None and map_value is not None:
        value = _value_converter(map_value, built)
        if map_key.cpp_type == FieldDescriptor.CPPTYPE_BOOL:
            return lambda entries: {
                ("true" if key else "false"): value(item) for key, item in entries.items()
            }
        return lambda entries: {str(key): value(item) for key, item in entries.items()}
    single = _value_converter(field, built)
    if field.is_repeated:
        if single is _same:
            return list
        return lambda values: [single(value) for value in values]
    return single


def _value_converter(field: FieldDescriptor, built: dict[str, Convert]) -> Convert:
    """How one value of ``field`` is written (one element, for a repeated field)."""
    kind = field.cpp_type
    if field.message_type is not None:
        return _message_converter(field.message_type, built)
    if field.enum_type is not None:
        return _enum_converter(field.enum_type)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return _base64
    if kind in _INT64:
        return str
    if kind == FieldDescriptor.CPPTYPE_DOUBLE:
        return _double
    return _same  # strings, booleans, 32-bit integers: as they are


def _enum_converter(enum: EnumDescriptor) -> Convert:
    names = {value.number: value.name for value in enum.values}
    return lambda number: names.get(number, number)  # an open enum's unknown value: its number


def _covered(field: FieldDescriptor) -> bool:
    """Whether the table writes ``field``'s values (else ``MessageToDict`` writes its
    message): not a 32-bit float (written at its shortest), nor an enum that is closed,
    ``NullValue`` or has a value with options (a custom JSON name)."""
    if field.cpp_type == FieldDescriptor.CPPTYPE_FLOAT:
        return False
    enum = field.enum_type
    if enum is None:
        return True
    if enum.full_name == "google.protobuf.NullValue" or enum.is_closed:
        return False
    return not any(value.GetOptions().ListFields() for value in enum.values)


def _to_json_string(message: Any) -> str:
    text: str = message.ToJsonString()
    return text


def _base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _double(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _same(value: Any) -> Any:
    return value
