"""The proto3 JSON mapping of scalar and well-known types as OpenAPI 3.0 schemas.

64-bit integers are JSON strings in proto3 JSON (parsers also accept numbers, writers
always emit strings), so they are documented as strings with an int64/uint64 format.
Well-known types have their own JSON forms and are always inlined, never components.
"""

from __future__ import annotations

import copy
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

__all__ = [
    "QUERY_UNSUPPORTED_TYPES",
    "STRING_INTEGER_TYPES",
    "Schema",
    "enum_of",
    "message_of",
    "scalar_schema",
    "well_known_schema",
]

Schema = dict[str, Any]

_INT32: Schema = {"type": "integer", "format": "int32"}
_UINT32: Schema = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295}
_INT64: Schema = {"type": "string", "format": "int64", "pattern": r"^-?[0-9]+$"}
_UINT64: Schema = {"type": "string", "format": "uint64", "pattern": r"^[0-9]+$"}
_FLOAT: Schema = {"type": "number", "format": "float"}
_DOUBLE: Schema = {"type": "number", "format": "double"}
_BOOL: Schema = {"type": "boolean"}
_STRING: Schema = {"type": "string"}
_BYTES: Schema = {"type": "string", "format": "byte"}

_SCALARS: dict[int, Schema] = {
    FieldDescriptor.TYPE_DOUBLE: _DOUBLE,
    FieldDescriptor.TYPE_FLOAT: _FLOAT,
    FieldDescriptor.TYPE_INT32: _INT32,
    FieldDescriptor.TYPE_SINT32: _INT32,
    FieldDescriptor.TYPE_SFIXED32: _INT32,
    FieldDescriptor.TYPE_UINT32: _UINT32,
    FieldDescriptor.TYPE_FIXED32: _UINT32,
    FieldDescriptor.TYPE_INT64: _INT64,
    FieldDescriptor.TYPE_SINT64: _INT64,
    FieldDescriptor.TYPE_SFIXED64: _INT64,
    FieldDescriptor.TYPE_UINT64: _UINT64,
    FieldDescriptor.TYPE_FIXED64: _UINT64,
    FieldDescriptor.TYPE_BOOL: _BOOL,
    FieldDescriptor.TYPE_STRING: _STRING,
    FieldDescriptor.TYPE_BYTES: _BYTES,
}

#: Field types whose JSON form is a string of digits.
STRING_INTEGER_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
    }
)

_ANY_VALUE: Schema = {"nullable": True, "description": "Any JSON value, or null."}


def _nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


_WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$",
        "description": "A duration in seconds, with up to nine fractional digits and the "
        "suffix `s` (for example `1.5s`).",
    },
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Field paths separated by commas, each in lowerCamelCase with dots "
        "between nested fields.",
    },
    "google.protobuf.DoubleValue": _nullable(_DOUBLE),
    "google.protobuf.FloatValue": _nullable(_FLOAT),
    "google.protobuf.Int64Value": _nullable(_INT64),
    "google.protobuf.UInt64Value": _nullable(_UINT64),
    "google.protobuf.Int32Value": _nullable(_INT32),
    "google.protobuf.UInt32Value": _nullable(_UINT32),
    "google.protobuf.BoolValue": _nullable(_BOOL),
    "google.protobuf.StringValue": _nullable(_STRING),
    "google.protobuf.BytesValue": _nullable(_BYTES),
    "google.protobuf.Struct": {"type": "object", "additionalProperties": _ANY_VALUE},
    "google.protobuf.Value": _ANY_VALUE,
    "google.protobuf.ListValue": {"type": "array", "items": _ANY_VALUE},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "description": "A message of any type: `@type` names it, its fields follow.",
        "properties": {
            "@type": {
                "type": "string",
                "description": "Type URL of the message, for example "
                "`type.googleapis.com/google.protobuf.Duration`.",
            },
        },
        "required": ["@type"],
        "additionalProperties": True,
    },
}

#: Well-known message types that have no form in a query string.
QUERY_UNSUPPORTED_TYPES = frozenset(
    {
        "google.protobuf.Struct",
        "google.protobuf.Value",
        "google.protobuf.ListValue",
        "google.protobuf.Empty",
        "google.protobuf.Any",
    }
)


def scalar_schema(field_type: int) -> Schema:
    """A fresh schema of a scalar field type (not enum, not message)."""
    return copy.deepcopy(_SCALARS[field_type])


def well_known_schema(full_name: str) -> Schema | None:
    """A fresh inline schema of a well-known message type, or None for other messages."""
    schema = _WELL_KNOWN.get(full_name)
    return copy.deepcopy(schema) if schema is not None else None


def enum_of(field: FieldDescriptor) -> EnumDescriptor:
    """The enum type of an enum field."""
    if field.enum_type is None:
        raise TypeError(f"{field.full_name} is not an enum field")
    return field.enum_type


def message_of(field: FieldDescriptor) -> Descriptor:
    """The message type of a message (or map) field."""
    if field.message_type is None:
        raise TypeError(f"{field.full_name} is not a message field")
    return field.message_type
