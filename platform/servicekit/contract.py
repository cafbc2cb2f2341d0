"""Values a service needs from its contract, read from the generated descriptors.

The contract states a field's default (``acme.options.v1.field_default``), its bounds and
the paths a field mask may name (``buf.validate`` rules); a service reads them here instead
of re-declaring them, so a limit in Python can never drift from the one the REST face
documents::

    request = user_service_pb2.ListUsersRequest.DESCRIPTOR
    default = field_default(request, "page_size")      # 20
    _, maximum = int_bounds(request, "page_size")      # (0, 100)

    update = user_service_pb2.UpdateUserRequest.DESCRIPTOR
    field_mask_paths(update, "update_mask")            # {"display_name", "email", "roles"}
    is_required(update, "update_mask")                 # True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from buf.validate import validate_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from acme.options.v1 import access_pb2

__all__ = ["field_default", "field_mask_paths", "int_bounds", "is_required"]

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
_FIELD_MASK = "google.protobuf.FieldMask"
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
    rules = _rules(field)
    if rules is None:
        return None, None
    kind = rules.WhichOneof("type")
    if kind is None or kind not in _INTEGER_RULES:
        return None, None
    numeric: _IntegerRules = getattr(rules, kind)
    return _lower(numeric), _upper(numeric)


def field_mask_paths(message: Descriptor, field_name: str) -> frozenset[str]:
    """The paths a ``google.protobuf.FieldMask`` field may name (its ``field_mask.in``
    rule); empty when the contract does not list them.

    Raises ``ValueError`` for a field that is not a field mask.
    """
    field = _field(message, field_name)
    if field.message_type is None or field.message_type.full_name != _FIELD_MASK:
        raise ValueError(f"{message.full_name}.{field_name} is not a field mask")
    rules = _rules(field)
    if rules is None or rules.WhichOneof("type") != "field_mask":
        return frozenset()
    allowed: Iterable[str] = getattr(rules.field_mask, "in")  # `in`: a Python keyword
    return frozenset(allowed)


def is_required(message: Descriptor, field_name: str) -> bool:
    """Whether the contract requires the field to be set (``buf.validate`` ``required``)."""
    rules = _rules(_field(message, field_name))
    return rules is not None and rules.required


def _rules(field: FieldDescriptor) -> validate_pb2.FieldRules | None:
    options = field.GetOptions()
    if not options.HasExtension(validate_pb2.field):
        return None
    return options.Extensions[validate_pb2.field]


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
