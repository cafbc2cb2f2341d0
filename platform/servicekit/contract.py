"""Values a service needs from its contract, read from the generated descriptors.

The contract states a field's default (``acme.options.v1.field_default``) and its bounds
(``buf.validate`` rules); a service reads them here instead of re-declaring them, so the
page size limit in Python can never drift from the one the REST face documents::

    request = user_service_pb2.ListUsersRequest.DESCRIPTOR
    default = field_default(request, "page_size")      # 20
    _, maximum = int_bounds(request, "page_size")      # (0, 100)
"""

from __future__ import annotations

from typing import TypeAlias

from buf.validate import validate_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from acme.options.v1 import access_pb2

__all__ = ["field_default", "int_bounds"]

_IntegerRules: TypeAlias = (
    validate_pb2.Int32Rules
    | validate_pb2.Int64Rules
    | validate_pb2.UInt32Rules
    | validate_pb2.UInt64Rules
    | validate_pb2.SInt32Rules
    | validate_pb2.SInt64Rules
    | validate_pb2.Fixed32Rules
    | validate_pb2.Fixed64Rules
    | validate_pb2.SFixed32Rules
    | validate_pb2.SFixed64Rules
)
_INTEGER_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_INTEGER_RULES = frozenset(
    {
        "int32",
        "int64",
        "uint32",
        "uint64",
        "sint32",
        "sint64",
        "fixed32",
        "fixed64",
        "sfixed32",
        "sfixed64",
    }
)


def field_default(message: Descriptor, field_name: str) -> int | str | bool | None:
    """The default the contract declares for a field, or None when it declares none."""
    options = _field(message, field_name).GetOptions()
    if not options.HasExtension(access_pb2.field_default):
        return None
    default = options.Extensions[access_pb2.field_default]
    kind = default.WhichOneof("value")
    if kind is None:
        return None
    value: int | str | bool = getattr(default, kind)
    return value


def int_bounds(message: Descriptor, field_name: str) -> tuple[int | None, int | None]:
    """The inclusive ``(minimum, maximum)`` the contract allows for an integer field.

    ``gt``/``lt`` are turned into inclusive bounds; ``None`` means unbounded on that side.
    Raises ``ValueError`` for a field that is not an integer.
    """
    field = _field(message, field_name)
    if field.type not in _INTEGER_TYPES or field.is_repeated:
        raise ValueError(f"{message.full_name}.{field_name} is not an integer field")
    options = field.GetOptions()
    if not options.HasExtension(validate_pb2.field):
        return None, None
    rules = options.Extensions[validate_pb2.field]
    kind = rules.WhichOneof("type")
    if kind not in _INTEGER_RULES:
        return None, None
    numeric: _IntegerRules = getattr(rules, kind)
    return _lower(numeric), _upper(numeric)


def _field(message: Descriptor, field_name: str) -> FieldDescriptor:
    field = message.fields_by_name.get(field_name)
    if field is None:
        raise KeyError(f"{message.full_name} has no field {field_name!r}")
    return field


def _lower(rules: _IntegerRules) -> int | None:
    if rules.HasField("gte"):
        return rules.gte
    if rules.HasField("gt"):
        return rules.gt + 1
    return None


def _upper(rules: _IntegerRules) -> int | None:
    if rules.HasField("lte"):
        return rules.lte
    if rules.HasField("lt"):
        return rules.lt - 1
    return None
